-- SPDX-License-Identifier: GPL-2.0
-- phpcalls.lua - PHP function calls (class::function) counted, and timed with -L, in the kernel from
-- PHP's USDT probes (php:function__entry/return), with a line per request start and end, as BCC's ucalls.
-- Run: USE_ZEND_DTRACE=1 shark -c "php app.php" samples/phpcalls.lua -L     shark samples/phpcalls.lua -p PID
local uv = require "uv"
local o = shark.getopt{
  about = "Count PHP function calls (class::function) from PHP's USDT probes; with -L, total and average\n" ..
    "time per function; request start/end lines. Debian's /usr/bin/php8.2 carries the probes (readelf -n).\n" ..
    "PHP fires them only when USE_ZEND_DTRACE=1 is in the traced process's environment.",
  examples = { "USE_ZEND_DTRACE=1 shark -c 'php8.2 app.php' samples/phpcalls.lua -L",
    "shark samples/phpcalls.lua -p 1234 -T 10 5    # php-fpm started with USE_ZEND_DTRACE=1, every 5 s" },
  args = { "[interval]", "[count]" },
  "pid", "duration",
  { "L", "latency", nil, "time each call (total and average)" },
  { "m", "milliseconds", nil, "times in ms instead of us" },
  { "T", "top", "N", "only the N most called functions", type = "int" },
  { "b", "binary", "PATH", "the PHP binary or library with the probes (default: /usr/bin/php8.2, or -p's)" },
}

local obj = bpf.load([[
struct fn_key { char cls[64]; char func[64]; };
struct fn_stat { u64 calls, ns; };
struct frame { u32 tid, depth; };
struct php_req { u32 pid, start; char file[128], uri[64], method[16]; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct fn_key); __type(value, struct fn_stat); } calls SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 65536);
         __type(key, struct frame); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240); __type(key, u32); __type(value, u32); } depth
  SEC(".maps");
SHARK_RINGBUF(requests, struct php_req, 1 << 16);
const volatile u32 cfg_latency = 0;

static __always_inline void add(const char *cls, const char *func, u64 ns)
{
  struct fn_key k = {};
  if (cls) bpf_probe_read_user_str(k.cls, sizeof(k.cls), cls);
  bpf_probe_read_user_str(k.func, sizeof(k.func), func);
  struct fn_stat *s = bpf_map_lookup_elem(&calls, &k), one = { 1, ns };
  if (!s) { bpf_map_update_elem(&calls, &k, &one, BPF_NOEXIST); return; }
  __sync_fetch_and_add(&s->calls, 1);
  __sync_fetch_and_add(&s->ns, ns);
}

SEC("usdt") int BPF_USDT(entry, const char *func, const char *file, int line, const char *cls)
{
  if (!cfg_latency) { add(cls, func, 0); return 0; }
  struct frame f = { (u32)bpf_get_current_pid_tgid(), 0 };
  u32 *d = bpf_map_lookup_elem(&depth, &f.tid), one = 1;
  if (d) f.depth = (*d)++; else bpf_map_update_elem(&depth, &f.tid, &one, BPF_ANY);
  u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &f, &now, BPF_ANY);
  return 0;
}

SEC("usdt") int BPF_USDT(ret, const char *func, const char *file, int line, const char *cls)
{
  struct frame f = { (u32)bpf_get_current_pid_tgid(), 0 };
  u32 *d = bpf_map_lookup_elem(&depth, &f.tid);
  if (!d || !*d) return 0;   /* entered before tracing started */
  f.depth = --(*d);
  u64 *t = bpf_map_lookup_elem(&start, &f);
  if (!t) return 0;
  add(cls, func, bpf_ktime_get_ns() - *t);
  bpf_map_delete_elem(&start, &f);
  return 0;
}

static __always_inline int request(const char *file, const char *uri, const char *method, u32 start)
{
  struct php_req r = { bpf_get_current_pid_tgid() >> 32, start };
  bpf_probe_read_user_str(r.file, sizeof(r.file), file);
  bpf_probe_read_user_str(r.uri, sizeof(r.uri), uri);
  bpf_probe_read_user_str(r.method, sizeof(r.method), method);
  shark_ringbuf_output(requests, &r, sizeof(r));
  return 0;
}
SEC("usdt") int BPF_USDT(req_start, const char *f, const char *u, const char *m) { return request(f, u, m, 1); }
SEC("usdt") int BPF_USDT(req_end, const char *f, const char *u, const char *m) { return request(f, u, m, 0); }
]], { attach = false, rodata = { cfg_latency = o.latency and 1 or 0 } })

local t = shark.target()   -- a -c command is not exec'd yet: its /proc/PID/exe is still shark
local bin = o.binary or (o.pid and not (t and t.cmd) and uv.fs_readlink("/proc/" .. o.pid .. "/exe"))
  or "/usr/bin/php8.2"
local probes = { entry = "function__entry", ret = o.latency and "function__return", req_start = "request__startup",
  req_end = "request__shutdown" }
for prog, probe in pairs(probes) do
  obj.progs[prog]:attach_usdt{ binary = bin, provider = "php", name = probe, pid = o.pid or -1 }
end
shark.info(("tracing calls in %s (%s)... Ctrl-C to end"):format(o.pid and "process " .. o.pid or "every process",
  bin))

bpf.on_ring("requests", function(r)
  print(("%s %s pid %d %s %s %s"):format(os.date("%H:%M:%S"), r.start == 1 and "request start" or "request end  ",
    r.pid, ffi.string(r.method), ffi.string(r.uri), ffi.string(r.file)))
end)

local unit, div = o.milliseconds and "ms" or "us", o.milliseconds and 1e6 or 1e3
local function report()
  local rows = {}
  for k, s in pairs(obj.maps.calls) do
    local cls = ffi.string(k.cls)
    rows[#rows + 1] = { name = (cls ~= "" and cls .. "::" or "") .. ffi.string(k.func), calls = tonumber(s.calls),
      ns = tonumber(s.ns) }
  end
  table.sort(rows, function(a, b) return a.calls > b.calls or (a.calls == b.calls and a.name < b.name) end)
  print(("%-50s %8s"):format("METHOD", "# CALLS") ..
    (o.latency and ("%12s %10s"):format("TIME (" .. unit .. ")", "AVG (" .. unit .. ")") or ""))
  for i, r in ipairs(rows) do
    if o.top and i > o.top then break end
    print(("%-50s %8d"):format(r.name, r.calls) ..
      (o.latency and ("%12.2f %10.2f"):format(r.ns / div, r.ns / div / r.calls) or ""))
  end
  obj.maps.calls:clear()
end

if o.interval then shark.every(o.interval, o.count, report) else shark.on_end(report) end
