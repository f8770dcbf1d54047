# SPDX-License-Identifier: GPL-2.0
# samples_misc.sh - the classic tools (funccount, funclatency, futex, hardirqs,
# softirqs, biolatency, biosnoop) run as a user would, on workloads whose
# behaviour is known: exact counts, the workload's pid and comm, the bucket
# that must hold a known latency.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples
F=$PROGS/funcs

run "$S/funccount.lua" -h
check "funccount -h: usage, exit 0" rc=0 'out~^usage: funccount \[options\] LIB:FUNC' 'out~-i, --interval'
run "$S/funccount.lua" -x c:malloc
check "a bad flag: exit 2 and the usage line" rc=2 'err~unknown option -x' 'err~^usage: funccount'

# --- funccount: every function of the glob, exact counts, others not
run -c "$F 100" "$S/funccount.lua" "$F:work_*"
check "funccount: a glob over the binary's symbols, exact calls per function" rc=0 \
	'out~^FUNC +COUNT$' 'out~^work_alpha +100$' 'out~^work_beta +200$' 'out~^work_gamma +300$' '!out~other_fn' \
	'err~Tracing 4 functions'

run -c "$F 100" "$S/funccount.lua" c:getppid
check "funccount: a library by name (c: libc), exact calls by the -c target" rc=0 'out~^getppid +100$'

# -p PID: the workload waits for a byte on a fifo until funccount is attached
mkfifo "$T/go"
"$F" 50 wait <"$T/go" & wp=$!
exec 3>"$T/go"
start "$S/funccount.lua" -p $wp "$F:work_[ab]*"
for i in $(seq 100); do grep -q Tracing "$T/err" && break; sleep 0.05; done
echo >&3; exec 3>&-; wait $wp
signal INT; finish
check "funccount -p PID, Ctrl-C: the pid's calls, a glob with a class" rc=0 'out~^work_alpha +50$' \
	'out~^work_beta +100$' '!out~work_gamma'

# --- funclatency: 5 calls of a function sleeping 20 ms
run -c "$F nap 5 20" "$S/funclatency.lua" -m "$F:work_nap"
check "funclatency -m: 5 calls of 20 ms, all in [16, 32) ms" rc=0 'out~^@msecs:$' \
	'out~^\[16, 32\) +5 \|@+ *\|$' 'out~^count: 5$'
run -c "$F nap 5 20" "$S/funclatency.lua" -u "$F:work_nap"
check "funclatency -u: the same in [16K, 32K) us" rc=0 'out~^@usecs:$' 'out~^\[16K, 32K\) +5 \|' 'out~^count: 5$'

# --- futex: a mutex contended 10 times, held 24 ms each time
run -c "$PROGS/contend 10 24" "$S/futex.lua" -a
addr=$(sed -n 's/^mutex \(0x[0-9a-f]*\)$/\1/p' "$T/out")
check "futex -a: the workload's mutex address, exactly 10 waits" rc=0 \
	"out~^@usecs\[contend\[[0-9]+\] futex ${addr:-none}\]: 10 waits$"
ok_if "futex -a: the waits of about 23 ms are in [16K, 32K) us" \
	awk '/^@usecs\[contend/{p=1} p && /^\[16K, 32K\)/{ok = $3 >= 8} /^$/{p=0} END{exit !ok}' "$T/out"
run -c "$PROGS/contend 5 24" "$S/futex.lua" -m
check "futex -m: by process, in milliseconds" rc=0 'out~^@msecs\[contend\[[0-9]+\]\]: 5 waits$' \
	'out~^\[16, 32\) +[345] \|'

done_testing
