# SPDX-License-Identifier: GPL-2.0
# windows.sh - a result read per window (the agent's profiler, jobs that
# reset per interval) loses nothing at the hand-over: getppid_n makes
# exactly N calls while the script takes the counts every millisecond, and
# the sum over all windows is N for its pid (plus the program runs the kernel
# skipped and counted, c:misses(), should another BPF program hold a CPU).
# Reading, then clearing (the old way) lost the calls in between. Every key
# kind: hash keys (pid), the per-CPU arrays of small integers (syscall), stacks.
. "$(dirname "$0")/lib.bash"

N=1000000
# windows: how many takes saw some of the calls (more than one: the hand-over happened)
run -c "$PROGS/getppid_n $N" -e 'local timer = require "timer"
local pid = shark.target().pid
local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid", pid = pid }
local sum, windows = 0, 0
local function window()
  local n = c:take()[pid] or 0
  if n > 0 then windows = windows + 1 end
  sum = sum + n
end
timer.set_interval(1, window)
shark.on_end(function() window() print(sum + c:misses(), windows > 1, windows) end)'
check "res:take() every ms while getppid_n runs: exactly $N calls over all windows" rc=0 "out~^$N	true	"

# small integer keys (syscall ids) count in per-CPU arrays, switched with the
# hash maps: reading one then zeroing it lost a quarter of the calls
run -c "$PROGS/getppid_n $N" -e 'local timer = require "timer"
local pid = shark.target().pid
local c = bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall", pid = pid }
local sum, windows = 0, 0
local function window()
  local n = c:take().getppid or 0
  if n > 0 then windows = windows + 1 end
  sum = sum + n
end
timer.set_interval(1, window)
shark.on_end(function() window() print(sum + c:misses(), windows > 1, windows, c.getppid) end)'
check "by = 'syscall' (the per-CPU arrays) taken every ms while getppid_n runs: exactly $N calls over all windows, none left" \
	rc=0 "out~^$N	true	[0-9]+	nil$"

# stack keys, as the profiler reads them: entries{take = true}
run -c "$PROGS/getppid_n $N" -e 'local timer = require "timer"
local pid = shark.target().pid
local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "ustack", pid = pid }
local sum, windows = 0, 0
local function window()
  local n = 0
  for _, row in ipairs(c:entries{ take = true }) do if row.pid == pid then n = n + row.count end end
  if n > 0 then windows = windows + 1 end
  sum = sum + n
end
timer.set_interval(1, window)
shark.on_end(function() window() print(sum + c:misses(), windows > 1, windows) end)'
check "stacks taken by entries{take = true} every ms: exactly $N calls over all windows" rc=0 "out~^$N	true	"

# what is left out by pids is said, not lost
run -c "$PROGS/getppid_n 5000" -e 'local pid = shark.target().pid
local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "ustack", pid = pid }
shark.on_end(function()
  local rows, left = c:entries{ take = true, pids = { [pid + 1] = true } }
  print(#rows, left + c:misses(), #c:entries())
end)'
check "entries{take = true, pids = ...}: the counts of the other pids as its second value, the map emptied" \
	rc=0 "out=0	5000	0"
done_testing
