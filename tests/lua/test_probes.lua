-- SPDX-License-Identifier: GPL-2.0
-- shark.probes: the provider table reads every kind of probe spec.
local t = require "tap"
local probes = require "shark.probes"

local function kind(spec)
  local x, err = probes.parse(spec)
  return x and x.kind or err
end

t.is(kind("sched:sched_switch"), "tracepoint", "system:event is a tracepoint")
t.is(kind("tracepoint:sched:sched_switch"), "tracepoint", "... also with its kind")
t.is(kind("cpu-clock"), "perf", "a perf event name")
t.is(kind("r1a2b"), "perf", "a raw PMU event")
t.is(kind("raw_tp:sched_switch"), "raw_tp", "a raw tracepoint")
t.is(kind("kprobe:do_sys_openat2"), "kprobe", "a kprobe")
t.is(kind("kretprobe:do_sys_openat2"), "kretprobe", "a kretprobe")
local u = probes.parse("uprobe:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc")
t.ok(u and u.binary == "/usr/lib/x86_64-linux-gnu/libc.so.6" and u.func == "malloc" and not u.ret,
  "uprobe: binary and function")
local r = probes.parse("uretprobe:/a:b:c")
t.ok(r and r.binary == "/a:b" and r.func == "c" and r.ret, "uretprobe: a path may hold ':'")
local s = probes.parse("usdt:/usr/bin/python3.11:python:function__entry")
t.ok(s and s.provider == "python" and s.name == "function__entry" and s.provider ~= nil, "usdt: provider and name")
t.ok(not probes.parse("usdt:/bin/true:x"), "usdt without a name is refused")
local _, err = probes.parse("uprobe:nofunction")
t.ok(err and err:find("expected uprobe:/path:function", 1, true), "a malformed spec says what is expected", err)
_, err = probes.parse("nothing")
t.ok(err and err:find("not a probe spec", 1, true), "a word that is no event is refused", err)
t.ok(probes.providers.uprobe.probe and not probes.providers.tracepoint.probe, "providers say if they run in a task")
t.done()
