# SPDX-License-Identifier: GPL-2.0
# lifecycle.sh - how a run ends: idle, -d, SIGINT, SIGTERM, a second SIGINT, a
# closed stdout; on_end runs once in every case.
. "$(dirname "$0")/lib.bash"

run -e 'shark.on_end(function() print("a") end) shark.on_end(function() print("b") end)'
check "nothing to wait for: on_end handlers run once, in order, exit 0" rc=0 "out=a
b" quiet

t0=$(date +%s%N)
run -d 0.3 -e 'set_interval(10, function() end) shark.on_end(function() print("stopped") end)'
t1=$(date +%s%N)
check "-d 0.3 stops the run, on_end runs, exit 0" rc=0 out=stopped quiet
ok_if "-d 0.3 lasted 0.3 to 5 s" test $(( (t1 - t0) / 1000000 )) -ge 300 -a $(( (t1 - t0) / 1000000 )) -lt 5000

run -d 10 -e 'print("quick")'
check "-d does not keep an idle script alive" rc=0 out=quick

cat >"$T/wait.lua" <<'LUA'
local n = 0
set_interval(10, function() n = n + 1 end)
shark.on_end(function() print("ticks>0", n > 0) end)
print("ready")
io.stdout:flush()
LUA
for sig in INT TERM; do
	start "$T/wait.lua"
	wait_out ready
	sleep 0.1
	signal $sig
	finish
	check "SIG$sig: on_end runs, exit 0" rc=0 "out=ready
ticks>0	true" quiet
done

printf 'set_interval(10, function() end)\nprint("ready")\nio.stdout:flush()\n' >"$T/nohandler.lua"
start "$T/nohandler.lua"
wait_out ready
signal INT
finish
check "SIGINT without on_end handlers exits 130" rc=130
start "$T/nohandler.lua"
wait_out ready
signal TERM
finish
check "SIGTERM without on_end handlers exits 143" rc=143

# A busy loop the JIT compiles never looks at hooks: the second Ctrl-C must
# end it at once anyway.
start -e 'print("ready") io.stdout:flush() local x = 0 while true do x = x + 1 end'
wait_out ready
sleep 0.2
signal INT
sleep 0.3
signal INT
finish
check "a second SIGINT exits at once, even from a JIT-compiled loop" rc=130

# An interpreted busy top level is interrupted by the first SIGINT.
start -e 'shark.on_end(function() print("end") end) print("ready") io.stdout:flush() while true do os.time() end'
wait_out ready
sleep 0.2
signal INT
finish
check "the first SIGINT interrupts a busy top level, on_end runs" rc=0 "out=ready
end" quiet

timeout 20 "$SHARK" -e 'while true do print("yes") end' 2>"$T/err" | head -3 >"$T/out"
RC=${PIPESTATUS[0]}
check "printing into a closed pipe ends quietly (top-level loop)" rc=0 quiet "out=yes
yes
yes"
timeout 20 "$SHARK" -e 'set_interval(1, function() print("tick") end)' 2>"$T/err" | head -2 >"$T/out"
RC=${PIPESTATUS[0]}
check "printing into a closed pipe ends quietly (timer)" rc=0 quiet "out=tick
tick"

done_testing
