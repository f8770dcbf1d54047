-- SPDX-License-Identifier: GPL-2.0
-- perf.lua - perf.on(spec, [opts], fn): tracepoints and perf events delivered
-- to Lua in batches. One entry into Lua per ring wake-up (or drain tick);
-- inside, a loop the JIT compiles copies each decoded sample into a reused,
-- typed event and calls fn. Nothing is allocated per event.
local ffi = require "ffi"
local bit = require "bit"
local api = require "shark.api"
local shark = require "shark"
local events = require "perf.events"
local types = require "perf.types"
local stack = require "perf.stack"
local bpftp = require "perf.bpftp"
local source = require "shark.source"
local arch = require "shark.arch"
local phases = require "shark.phases"

local M = {}

local BATCH = 2048
local SAMPLE_SIZE = ffi.sizeof("struct shark_sample")
local USER_REGS = 0                -- registers in a DWARF sample: the bits of the mask
for i = 0, 30 do
  if bit.band(ffi.C.SHARK_UNWIND_REGS_MASK, bit.lshift(1, i)) ~= 0 then USER_REGS = USER_REGS + 1 end
end
local DEFAULT_PAGES = 256          -- 1 MiB per CPU: a 10 ms burst at 1 M events/s
-- syscalls come in bursts of millions a second from a single loop (a perf
-- sample is ~100 bytes): 4 MiB per CPU holds 40 ms of one, as BPF delivery's
-- 8 MiB ring does
local BURSTY_PAGES = 1024

-- The ring pages per CPU a handle gets unless mmap_pages says.
local function default_pages(evs)
  for _, e in ipairs(evs) do
    if e.system == "syscalls" or e.system == "raw_syscalls" then return BURSTY_PAGES end
  end
  return DEFAULT_PAGES
end
local DEFAULT_DRAIN_MS = 10
local DEFAULT_FREQ = 4000          -- clock events, as perf record

-- ---------------------------------------------------------------- events e

local ev_mt = { __index = nil, __tostring = nil, checked = true }
local new_batch, free_batch, open_perf
local copies = setmetatable({}, { __mode = "k" })  -- copy -> buffers it points at

-- The event being handled: each handler call gets the next seq, written in
-- its event; an event whose seq is not `live` was kept past its handler.
local live, seq = -1, 0

local function stale(k)
  error(("perf event: e.%s read after its handler returned (the event's memory is reused): " ..
    "keep e:copy() instead"):format(tostring(k)), 3)
end

-- The handle whose batch is being dispatched (left set by a handler's error:
-- its session is then checked, and the seq of its event no longer live).
local dispatching = nil

-- The task's name: the thread's at event time when the source knows it
-- (BPF delivery follows renames and execs in its ring; a copy keeps it;
-- perf rings' name records, looked up only here), else the process's
-- current one while it lives, else its name at exit.
local function comm_of(e)
  local at = e._comm_at
  if at ~= nil and at[0] ~= 0 then return at end
  if dispatching ~= nil and dispatching.p ~= nil and e._seq == live then
    at = api.perf_comm(dispatching.p, e._pid, e._tid, e._time)
    if at ~= nil then return at end
  end
  local c = api.comm(e._pid)
  if c[0] == 60 and ffi.string(c) == "<...>" then
    return bpftp.gone_comm(e._pid) or c
  end
  return c
end

local function copy_event(e)
  -- e._raw: the record as it is (e.raw of a short record is a checked view)
  local t = e._raw ~= nil and types.of(e) or types.generic(ev_mt)
  local c = t.ev()
  ffi.copy(c, e, SAMPLE_SIZE)
  c._seq = 0
  local keep = {}
  if e._raw ~= nil and e.raw_size > 0 then
    local b = ffi.new("uint8_t[?]", e.raw_size)
    ffi.copy(b, e._raw, e.raw_size)
    c._raw = ffi.cast(ffi.typeof(e._raw), b)
    keep[#keep + 1] = b
  end
  if e.nr_ips > 0 then
    local b = ffi.new("uint64_t[?]", e.nr_ips)
    ffi.copy(b, e.ips, 8 * e.nr_ips)
    c._ips = b
    keep[#keep + 1] = b
  end
  -- the name now, while the task is likely alive (perf records carry none)
  local b = ffi.new("char[16]")
  ffi.copy(b, comm_of(e), 15)
  c._comm_at = b
  keep[#keep + 1] = b
  if e.user_regs ~= nil then
    local r = ffi.new("uint64_t[?]", USER_REGS)
    ffi.copy(r, e.user_regs, 8 * USER_REGS)
    c._user_regs = r
    keep[#keep + 1] = r
  end
  if e.user_stack ~= nil and e.user_stack_size > 0 then
    local u = ffi.new("uint8_t[?]", e.user_stack_size)
    ffi.copy(u, e.user_stack, e.user_stack_size)
    c._user_stack = u
    keep[#keep + 1] = u
  end
  copies[c] = keep
  return c
end

local methods = {
  copy = copy_event,
  -- frames as a table: { {ip = cdata, sym = "name", kernel = bool}, ... }, leaf first
  stack = function(e) return stack.frames(e) end,
}

local getters = types.getters

ev_mt.__index = function(e, k)
  local s = e._seq
  if s ~= live and s ~= 0 then stale(k) end
  local g = getters[k]
  if g then return g(e) end
  if k == "callchain" then return stack.intern(e) end
  if k == "comm" then return ffi.string(comm_of(e)) end
  return methods[k]
end

ev_mt.__tostring = function(e) return M.format(e) end

-- ------------------------------------------------------------------ options

local known_opts = {
  pid = "number", tid = "number", cpu = "number|string|table", cgroup = "string",
  filter = "string", period = "number", freq = "number",
  callchain_k = "any", callchain_u = "any", callchain = "any", max_stack = "number",
  stack_bytes = "number", python = "boolean",
  mmap_pages = "number", wakeup = "number", drain_ms = "number", inherit = "boolean",
  ordered = "boolean", via = "string", comm = "boolean",
  -- the original shark's names
  target_pid = "number|string", target_tid = "number|string", target_cpu_list = "string|number",
  no_buffering = "any", wake_events = "number", read_events_rate = "number",
}

local function truthy(v)
  return v ~= nil and v ~= false and v ~= 0
end

local function parse_cpus(v)
  local list = {}
  if type(v) == "number" then
    list[1] = v
  elseif type(v) == "table" then
    for _, c in ipairs(v) do list[#list + 1] = c end
  else
    for part in tostring(v):gmatch("[^,%s]+") do
      local a, b = part:match("^(%d+)%-(%d+)$")
      if a then
        for c = tonumber(a), tonumber(b) do list[#list + 1] = c end
      elseif part:match("^%d+$") then
        list[#list + 1] = tonumber(part)
      else
        return nil, "cpu: expected a CPU number or a list like '0,2-3', got '" .. tostring(v) .. "'"
      end
    end
  end
  if #list == 0 then return nil, "cpu: empty CPU list" end
  return list
end

local function check_opts(opts)
  for k, v in pairs(opts) do
    local want = known_opts[k]
    if not want then
      return nil, require("shark.getopt").unknown(k, known_opts)
    end
    if want ~= "any" and not want:find(type(v), 1, true) then
      return nil, ("option '%s' wants a %s, got a %s"):format(k, want:gsub("|", " or "), type(v))
    end
  end
  -- the original's names
  opts.pid = opts.pid or opts.target_pid
  opts.tid = opts.tid or opts.target_tid
  local check_pid = require("shark.pid").check
  local err
  if opts.pid ~= nil then
    opts.pid, err = check_pid(opts.pid, "pid", true)
    if not opts.pid then return nil, err end
  end
  if opts.tid ~= nil then
    opts.tid, err = check_pid(opts.tid, "tid")
    if not opts.tid then return nil, err end
  end
  opts.cpu = opts.cpu or opts.target_cpu_list
  if truthy(opts.no_buffering) then opts.drain_ms = opts.drain_ms or 1 end
  opts.drain_ms = opts.drain_ms or opts.read_events_rate
  if opts.period and opts.freq then return nil, "give period or freq, not both" end
  local cu = opts.callchain_u
  if type(cu) == "string" and cu ~= "dwarf" and cu ~= "fp" then
    return nil, ("callchain_u: expected true, \"fp\" or \"dwarf\", got '%s'"):format(cu)
  end
  if cu == "dwarf" and not arch.dwarf_unwind then return nil, "callchain_u = \"dwarf\": " .. arch.NO_DWARF end
  local sb = opts.stack_bytes
  local most = ffi.C.SHARK_UNWIND_MAX_STACK_BYTES
  if sb and (cu ~= "dwarf" or sb < 8 or sb > most or sb % 8 ~= 0) then
    return nil, cu ~= "dwarf" and "stack_bytes goes with callchain_u = \"dwarf\""
      or ("stack_bytes must be a multiple of 8 from 8 to %d, got %s"):format(most, sb)
  end
  local pages = opts.mmap_pages
  if pages and (pages < 1 or pages ~= math.floor(pages) or bit.band(pages, pages - 1) ~= 0) then
    return nil, "mmap_pages must be a power of 2, got " .. pages
  end
  return opts
end

-- ---------------------------------------------------------------- sessions

local Handle = {}
Handle.__index = Handle

-- shark record's journal, when it runs (it loaded shark.journal: perf.on
-- does not load it for nothing)
local function journal()
  local j = package.loaded["shark.journal"]
  return j and j.active and j
end

local function session_opts(opts, evs)
  local o = ffi.new("struct shark_perf_opts")
  o.pid, o.tid, o.cgroup_fd = -1, 0, -1
  o.mmap_pages = opts.mmap_pages or default_pages(evs)
  o.watermark = opts.wakeup or 0
  o.ordered = opts.ordered and 1 or 0
  local ck = truthy(opts.callchain_k) or truthy(opts.callchain)
  local cu = truthy(opts.callchain_u) or truthy(opts.callchain)
  o.callchain_k, o.callchain_u = ck and 1 or 0, cu and 1 or 0
  o.max_stack = opts.max_stack or 0
  o.track_tasks = (cu or journal()) and 1 or 0  -- shark record: names after exit
  -- e.comm at the sample's time through perf rings: a record per exec or rename
  o.track_comm = opts.comm ~= false and 1 or 0
  if opts.callchain_u == "dwarf" then
    o.stack_user = opts.stack_bytes or ffi.C.SHARK_UNWIND_STACK_BYTES
    o.lang_frames = opts.python ~= false and 1 or 0
  end
  local inherit = opts.inherit
  local anchors = {}
  if opts.tid then
    o.tid = opts.tid
    if inherit == nil then inherit = false end
  elseif opts.pid == -1 then
    o.pid = -1  -- every process, even with -p/-c given
  elseif opts.pid then
    o.pid = opts.pid
    if inherit == nil then inherit = true end
  elseif not opts.cpu and not opts.cgroup then
    -- -p PID / -c CMD are the default target of every perf.on
    local t = shark.target()
    if t then
      o.pid = t.pid
      if inherit == nil then inherit = true end
      if t.held then o.enable_on_exec = 1 end
    end
  end
  o.inherit = inherit and 1 or 0
  if opts.cpu then
    local list, err = parse_cpus(opts.cpu)
    if not list then return nil, err end
    local arr = ffi.new("int32_t[?]", #list, list)
    anchors[#anchors + 1] = arr
    o.cpus, o.ncpus = arr, #list
  end
  if opts.cgroup then
    local fd = api.cgroup_open(opts.cgroup)
    if fd < 0 then
      local why = fd == -20 and "not a cgroup directory" or ffi.string(api.strerror(-fd))
      return nil, ("cgroup '%s': %s"):format(opts.cgroup, why)
    end
    o.cgroup_fd = fd
  end
  if #evs == 0 then return nil, "no events" end
  return o, anchors
end

local function event_struct(e, opts)
  local pe = ffi.new("struct shark_perf_event")
  pe.name = e.name
  pe.type = e.type
  pe.config = e.config
  pe.raw = (e.tracepoint or e.raw) and 1 or 0
  pe.exclude_user = e.exclude_user and 1 or 0
  pe.exclude_kernel = e.exclude_kernel and 1 or 0
  if opts.freq then
    pe.freq, pe.period = 1, opts.freq
  elseif opts.period then
    pe.period = opts.period
  elseif e.clock then
    pe.freq, pe.period = 1, DEFAULT_FREQ
  else
    pe.period = 1
  end
  if opts.filter and e.tracepoint then pe.filter = opts.filter end
  if e.carrier then pe.filter = e.filter end
  if e.via then
    pe.routed, pe.via, pe.nr = 1, e.via.index, e.nr
  end
  if e.bp_type then pe.bp_type, pe.bp_len, pe.bp_addr = e.bp_type, e.bp_len, e.bp_addr end
  return pe
end

-- The event type of each event of the handle, or the one type they share.
-- Typed batches are never freed, only reused by later handles of the same
-- type: an event kept past its handler points into one, and must read its
-- (stale) seq there to raise the error, not freed memory.
local spare = {}

-- (calloc'd, not ffi.new: its pages stay untouched until events fill them,
-- where ffi.new would zero all 256 KiB at start-up)
function new_batch(ct)
  local list = spare[ct]
  if list and #list > 0 then return table.remove(list) end
  local mem = api.calloc_mem(BATCH, ffi.sizeof(ct))
  if mem == nil then error("perf.on: out of memory for a batch of events", 0) end
  return ffi.cast(ffi.typeof("$ *", ct), mem)
end

function free_batch(h)
  if not h.typed_batch then return end
  spare[h.batch_type] = spare[h.batch_type] or {}
  table.insert(spare[h.batch_type], h.typed_batch)
  h.typed_batch, h.batch = nil, nil
end

-- tail: the BPF delivery's variant of a tracepoint's types (bpftp).
local function event_type(e, tail)
  if e.tracepoint then return assert(types.tracepoint(e.system, e.event, ev_mt, tail)) end
  return types.generic(ev_mt)
end

local function single_type(evs, tail)
  local t = event_type(evs[1], tail)
  for i = 2, #evs do
    local e = evs[i]
    if e.tracepoint or evs[1].tracepoint then return nil end
  end
  return t
end

-- The dispatch of a batch: fn on each event. When all events of the handle
-- share one type (the usual case), the batch is an array of that type and fn
-- gets batch[i] itself: no copy at all. Otherwise each sample is copied into
-- a reused event of its own type.
local function make_dispatch(h, fn)
  local batch = h.batch
  local typed = h.typed_batch
  if typed then
    return function(n)
      local outer, was = live, dispatching
      dispatching = h
      for i = 0, n - 1 do
        local e = typed[i]
        seq = seq + 1
        e._seq, live = seq, seq
        fn(e)
        if h.src.stopping then break end
      end
      live, dispatching = outer, was
    end
  end
  local evs, copy = h.evs, ffi.copy
  local function make(idx)
    local ev = event_type(h.events[idx + 1], h.via == "bpf").ev()
    evs[idx] = ev
    return ev
  end
  return function(n)
    local outer, was = live, dispatching
    dispatching = h
    for i = 0, n - 1 do
      local s = batch + i
      local idx = s.event
      local e = evs[idx] or make(idx)
      copy(e, s, SAMPLE_SIZE)
      seq = seq + 1
      e._seq, live = seq, seq
      fn(e)
      if h.src.stopping then break end
    end
    live, dispatching = outer, was
  end
end

-- The source (shark.source) of a perf session: its rings, read in batches.
local function perf_source(h, fn)
  local p, batch = h.p, h.batch
  local fds = {}
  for i = 0, api.perf_nrings(p) - 1 do fds[#fds + 1] = api.perf_ring_fd(p, i) end
  local st = ffi.new("struct shark_perf_stats")
  local o = h.opts
  local j = journal()
  local read = j and j.tap_perf(h, api.perf_read) or api.perf_read  -- shark record
  return source.new{
    name = ("perf.on(%q)"):format(h.spec),
    max = BATCH,
    read = function(max) return read(p, batch, max) end,
    consume = function() api.perf_consume(p) end,
    dispatch = make_dispatch(h, fn),
    fds = fds,
    poll = "always",  -- the kernel wakes us only past the watermark
    drain_ms = o.drain_ms or DEFAULT_DRAIN_MS,
    detach = function() api.perf_disable(p) end,
    stats = function()
      api.perf_stats(p, st)
      return { samples = tonumber(st.samples), lost = tonumber(st.lost), throttled = tonumber(st.throttled),
        count = tonumber(st.samples) }
    end,
    release = function()
      ffi.gc(p, nil)
      api.perf_free(p)
      h.p = nil
      free_batch(h)
    end,
    lost_message = function(lost)
      return ("perf.on(%q): %d events lost (ring full); raise mmap_pages (now %d)")
        :format(h.spec, lost, h.so_pages)
    end,
  }
end

-- The batch events are decoded into: an array of the handle's one event
-- type (handlers get its elements), or of plain samples.
local function batch_of(h, tail)
  local one = single_type(h.events, tail)
  if h.typed_batch then free_batch(h) end
  if one then
    h.typed_batch, h.batch_type = new_batch(one.ev), one.ev
    h.batch = ffi.cast("struct shark_sample *", h.typed_batch)
  else
    h.typed_batch = nil
    h.batch = ffi.new("struct shark_sample[?]", BATCH)
  end
end

-- Deliver handle h through perf rings; nil, or what failed.
function open_perf(h, so, fn)
  h.via = "perf"
  local p = api.perf_new(so)
  if p == nil then return ffi.string(api.strerror(ffi.errno())) end
  p = ffi.gc(p, api.perf_free)
  for _, e in ipairs(h.events) do
    local idx = api.perf_add(p, event_struct(e, h.opts))
    if idx < 0 then
      local msg = ffi.string(api.perf_error(p))
      if msg == "" then msg = e.name .. ": " .. ffi.string(api.strerror(-idx)) end
      ffi.gc(p, nil)
      api.perf_free(p)
      return msg
    end
  end
  h.p, h.so_pages = p, so.mmap_pages
  batch_of(h, false)
  h.src = perf_source(h, fn)
  h.drain = h.src.drain
  local rc = api.perf_enable(p)
  if rc < 0 then
    h.src:close()
    return "cannot enable: " .. ffi.string(api.strerror(-rc))
  end
  return nil
end

-- f(...) with the collector paused (unless the script paused it): opening
-- a handle allocates ~100 KB it keeps (event types, the loaded object), and
-- each collection cycle meanwhile would re-mark a heap that is all alive:
-- ~0.3 ms of the ~3.5 ms a perf.on takes. An error still restarts it.
local function gc_paused(f, ...)
  if not collectgarbage("isrunning") then return f(...) end
  collectgarbage("stop")
  local r = { pcall(f, ...) }
  collectgarbage("restart")
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, table.maxn(r))
end

-- perf.on(spec, [opts], fn) -> handle
function M.on(spec, opts, fn)
  phases.mark("perf.on (perf modules loaded)")
  if fn == nil and type(opts) == "function" then opts, fn = {}, opts end
  if type(fn) ~= "function" then
    error("perf.on(spec, [opts], fn): expected a function, got " .. type(fn), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("perf.on(spec, [opts], fn): opts must be a table, got " .. type(opts), 2)
  end
  local copy = {}
  for k, v in pairs(opts or {}) do copy[k] = v end
  local o, err = check_opts(copy)
  if not o then error(("perf.on(%q): %s"):format(tostring(spec), err), 2) end
  local evs
  evs, err = events.parse(spec)
  if not evs then error(("perf.on(%q): %s"):format(tostring(spec), err), 2) end
  for _, e in ipairs(evs) do
    if e.bp_symbol then
      local t = shark.target()
      local ok, werr = events.watch_symbol(e, o.pid or o.tid or (t and t.pid))
      if not ok then error(("perf.on(%q): %s"):format(tostring(spec), werr), 2) end
    end
  end
  -- a filter names the fields of syscalls:* records, which raw_syscalls lacks
  if not o.filter then evs = events.route_syscalls(evs) end

  if o.via ~= nil and o.via ~= "bpf" and o.via ~= "perf" then
    error(("perf.on(%q): via is 'bpf' or 'perf', not '%s'"):format(spec, o.via), 2)
  end
  local unsuitable = bpftp.unsuitable(evs, o)
  local why_perf = unsuitable
  if o.via == "bpf" and unsuitable then
    error(("perf.on(%q): via = 'bpf': %s (use via = 'perf')"):format(spec, unsuitable), 2)
  end
  phases.mark("events parsed")
  local so, anchors = session_opts(o, evs)
  if not so then error(("perf.on(%q): %s"):format(spec, anchors), 2) end
  local share = require "shark.tpshare"
  for i, e in ipairs(evs) do
    e.index = i - 1
    if e.tracepoint then share.perf(e.system .. ":" .. e.event) end
  end
  local h = setmetatable({ spec = spec, events = evs, opts = o, evs = {}, batch_max = BATCH,
    free_batch = free_batch }, Handle)
  -- tracepoints go through BPF where it loads (user strings read at event
  -- time, cheaper than a perf sample), perf rings otherwise
  if not unsuitable and o.via ~= "perf" then
    -- the perf path's check, which a BPF program's pid filter does not make
    local target = so.tid > 0 and so.tid or so.pid
    if target > 0 and not io.open("/proc/" .. target .. "/stat") then
      error(("perf.on(%q): No such process"):format(spec), 2)
    end
    h.via = "bpf"
    local ok, why = gc_paused(function()
      bpftp.prepare(h)  -- a big ring starts on a thread meanwhile
      batch_of(h, true)
      return bpftp.open(h, so, make_dispatch(h, fn))
    end)
    if ok then
      h.drain = h.src.drain
      local _ = anchors
      return h
    end
    if o.via == "bpf" then error(("perf.on(%q): via = 'bpf': %s"):format(spec, why), 2) end
    why_perf = "BPF delivery unavailable: " .. why
  end
  phases.mark("perf: open")
  local err2 = gc_paused(open_perf, h, so, fn)
  phases.mark("perf: enabled")
  local _ = anchors
  if err2 then error(("perf.on(%q): %s"):format(spec, err2), 2) end
  shark.log(("perf.on(%q): delivered through perf rings%s"):format(spec, why_perf and " (" .. why_perf .. ")" or ""))
  return h
end

-- Stop delivering events and release everything the handle holds (at once,
-- or once the handler that calls it returns).
function Handle:stop()
  self.src:stop()
end

function Handle:_close()
  self.src:close()
end

-- Counters: samples delivered, lost (ring full), throttled.
function Handle:stats()
  return self.src:stats()
end

-- Events delivered so far (all events of the spec).
function Handle:count()
  return self:stats().samples
end

-- Events the kernel dropped because the ring was full.
function Handle:lost()
  return self:stats().lost
end

-- User strings that could not be read (delivered as ""): through BPF, at
-- event time, by this handle; through perf rings, read later from the task,
-- by every perf-ring handle of the run.
function Handle:unreadable()
  if self.via == "perf" then return types.unreadable end
  return self:stats().unreadable or 0
end

function Handle:active()
  return self.src:active()
end

function Handle:__tostring()
  return ("perf.on(%q)%s"):format(self.spec, self.src.closed and " (stopped)" or "")
end

-- ------------------------------------------------------------------ print

-- One ftrace-style line: comm-pid [cpu] secs: name: field=value ...
function M.format(e)
  local comm = comm_of(e)
  local head = ("%16s-%-7d [%03d] %.6f: %s:"):format(ffi.string(comm), e.pid, e.cpu,
    e.time / 1e9, ffi.string(e.name))
  if e.raw == nil then
    return ("%s period=%d ip=0x%x"):format(head, e.period, e.ip)
  end
  local fields = types.format_fields(types.of(e), e.raw)
  return head .. " " .. fields:gsub("prev_state=(%d+)", M.task_state)
end

-- sched_switch's prev_state as perf and ftrace print it: R (runnable), S, D,
-- T, t, X, Z, P, I joined by '|', '+' when preempted (the kernel's format).
local STATES = { "S", "D", "T", "t", "X", "Z", "P", "I" }
function M.task_state(n)
  n = tonumber(n)
  local out = {}
  for i, c in ipairs(STATES) do
    if math.floor(n / 2 ^ (i - 1)) % 2 == 1 then out[#out + 1] = c end
  end
  return "prev_state=" .. (#out > 0 and table.concat(out, "|") or "R") .. (n >= 256 and n % 512 >= 256 and "+" or "")
end

function M.print(e)
  print(M.format(e))
end

M.Handle = Handle
return M
