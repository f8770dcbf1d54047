-- SPDX-License-Identifier: GPL-2.0
-- shark/probes.lua - the provider table of probe specs: one entry per kind
-- (tracepoint, raw_tp, uprobe, uretprobe, usdt, kprobe, kretprobe, perf
-- event), each knowing how to read its spec and attach a BPF program to it,
-- so callers (templates, bpf.count, perf.on's BPF delivery) look a kind up
-- instead of growing if-chains. After ply's struct provider.
local M = {}

local function split(rest, n)
  -- "/path:a:b" -> "/path", "a", "b": the path may hold ':' itself
  local parts = {}
  local pat = "^(.+)" .. (":([^:]+)"):rep(n) .. "$"
  local caps = { rest:match(pat) }
  if #caps ~= n + 1 then return nil end
  for i, c in ipairs(caps) do parts[i] = c end
  return parts
end

local function uprobe(ret)
  return {
    probe = true,  -- runs in a task's context: counts by pid/tid/comm, args
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
    probe = true,
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
    usage = "system:event",
    parse = function(rest)
      local sys, ev = rest:match("^([^:]+):([^:]+)$")
      if not sys then return nil end
      return { system = sys, event = ev, name = rest }
    end,
    attach = function(prog, t) return prog:attach_tracepoint(t.system, t.event) end,
  },
  raw_tp = {
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
    probe = true,
    usdt = true,
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
    usage = "a perf event name (cpu-clock, page-faults, cycles, rNNNN)",
    parse = function(rest)
      local events = require "perf.events"
      local base = rest:match("^([%w%-]+)") or rest
      if not (events.named[base] or rest:match("^r%x+$")) then return nil end
      return { event = rest }
    end,
    attach = function(prog, t, o)
      return prog:attach_perf_event{ event = t.event, freq = o.freq, period = o.period, pid = o.pid }
    end,
  },
}
M.providers.tp = M.providers.tracepoint
M.providers.raw_tracepoint = M.providers.raw_tp

-- "kind:rest" (a kind of the table), a perf event name, or "system:event".
-- Returns the target { kind, handler (its provider), ... } or nil, message.
function M.parse(spec)
  if type(spec) ~= "string" or spec == "" then return nil, "expected a probe spec such as 'sched:sched_switch'" end
  local kind, rest = spec:match("^([%a_]+):(.+)$")
  local p = kind and M.providers[kind]
  if p and kind ~= "tracepoint" and kind ~= "tp" then
    local t = p.parse(rest)
    if not t then return nil, ("'%s': expected %s"):format(spec, p.usage) end
    t.kind, t.handler = kind, p
    return t
  end
  if kind == "tracepoint" or kind == "tp" then spec = rest end
  for _, k in ipairs({ "perf", "tracepoint" }) do
    local t = M.providers[k].parse(spec)
    if t then
      t.kind, t.handler = k, M.providers[k]
      return t
    end
  end
  return nil, ("'%s': not a probe spec (system:event, uprobe:/path:function, uretprobe:..., " ..
    "usdt:/path:provider:name, kprobe:function, raw_tp:name, or a perf event)"):format(spec)
end

-- Attach prog to target (from parse); o: pid, cookie, freq, period.
function M.attach(prog, target, o)
  return target.handler.attach(prog, target, o or {})
end

return M
