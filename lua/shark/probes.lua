-- SPDX-License-Identifier: GPL-2.0
-- shark/probes.lua - the provider table of probe specs: one entry per kind
-- (tracepoint, raw_tp, uprobe, uretprobe, usdt, kprobe, kretprobe, perf
-- event, mem: watchpoint), each knowing how to read its spec, what runs on it
-- (`context`) and how to attach a BPF program to it or open it as perf
-- events. perf.on and shark stat, prog:attach(spec), attach_perf_event and
-- the templates (bpf.count, bpf.stacks, bpf.latency) look a kind up here
-- instead of growing if-chains. After ply's struct provider.
--
-- A provider: usage (what its spec looks like), parse(rest, spec) -> target
-- fields or nil[, why naming spec], context ("tracepoint", "probe", "usdt", "raw_tp", "perf",
-- "watchpoint": which kind of BPF program runs there), attach(prog, t, o)
-- (absent: no BPF program attaches there), events(t) -> perf event list for
-- perf.on (absent: perf.on cannot open it), format(t) (tracepoints).
local M = {}

local function split(rest, n)
  -- "/path:a:b" -> "/path", "a", "b": the path may hold ':' itself
  local pat = "^(.+)" .. (":([^:]+)"):rep(n) .. "$"
  local caps = { rest:match(pat) }
  if #caps ~= n + 1 then return nil end
  return caps
end

local function perf_events()
  return require "perf.events"
end

local function uprobe(ret)
  return {
    context = "probe",  -- runs in a task's context: counts by pid/tid/comm, args
    usage = (ret and "uretprobe" or "uprobe") .. ":/path:function",
    parse = function(rest)
      local p = split(rest, 1)
      if not p then return nil end
      return { binary = p[1], func = p[2], ret = ret }
    end,
    attach = function(prog, t, o)
      return prog:attach_uprobe{ binary = t.binary, func = t.func, ret = t.ret, pid = o.pid, cookie = o.cookie }
    end,
  }
end

local function kprobe(ret)
  return {
    context = "probe",
    usage = (ret and "kretprobe" or "kprobe") .. ":function",
    parse = function(rest)
      if not rest:match("^[%w_%.]+$") then return nil end
      return { func = rest, ret = ret }
    end,
    attach = function(prog, t) return prog:attach_kprobe(t.func, t.ret) end,
  }
end

M.providers = {
  tracepoint = {
    context = "tracepoint",
    usage = "system:event",
    parse = function(rest)
      local sys, ev = rest:match("^([^:]+):([^:]+)$")
      if not sys then return nil end
      return { system = sys, event = ev, name = rest }
    end,
    attach = function(prog, t) return prog:attach_tracepoint(t.system, t.event) end,
    -- its perf events (a glob names several)
    events = function(t) return perf_events().tracepoints(t) end,
    -- its format (fields) or nil, message, denied (not privileged)
    format = function(t)
      local fmt, err = require("perf.core").tp_format(t.system, t.event)
      if fmt then return fmt end
      local ok, why = require("shark").privileged("bpf")
      if not ok then return nil, why, true end
      return nil, err
    end,
  },
  raw_tp = {
    context = "raw_tp",
    usage = "raw_tp:name",
    parse = function(rest)
      if not rest:match("^[%w_]+$") then return nil end
      return { name = rest }
    end,
    attach = function(prog, t) return prog:attach_raw_tracepoint(t.name) end,
  },
  uprobe = uprobe(false),
  uretprobe = uprobe(true),
  usdt = {
    context = "usdt",
    usage = "usdt:/path:provider:name",
    parse = function(rest)
      local p = split(rest, 2)
      if not p then return nil end
      return { binary = p[1], provider = p[2], name = p[3] }
    end,
    attach = function(prog, t, o)
      return prog:attach_usdt{ binary = t.binary, provider = t.provider, name = t.name, pid = o.pid,
        cookie = o.cookie }
    end,
  },
  kprobe = kprobe(false),
  kretprobe = kprobe(true),
  perf = {
    context = "perf",
    usage = "a perf event name (cpu-clock, page-faults, cycles:u, rNNNN)",
    -- "name[:ukh]" (the privilege levels counted) or "rHEX" (a raw PMU event)
    parse = function(rest)
      local ev = perf_events()
      local base, mods = rest:match("^([%w%-]+):([ukh]+)$")
      if not (base and ev.named[base]) then base, mods = rest, nil end
      local n = ev.named[base]
      if n then
        return { event = rest, name = base, type = n[1], config = n[2], clock = n.clock, raw = n.raw,
          exclude_user = mods and not mods:find("u") or false,
          exclude_kernel = mods and not mods:find("k") or false }
      end
      local hex = rest:match("^r(%x+)$")
      if hex then return { event = rest, name = rest, type = ev.TYPE.RAW, config = tonumber(hex, 16) } end
      return nil
    end,
    attach = function(prog, t, o)
      return prog:attach_perf_event{ event = t.event, freq = o.freq, period = o.period, pid = o.pid }
    end,
    events = function(t)
      return { { name = t.name, type = t.type, config = t.config, clock = t.clock, raw = t.raw,
        exclude_user = t.exclude_user, exclude_kernel = t.exclude_kernel } }
    end,
  },
  mem = {
    context = "watchpoint",
    usage = "mem:ADDR[/LEN][:rwx] (ADDR in hex or decimal, or a variable's name)",
    parse = function(rest, spec) return perf_events().watchpoint(rest, spec) end,
    events = function(t) return { t.event } end,
  },
}
-- What each kind is, in words, for messages.
local WHAT = { tracepoint = "tracepoint", raw_tp = "raw tracepoint", uprobe = "uprobe", uretprobe = "uretprobe",
  usdt = "USDT probe", kprobe = "kprobe", kretprobe = "kretprobe", perf = "perf event", mem = "watchpoint" }
for name, p in pairs(M.providers) do p.name, p.what = name, WHAT[name] end
-- Other names of the kinds: bpftrace's short ones (t:, rt:, u:, ur:, U:, k:,
-- kr:) and long forms.
M.aliases = { tp = "tracepoint", t = "tracepoint", raw_tracepoint = "raw_tp", rt = "raw_tp", u = "uprobe",
  ur = "uretprobe", U = "usdt", k = "kprobe", kr = "kretprobe" }
for alias, name in pairs(M.aliases) do M.providers[alias] = M.providers[name] end

-- The contexts (where a BPF program runs), in words, in the order messages list them.
M.contexts = { "tracepoint", "probe", "usdt", "raw_tp", "perf", "watchpoint",
  tracepoint = "tracepoints (system:event)", probe = "uprobes, uretprobes, kprobes, kretprobes",
  usdt = "USDT probes", raw_tp = "raw tracepoints", perf = "perf events", watchpoint = "watchpoints (mem:)" }

-- Specs with no kind: a perf event name, else a tracepoint.
local BARE = { M.providers.perf, M.providers.tracepoint }

local function found(t, p, spec)
  t.kind, t.handler, t.spec = p.name, p, spec
  return t
end

-- "kind:rest" (a kind of the table), a perf event name, or "system:event".
-- Returns the target { kind, handler (its provider), spec, ... } or nil,
-- message (naming the spec).
function M.parse(spec)
  if type(spec) ~= "string" or spec == "" then
    return nil, "expected an event or probe spec such as 'sched:sched_switch', got " ..
      (type(spec) == "string" and "''" or type(spec))
  end
  local kind, rest = spec:match("^([%a_]+):(.+)$")
  local p = kind and M.providers[kind]
  if p then
    local t, why = p.parse(rest, spec)
    if not t then return nil, why or ("'%s': expected %s"):format(spec, p.usage) end
    return found(t, p, spec)
  end
  for _, b in ipairs(BARE) do
    local t = b.parse(spec, spec)
    if t then return found(t, b, spec) end
  end
  return nil, ("unknown event '%s' (shark -l lists the events of this machine)"):format(spec)
end

-- The context of a spec's kind, for callers that pick a BPF program by it.
function M.context(t)
  return t.handler.context
end

-- Attach prog to target (from parse); o: pid, cookie, freq, period.
function M.attach(prog, target, o)
  local a = target.handler.attach
  if not a then
    error(("'%s': a BPF program cannot attach to a %s"):format(target.spec, target.handler.what), 2)
  end
  return a(prog, target, o or {})
end

-- The perf events of a target, for perf.on: list or nil, message.
function M.events(target)
  local ev = target.handler.events
  if not ev then
    return nil, ("'%s' is a %s: perf.on (and shark stat) opens tracepoints, perf events and watchpoints; " ..
      "count it with bpf.count{on = ...} or attach a BPF program (bpf.load)"):format(target.spec, target.handler.what)
  end
  return ev(target)
end

return M
