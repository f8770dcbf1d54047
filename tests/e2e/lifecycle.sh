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

# -d and intervals count from when the script is ready (its top level ran,
# probes attached), not from start-up: a top level slower than -d still
# traces for -d. The -c workload is held until ready and makes one getppid.
cat >"$T/slow.lua" <<'LUA'
local o = shark.getopt{ "duration" }
local n, ready = 0, nil
perf.on("syscalls:sys_enter_getppid", { pid = shark.target() and shark.target().pid or 1 }, function() n = n + 1 end)
local t = shark.time()
while shark.time() - t < 1.2e9 do end   -- a start-up slower than -d
shark.on_ready(function() ready = shark.time() end)
-- (libuv's clock has ms steps: a timer may fire a little before 800 ms of shark.time())
shark.on_end(function() print(n, o.duration and "tool" or "shark", (shark.time() - ready) >= 0.75e9) end)
LUA
run -d 0.8 -c "$PROGS/getppid_n 1" "$T/slow.lua"
check "shark -d 0.8 after a 1.2 s start-up: the workload released when ready is traced" rc=0 "out~^[1-9][0-9]*	shark	"
run -c "$PROGS/getppid_n 1" "$T/slow.lua" -d 0.8
check "a tool's -d 0.8 after a 1.2 s start-up: the same" rc=0 "out~^[1-9][0-9]*	tool	"
run -d 0.8 "$T/slow.lua"
check "shark -d 0.8 after a 1.2 s start-up: the run lasts 0.8 s from ready" rc=0 "out~^[0-9]+	shark	true$"
run "$T/slow.lua" -d 0.8
check "a tool's -d 0.8 after a 1.2 s start-up: the same" rc=0 "out~^[0-9]+	tool	true$"
run -e 'perf.on("sched:sched_switch", { pid = 1 }, function() end)
  local t, ready = shark.time(), nil
  while shark.time() - t < 0.6e9 do end
  shark.on_ready(function() ready = shark.time() end)
  local tick = shark.every(0.3, 2, function(i) print(i, shark.time() - ready >= i * 0.3e9 - 0.02e9) end)
  print(getmetatable(tick) == getmetatable(set_timeout(1, function() end)))'
check "shark.every(0.3, 2) after a 0.6 s start-up: both intervals count from ready; it returns a timer" rc=0 \
	"out=true
1	true
2	true"
run -e 'local t = shark.every(0.1, nil, function() print("tick") end) t:stop()
  perf.on("sched:sched_switch", { pid = 1 }, function() end) set_timeout(400, function() shark.exit() end)'
check "shark.every stopped before the script is ready never ticks" rc=0 quiet

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
