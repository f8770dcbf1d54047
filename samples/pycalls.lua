-- SPDX-License-Identifier: GPL-2.0
-- pycalls.lua - Python function calls counted (and timed with -L) in the kernel from CPython's USDT
-- probes python:function__entry/function__return, as BCC's ucalls does.
-- Run: shark samples/pycalls.lua -p PID -L     shark -c "python3.11 app.py" samples/pycalls.lua -L
local uv = require "uv"
local o = shark.getopt{
  about = "Count Python function calls (file.function) from the interpreter's USDT probes; with -L, total\n" ..
    "and average time per function. Debian's /usr/bin/python3.11 carries the probes (readelf -n). Python\n" ..
    "3.11 fires them only while its line probe is on too: each line and call then traps (~1-3 us).",
  examples = { "shark samples/pycalls.lua -p 1234 -L", "shark -c 'python3.11 app.py' samples/pycalls.lua -T 10",
    "shark samples/pycalls.lua -L 5     # every 5 s, all python3.11 processes" },
  args = { "[interval]", "[count]" },
  "pid", "duration",
  { "L", "latency", nil, "time each call (total and average)" },
  { "m", "milliseconds", nil, "times in ms instead of us" },
  { "T", "top", "N", "only the N most called functions", type = "int" },
  { "b", "binary", "PATH", "the interpreter with the probes (default: /usr/bin/python3.11, or -p's)" },
}

local obj = bpf.load([[
struct fn_key { char file[96]; char func[64]; };
struct fn_stat { u64 calls, ns; };
struct frame { u32 tid, depth; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct fn_key); __type(value, struct fn_stat); } calls SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 65536);
         __type(key, struct frame); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240); __type(key, u32); __type(value, u32); } depth
  SEC(".maps");
const volatile u32 cfg_latency = 0;

static __always_inline void add(const char *file, const char *func, u64 ns)
{
  struct fn_key k = {};
  bpf_probe_read_user_str(k.file, sizeof(k.file), file);
  bpf_probe_read_user_str(k.func, sizeof(k.func), func);
  struct fn_stat *s = bpf_map_lookup_elem(&calls, &k), one = { 1, ns };
  if (!s) { bpf_map_update_elem(&calls, &k, &one, BPF_NOEXIST); return; }
  __sync_fetch_and_add(&s->calls, 1);
  __sync_fetch_and_add(&s->ns, ns);
}

SEC("usdt") int BPF_USDT(entry, const char *file, const char *func, int line)
{
  if (!cfg_latency) { add(file, func, 0); return 0; }
  struct frame f = { (u32)bpf_get_current_pid_tgid(), 0 };
  u32 *d = bpf_map_lookup_elem(&depth, &f.tid), one = 1;
  if (d) f.depth = (*d)++; else bpf_map_update_elem(&depth, &f.tid, &one, BPF_ANY);
  u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &f, &now, BPF_ANY);
  return 0;
}

SEC("usdt") int line(void *ctx) { return 0; }

SEC("usdt") int BPF_USDT(ret, const char *file, const char *func, int line)
{
  struct frame f = { (u32)bpf_get_current_pid_tgid(), 0 };
  u32 *d = bpf_map_lookup_elem(&depth, &f.tid);
  if (!d || !*d) return 0;   /* entered before tracing started */
  f.depth = --(*d);
  u64 *t = bpf_map_lookup_elem(&start, &f);
  if (!t) return 0;
  add(file, func, bpf_ktime_get_ns() - *t);
  bpf_map_delete_elem(&start, &f);
  return 0;
}
]], { attach = false, rodata = { cfg_latency = o.latency and 1 or 0 } })

local t = shark.target()   -- a -c command is not exec'd yet: its /proc/PID/exe is still shark
local bin = o.binary or (o.pid and not (t and t.cmd) and uv.fs_readlink("/proc/" .. o.pid .. "/exe"))
  or "/usr/bin/python3.11"
-- Python 3.11 fires function__entry/return only on its tracing path, taken while its line probe is
-- enabled: an empty program on python:line enables it (a trap per line run, as each probe costs one)
local probes = { entry = "function__entry", line = "line", ret = o.latency and "function__return" }
for prog, probe in pairs(probes) do
  obj.progs[prog]:attach_usdt{ binary = bin, provider = "python", name = probe, pid = o.pid or -1 }
end
shark.info(("tracing calls in %s (%s)... Ctrl-C to end"):format(o.pid and "process " .. o.pid or "every process",
  bin))

local unit, div = o.milliseconds and "ms" or "us", o.milliseconds and 1e6 or 1e3
local function report()
  local rows = {}
  for k, s in pairs(obj.maps.calls) do
    rows[#rows + 1] = { name = ffi.string(k.file) .. "." .. ffi.string(k.func), calls = tonumber(s.calls),
      ns = tonumber(s.ns) }
  end
  table.sort(rows, function(a, b) return a.calls > b.calls or (a.calls == b.calls and a.name < b.name) end)
  if o.latency then
    print(("%-50s %8s %12s %10s"):format("METHOD", "# CALLS", "TIME (" .. unit .. ")", "AVG (" .. unit .. ")"))
  else
    print(("%-50s %8s"):format("METHOD", "# CALLS"))
  end
  for i, r in ipairs(rows) do
    if o.top and i > o.top then break end
    if o.latency then
      print(("%-50s %8d %12.2f %10.2f"):format(r.name, r.calls, r.ns / div, r.ns / div / r.calls))
    else
      print(("%-50s %8d"):format(r.name, r.calls))
    end
  end
  obj.maps.calls:clear()
end

if o.interval then shark.every(o.interval, o.count, report) else shark.on_end(report) end
