# SPDX-License-Identifier: GPL-2.0
# unwind.sh - user stacks of code built without frame pointers (Debian's -O2):
# DWARF unwinding of copied stacks against perf's own, frame-pointer mode's
# notice, processes in other mount and pid namespaces.
. "$(dirname "$0")/lib.bash"

CHAIN='dw_lib_leaf\ndw_lib_mid\ndw_app_mid\nmain\n'

# --- perf.on callchain_u = "dwarf": the whole chain in nearly every sample

cat >"$T/dwarf.lua" <<'LUA'
local pid = shark.target().pid
local n, whole = 0, 0
perf.on("cpu-clock", { freq = 199, callchain_k = 1, callchain_u = "dwarf" }, function(e)
  if e.pid ~= pid then return end
  n = n + 1
  if (e.callchain or ""):find("dw_lib_leaf\ndw_lib_mid\ndw_app_mid\nmain\n", 1, true) then whole = whole + 1 end
end)
shark.on_end(function()
  print(("samples %d whole %d ratio %.3f ok %s"):format(n, whole, n > 0 and whole / n or 0,
    tostring(n >= 50 and whole >= 0.95 * n)))
end)
LUA
run -c "$PROGS/dwchain 1500" "$T/dwarf.lua"
check "dwarf: main -> dw_app_mid -> dw_lib_mid -> dw_lib_leaf (-O2, no frame pointers, a library) in >= 95% of samples" \
	rc=0 'out~ ok true$'

# kernel frames, then user frames through libc (no frame pointers there either), in one chain
cat >"$T/mixed.lua" <<'LUA'
local pid, n, mixed = shark.target().pid, 0, 0
perf.on("sched:sched_switch", { callchain_k = 1, callchain_u = "dwarf" }, function(e)
  if e.pid ~= pid or e.raw.prev_state ~= 1 then return end
  n = n + 1
  local c = e.callchain or ""
  -- (__traceiter_sched_switch first when other tracers share the tracepoint)
  c = c:gsub("^__traceiter_sched_switch\n", "")
  if c:find("^__schedule\n.*\ndo_nanosleep\n.*\nclock_nanosleep[^\n]*\nnanosleep\nmain\n") then
    mixed = mixed + 1
  end
end)
shark.on_end(function() print(n, mixed) end)
LUA
run -c "$PROGS/sleeper sl33py 40" "$T/mixed.lua"
check "sched_switch: __schedule .. do_nanosleep (kernel) then clock_nanosleep <- nanosleep <- main (libc, user), 40 of 40" \
	rc=0 "out=40	40"

# a kept sample holds its registers and stack copy: unwinding them again (what a journal replays) gives the same chain
cat >"$T/again.lua" <<'LUA'
local stack, api = require "perf.stack", require "shark.api"
local kept = {}
perf.on("cpu-clock", { freq = 199, callchain_u = "dwarf" }, function(e)
  if #kept < 20 and e.pid == shark.target().pid and e.user_stack ~= nil then kept[#kept + 1] = e:copy() end
end)
shark.on_end(function()
  local same, buf = 0, ffi.new("char[256]")
  for _, e in ipairs(kept) do
    local ips, n = stack.unwind(e.pid, e.user_regs, e.user_stack, e.user_stack_size)
    local names = {}
    for i = 0, n - 1 do names[#names + 1] = ffi.string(buf, api.symbolize(e.pid, ips[i], buf, 256)) end
    if table.concat(names, "\n") == e.callchain and n >= 7 then same = same + 1 end
  end
  print(#kept, same)
end)
LUA
run -c "$PROGS/dwchain 600" "$T/again.lua"
check "e:copy() keeps user_regs/user_stack; stack.unwind() on them gives the live chain again, 20 of 20" \
	rc=0 "out=20	20"

# --- the same functions as perf record --call-graph dwarf + perf report
if ! command -v perf >/dev/null; then
	skip "same chain as perf --call-graph dwarf" "perf is not installed (package linux-perf)"
else
	(cd "$T" && perf record -q -o "$T/perf.data" --call-graph dwarf -F 199 "$PROGS/dwchain" 800 \
		>/dev/null 2>&1)
	# the callee graph of the hottest symbol, leaf first: "---leaf" then one caller per line
	perf report -i "$T/perf.data" --stdio --no-children -q -g caller,0.5,callee,function,percent \
		--percent-limit 50 2>/dev/null | sed -n 's/^ *|* *---\(.*\)$/\1/p; s/^ \{10,\}\([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' |
		head -4 >"$T/perf.chain"
	cat >"$T/top.lua" <<'LUA'
local pid, counts = shark.target().pid, {}
perf.on("cpu-clock", { freq = 199, callchain_u = "dwarf" }, function(e)
  if e.pid == pid and e.callchain then counts[e.callchain] = (counts[e.callchain] or 0) + 1 end
end)
shark.on_end(function()
  local top, max = "", 0
  for k, v in pairs(counts) do if v > max then top, max = k, v end end
  local i = 0
  for f in top:gmatch("[^\n]+") do
    i = i + 1
    if i <= 4 then print(f) end
  end
end)
LUA
	run -c "$PROGS/dwchain 800" "$T/top.lua"
	ok_if "perf report's chain has 4 frames: $(tr '\n' ' ' <"$T/perf.chain")" \
		test "$(wc -l <"$T/perf.chain")" = 4
	ok_if "shark's hottest chain names the same 4 functions as perf report: $(tr '\n' ' ' <"$T/out")" \
		cmp -s "$T/out" "$T/perf.chain"
fi

# --- profile.lua: --call-graph dwarf, and frame-pointer mode's notice

run -c "$PROGS/dwchain 1000" "$TOP/samples/profile.lua" -F 199 --folded --call-graph dwarf
check "profile --call-graph dwarf: the folded stack runs from _start to dw_lib_leaf" rc=0 \
	'out~^dwchain;_start;[^ ]*;main;dw_app_mid;dw_lib_mid;dw_lib_leaf [0-9]+$'

run -c "$PROGS/dwchain 600" "$TOP/samples/profile.lua" -F 199 --folded
check "profile (frame pointers): the leaf, and a notice saying why its callers are missing" rc=0 \
	'out~^dwchain;dw_lib_leaf [0-9]+' '!out~dw_app_mid' \
	'err~[0-9]+ of [0-9]+ samples have user stacks that stop before .*frame pointers.*--call-graph dwarf'

run -c "$PROGS/fpchain 400" "$TOP/samples/profile.lua" -F 199 --folded
check "profile (frame pointers) of a program built with them: whole stacks, no notice" rc=0 \
	'out~main;mid;leaf [0-9]+' '!err~stop before'

# --- containers: another mount + pid namespace, a chroot

# The namespace mounts a tmpfs over $T/nsx holding its own copy of the program
# and library; on the host, that path holds a different ELF file of the same
# name: only /proc/PID/root gives the namespace's one.
mkdir -p "$T/nsx"
cp /bin/true "$T/nsx/libdwlib.so"
cp "$PROGS/dwchain" "$T/nsx/dwchain"
NSCMD="mount -t tmpfs none $T/nsx && cp $PROGS/dwchain $PROGS/libdwlib.so $T/nsx/ && exec $T/nsx/dwchain"
if ! unshare -m -p --fork true 2>/dev/null; then
	skip "profile of a process in its own mount and pid namespace" "unshare -m -p fails here"
else
	run -c "unshare -m -p --fork sh -c '$NSCMD 1200'" "$TOP/samples/profile.lua" -F 199 --call-graph dwarf --containers
	check "unshare -m -p: the library of the namespace (not the host's file at that path), host pid, ns pid 1 and cgroup" \
		rc=0 'out~^    dw_lib_leaf$' 'out~^    dw_lib_mid$' 'out~^    dw_app_mid$' \
		'out~^    -  +dwchain \([0-9]{2,}\) \[ns pid 1, cgroup /[^]]*, own root\]$'

	# -p takes the host pid of a process inside the namespace
	unshare --kill-child -m -p --fork sh -c "$NSCMD 4000" &
	NSBG=$!
	for _ in $(seq 50); do
		HOSTPID=$(pgrep -f "^$T/nsx/dwchain" | head -1)
		[ -n "$HOSTPID" ] && break
		sleep 0.05
	done
	run -p "${HOSTPID:-0}" -d 1 "$TOP/samples/profile.lua" -F 199 --folded --call-graph dwarf
	check "-p HOSTPID of a namespaced process: its whole stack" rc=0 \
		'out~^dwchain;_start;.*;main;dw_app_mid;dw_lib_mid;dw_lib_leaf [0-9]+$'
	kill "$NSBG" 2>/dev/null	# --kill-child: the namespace goes with it
	wait "$NSBG" 2>/dev/null
fi

# A chroot with its own copies of the C library and the program's library
# (same paths as the host's libc: other files, found through /proc/PID/root).
mkdir -p "$T/root"
mkdir -p "$T/root/usr/lib"
cp "$PROGS/dwchain" "$T/root/"
cp "$PROGS/libdwlib.so" "$T/root/usr/lib/"
for f in $(ldd "$PROGS/dwchain" | grep -o '/[^ ]*'); do
	mkdir -p "$T/root$(dirname "$f")"
	cp -L "$f" "$T/root$f"
done
run -c "chroot $T/root /dwchain 1000" "$TOP/samples/profile.lua" -F 199 --folded --call-graph dwarf
check "chroot: the whole stack, through the chroot's own libc and library" rc=0 \
	'out~^dwchain;_start;__libc_start_main[^;]*;__libc_start_call_main;main;dw_app_mid;dw_lib_mid;dw_lib_leaf [0-9]+$'

# --- Python frames (CPython 3.11) between the interpreter's native frames

PY=/usr/bin/python3.11
if [ ! -x "$PY" ]; then
	skip "python frames" "no $PY (python3.11-minimal)"
else
	cat >"$T/py.lua" <<'LUA'
local pid, n, named = shark.target().pid, 0, 0
perf.on("cpu-clock", { freq = 199, callchain_u = "dwarf" }, function(e)
  if e.pid ~= pid then return end
  n = n + 1
  local c = e.callchain or ""
  if c:find("hot_leaf (pyhot.py)\nOuter.run (pyhot.py)\nmain (pyhot.py)\n<module> (pyhot.py)\n" ..
    "_PyEval_EvalFrameDefault\n", 1, true) and c:find("\nPy_BytesMain\n", 1, true) then named = named + 1 end
end)
shark.on_end(function() print(n >= 50 and named >= 0.9 * n, n, named) end)
LUA
	run -c "$PY $TOP/tests/progs/py/pyhot.py 1500" "$T/py.lua"
	check "python3.11: hot_leaf <- Outer.run <- main <- <module> before _PyEval_EvalFrameDefault, Py_BytesMain below, >= 90%" \
		rc=0 'out~^true	'

	# off CPU: the BPF program copies the stack of the sleeping thread, shark unwinds it and reads its Python frames
	run -c "$PY $TOP/tests/progs/py/pysleep.py 30" "$TOP/samples/offcputime.lua" --folded -u --call-graph dwarf
	us=$(grep -E '^python3.11;_start;.*;_PyEval_EvalFrameDefault;<module> \(pysleep.py\);Waiter.go \(pysleep.py\);napper \(pysleep.py\);.*clock_nanosleep[^ ]* [0-9]+$' \
		"$T/out" | awk '{n += $NF} END {print n + 0}')
	ok_if "python3.11 off CPU: of 30 sleeps of 2 ms, >= 50 ms ($us us) under <module>;Waiter.go;napper;...;clock_nanosleep" \
		test "$us" -ge 50000
fi

# A process named like an interpreter whose layout cannot be read: said once, native frames, no crash
cp "$PROGS/dwchain" "$T/python3.12"
cp "$PROGS/dwchain" "$T/python3.11"
cp "$PROGS/libdwlib.so" "$T/"
for v in 3.12 3.11; do
	run -c "$T/python$v 300" "$TOP/samples/profile.lua" -F 199 --folded --call-graph dwarf
	check "a 'python$v' whose frames cannot be read: a notice for its pid, its native stack" rc=0 \
		'out~^python3.1[12];_start;.*;main;dw_app_mid;dw_lib_mid;dw_lib_leaf [0-9]+$' \
		"err~python frames: pid [0-9]+ .*python$v.*: its stacks show the interpreter's C frames only"
done

# --- errors

run -e 'perf.on("cpu-clock", { callchain_u = "dwarff" }, function() end)'
check "callchain_u: an unknown mode is refused, with the ones there are" rc=1 \
	'err~callchain_u: expected true, "fp" or "dwarf"'
run -e 'perf.on("cpu-clock", { callchain_u = "dwarf", stack_bytes = 100 }, function() end)'
check "stack_bytes: not a multiple of 8 is refused" rc=1 'err~stack_bytes must be a multiple of 8'
run -e 'perf.on("cpu-clock", { callchain_u = true, stack_bytes = 4096 }, function() end)'
check "stack_bytes without dwarf is refused" rc=1 'err~stack_bytes goes with callchain_u = "dwarf"'
# --- off-CPU time by DWARF stacks: the BPF program copies the stack, shark unwinds it

run -c "$PROGS/sleeper zz 40" "$TOP/samples/offcputime.lua" --folded --call-graph dwarf
check "offcputime --call-graph dwarf: 40 sleeps of 1 ms under main;nanosleep;clock_nanosleep (libc, no frame pointers)" \
	rc=0 'out~^zz;_start;[^ ]*;main;nanosleep;clock_nanosleep[^;]*;.*;__schedule[^ ]* (4[0-9]{4}|[5-9][0-9]{4}|[0-9]{6,})$'
# A process gone before its stack records are read (a busy machine: shark
# did not get to drain while it ran): it is unwound and named from what was
# taken when the records were queued (its mmap records, the name in the
# record), not from /proc. Here the loop is held in a timer until the child
# has exited, so every drain comes after.
cat >"$T/gone.lua" <<'LUA'
local r = bpf.offcpu{ pid = shark.target().pid, user = "dwarf", kernel = false }
set_timeout(0, function()
  local pid = shark.target().pid
  while true do
    local f = io.open(("/proc/%d/stat"):format(pid))
    local st = f and f:read("*a") or ""
    if f then f:close() end
    if st == "" or st:match("^%d+ %b() (%a)") == "Z" then break end
  end
end)
shark.on_end(function() require("shark.stacks").export(r:profile{}, "folded") end)
LUA
run -c "$PROGS/sleeper zz 40" "$T/gone.lua"
check "offcputime dwarf of a process that exited before any drain: its name and main;nanosleep;clock_nanosleep" \
	rc=0 'out~^zz;_start;[^ ]*;main;nanosleep;clock_nanosleep[^ ]* (4[0-9]{4}|[5-9][0-9]{4}|[0-9]{6,})$'
# The same through perf rings: samples unwound while decoded, the process
# exec'd on one CPU (its mmap and exec records in that CPU's ring) and was
# sampled on the other, and had exited (reaped: /proc has not even its name)
# before any was read.
cat >"$T/gone_perf.lua" <<'LUA'
local pid, n, named, comm = shark.target().pid, 0, 0, 0
perf.on("cpu-clock", { freq = 999, callchain_u = "dwarf", pid = pid }, function(e)
  n = n + 1
  if (e.callchain or ""):find("dw_lib_leaf\ndw_lib_mid\ndw_app_mid\nmain\n", 1, true) then named = named + 1 end
  if e.comm == "dwchain" then comm = comm + 1 end
end)
set_timeout(0, function()
  while true do
    local f = io.open(("/proc/%d/stat"):format(pid))
    local st = f and f:read("*a") or ""
    if f then f:close() end
    if st == "" or st:match("^%d+ %b() (%a)") == "Z" then break end
  end
end)
shark.on_end(function() print(n > 20 and named >= 0.9 * n and comm == n, n, named, comm) end)
LUA
run -c "$PROGS/dwchain 300" "$T/gone_perf.lua"
check "profile dwarf of a process that exited before any drain: >= 90% of samples main..dw_lib_leaf, all named dwchain" \
	rc=0 'out~^true	'
run -c "$PROGS/sleeper zz 40" "$TOP/samples/offcputime.lua" --folded -u
check "offcputime (frame pointers, the same sleeps): libc's walk skips nanosleep and main" rc=0 \
	'out~^zz;.*clock_nanosleep[^;]* [0-9]+$' '!out~;main;nanosleep;'

run -e 'bpf.stacks{ user = "dwarf" }'
check "bpf.stacks: user = \"dwarf\" states the limit (in-kernel counting walks frame pointers) and what to use" \
	rc=1 'err~bpf.stacks: user = "dwarf" is not available: .*frame pointers only.*callchain_u = "dwarf"'

done_testing
