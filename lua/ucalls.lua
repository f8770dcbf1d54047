-- SPDX-License-Identifier: GPL-2.0
-- ucalls.lua - language-runtime calls through their USDT probes, as BCC's ucalls: the options, one BPF
-- program counting (and with -L timing) function__entry/return by (class, method) strings in the kernel,
-- and the METHOD / # CALLS [TIME AVG] report. A runtime's sample gives its probe names and arguments.
local ffi = require "ffi"
local uv = require "uv"
local bpf = require "bpf"
local shark = require "shark"

local M = {}

-- The options of a calls tool: spec (about, examples) plus [interval] [count], -p, -d, -L, -m, -T and
-- -b, whose help is spec.binary ("the interpreter with the probes (default: ...)").
function M.options(spec)
  local binary = spec.binary
  spec.binary = nil
  spec.args = spec.args or { "[interval]", "[count]" }
  for _, row in ipairs({ "pid", "duration",
    { "L", "latency", nil, "time each call (total and average)" },
    { "m", "milliseconds", nil, "times in ms instead of us" },
    { "T", "top", "N", "only the N most called functions", type = "int" },
    { "b", "binary", "PATH", binary } }) do
    spec[#spec + 1] = row
  end
  return spec
end

-- The binary to attach to: -b, else -p's executable, else `default`.
function M.binary(o, default)
  local t = shark.target()   -- a -c command is not exec'd yet: its /proc/PID/exe is still shark
  return o.binary or (o.pid and not (t and t.cmd) and uv.fs_readlink("/proc/" .. o.pid .. "/exe")) or default
end

-- Attach obj's programs to USDT probes: probes = { prog = "probe name" } (false: not attached).
function M.attach(obj, probes, provider, bin, pid)
  for prog, probe in pairs(probes) do
    if probe then obj.progs[prog]:attach_usdt{ binary = bin, provider = provider, name = probe, pid = pid or -1 } end
  end
end

-- Rows { name, calls, ns } of a calls map (key: cls, func; value: calls, ns), most called first, then
-- by name; name is "cls<sep>func", or func alone when cls is empty.
function M.rows(calls, sep)
  local rows = {}
  for k, s in pairs(calls) do
    local cls, func = k.cls, k.func
    if type(cls) ~= "string" then cls, func = ffi.string(cls), ffi.string(func) end
    rows[#rows + 1] = { name = (cls ~= "" and cls .. sep or "") .. func, calls = tonumber(s.calls),
      ns = tonumber(s.ns) }
  end
  table.sort(rows, function(a, b) return a.calls > b.calls or (a.calls == b.calls and a.name < b.name) end)
  return rows
end

-- The report's lines: opts.latency adds TIME and AVG columns (us, or ms with opts.milliseconds);
-- opts.top keeps the first N rows.
function M.format(rows, opts)
  local unit, div = opts.milliseconds and "ms" or "us", opts.milliseconds and 1e6 or 1e3
  local out = { ("%-50s %8s"):format("METHOD", "# CALLS") ..
    (opts.latency and (" %12s %10s"):format("TIME (" .. unit .. ")", "AVG (" .. unit .. ")") or "") }
  for i, r in ipairs(rows) do
    if opts.top and i > opts.top then break end
    out[#out + 1] = ("%-50s %8d"):format(r.name, r.calls) ..
      (opts.latency and (" %12.2f %10.2f"):format(r.ns / div, r.ns / div / r.calls) or "")
  end
  return out
end

-- Count the calls of a runtime, print the report at the end (or each interval) and return the BPF object.
-- rt: provider, binary, cls and func (argument numbers of function__entry/return, from 0), sep (between
-- class and function in names), enable (probes to attach an empty program to, to switch the others on).
function M.trace(o, rt)
  local obj = bpf.load([[
struct fn_key { char cls[96]; char func[64]; };
struct fn_stat { u64 calls, ns; };
struct frame { u32 tid, depth; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct fn_key); __type(value, struct fn_stat); } calls SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 65536);
         __type(key, struct frame); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240); __type(key, u32); __type(value, u32); } depth
  SEC(".maps");
const volatile u32 cfg_latency = 0, cfg_cls_arg = 0, cfg_func_arg = 1;

/* the probe's class and function strings (a NULL class is left empty) */
static __always_inline void add(struct pt_regs *ctx, u64 ns)
{
  struct fn_key k = {};
  long cls = 0, func = 0;
  bpf_usdt_arg(ctx, cfg_cls_arg, &cls);
  bpf_usdt_arg(ctx, cfg_func_arg, &func);
  if (cls) bpf_probe_read_user_str(k.cls, sizeof(k.cls), (const char *)cls);
  bpf_probe_read_user_str(k.func, sizeof(k.func), (const char *)func);
  struct fn_stat *s = bpf_map_lookup_elem(&calls, &k), one = { 1, ns };
  if (!s) { bpf_map_update_elem(&calls, &k, &one, BPF_NOEXIST); return; }
  __sync_fetch_and_add(&s->calls, 1);
  __sync_fetch_and_add(&s->ns, ns);
}

SEC("usdt") int entry(struct pt_regs *ctx)
{
  if (!cfg_latency) { add(ctx, 0); return 0; }
  struct frame f = { (u32)bpf_get_current_pid_tgid(), 0 };
  u32 *d = bpf_map_lookup_elem(&depth, &f.tid), one = 1;
  if (d) f.depth = (*d)++; else bpf_map_update_elem(&depth, &f.tid, &one, BPF_ANY);
  u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &f, &now, BPF_ANY);
  return 0;
}

SEC("usdt") int ret(struct pt_regs *ctx)
{
  struct frame f = { (u32)bpf_get_current_pid_tgid(), 0 };
  u32 *d = bpf_map_lookup_elem(&depth, &f.tid);
  if (!d || !*d) return 0;   /* entered before tracing started */
  f.depth = --(*d);
  u64 *t = bpf_map_lookup_elem(&start, &f);
  if (!t) return 0;
  add(ctx, bpf_ktime_get_ns() - *t);
  bpf_map_delete_elem(&start, &f);
  return 0;
}

SEC("usdt") int enable(void *ctx) { return 0; }
]], { attach = false, rodata = { cfg_latency = o.latency and 1 or 0, cfg_cls_arg = rt.cls, cfg_func_arg = rt.func } })
  local bin = M.binary(o, rt.binary)
  M.attach(obj, { entry = "function__entry", ret = o.latency and "function__return" }, rt.provider, bin, o.pid)
  for _, probe in ipairs(rt.enable or {}) do M.attach(obj, { enable = probe }, rt.provider, bin, o.pid) end
  shark.info(("tracing calls in %s (%s)... Ctrl-C to end"):format(o.pid and "process " .. o.pid or "every process",
    bin))
  local seen = false
  local function report()
    local rows = M.rows(obj.maps.calls, rt.sep)
    seen = seen or #rows > 0
    print(table.concat(M.format(rows, o), "\n"))
    obj.maps.calls:clear()
  end
  if o.interval then shark.every(o.interval, o.count, report) else shark.on_end(report) end
  -- rt.hint: why a run may see no call at all (a runtime whose probes are off)
  if rt.hint then
    shark.on_end(function() if not seen then io.stdout:flush() io.stderr:write(rt.hint, "\n") end end)
  end
  return obj
end

return M
