# SPDX-License-Identifier: GPL-2.0
# watchdog.sh - a script that never returns to the loop still ends: by -d,
# SIGTERM, the first Ctrl-C, or the memory limit, even in JIT-compiled code.
# (Each run is killed after 30 s by `run`: an rc of 137 is the failure.)
. "$(dirname "$0")/lib.bash"

timeout -s KILL 30 timeout 3 "$SHARK" -e 'while true do end' >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "timeout 3 shark -e 'while true do end' ends (SIGTERM)" rc=124 \
	"err~the script does not return after the stop \(a loop in Lua\?\): exiting"

run -d 1 -e 'shark.on_end(function() print("end") end) while true do end'
check "-d 1 ends a JIT-compiled loop at the top level (setup gets 10 s more)" rc=1 \
	"err~-d time is up and the script's top level has not returned for 10 s"

run -d 0.1 -e 'print(os.execute("sleep 1.5")) set_interval(10, function() end)
shark.on_end(function() print("end") end)'
check "-d 0.1 does not cut a slow top level short (setup: compiling, attaching)" rc=0 "out=0
end"

run -d 1 -e 'shark.on_end(function() print("end") end) local x = 0
set_timeout(10, function() while true do x = x + 1 end end)'
check "-d 1 ends a JIT-compiled loop in a handler" rc=1 "err~-d time is up"

run -d 1 -e 'jit.off() shark.on_end(function() print("end") end) set_timeout(10, function() while true do end end)'
check "-d 1 interrupts an interpreted loop in a handler and on_end still runs" rc=0 out=end

run -d 0.5 -e 'shark.on_end(function() print("end") while true do end end)'
check "an on_end handler that never returns is ended 1 s after -d's time (its output kept)" rc=1 out=end \
	"err~-d 0.5: on_end handlers still running 1 s after the time was up: exiting \(status 1\)"

# -d N: the whole run ends (N + 1 s after the script is ready, a figure for
# the bench: here only that it ended, with the status and the message), and
# nothing of it stays in the kernel: its BPF programs, perf fds, tracefs
# probe entries. Each script holds a BPF template, a BPF-delivered
# tracepoint and a perf ring.
probes() { cat /sys/kernel/tracing/uprobe_events /sys/kernel/tracing/kprobe_events 2>/dev/null | md5sum; }
base_probes=$(probes)
setup='bpf.count{ on = "raw_syscalls:sys_enter", by = "comm" }
perf.on("sched:sched_switch", function() end) perf.on("cpu-clock", { freq = 99 }, function() end)
shark.on_end(function() print("end") io.stdout:flush() LOOP end)
print("ready") io.stdout:flush()'
ended() { # NAME RC OUT-CHECK ERR-CHECK ON_END-TAIL SCRIPT: run under -d 1, check its end and what it left
	local name=$1 rc=$2 out=$3 err=$4 body=${setup/LOOP/$5}$'\n'${6:-} pid held left t0
	t0=$(date +%s.%N)
	start -d 1 -e "$body"
	wait_out '^ready'
	pid=$(pgrep -P "$BG" -x shark | head -1)
	held=$(held_ids prog "$pid")
	ok_if "$name: BPF programs held while running ($(echo $held))" test -n "$held"
	finish
	echo "# $name: ended $(echo "$(date +%s.%N) - $t0" | bc) s after start (-d 1)"
	check "$name: ends, exit $rc, says why" rc="$rc" "$out" "$err"
	ok_if "$name: the process is gone" test ! -e "/proc/$pid"
	left=$(still_loaded prog $held)
	ok_if "$name: none of its BPF programs is left ($left)" test -z "$left"
	ok_if "$name: uprobe/kprobe events unchanged" test "$(probes)" = "$base_probes"
}
ended "-d 1, a JIT loop in a handler (on_end cannot run)" 1 "out=ready" "err~-d time is up and the script does not return" "" \
	'local x = 0 set_timeout(10, function() while true do x = x + 1 end end)'
ended "-d 1, an on_end that hangs (its output kept)" 1 "out~^end" "err~-d 1: on_end handlers still running 1 s after the time was up" \
	'local x = 0 while true do x = x + 1 end'
ended "-d 1, a busy timer" 0 "out~^end" "!err~time is up" "" \
	'set_interval(1, function() local t0 = os.clock() while os.clock() - t0 < 0.05 do end end)'

for sig in TERM INT; do
	start -e 'print("looping") io.stdout:flush() while true do end'
	wait_out looping
	signal "$sig"
	finish
	want=$((128 + $(kill -l "$sig")))
	check "the first SIG$sig ends a JIT-compiled loop (exit $want)" rc=$want "out=looping" "err~a loop in Lua"
done

run --mem-limit 64 -d 20 -e 'local t = {} shark.on_end(function() print("end") end)
set_interval(1, function() for i = 1, 1e5 do t[#t + 1] = { i } end end)'
check "--mem-limit: a growing handler is stopped with a clear error, on_end runs" rc=1 out=end \
	"err~the memory limit of 64 MB was reached: stopping"

SHARK_MEM_LIMIT=64 run -d 20 -e 'local t = {} while true do t[#t + 1] = { 1 } end'
check "SHARK_MEM_LIMIT: a growing JIT loop is ended" rc=1 "err~the memory limit of 64 MB was reached"

run --mem-limit lots -e 'print(1)'
check "--mem-limit refuses a bad number" rc=2 "err~--mem-limit wants a number of megabytes, not 'lots'"

done_testing
