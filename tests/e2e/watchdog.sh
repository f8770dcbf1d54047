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

run -d 0.5 -e 'shark.on_end(function() while true do end end)'
check "an on_end handler that never returns is ended after its grace period (10 s)" rc=1 \
	"err~on_end handlers still running 10 s after the stop"

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
