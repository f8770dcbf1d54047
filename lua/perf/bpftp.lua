-- SPDX-License-Identifier: GPL-2.0
-- perf/bpftp.lua - perf.on's tracepoints delivered through BPF: the prebuilt
-- bpf/tpring.bpf.c copies each record at event time (user strings read while
-- the task runs) into one ring buffer; shark.source drains it into the same
-- typed events as perf rings. Used where the program loads; perf rings stay
-- for sampling, software/hardware events, kernel filters and the fallback.
local ffi = require "ffi"
local api = require "shark.api"
local shark = require "shark"
local source = require "shark.source"
local pcore = require "perf.core"
local types = require "perf.types"
local phases = require "shark.phases"

local M = {}

local C = ffi.C
local PAGE = 4096
-- The ring's pages are mapped (twice: a record that wraps reads straight)
-- into shark at once, so they count in its RSS: syscalls, the bursty kind,
-- get 8 MiB (a 40 ms burst at 2 M events/s of ~100 bytes), others 512 KiB
-- per CPU. mmap_pages (per CPU, as perf's) sets it.
local RING_BURSTY = 8 * 1024 * 1024
local RING_PER_CPU = 512 * 1024

-- Why this handle cannot go through BPF, or nil.
function M.unsuitable(evs, o)
  if o.filter then
    return "a kernel filter (filter = ...) applies to perf events only"
  end
  if o.ordered then return "ordered = true sorts perf rings" end
  local j = package.loaded["shark.journal"]  -- shark record runs
  if j and j.active then return "shark record journals perf samples" end
  -- user frames are named from perf's mmap records (and "dwarf" copies the stack)
  if o.callchain_u or o.callchain then return "user callchains come with perf's task records" end
  if o.inherit == false and not o.tid then return "inherit = false" end
  local links = 0
  for _, e in ipairs(evs) do
    if not e.tracepoint then return e.name .. " is not a tracepoint" end
    if not e.via then links = links + 1 end
  end
  -- a BPF link per tracepoint: hundreds take long to attach and to tear
  -- down; perf rings group them
  if links > 64 then return links .. " tracepoints (more than 64 BPF links)" end
  return nil
end

local function pow2(n)
  local p = PAGE
  while p < n do p = p * 2 end
  return p
end

-- The conf entry of one tracepoint event.
local function conf_of(e, index)
  local fmt = assert(pcore.tp_format(e.system, e.event))
  local c = ffi.new("struct shark_tpconf")
  c.event = index + 1
  c.type = fmt.id
  local size, nstr, nloc = 0, 0, 0
  for _, f in ipairs(fmt.fields) do
    if f.offset + f.size > size then size = f.offset + f.size end
    if types.is_user_string(fmt, f) then
      if nstr >= C.SHARK_TP_NSTR then return nil, e.name .. ": more user strings than BPF delivery reads" end
      c.str_off[nstr], nstr = f.offset, nstr + 1
    elseif f.dynamic and nloc < C.SHARK_TP_NLOC then
      c.loc_off[nloc], nloc = f.offset, nloc + 1
    end
  end
  if size > C.SHARK_TP_RAW_MAX then return nil, e.name .. ": record larger than BPF delivery copies" end
  c.size, c.nstr, c.nloc = size, nstr, nloc
  return c
end

-- Whether task_rename has the layout track_rename reads (pid at 8, the old
-- and new names at 12 and 28): renames and execs then reach the ring.
local function rename_traceable()
  local fmt = pcore.tp_format("task", "task_rename")
  local want, got = { pid = 8, oldcomm = 12, newcomm = 28 }, 0
  for _, f in ipairs(fmt and fmt.fields or {}) do
    if want[f.name] then
      if want[f.name] ~= f.offset then return false end
      got = got + 1
    end
  end
  return got == 3
end

local function fork_child_offset()
  local fmt = pcore.tp_format("sched", "sched_process_fork")
  for _, f in ipairs(fmt and fmt.fields or {}) do
    if f.name == "child_pid" then return f.offset end
  end
  return nil
end

-- The wake-up unit of the program: a power of 2 bytes per CPU, at most `per_cpu`.
local function wake_shift(per_cpu)
  local shift = 6
  while 2 ^ (shift + 1) <= per_cpu do shift = shift + 1 end
  return shift
end

-- The ring's size for handle h, and the CPUs online.
local function ring_bytes(h)
  local o, evs = h.opts, h.events
  local ncpu = api.online_cpus(ffi.new("int32_t[1]"), 0)
  local bursty = false
  for _, e in ipairs(evs) do
    if e.system == "syscalls" or e.system == "raw_syscalls" then bursty = true end
  end
  local bytes = o.mmap_pages and pow2(o.mmap_pages * PAGE * math.max(ncpu, 1)) or
    (bursty and RING_BURSTY or pow2(RING_PER_CPU * math.max(ncpu, 1)))
  return bytes, ncpu
end

-- A ring this big is made on a thread while the rest starts (core/ringprep.c):
-- the kernel zeroes and maps all of it at once, ~2 ms for 8 MiB.
local RING_PREP_MIN = 4 * 1024 * 1024

local function drop_prep(h)
  if h.ring_prep then
    api.ringprep_free(ffi.gc(h.ring_prep, nil))
    h.ring_prep = nil
  end
end

-- Handle h will go through BPF (unless it cannot load): start making a big
-- ring now, before the event types and the object.
function M.prepare(h)
  local bytes = ring_bytes(h)
  if bytes < RING_PREP_MIN then return end
  local p = api.ringprep_start(bytes)
  if p ~= nil then h.ring_prep = ffi.gc(p, api.ringprep_free) end
end

-- Load, configure and attach the program for handle h; return the loaded
-- object, or nil and why.
local function load(h, so)
  local bpf = require "bpf"
  local o, evs = h.opts, h.events
  local bytes, ncpu = ring_bytes(h)
  local pids = so.pid > 0 and so.tid <= 0
  local stack_k, stack_u = so.callchain_k == 1, so.callchain_u == 1
  local child_off = fork_child_offset()
  local rodata = {
    cfg_pids = pids and 1 or 0, cfg_tid = so.tid > 0 and so.tid or 0,
    cfg_cgroup = so.cgroup_fd >= 0 and 1 or 0, cfg_cpus = so.ncpus > 0 and 1 or 0,
    cfg_stack_k = stack_k and 1 or 0, cfg_stack_u = stack_u and 1 or 0,
    cfg_wake_shift = wake_shift((o.wakeup or bytes / 4) / math.max(ncpu, 1)), cfg_fork_child = child_off or 44,
  }
  local inherit = pids and so.inherit == 1 and child_off
  local held = pids and so.enable_on_exec == 1
  -- the conf entries first: when every record is small, the small program
  -- (quick to verify) does
  local confs, small = {}, not stack_k and not stack_u
  for i, e in ipairs(evs) do
    if not e.carrier then
      local c, err = conf_of(e, i - 1)
      if not c then return nil, err end
      confs[i] = c
      small = small and c.nstr == 0 and c.nloc == 0 and c.size <= C.SHARK_TP_SMALL
    end
  end
  local deliver = small and "deliver_small" or "deliver"
  local routed = false
  for _, e in ipairs(evs) do routed = routed or e.carrier end
  local base = routed and C.SHARK_TP_ROUTED or 0
  if base + #evs > C.SHARK_TP_CONF then return nil, "too many tracepoints for BPF delivery" end
  -- raw_syscalls (and the syscalls routed through them) at the raw
  -- tracepoints when every record is small: no perf buffer per event
  local raw, direct, needs_tp = {}, {}, false
  for i, e in ipairs(evs) do
    local dir = e.system == "raw_syscalls" and e.event:match("^sys_(%a+)$")
    if small and dir and not direct[dir] then
      raw[dir] = true
      if not e.carrier then direct[dir] = i end
    elseif not e.via then
      needs_tp = true
    end
  end
  h.bpf_attach = (raw.enter or raw.exit) and (needs_tp and "tracepoints and raw tracepoints" or "raw tracepoints")
    or "tracepoints"
  rodata.cfg_routed = routed and 1 or 0
  rodata.cfg_sys_enter_key = direct.enter and base + direct.enter - 1 or C.SHARK_TP_NONE
  rodata.cfg_sys_exit_key = direct.exit and base + direct.exit - 1 or C.SHARK_TP_NONE
  local progs = { "track_exit" }
  local rename = rename_traceable()
  if rename then progs[#progs + 1] = "track_rename" end
  rodata.cfg_names = rename and 1 or 0
  if needs_tp then progs[#progs + 1] = deliver end
  if raw.enter then progs[#progs + 1] = "deliver_sys_enter" end
  if raw.exit then progs[#progs + 1] = "deliver_sys_exit" end
  if inherit then progs[#progs + 1] = "track_fork" end
  if held then progs[#progs + 1] = "track_exec" end
  -- maps sized to what this handle uses: less for the kernel to allocate
  phases.mark("bpf: configured")
  -- the ring the thread makes, waited for once libbpf has opened the object
  local reuse = h.ring_prep and { events = function()
    local fd = api.ringprep_fd(h.ring_prep)
    phases.mark("bpf: ring made (thread)")
    if fd < 0 then return nil end  -- it failed there: libbpf tries (and says why)
    return fd
  end }
  local ok, obj = pcall(bpf.load_prebuilt, "tpring", {
    attach = false, private = true, rodata = rodata,
    max_entries = { events = bytes, conf = base + #evs, pids = pids and 16384 or 1, cpus = so.ncpus > 0 and 1024 or 1 },
    reuse = reuse, only = progs,
  }, 3)
  if not ok then return nil, tostring(obj):gsub("^[^:]*:%d+: ", "") end
  phases.mark("bpf: loaded")
  local m = obj.maps
  if pids then m.pids[so.pid] = held and 0 or 1 end
  for i = 0, so.ncpus - 1 do m.cpus[so.cpus[i]] = 1 end
  if so.cgroup_fd >= 0 then m.cgroups[0] = so.cgroup_fd end
  -- conf entries: routed syscalls at their number, others after (the
  -- struct as it is: a converter of the map's BTF type costs a C dump and
  -- an ffi.cdef at start-up)
  local carriers, conf_fd, conf_key = {}, m.conf:info().fd, ffi.new("uint32_t[1]")
  for i, e in ipairs(evs) do
    if not e.carrier then
      local c = confs[i]
      local key
      if e.via then
        local dir = e.via.event == "sys_enter" and 0 or 1024
        key = dir + e.nr
        carriers[e.via] = dir
      else
        key = base + i - 1
        e.cookie = key
      end
      conf_key[0] = key
      local rc = api.bpf_map_update(conf_fd, conf_key, c, 0)
      if rc < 0 then obj:close(); return nil, "conf: " .. ffi.string(api.strerror(-rc)) end
    end
  end
  phases.mark("bpf: maps filled")
  pcore.tracefs()
  local function result(rc)
    if rc < 0 then
      local msg = ffi.string(api.bpf_error(obj.o))
      return nil, msg ~= "" and msg or ffi.string(api.strerror(-rc))
    end
    return true
  end
  local function attach(sys, name, cookie)
    return result(api.bpf_attach_tracepoint_cookie(obj.o, obj.progs[deliver].index, sys, name, cookie))
  end
  local function attach_raw(dir)
    return result(api.bpf_attach_raw_tracepoint(obj.o, obj.progs["deliver_sys_" .. dir].index, "sys_" .. dir))
  end
  for _, e in ipairs(evs) do
    local okk, err = true, nil
    local dir = e.system == "raw_syscalls" and e.event:match("^sys_(%a+)$")
    if dir and raw[dir] then
      if raw[dir] ~= "attached" then
        okk, err = attach_raw(dir)
        raw[dir] = "attached"
      end
    elseif e.carrier then
      okk, err = attach(e.system, e.event, 0x100000000 + carriers[e])
    elseif not e.via then
      okk, err = attach(e.system, e.event, e.cookie)
    end
    if not okk then obj:close(); return nil, err end
  end
  -- not Prog:attach, which keeps the run going while programs are attached:
  -- this one ends with the handle
  local rc = api.bpf_attach(obj.o, obj.progs.track_exit.index)
  if rc < 0 then obj:close(); return nil, "track_exit: " .. ffi.string(api.strerror(-rc)) end
  if rename then
    rc = api.bpf_attach(obj.o, obj.progs.track_rename.index)
    if rc < 0 then obj:close(); return nil, "track_rename: " .. ffi.string(api.strerror(-rc)) end
  end
  if inherit then obj.progs.track_fork:attach() end
  if held then obj.progs.track_exec:attach() end
  phases.mark("bpf: attached")
  return obj, bytes
end

-- The objects of open handles, for the names of processes gone.
local open_objs = setmetatable({}, { __mode = "k" })
local gone = ffi.new("struct shark_tpgone")
local gone_key = ffi.new("uint32_t[1]")

-- The name of process pid as it exited, if a handle delivering through BPF
-- traced it; else nil.
function M.gone_comm(pid)
  gone_key[0] = pid
  for obj in pairs(open_objs) do
    local m = obj.o and obj.maps.gone
    if m and api.bpf_map_lookup(m:info().fd, gone_key, gone) == 0 then return ffi.string(gone.comm) end
  end
  return nil
end

-- Deliver handle h's tracepoints through BPF: set h.src, or return nil, why.
function M.open(h, so, dispatch)
  local obj, bytes = load(h, so)
  if not obj then
    drop_prep(h)
    return nil, bytes
  end
  local info = obj.maps.events:info()
  -- mapped on the thread, else here
  local r = h.ring_prep and api.ringprep_ring(h.ring_prep)
  if r == nil or r == false then r = api.ringbuf_new(info.fd) end
  if r == nil then
    obj:close()
    drop_prep(h)
    return nil, "ring buffer: " .. ffi.string(api.strerror(ffi.errno()))
  end
  r = ffi.gc(r, api.ringbuf_free)
  phases.mark("bpf: ring mapped")
  local pfd = api.ringbuf_poll_fd(r)
  if pfd < 0 then
    obj:close()
    drop_prep(h)
    return nil, "ring buffer poll: " .. ffi.string(api.strerror(-pfd))
  end
  local evs = h.events
  local names, keep = ffi.new("const char *[?]", #evs), {}
  for i, e in ipairs(evs) do
    keep[i] = e.name
    names[i - 1] = e.name
  end
  h.obj, h.r, h.names, h.keep_names = obj, r, names, keep
  open_objs[obj] = true
  local batch, n = h.batch, #evs
  local spec = h.spec
  h.src = source.new{
    name = ("perf.on(%q)"):format(spec),
    max = h.batch_max,
    -- h.r, not r: the replay benchmark swaps in a ring of its own
    read = function(max) return api.ringbuf_read_tp(h.r, batch, max, names, n) end,
    consume = function() api.ringbuf_consume(h.r) end,
    dispatch = dispatch,
    -- the program wakes us only when the ring crosses a quarter; the map's
    -- own fd would poll readable while anything is unread (a busy loop)
    fds = { pfd },
    poll = "always",
    drain_ms = h.opts.drain_ms,
    detach = function() obj:detach() end,
    stats = function()
      local drops = obj.o and tonumber(obj.bss.events_drops) or 0
      local count = tonumber(api.ringbuf_count(r))
      return { samples = count, count = count, lost = drops, throttled = 0,
        unreadable = obj.o and tonumber(obj.bss.unreadable) or 0 }
    end,
    release = function()
      local unreadable = obj.o and tonumber(obj.bss.unreadable) or 0
      if unreadable > 0 then
        shark.log(("perf.on(%q): %d user strings could not be read at event time (delivered as \"\")")
          :format(spec, unreadable))
      end
      h.r = nil
      h.ring = r
      open_objs[obj] = nil
      obj:close()
      drop_prep(h)
      h.free_batch(h)
    end,
    lost_message = function(lost)
      return ("perf.on(%q): %d events lost (BPF ring of %d KiB full); raise mmap_pages"):format(spec, lost,
        bytes / 1024)
    end,
  }
  phases.mark("bpf: source started")
  h.via = "bpf"
  if so.cgroup_fd >= 0 then
    -- the map holds the cgroup now (perf rings, the fallback, would need it)
    require("uv").fs_close(so.cgroup_fd)
    so.cgroup_fd = -1
  end
  shark.log(("perf.on(%q): delivered through BPF (tpring on %s, ring of %d KiB)"):format(spec, h.bpf_attach,
    bytes / 1024))
  return true
end

return M
