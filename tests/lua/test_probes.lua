-- SPDX-License-Identifier: GPL-2.0
-- shark.probes: the provider table reads every kind of probe spec, and a bad
-- spec gets an error that names it.
local t = require "tap"
local probes = require "shark.probes"

local function kind(spec)
  local x, err = probes.parse(spec)
  return x and x.kind or err
end

-- every kind parses, with its fields
local tp = probes.parse("sched:sched_switch")
t.ok(tp and tp.kind == "tracepoint" and tp.system == "sched" and tp.event == "sched_switch"
  and tp.name == "sched:sched_switch", "system:event is a tracepoint")
t.is(kind("tracepoint:sched:sched_switch"), "tracepoint", "... also with its kind")
local tp2 = probes.parse("tp:sched:sched_wakeup")
t.ok(tp2 and tp2.kind == "tracepoint" and tp2.name == "sched:sched_wakeup" and tp2.spec == "tp:sched:sched_wakeup",
  "tp: is the tracepoint kind; name without it, spec as given")
t.is(kind("syscalls:sys_enter_*"), "tracepoint", "a tracepoint glob")
local pe = probes.parse("cpu-clock")
t.ok(pe and pe.kind == "perf" and pe.type == 1 and pe.config == 0 and pe.clock, "a perf event name")
local pu = probes.parse("cycles:u")
t.ok(pu and pu.kind == "perf" and pu.name == "cycles" and pu.exclude_kernel and not pu.exclude_user,
  "a perf event with privilege levels")
local raw = probes.parse("r1a2b")
t.ok(raw and raw.kind == "perf" and raw.type == 4 and raw.config == 0x1a2b, "a raw PMU event")
local rt = probes.parse("raw_tp:sched_switch")
t.ok(rt and rt.kind == "raw_tp" and rt.name == "sched_switch", "a raw tracepoint")
t.is(kind("raw_tracepoint:sched_switch"), "raw_tp", "... also by its long name")
local kp = probes.parse("kprobe:do_sys_openat2")
t.ok(kp and kp.kind == "kprobe" and kp.func == "do_sys_openat2" and not kp.ret, "a kprobe")
local kr = probes.parse("kretprobe:do_sys_openat2")
t.ok(kr and kr.kind == "kretprobe" and kr.ret, "a kretprobe")
local u = probes.parse("uprobe:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc")
t.ok(u and u.kind == "uprobe" and u.binary == "/usr/lib/x86_64-linux-gnu/libc.so.6" and u.func == "malloc"
  and not u.ret, "uprobe: binary and function")
local r = probes.parse("uretprobe:/a:b:c")
t.ok(r and r.kind == "uretprobe" and r.binary == "/a:b" and r.func == "c" and r.ret, "uretprobe: a path may hold ':'")
local s = probes.parse("usdt:/usr/bin/python3.11:python:function__entry")
t.ok(s and s.kind == "usdt" and s.binary == "/usr/bin/python3.11" and s.provider == "python"
  and s.name == "function__entry", "usdt: binary, provider and name")
local m = probes.parse("mem:0x1000/8:w")
t.ok(m and m.kind == "mem" and m.event.bp_len == 8 and m.event.bp_type == 2 and m.event.bp_addr == 0x1000ULL,
  "mem: a watchpoint's address, length and access")
local mv = probes.parse("mem:counter")
t.ok(mv and mv.event.bp_symbol == "counter" and mv.event.bp_len == 4 and mv.event.bp_type == 3,
  "mem: a variable's name, 4 bytes read and write by default")

-- bpftrace's short kind names
local short = {}
for _, spec in ipairs{ "t:sched:sched_switch", "rt:sched_switch", "u:/bin/sh:main", "ur:/bin/sh:main",
  "U:/bin/p:prov:name", "k:vfs_read", "kr:vfs_read" } do
  short[#short + 1] = kind(spec)
end
t.is(table.concat(short, " "), "tracepoint raw_tp uprobe uretprobe usdt kprobe kretprobe",
  "t: rt: u: ur: U: k: kr: name their kinds")

-- what runs where
local ctx = {}
for _, spec in ipairs{ "sched:sched_switch", "raw_tp:x", "uprobe:/a:b", "uretprobe:/a:b", "kprobe:f",
  "kretprobe:f", "usdt:/a:b:c", "cpu-clock", "mem:0x10" } do
  ctx[#ctx + 1] = probes.context(probes.parse(spec))
end
t.is(table.concat(ctx, " "), "tracepoint raw_tp probe probe probe probe usdt perf watchpoint",
  "each kind says which BPF program context runs on it")
for _, c in ipairs(probes.contexts) do
  t.ok(type(probes.contexts[c]) == "string", "context " .. c .. " has words for messages")
end

-- bad specs: a clear error naming the spec
local function refused(spec, want, what)
  local x, err = probes.parse(spec)
  t.ok(not x and type(err) == "string" and err:find(want, 1, true) ~= nil, what, err)
end
refused("uprobe:nofunction", "'uprobe:nofunction': expected uprobe:/path:function", "uprobe without a function")
refused("uretprobe:/bin/x", "'uretprobe:/bin/x': expected uretprobe:/path:function", "uretprobe without a function")
refused("usdt:/bin/true:x", "'usdt:/bin/true:x': expected usdt:/path:provider:name", "usdt without a name")
refused("kprobe:a b", "'kprobe:a b': expected kprobe:function", "kprobe: not a function name")
refused("kretprobe:", "unknown event 'kretprobe:'", "kretprobe: nothing after the kind")
refused("raw_tp:sched:switch", "'raw_tp:sched:switch': expected raw_tp:name", "raw_tp: not a name")
refused("tracepoint:sched", "'tracepoint:sched': expected system:event", "tracepoint: no event")
refused("mem:nowhere!", "'mem:nowhere!': after the address, /LEN and :rwx", "mem: garbage after the address")
refused("mem:0x10/3", "'mem:0x10/3': a watchpoint covers 1, 2, 4 or 8 bytes", "mem: a length it cannot watch")
refused("mem:0x10:q", "'mem:0x10:q': after the address, /LEN and :rwx", "mem: an access it does not know")
refused("mem:-1", "'mem:-1': mem:ADDR[/LEN][:rwx] wants an address", "mem: no address")
refused("ur:/bin/x", "'ur:/bin/x': expected uretprobe:/path:function", "a short kind's bad spec says the form")
refused("nothing", "unknown event 'nothing' (shark -l lists", "a word that is no event")
refused("a:b:c", "unknown event 'a:b:c'", "three parts and no known kind")
refused("", "expected an event or probe spec", "an empty spec")
local _, err = probes.parse(nil)
t.ok(err and err:find("got nil", 1, true), "no spec at all says what it got", err)

-- perf.on opens tracepoints, perf events and watchpoints; not probes
local evs = probes.events(probes.parse("cpu-clock:k"))
t.ok(evs and #evs == 1 and evs[1].name == "cpu-clock" and evs[1].exclude_user and not evs[1].exclude_kernel,
  "a perf event opens as one event")
evs = probes.events(probes.parse("mem:0x1000"))
t.ok(evs and #evs == 1 and evs[1].type == 5, "a watchpoint opens as a breakpoint event")
local none
none, err = probes.events(probes.parse("uprobe:/bin/true:main"))
t.ok(not none and err:find("'uprobe:/bin/true:main' is a uprobe: perf.on (and shark stat) opens", 1, true),
  "perf.on of a uprobe says what it can open instead", err)
local ok, aerr = pcall(probes.attach, {}, probes.parse("mem:0x10"))
t.ok(not ok and tostring(aerr):find("'mem:0x10': a BPF program cannot attach to a watchpoint", 1, true),
  "no BPF program attaches to a watchpoint", aerr)

-- attach calls the program's method of the kind, with the target's fields
local calls = {}
local prog = setmetatable({}, { __index = function(_, name)
  return function(_, a, b) calls[#calls + 1] = { name, a, b } return true end
end })
probes.attach(prog, probes.parse("sched:sched_switch"))
probes.attach(prog, probes.parse("raw_tp:sched_switch"))
probes.attach(prog, probes.parse("uretprobe:/bin/x:f"), { pid = 7 })
probes.attach(prog, probes.parse("usdt:/bin/x:p:n"), { pid = 7, cookie = 3 })
probes.attach(prog, probes.parse("kretprobe:f"))
probes.attach(prog, probes.parse("cpu-clock"), { freq = 49 })
t.is(calls[1][1] .. " " .. calls[1][2] .. " " .. calls[1][3], "attach_tracepoint sched sched_switch", "tracepoint")
t.is(calls[2][1] .. " " .. calls[2][2], "attach_raw_tracepoint sched_switch", "raw tracepoint")
t.ok(calls[3][1] == "attach_uprobe" and calls[3][2].binary == "/bin/x" and calls[3][2].func == "f"
  and calls[3][2].ret and calls[3][2].pid == 7, "uretprobe: attach_uprobe with ret and pid")
t.ok(calls[4][1] == "attach_usdt" and calls[4][2].provider == "p" and calls[4][2].name == "n"
  and calls[4][2].cookie == 3, "usdt: attach_usdt with provider, name and cookie")
t.ok(calls[5][1] == "attach_kprobe" and calls[5][2] == "f" and calls[5][3] == true, "kretprobe: attach_kprobe, ret")
t.ok(calls[6][1] == "attach_perf_event" and calls[6][2].event == "cpu-clock" and calls[6][2].freq == 49,
  "perf event: attach_perf_event with its frequency")
t.done()
