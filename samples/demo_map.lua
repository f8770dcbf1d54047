-- SPDX-License-Identifier: GPL-2.0
-- demo_map.lua - every kind of BPF map, filled from sched:sched_switch and read from Lua as tables.
-- Run: shark samples/demo_map.lua [-p PID] [-d SECONDS]      shark -c 'CMD' samples/demo_map.lua
local o = shark.getopt{
  about = "Context switches out of each task, kept in hash, array, per-CPU hash and per-CPU array maps\n" ..
    "with int, string and struct keys and values; a line every second, every map at the end.",
  examples = { "demo_map.lua -d 5", "shark -c 'sleep 1' samples/demo_map.lua" }, "pid", "duration",
}

bpf.cdef([[
const volatile u32 cfg_pid = 0;
struct task { u32 pid; char comm[16]; };
struct usage { u64 switches; u64 sleeps; u64 last_ns; u32 cpu; };
#define MAP(kind, name, k, v, n) struct { __uint(type, BPF_MAP_TYPE_##kind); __uint(max_entries, n); \
  __type(key, k); __type(value, v); } name SEC(".maps")
MAP(HASH, switches, u32, u64, 10240);              /* pid -> switches out */
MAP(HASH, by_comm, char[16], u64, 10240);          /* comm -> switches out */
MAP(HASH, comm_of, u32, char[16], 10240);          /* pid -> comm */
MAP(HASH, handed_to, char[16], char[16], 10240);   /* comm -> comm that got the CPU last */
MAP(HASH, tasks, struct task, struct usage, 10240);
MAP(ARRAY, cpu_last, u32, struct task, 256);       /* cpu -> last task switched out */
MAP(PERCPU_HASH, pid_percpu, u32, u64, 10240);     /* pid -> switches out, per CPU */
MAP(PERCPU_ARRAY, total, u32, u64, 1);             /* switches out, per CPU */

SEC("tracepoint/sched/sched_switch")
int on_switch(struct trace_event_raw_sched_switch *ctx)
{
  if (cfg_pid && (bpf_get_current_pid_tgid() >> 32) != cfg_pid) return 0;
  struct task t = { .pid = ctx->prev_pid };
  char next[16];
  u32 cpu = bpf_get_smp_processor_id(), zero = 0;
  bpf_probe_read_kernel_str(t.comm, sizeof(t.comm), ctx->prev_comm);
  bpf_probe_read_kernel_str(next, sizeof(next), ctx->next_comm);
  shark_count(&switches, &t.pid);
  shark_count(&by_comm, &t.comm);
  shark_count(&pid_percpu, &t.pid);
  bpf_map_update_elem(&comm_of, &t.pid, t.comm, BPF_ANY);
  bpf_map_update_elem(&handed_to, t.comm, next, BPF_ANY);
  bpf_map_update_elem(&cpu_last, &cpu, &t, BPF_ANY);
  u64 *n = bpf_map_lookup_elem(&total, &zero);
  if (n) *n += 1;
  struct usage *u = bpf_map_lookup_elem(&tasks, &t), nu = { 0 };
  if (!u) { bpf_map_update_elem(&tasks, &t, &nu, BPF_NOEXIST); u = bpf_map_lookup_elem(&tasks, &t); }
  if (!u) return 0;
  __sync_fetch_and_add(&u->switches, 1);
  if (ctx->prev_state == 1) __sync_fetch_and_add(&u->sleeps, 1);   /* TASK_INTERRUPTIBLE */
  u->last_ns = bpf_ktime_get_ns();
  u->cpu = cpu;
  return 0;
}
]], { rodata = { cfg_pid = o.pid or 0 } })

local m = bpf.var
local function percpu(v) return ("%d (%s)"):format(v:sum(), table.concat(v, " + ")) end
-- bpftrace's map layout, busiest first, at most 10 entries a map; weight nil: not shown
local function show(name, fmt, weight)
  local rows = {}
  for _, r in ipairs(m[name]:items()) do if weight(r) then rows[#rows + 1] = r end end
  table.sort(rows, function(a, b) return weight(a) > weight(b) end)
  for i = 1, math.min(#rows, 10) do print(("@%s[%s]: %s"):format(name, fmt(rows[i][1], rows[i][2]))) end
  print()
end
local function sw(r) return m.switches[type(r[1]) == "number" and r[1] or r[1].pid] or 0 end

shark.info("tracing sched:sched_switch" .. (o.pid and (" of pid " .. o.pid) or "") .. "... Ctrl-C to end")
shark.every(1, nil, function()
  print(("%s switches: %s"):format(os.date("%H:%M:%S"), percpu(m.total[0])))
end)
shark.on_end(function()
  print()
  show("switches", function(k, v) return k, v end, function(r) return r[2] end)
  show("by_comm", function(k, v) return k, v end, function(r) return r[2] end)
  show("comm_of", function(k, v) return k, v end, sw)
  show("handed_to", function(k, v) return k, v end, function(r) return m.by_comm[r[1]] or 0 end)
  show("tasks", function(k, v)
    return ("%d, %s"):format(k.pid, ffi.string(k.comm)), ("{ switches %d, sleeps %d, cpu %d, %.3f s ago }"):format(
      tonumber(v.switches), tonumber(v.sleeps), v.cpu, (shark.time() - tonumber(v.last_ns)) / 1e9)
  end, function(r) return tonumber(r[2].switches) end)
  show("cpu_last", function(k, v) return k, ("{ %d, %s }"):format(v.pid, ffi.string(v.comm)) end,
    function(r) return ffi.string(r[2].comm) ~= "" and -r[1] or nil end)
  show("pid_percpu", function(k, v) return k, percpu(v) end, function(r) return r[2]:sum() end)
  print(("@total[0]: %s"):format(percpu(m.total[0])))
end)
