# SPDX-License-Identifier: GPL-2.0
# samples_lang.sh - language runtimes through their USDT probes: Python (Debian's python3.11) and PHP
# (php8.2-cli), calls counted exactly and timed, in the kernel.
. "$(dirname "$0")/lib.bash"
S=$TOP/samples
PY=/usr/bin/python3.11

run "$S/pycalls.lua" -h
check "pycalls -h: usage with [interval] [count], -L and the line-probe note, exit 0" rc=0 \
	'out~^usage: pycalls \[options\] \[interval\] \[count\]' 'out~-L, --latency' 'out~line probe'
run "$S/phpcalls.lua" -x
check "a bad flag is a usage error: exit 2" rc=2 'err~unknown option -x' 'err~^usage: phpcalls'

# --- Python: a function called exactly 321 times, one that sleeps 50 ms three times
if [ -x "$PY" ]; then
	run -c "$PY -c 'import time
def fooz(i): return i
for i in range(321): fooz(i)
def slp(): time.sleep(0.05)
for i in range(3): slp()'" "$S/pycalls.lua"
	check "pycalls -c 'python3.11 -c ...': fooz counted exactly 321 times, slp 3 times" rc=0 \
		'out~^METHOD +# CALLS$' 'out~^<string>\.fooz +321$' 'out~^<string>\.slp +3$'
	run -c "$PY -c 'import time
def fooz(i): return i
for i in range(321): fooz(i)
def slp(): time.sleep(0.05)
for i in range(3): slp()'" "$S/pycalls.lua" -L
	check "pycalls -L: calls, total and average time columns" rc=0 \
		'out~^METHOD +# CALLS +TIME \(us\) +AVG \(us\)$' 'out~^<string>\.fooz +321 +[0-9.]+ +[0-9.]+$'
	avg=$(awk '$1 == "<string>.slp" && $2 == 3 { print int($4) }' "$T/out")
	ok_if "pycalls -L: slp (sleeps 50 ms) averages 50 ms or more (got ${avg:-none} us)" \
		test "${avg:-0}" -ge 50000
	"$PY" -c 'import time
def tick(): time.sleep(0.005)
for i in range(600): tick()' &
	wpid=$!
	sleep 0.5
	run "$S/pycalls.lua" -p "$wpid" -d 1
	kill "$wpid"; wait "$wpid" 2>/dev/null
	check "pycalls -p PID on a running interpreter: its tick() calls" rc=0 'out~^<string>\.tick +[0-9]+$' \
		'err~tracing calls in process [0-9]+ \(/usr/bin/python3\.11\)'
else
	skip "pycalls" "no $PY (python3.11-minimal)"
fi

# --- PHP: USE_ZEND_DTRACE=1 turns the function probes on
if command -v php8.2 >/dev/null; then
	code='class Kls { function meth($i) { usleep(20000); return $i; } }
function foo($i) { return $i; }
for ($i = 0; $i < 123; $i++) foo($i);
$k = new Kls; for ($i = 0; $i < 4; $i++) $k->meth($i);'
	run -c "USE_ZEND_DTRACE=1 php8.2 -r '$code'" "$S/phpcalls.lua" -L
	check "phpcalls -L: foo counted exactly 123 times, Kls::meth 4; request start and end lines" rc=0 \
		'out~^foo +123 +[0-9.]+ +[0-9.]+$' 'out~^Kls::meth +4 +[0-9.]+ +[0-9.]+$' \
		'out~request start pid [0-9]+ .*Standard input code$' 'out~request end +pid [0-9]+ '
	avg=$(awk '$1 == "Kls::meth" { print int($4) }' "$T/out")
	ok_if "phpcalls -L: Kls::meth (sleeps 20 ms) averages 20 ms or more (got ${avg:-none} us)" \
		test "${avg:-0}" -ge 20000
	run -c "php8.2 -r '$code'" "$S/phpcalls.lua"
	check "phpcalls without USE_ZEND_DTRACE=1: PHP fires no function probes, and the hint says so" rc=0 \
		'out~^METHOD +# CALLS$' '!out~^foo ' 'err~^phpcalls: no PHP function call seen: .*USE_ZEND_DTRACE=1'
else
	skip "phpcalls" "no php8.2 (apt-get install php8.2-cli)"
fi

done_testing
