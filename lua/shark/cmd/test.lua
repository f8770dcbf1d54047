-- SPDX-License-Identifier: GPL-2.0
-- shark test [FEATURE...]: which event sources (and BPF: load with CO-RE, ring
-- buffer, uprobe, USDT) work on this machine, and why
-- not when they do not. With FEATUREs, exit 0 only if all of them work, so
-- tests can skip honestly: `shark test hardware || skip "$(shark test hardware)"`.
local ffi = require "ffi"
local api = require "shark.api"
local pcore = require "perf.core"
local perf = require "perf"
local uv = require "uv"
local shark = require "shark"

local M = {}

local read = require("shark.fs").read_file

-- Sample our own busy thread for a moment; return the sample count and the
-- deepest callchain seen.
local function sample_self(opts, in_kernel)
  opts.pid, opts.inherit = uv.os_getpid(), false
  local n, depth = 0, 0
  local ok, h = pcall(perf.on, "cpu-clock", opts, function(e)
    n = n + 1
    if e.nr_ips > depth then depth = e.nr_ips end
  end)
  if not ok then return nil, (tostring(h):gsub("^.-: perf.on", "perf.on")) end
  -- 60 ms of CPU time (os.clock), not of wall time: a busy machine gives us
  -- the same number of cpu-clock samples, later
  local c0 = os.clock()
  local x = 0
  local zero = in_kernel and io.open("/dev/zero", "rb")
  while os.clock() - c0 < 0.06 do
    if zero then
      zero:read(1048576)   -- the time goes to the kernel's clear_user
    else
      for i = 1, 1000 do x = x + i end
    end
  end
  if zero then zero:close() end
  h.drain()
  h:stop()
  return n, depth
end

local checks = {}
local order = {}
local function check(name, fn)
  checks[name] = fn
  order[#order + 1] = name
end

check("tracefs", function()
  local dir, err = pcore.tracefs()
  if not dir then return false, err end
  return true, dir
end)

check("tracepoints", function()
  local ok, h = pcall(perf.on, "sched:sched_switch", function() end)
  if not ok then return false, tostring(h) end
  local rings = api.perf_nrings(h.p)
  h:stop()
  return true, ("sched:sched_switch opened system-wide, %d ring(s)"):format(rings)
end)

check("software", function()
  local rc = api.perf_probe(1, 0)
  if rc ~= 0 then return false, "cpu-clock: " .. ffi.string(api.strerror(-rc)) end
  return true, "cpu-clock, task-clock, page-faults, context-switches, ..."
end)

check("hardware", function()
  local rc = api.perf_probe(0, 0)
  if rc ~= 0 then
    return false, ("cycles: %s (no hardware PMU, e.g. under virtualization)"):format(ffi.string(api.strerror(-rc)))
  end
  return true, "cycles, instructions, cache-misses, ..."
end)

check("callchain-kernel", function()
  local n, depth = sample_self({ callchain_k = 1, freq = 1000 }, true)
  if not n then return false, depth end
  if n == 0 then return false, "no cpu-clock sample in 60 ms of CPU time" end
  return depth > 1, ("%d samples, up to %d entries"):format(n, depth)
end)

check("callchain-user", function()
  local n, depth = sample_self({ callchain_u = 1, freq = 1000 })
  if not n then return false, depth end
  if n == 0 then return false, "no cpu-clock sample in 60 ms of CPU time" end
  return depth > 1, ("%d samples, up to %d entries (frame pointers)"):format(n, depth)
end)

check("kprobes", function()
  if not read("/sys/bus/event_source/devices/kprobe/type") then
    return false, "no kprobe PMU (the kernel is built without CONFIG_KPROBES)"
  end
  return true, "kprobe PMU present"
end)

check("bpf", function()
  -- the templates' program (no CO-RE): loaded, not attached
  local ok, obj = pcall(require("bpf").load_prebuilt, "count", { attach = false })
  if not ok then return false, tostring(obj):match("[^\n]*") end
  obj:close()
  return true, "a prebuilt BPF program loads"
end)

check("uprobes", function()
  if not read("/sys/bus/event_source/devices/uprobe/type") then
    return false, "no uprobe PMU (the kernel is built without CONFIG_UPROBE_EVENTS)"
  end
  return true, "uprobe PMU present"
end)

-- BPF: bpf/selftest.bpf.o (built into shark: no compiler) loaded with CO-RE,
-- its tracepoint program's ring records, a uprobe and a USDT probe in shark
-- itself; every count exact for this process.
local N = 100
local selftest
local function load_selftest()
  if selftest == nil then
    local ok, obj = pcall(function()
      return require("bpf").load_prebuilt("selftest", { attach = false, rodata = { cfg_pid = uv.os_getpid() } })
    end)
    selftest = ok and obj or { err = (tostring(obj):gsub("^.-: bpf: ", "")) }
  end
  return selftest
end

check("btf", function()
  local f = io.open("/sys/kernel/btf/vmlinux", "rb")
  if not f then return false, "no /sys/kernel/btf/vmlinux (the kernel is built without CONFIG_DEBUG_INFO_BTF)" end
  local size = f:seek("end")
  f:close()
  local o = load_selftest()
  if o.err then return false, "CO-RE load: " .. o.err end
  return true, ("/sys/kernel/btf/vmlinux %.1f MB, CO-RE relocations applied"):format(size / 2 ^ 20)
end)

check("bpf-ring", function()
  local o = load_selftest()
  if o.err then return false, o.err end
  local ok, err = pcall(function() o.progs.on_getppid:attach_tracepoint("syscalls:sys_enter_getppid") end)
  if not ok then return false, tostring(err) end
  local got, seqs = 0, 0
  local r = require("bpf").on_ring(o.maps.events, { type = "struct selftest_rec" }, function(rec)
    got = got + 1
    seqs = seqs + rec.seq
  end)
  for _ = 1, N do uv.os_getppid() end
  r.drain()
  r:stop()
  local want = N * (N - 1) / 2
  local ok2 = got == N and seqs == want and o.bss.task_pid == uv.os_getpid()
  return ok2, ("tracepoint program: %d of %d getppid as ring records%s"):format(got, N,
    ok2 and "" or (" (seq sum %d, want %d)"):format(seqs, want))
end)

check("bpf-uprobe", function()
  local o = load_selftest()
  if o.err then return false, o.err end
  local ok, err = pcall(function()
    o.progs.on_uprobe:attach_uprobe{ binary = uv.exepath(), func = "shark_selftest_mark", pid = uv.os_getpid() }
  end)
  if not ok then return false, tostring(err):gsub("^.-: ", "") end
  require("shark.core").selftest(N)
  local n = tonumber(o.bss.uprobe_hits)
  return n == N, ("%d of %d calls of shark_selftest_mark"):format(n, N)
end)

check("bpf-usdt", function()
  local o = load_selftest()
  if o.err then return false, o.err end
  local ok, err = pcall(function()
    o.progs.on_usdt:attach_usdt{ binary = uv.exepath(), provider = "shark", name = "selftest", pid = uv.os_getpid() }
  end)
  if not ok then return false, tostring(err):gsub("^.-: ", "") end
  require("shark.core").selftest(N)
  local n, sum = tonumber(o.bss.usdt_hits), tonumber(o.bss.usdt_sum)
  return n == N and sum == N * (N + 1) / 2, ("%d of %d hits of shark:selftest, argument sum %d"):format(n, N, sum)
end)

-- Can this machine do `name`? ok, and in words what was found.
function M.probe(name)
  local fn = checks[name]
  if not fn then error("shark test: unknown feature " .. tostring(name), 2) end
  return fn()
end

function M.main(args)
  local want = args
  if #want == 0 then want = order end
  local all_ok = true
  for _, name in ipairs(want) do
    local fn = checks[name]
    if not fn then
      io.stderr:write(("shark test: unknown feature '%s' (features: %s)\n"):format(name, table.concat(order, ", ")))
      shark.exit(2)
    end
    local okc, ok, detail = pcall(fn)
    if not okc then ok, detail = false, tostring(ok) end
    all_ok = all_ok and ok
    print(("%-18s %-4s %s"):format(name, ok and "ok" or "no", detail or ""))
  end
  -- the BPF checks leave programs attached, which would keep the run going
  shark.exit((#args > 0 and not all_ok) and 1 or 0)
end

return M
