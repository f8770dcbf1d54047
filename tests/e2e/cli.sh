# SPDX-License-Identifier: GPL-2.0
# cli.sh - every command-line option of shark, and its errors.
. "$(dirname "$0")/lib.bash"

run -h
check "-h prints usage with examples" rc=0 'out~^usage: shark' 'out~examples:' 'out~set_interval\(1000'
run --help
check "--help is -h" rc=0 'out~^usage: shark'
run --version
check "--version names shark, LuaJIT, libbpf and the kernel" rc=0 \
	'out~^shark [0-9]+\.[0-9]+' 'out~LuaJIT 2\.1' 'out~libbpf 1\.' "out~kernel Linux $(uname -r)"

run -x s.lua
check "unknown option: usage error, exit 2" rc=2 'err~unknown option -x' 'err~shark -h'
run --frobnicate
check "unknown long option: exit 2" rc=2 'err~unknown option --frobnicate'
run
check "no script: exit 2" rc=2 'err~no script given'
run -d
check "-d without a value: exit 2" rc=2 'err~option -d needs an argument'
run -d soon -e ''
check "-d with a bad value: exit 2" rc=2 "err~-d wants a positive number of seconds, not 'soon'"
run -p 12ab -e ''
check "-p with a bad value: exit 2" rc=2 "err~-p wants a process id"
run -p 1 -c true -e ''
check "-p with -c: exit 2" rc=2 'err~cannot be used together'
run -r high -e ''
check "-r with a bad value: exit 2" rc=2 "err~-r wants a real-time priority from 0 \\(none\\) to 99, not 'high'"
run -r 100 -e ''
check "-r above 99: exit 2" rc=2 "err~-r wants a real-time priority"

# -r: the reader (shark's main thread) is SCHED_FIFO while a source is
# attached; what it starts is not; back to normal once the last one stops
cat >"$T/rt.lua" <<'LUA'
-- policy and real-time priority of the thread group leader (fields 41, 40 of stat)
local function sched(path)
  local f = assert(io.open(path))
  local t = {}
  for w in f:read("*a"):match("%) (.*)"):gmatch("%S+") do t[#t + 1] = w end
  f:close()
  return t[39] .. "/" .. t[38]
end
local h = perf.on("syscalls:sys_enter_getppid", { via = shark.args[1] }, function() end)
set_timeout(1, function()
  local during = sched("/proc/self/stat")
  local p = io.popen("cut -d' ' -f40,41 /proc/self/stat")
  local child = p:read("*l"):gsub("(%S+) (%S+)", "%2/%1")
  p:close()
  h:stop()
  print(h.via, "during " .. during, "child " .. child, "after " .. sched("/proc/self/stat"))
end)
LUA
for via in bpf perf; do
	run "$T/rt.lua" $via
	check "-r default (via $via): SCHED_FIFO 1 while a source is attached, children SCHED_OTHER, normal after" \
		rc=0 "out=$via	during 1/1	child 0/0	after 0/0"
done
run -r 7 "$T/rt.lua" bpf
check "-r 7: SCHED_FIFO 7 while a source is attached" rc=0 "out=bpf	during 1/7	child 0/0	after 0/0"
run -r 0 "$T/rt.lua" bpf
check "-r 0: normal scheduling throughout" rc=0 "out=bpf	during 0/0	child 0/0	after 0/0"
# the real-time reader's budget: a script that keeps shark busy (here a timer
# spinning 90 ms of every 100) goes back to normal priority, and real-time
# again once it needs little (states are awaited, no time is asserted)
cat >"$T/rtbudget.lua" <<'LUA'
local source, uv = require "shark.source", require "uv"
local function sched()
  local f = assert(io.open("/proc/self/stat"))
  local t = {}
  for w in f:read("*a"):match("%) (.*)"):gmatch("%S+") do t[#t + 1] = w end
  f:close()
  return t[39] .. "/" .. t[38]
end
perf.on("sched:sched_process_exit", function() end)
local seen, spin = { sched() }, true
local function step()
  if spin then
    local t = uv.hrtime() + 90e6
    while uv.hrtime() < t do end
    if not source.realtime() then spin = false; seen[#seen + 1] = sched() end
  elseif source.realtime() then
    seen[#seen + 1] = sched()
    print(table.concat(seen, " "))
    return shark.exit(0)
  end
  set_timeout(10, step)
end
set_timeout(10, step)
set_timeout(30000, function() print("stuck", table.concat(seen, " ")) shark.exit(1) end)
LUA
run -v "$T/rtbudget.lua"
check "-r: a reader past half a CPU goes back to normal priority, and real-time once it needs little" rc=0 \
	"out=1/1 0/0 1/1" 'err~the reader used [0-9]+% of a CPU: normal priority until it needs less'
if command -v setpriv >/dev/null; then
	timeout -s KILL 30 setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice "$SHARK" -v "$T/rt.lua" bpf \
		>"$T/out" 2>"$T/err" </dev/null
	RC=$?
	check "-r without CAP_SYS_NICE: the run goes on at normal priority, and says so under -v" rc=0 \
		"out=bpf	during 0/0	child 0/0	after 0/0" \
		'err~the reader keeps normal priority: SCHED_FIFO 1: Operation not permitted'
else
	skip "-r without CAP_SYS_NICE" "no setpriv (util-linux)"
fi
run "$T/missing.lua"
check "a missing script: clear error, exit 1" rc=1 "err~cannot open .*missing.lua: No such file"

run -e 'print(1 + 1)'
check "-e runs code" rc=0 out=2 quiet
run -e 'print(select("#", ...), ...)' a 'b c'
check "-e passes the arguments" rc=0 "out=2	a	b c"
run_in 'print("from stdin", ...)' - x
check "- reads the script from stdin" rc=0 "out=from stdin	x"

cat >"$T/args.lua" <<'LUA'
print(arg[0]:match("args.lua$"), #shark.args, shark.args[1], shark.args[2])
LUA
run "$T/args.lua" -v --weird
check "options after the script are the script's" rc=0 "out=args.lua	2	-v	--weird" quiet

printf '#!/usr/bin/env shark\nprint("shebang", ...)\nerror("line 3")\n' >"$T/sb"
chmod +x "$T/sb"
PATH=$(dirname "$SHARK"):$PATH timeout 10 "$T/sb" one >"$T/out" 2>"$T/err"
RC=$?
check "a #! script runs, line numbers kept" rc=1 "out=shebang	one" "err~sb:3: line 3"

run -o "$T/o.txt" -e 'print("to the file") io.write("and io.write\n")'
check "-o sends the output to a file" rc=0 out= quiet
ok_if "-o file content" grep -qx "and io.write" "$T/o.txt"
run -o /nonexistent/dir/x -e 'print(1)'
check "-o to an unwritable path: exit 1" rc=1 "err~cannot write /nonexistent/dir/x"

run -e 'shark.log("debug line") shark.info("info line") print(shark.verbose, shark.quiet)'
check "without -v shark.log is silent, shark.info shows" rc=0 "out=0	false" '!err~debug line' 'err~info line'
run -v -e 'shark.log("debug line") print(shark.verbose)'
check "-v shows shark.log" rc=0 out=1 'err~debug line'
run -q -e 'shark.info("info line") print(shark.quiet)'
check "-q hides shark.info" rc=0 out=true quiet

# development: modules from the tree instead of the embedded copies
mkdir -p "$T/lua"
cp -r "$TOP/lua/." "$T/lua/"
printf 'local M = require "shark.orig_timer"\nM.from_tree = true\nreturn M\n' >"$T/lua/timer.lua"
cp "$TOP/lua/timer.lua" "$T/lua/shark/orig_timer.lua"
SHARK_LUA_PATH=$T/lua run -e 'print(require("timer").from_tree)'
check "SHARK_LUA_PATH loads modules from source" rc=0 out=true quiet
run -e 'print(require("timer").from_tree)'
check "without it the embedded modules are used" rc=0 out=nil quiet

# make install puts a working binary under PREFIX
make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr >"$T/out" 2>"$T/err"
RC=$?
check "make install DESTDIR=… PREFIX=/usr succeeds" rc=0
SHARK=$T/root/usr/bin/shark run -e 'print("installed")'
check "the installed binary runs" rc=0 out=installed

done_testing
