# SPDX-License-Identifier: GPL-2.0
# target.sh - -c 'CMD' (held until the script is ready, run, waited for) and
# -p PID (stop when it exits).
. "$(dirname "$0")/lib.bash"

P=$PROGS/pidsleep
cat >"$T/target.lua" <<LUA
local pidfile = "$T/pid"
-- the command is held before exec while the top level runs
print("held", io.open(pidfile) == nil)
local t = shark.target()
print("target", t.pid > 0, t.running, t.cmd)
shark.on_end(function()
  local f = io.open(pidfile)
  local pid = tonumber(f:read("*l"))
  f:close()
  local t2 = shark.target()
  print("same pid", pid == t.pid)
  print("exited", t2.running, t2.status)
end)
LUA
rm -f "$T/pid"
run -c "$P $T/pid 100 3" "$T/target.lua"
check "-c runs the command once the script is ready, stops when it exits" rc=0 \
	"err=shark: '$P $T/pid 100 3' exited with status 3" \
	"out=held	true
target	true	true	$P $T/pid 100 3
same pid	true
exited	false	3"

run -c "sh -c 'exit 0' | cat" -e 'print(shark.target().pid > 0)'
check "-c with shell syntax runs under sh" rc=0 out=true

run -c "/nonexistent/prog arg" -e 'shark.on_end(function() print("end") end)'
check "-c with a missing program: clear error, exit 1" rc=1 \
	"err~cannot run '/nonexistent/prog arg': No such file or directory" out=end

rm -f "$T/pid"
run -d 0.3 -c "$P $T/pid 30000" -e 'print("go")'
check "-d ends a run whose command is still going" rc=0 out=go
pid=$(cat "$T/pid" 2>/dev/null)
ok_if "the command does not outlive shark" test -n "$pid" -a ! -d "/proc/$pid"

rm -f "$T/pid"
run -c "$P $T/pid 30000" -e 'error("early")'
pid=$(cat "$T/pid" 2>/dev/null)
check "an error before the command runs: exit 1" rc=1 'err~-e:1: early'
ok_if "a held command never runs when the script fails" test -z "$pid"

sleep 0.4 &
sp=$!
run -p $sp -e 'print(shark.target().pid) shark.on_end(function() print("gone", shark.target().running) end) set_interval(50, function() end)'
check "-p PID: the run ends when the process exits" rc=0 "out=$sp
gone	false"
wait $sp 2>/dev/null

run -p 999999 -e ''
check "-p with no such process: exit 1" rc=1 'err~cannot trace process 999999: no such process'

done_testing
