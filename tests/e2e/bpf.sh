# SPDX-License-Identifier: GPL-2.0
# bpf.sh - BPF programs from Lua on real probes: uprobes, USDT, tracepoints,
# perf events; maps as tables; globals; the compile cache; errors; cleanup.
. "$(dirname "$0")/lib.bash"

# Programs here return 1: a tracepoint program's return value filters every perf
# event of that tracepoint on the machine, and 0 would hide getppid from the
# perf.on tests of any other run (a neighbour's) while this file runs.

export SHARK_CACHE=$T/cache
P=$PROGS/probed

base_progs=$(loaded_ids prog)
base_links=$(loaded_ids link)
base_uprobes=$(md5sum </sys/kernel/tracing/uprobe_events)

# --- uprobe, uretprobe, USDT: exact counts, arguments and return values

cat >"$T/probes.lua" <<'LUA'
local obj = bpf.load([[
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, u32);
  __type(value, u64);
} stats SEC(".maps");

static __always_inline void add(u32 k, u64 v)
{
  u64 *p = bpf_map_lookup_elem(&stats, &k);
  if (p) __sync_fetch_and_add(p, v);
}

SEC("uprobe")
int BPF_KPROBE(on_add, int a, int b) { add(0, 1); add(1, a); add(2, b); return 1; }

SEC("uretprobe")
int BPF_KRETPROBE(on_ret, int ret) { add(3, 1); add(4, ret); return 1; }

SEC("usdt")
int BPF_USDT(on_tick, long i, long sq) { add(5, 1); add(6, i); add(7, sq); return 1; }
]], { attach = false })
local bin = shark.args[1]
obj.progs.on_add:attach_uprobe{ binary = bin, func = "probed_add" }
obj.progs.on_ret:attach_uretprobe{ binary = bin, func = "probed_add" }
obj.progs.on_tick:attach_usdt{ binary = bin, provider = "shark_test", name = "tick" }
shark.on_end(function()
  local s = obj.maps.stats
  print("uprobe", s[0], s[1], s[2])
  print("uretprobe", s[3], s[4])
  print("usdt", s[5], s[6], s[7])
end)
LUA
run -c "$P 1000" "$T/probes.lua" "$P"
check "uprobe on a function called 1000 times: 1000 hits, arguments (i, 2i) summed exactly" rc=0 \
	'out~^uprobe	1000	500500	1001000$'
check "uretprobe: 1000 returns, return values (3i) summed exactly" rc=0 'out~^uretprobe	1000	1501500$'
check "USDT probe (sys/sdt.h) hit 1000 times with arguments (i, i*i)" rc=0 'out~^usdt	1000	500500	333833500$'

# the same programs attached by spec (prog:attach(spec): shark.probes' provider table)
sed -e 's|on_add:attach_uprobe{.*}|on_add:attach("uprobe:" .. bin .. ":probed_add")|' \
	-e 's|on_ret:attach_uretprobe{.*}|on_ret:attach("uretprobe:" .. bin .. ":probed_add")|' \
	-e 's|on_tick:attach_usdt{.*}|on_tick:attach("usdt:" .. bin .. ":shark_test:tick")|' \
	"$T/probes.lua" >"$T/probes_spec.lua"
run -c "$P 1000" "$T/probes_spec.lua" "$P"
check "attach by spec: uprobe:, uretprobe: and usdt: count exactly as attach_uprobe/_uretprobe/_usdt" rc=0 \
	'out~^uprobe	1000	500500	1001000$' 'out~^uretprobe	1000	1501500$' 'out~^usdt	1000	500500	333833500$' \
	"file:$T/probes_spec.lua~on_tick:attach\\(\"usdt:" "!file:$T/probes_spec.lua~attach_(uprobe|uretprobe|usdt)"
run -e 'bpf.load([[SEC("uprobe") int f(void *c) { return 0; }]], { attach = false }).progs.f:attach("uprobe:/bin/true")'
check "attach by a malformed spec names it and the form" rc=1 \
	"err~^-e:1: attach: 'uprobe:/bin/true': expected uprobe:/path:function"

# --- a tracepoint counter filtered in the kernel to the workload's pid

cat >"$T/tp.lua" <<'LUA'
local obj = bpf.load([[
const volatile u32 cfg_pid = 0;
u64 hits = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int count(void *ctx)
{
  if (cfg_pid && (bpf_get_current_pid_tgid() >> 32) != cfg_pid) return 1;
  __sync_fetch_and_add(&hits, 1);
  return 1;
}
]], { rodata = { cfg_pid = shark.target().pid } })
print("cfg_pid is the target", obj.rodata.cfg_pid == shark.target().pid)
shark.on_end(function() print("hits", obj.bss.hits) end)
LUA
run -c "$PROGS/getppid_n 4321" "$T/tp.lua"
check "a tracepoint program filtered by a const volatile pid counts the workload's 4321 calls exactly" rc=0 \
	"out=cfg_pid is the target	true
hits	4321"

run -c "$PROGS/getppid_n 10" -e 'local o = bpf.load([[
u64 hits = 0;
const volatile u32 cfg_pid = 0;	/* the held workload: no hit between the write and the read */
SEC("tracepoint/syscalls/sys_enter_getppid")
int c(void *ctx) { if ((bpf_get_current_pid_tgid() >> 32) == cfg_pid) hits++; return 1; }
]], { rodata = { cfg_pid = shark.target().pid } })
o.bss.hits = 1000
local ok, err = pcall(function() o.rodata.nope = 1 end)
print(o.bss.hits, ok, (err:match("no global .nope. in .rodata")))'
check ".bss globals are writable from Lua; unknown globals are named" rc=0 \
	"out=1000	false	no global 'nope' in .rodata"

# --- runs the kernel skipped: counted per program, reported. A raw tracepoint
# program on bpf_trace_printk that prints itself: each nested run is skipped
# (a program does not run again while it runs on that CPU), 10 times.
run -c "$PROGS/getppid_n 10" -e 'local o = bpf.load([[
const volatile u32 cfg_pid = 0;
static __always_inline int mine(void) { return (bpf_get_current_pid_tgid() >> 32) == cfg_pid; }
SEC("tracepoint/syscalls/sys_enter_getppid")
int outer(void *ctx) { if (mine()) bpf_printk("shark test: outer"); return 1; }
SEC("raw_tracepoint/bpf_trace_printk")
int again(void *ctx) { if (mine()) bpf_printk("shark test: nested"); return 1; }
]], { rodata = { cfg_pid = shark.target().pid } })
shark.on_end(function() local n, by = o:misses() print(n, by.again, by.outer) end)'
check "runs the kernel skipped: counted per program (o:misses()) and reported at exit" rc=0 "out=10	10	nil" \
	"err~^shark: BPF program 'again' missed 10 events: the kernel skips a program while a BPF program"

# --- other attach types, and objects from files

run -c "$PROGS/sleeper btf 50" -e 'local o = bpf.load([[
u64 tp_btf_hits = 0, raw_hits = 0;
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
  if (BPF_CORE_READ(prev, tgid) == (int)(bpf_get_current_pid_tgid() >> 32)) __sync_fetch_and_add(&tp_btf_hits, 1);
  return 1;
}
SEC("raw_tracepoint/sched_switch")
int on_raw(struct bpf_raw_tracepoint_args *ctx) { __sync_fetch_and_add(&raw_hits, 1); return 1; }
]])
shark.on_end(function() print(o.bss.tp_btf_hits > 0, o.bss.raw_hits > 0) end)'
check "tp_btf (typed task_struct) and raw_tracepoint programs attach from SEC()" rc=0 "out=true	true"

cat >"$T/prog.bpf.c" <<'C'
#include "shark.bpf.h"
const volatile u32 cfg_pid = 0;
u64 hits = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int c(void *ctx)
{
  if ((bpf_get_current_pid_tgid() >> 32) == cfg_pid) hits++;
  return 1;
}
char LICENSE[] SEC("license") = "GPL";
C
run -c "$PROGS/getppid_n 33" -e 'local o = bpf.load("'"$T"'/prog.bpf.c", { rodata = { cfg_pid = shark.target().pid } })
shark.on_end(function() print(o.bss.hits) end)'
check "bpf.load of a .bpf.c file" rc=0 out=33
obj=$(ls "$SHARK_CACHE"/obj/*.bpf.o | head -1)
run -e 'local o = bpf.load("'"$obj"'", { attach = false }) local n = 0 for _ in pairs(o.progs) do n = n + 1 end print(n >= 1)'
check "bpf.load of a compiled .bpf.o" rc=0 out=true
run -vv -e 'local o = bpf.load("'"$T"'/prog.bpf.c", { attach = false })'
check "-vv shows libbpf's own messages" rc=0 'err~^libbpf: '

# --- perf_event programs: stack sampling finds the hot function

cat >"$T/stacks.lua" <<'LUA'
local obj = bpf.load([[
struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 1024);
  __uint(key_size, sizeof(u32));
  __uint(value_size, 127 * sizeof(u64));
} stacks SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, u32);
  __type(value, u64);
} counts SEC(".maps");

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
  u32 id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
  if ((int)id >= 0) shark_count(&counts, &id);
  return 1;
}
]], { attach = false })
obj.progs.sample:attach_perf_event{ event = "cpu-clock", freq = 499 }
shark.on_end(function()
  local best, max = nil, 0
  for id, n in pairs(obj.maps.counts) do if n > max then best, max = id, n end end
  local frames = obj.maps.stacks:stack(best, shark.target().pid)
  print(table.concat(frames, ";"), max > 50)
end)
LUA
run -c "$PROGS/fpchain 400" "$T/stacks.lua"
check "a perf_event program with bpf_get_stackid finds leaf <- mid <- main" rc=0 'out~^leaf;mid;main;.*	true$'

# --- maps as tables, filled by a program and from Lua

cat >"$T/maps.lua" <<'LUA'
bpf.cdef([[
const volatile u32 cfg_pid = 0;	/* only the workload: other processes call getppid too */
struct tval { u64 count; u32 last_pid; u32 cpu; };
struct tkey { u32 pid; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64);
  __type(key, struct tkey); __type(value, struct tval); } by_task SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64);
  __type(key, char[16]); __type(value, u64); } by_comm SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4);
  __type(key, u32); __type(value, u64); } arr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1);
  __type(key, u32); __type(value, u64); } percpu SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
  struct tkey k = {};
  u64 one = 1, *c;
  u32 zero = 0;
  k.pid = bpf_get_current_pid_tgid() >> 32;
  if (k.pid != cfg_pid) return 1;
  bpf_get_current_comm(&k.comm, sizeof(k.comm));
  struct tval *v = bpf_map_lookup_elem(&by_task, &k);
  if (v) { v->count++; v->last_pid = k.pid; v->cpu = bpf_get_smp_processor_id(); }
  else { struct tval nv = { 1, k.pid, bpf_get_smp_processor_id() }; bpf_map_update_elem(&by_task, &k, &nv, 0); }
  c = bpf_map_lookup_elem(&by_comm, &k.comm);
  if (c) __sync_fetch_and_add(c, 1); else bpf_map_update_elem(&by_comm, &k.comm, &one, 0);
  c = bpf_map_lookup_elem(&percpu, &zero);
  if (c) *c += 1;
  return 1;
}
]], { rodata = { cfg_pid = shark.target().pid } })
shark.on_end(function()
  local v = bpf.var
  local pid = shark.target().pid
  for k, val in pairs(v.by_task) do
    print("by_task", k.pid == pid, ffi.string(k.comm), tonumber(val.count), val.last_pid == pid)
  end
  for comm, n in pairs(v.by_comm) do print("by_comm", comm, n) end
  print("by_comm[getppid_n]", v.by_comm["getppid_n"], "missing", v.by_comm["nope"])
  print("percpu sum", v.percpu:sum(0), "cpus", #v.percpu[0] >= 1)
  -- writes from Lua: arrays, hashes with string keys, deletes
  v.arr[2] = 42
  local seen = {}
  for k, x in pairs(v.arr) do seen[#seen + 1] = k .. "=" .. x end
  print("arr", table.concat(seen, " "), "#", #v.arr)
  v.by_comm["lua"] = 7
  print("#by_comm", #v.by_comm, "items", #v.by_comm:items())
  v.by_comm["lua"] = nil
  print("deleted", v.by_comm["lua"], v.by_comm:delete("nope"), "#by_comm", #v.by_comm)
  v.by_task:clear()
  print("cleared", #v.by_task)
  local got = v.by_comm:take()
  local seen = {}
  for k, x in pairs(got) do seen[#seen + 1] = k .. "=" .. x end
  print("take", #got, table.concat(seen, " "), "left", #v.by_comm)
end)
LUA
run -c "$PROGS/getppid_n 777" "$T/maps.lua"
check "pairs over a hash with struct keys and values: named fields, exact count" rc=0 \
	'out~^by_task	true	getppid_n	777	true$'
check "string keys (char[16]) index and iterate as Lua strings" rc=0 'out~^by_comm	getppid_n	777$' \
	'out~^by_comm\[getppid_n\]	777	missing	nil$'
check "per-CPU values come per CPU, with a sum" rc=0 'out~^percpu sum	777	cpus	true$'
check "arrays iterate every index; m[k] = v writes" rc=0 'out~^arr	0=0 1=0 2=42 3=0	#	4$'
check "hash writes, #m, items(), deletes, clear()" rc=0 'out~^#by_comm	2	items	2$' \
	'out~^deleted	nil	false	#by_comm	1$' 'out~^cleared	0$'
check "take(): every entry read and deleted at once, pairs() walks what was taken" rc=0 \
	'out~^take	1	getppid_n=777	left	0$'

# --- ring events: typed records in batches, drops counted

cat >"$T/ring.lua" <<'LUA'
local size = shark.args[1]
local src = [[
struct event { u32 pid; u32 seq; char comm[16]; };
SHARK_RINGBUF(events, struct event, RING_SIZE);
u32 seq = 0;
const volatile u32 cfg_pid = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int on(void *ctx)
{
  struct event e = {};
  e.pid = bpf_get_current_pid_tgid() >> 32;
  if (e.pid != cfg_pid) return 1;	/* only the workload's calls are counted exactly */
  e.seq = __sync_fetch_and_add(&seq, 1);
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  shark_ringbuf_output(events, &e, sizeof(e));
  return 1;
}
]]
bpf.load((src:gsub("RING_SIZE", size)), { rodata = { cfg_pid = shark.target().pid } })
local n, sum, mine = 0, 0, 0
local pid = shark.target().pid
local h = bpf.on_ring("events", { drain_ms = tonumber(shark.args[2]) }, function(e)
  n = n + 1
  sum = sum + e.seq
  if e.pid == pid and ffi.string(e.comm) == "getppid_n" then mine = mine + 1 end
end)
shark.on_end(function() print(n, sum, mine, h:count() == n, h:lost(), n + h:lost()) end)
LUA
run -c "$PROGS/getppid_n 1000" "$T/ring.lua" 1048576 10
check "ring buffer: 1000 typed records, complete (sum of seq 0..999), struct fields and strings" rc=0 \
	"out=1000	499500	1000	true	0	1000"
run -c "$PROGS/getppid_n 200000" "$T/ring.lua" 4096 500
check "a 4 KiB ring drained every 500 ms: drops counted, delivered + dropped = 200000, reported" rc=0 \
	'out~^[0-9]+	[0-9]+	[0-9]+	true	[1-9][0-9]*	200000$' 'err~records dropped \(ring full\)'

cat >"$T/reserve.lua" <<'LUA'
bpf.load([[
struct event { u32 pid; u32 pad; u64 big[60]; };
SHARK_RINGBUF(events, struct event, 4096);
const volatile u32 cfg_pid = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int on(void *ctx)
{
  if (bpf_get_current_pid_tgid() >> 32 != cfg_pid) return 0;
  struct event *e = shark_ringbuf_reserve(events, sizeof(*e));
  if (!e) return 0;
  e->pid = cfg_pid;
  shark_ringbuf_submit(e);
  return 0;
}
]], { rodata = { cfg_pid = shark.target().pid } })
local n = 0
local h = bpf.on_ring("events", { drain_ms = 500 }, function() n = n + 1 end)
shark.on_end(function() print(n > 0, h:lost() > 0, n + h:lost()) end)
LUA
run -c "$PROGS/getppid_n 5000" "$T/reserve.lua"
check "records that fail shark_ringbuf_reserve are counted: delivered + lost = 5000 (this pid), reported" rc=0 \
	'out=true	true	5000' 'err~records dropped \(ring full\)'

# a program that submits the libbpf-bootstrap way (flags 0: a wake-up each
# time the reader has caught up) must not wake shark per record
cat >"$T/wakeful.lua" <<'LUA'
bpf.load([[
struct event { u32 pid; };
SHARK_RINGBUF(events, struct event, 1 << 22);
const volatile u32 cfg_pid = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int on(void *ctx)
{
  if (bpf_get_current_pid_tgid() >> 32 != cfg_pid) return 1;
  struct event *e = shark_ringbuf_reserve(events, sizeof(*e));
  if (!e) return 1;
  e->pid = cfg_pid;
  bpf_ringbuf_submit(e, 0);
  return 1;
}
]], { rodata = { cfg_pid = shark.target().pid } })
local n = 0
local h = bpf.on_ring("events", function() n = n + 1 end)
shark.on_end(function() print(n, h:lost(), h:wakeups() * 20 <= n, h:wakeups()) end)
LUA
run -c "$PROGS/getppid_n 100000" "$T/wakeful.lua"
check "bpf_ringbuf_submit(r, 0): every record, and at most one wake-up per 20 records (no storm)" rc=0 \
	'out~^100000	0	true	[0-9]+$'

cat >"$T/perfarray.lua" <<'LUA'
bpf.cdef[[
struct rec { u32 pid; u32 value; };
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(u32));
  __uint(value_size, sizeof(u32)); } out SEC(".maps");
struct rec *keep_rec_in_btf __attribute__((unused));
SEC("tracepoint/syscalls/sys_enter_getppid")
int on(void *ctx)
{
  struct rec r = { bpf_get_current_pid_tgid() >> 32, 7 };
  bpf_perf_event_output(ctx, &out, BPF_F_CURRENT_CPU, &r, sizeof(r));
  return 1;
}
]]
local n, sum = 0, 0
local pid = shark.target().pid
local h = bpf.on_ring("out", { type = "struct rec" }, function(r)
  if r.pid == pid then n = n + 1 sum = sum + r.value end
end)
shark.on_end(function() print(n, sum, h:lost()) end)
LUA
run -c "$PROGS/getppid_n 500" "$T/perfarray.lua"
check "perf event array: 500 typed records through per-CPU bpf-output events" rc=0 "out=500	3500	0"

run -d 2 -e 'bpf.cdef[[
SHARK_RINGBUF(events, struct nothing_here, 4096);
SEC("tracepoint/syscalls/sys_enter_getppid") int on(void *ctx) { return 1; }
]]
bpf.on_ring("events", function() end)'
check "a ring whose record type BTF lacks: a clear message" rc=1 "err~bpf.on_ring: no struct"

# --- bpftrace-style histograms

cat >"$T/hist.lua" <<'LUA'
-- the original form: bpf.cdef, then bpf.var and bpf.print_hist_map (a USDT
-- program has no target in its SEC(): attached explicitly)
local o = bpf.cdef([[
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 64);
  __type(key, u32); __type(value, u64); } hist SEC(".maps");
SEC("usdt")
int BPF_USDT(tick, long i, long sq)
{
  u32 slot = shark_log2_slot(i);
  u64 *c = bpf_map_lookup_elem(&hist, &slot);
  if (c) __sync_fetch_and_add(c, 1);
  return 1;
}
]], { attach = false })
o.progs.tick:attach_usdt{ binary = shark.args[1], provider = "shark_test", name = "tick" }
shark.on_end(function() bpf.print_hist_map(bpf.var.hist) end)
LUA
run -c "$P 1000" "$T/hist.lua" "$P"
check "print_hist_map: log2 buckets of 1..1000 exactly, bpftrace's layout" rc=0 \
	'out~^\[1\] +1 \|@ +\|$' 'out~^\[2, 4\) +2 \|@+ +\|$' 'out~^\[256, 512\) +256 \|@+ +\|$' \
	'out~^\[512, 1K\) +489 \|@{52}\|$'
ok_if "print_hist_map: 10 buckets, nothing else" test "$(grep -c '|' "$T/out")" = 10

# --- the compile cache, and errors

src='SEC("tracepoint/syscalls/sys_enter_getppid") int c(void *ctx) { return 1; }'
run -e "bpf.cdef[[$src]] print('loaded')" -d 0.1
check "BPF C compiles (the first time with clang)" rc=0 out=loaded
SHARK_CLANG=/nonexistent/clang run -e "bpf.cdef[[$src]] print('cached')" -d 0.1
check "the second run of the same source does not need clang" rc=0 out=cached
SHARK_CLANG=/nonexistent/clang run -e "bpf.cdef[[$src /* new */]]"
check "new source without clang: a clear message of what to install" rc=1 \
	"err~compiling BPF C needs clang, and '/nonexistent/clang' was not found: apt-get install clang"

printf 'local x = 1\nbpf.cdef[[\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint c(void *ctx)\n{\n  return nope(ctx);\n}\n]]\n' >"$T/bad.lua"
run "$T/bad.lua"
check "a compiler error names the user's file and line" rc=1 \
	"err~bad.lua:6:[0-9]+: error: implicit declaration of function 'nope'"

run -e 'bpf.cdef[[
SEC("tracepoint/syscalls/sys_enter_getppid")
int c(void *ctx) { int *p = 0; return *p; }
]]'
check "a verifier rejection names the program and shows the log's end" rc=1 \
	"err~the kernel rejected BPF program 'c' \\(tracepoint/syscalls/sys_enter_getppid\\)" 'err~verifier log \(end\):' \
	'!err~ulimit'

if ! "$SHARK" test kprobes >/dev/null 2>&1; then
	run -e 'bpf.cdef[[ SEC("kprobe/do_sys_openat2") int k(void *ctx) { return 1; } ]]'
	check "a kprobe on a kernel without kprobes: the kernel's reason" rc=1 \
		'err~no kprobes \(built without CONFIG_KPROBES\)'
fi
run -c "$PROGS/openat_n 50 /dev/null" -e 'bpf.cdef[[
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, u32);
  __type(value, u64);
} opens SEC(".maps");
SEC("fentry/do_sys_openat2") int BPF_PROG(f)
{
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  shark_count(&opens, &pid);
  return 1;
}
]]
shark.on_end(function() print("opens", bpf.var.opens[shark.target().pid]) end)'
if grep -q 'Operation not permitted' "$T/err"; then
	check "fentry where the kernel refuses it: a clear error" rc=1 'err~cannot load the BPF object: Operation not permitted'
else
	# the loader's opens count too: at least the workload's 50
	check "fentry loads and attaches where the kernel allows it" rc=0 'out~^opens	[0-9]+$'
	ok_if "fentry: at least the 50 opens of the -c workload" awk '$1 == "opens" {ok = $2 >= 50} END {exit !ok}' "$T/out"
fi

# --- nothing stays behind

sleep 0.3
# (new ones that no process holds: a neighbour's run holds its own)
left=$(orphans prog "$base_progs")
ok_if "no BPF program of ours is left loaded ($left)" test -z "$left"
left=$(orphans link "$base_links")
ok_if "no BPF link of ours is left ($left)" test -z "$left"
ok_if "uprobe_events unchanged" test "$(md5sum </sys/kernel/tracing/uprobe_events)" = "$base_uprobes"

done_testing
