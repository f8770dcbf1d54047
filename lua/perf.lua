-- SPDX-License-Identifier: GPL-2.0
-- perf.lua - perf.on(spec, [opts], fn): tracepoints and perf events delivered
-- to Lua in batches. One entry into Lua per ring wake-up (or drain tick);
-- inside, a loop the JIT compiles copies each decoded sample into a reused,
-- typed event and calls fn. Nothing is allocated per event.
local ffi = require "ffi"
local bit = require "bit"
local uv = require "uv"
local api = require "shark.api"
local shark = require "shark"
local events = require "perf.events"
local types = require "perf.types"
local stack = require "perf.stack"
local drain_loop = require "shark.drain"

local M = {}

local BATCH = 2048
local SAMPLE_SIZE = ffi.sizeof("struct shark_sample")
local USER_REGS = 0                -- registers in a DWARF sample: the bits of the mask
for i = 0, 30 do
  if bit.band(ffi.C.SHARK_UNWIND_REGS_MASK, bit.lshift(1, i)) ~= 0 then USER_REGS = USER_REGS + 1 end
end
local DEFAULT_PAGES = 256          -- 1 MiB per CPU: a 10 ms burst at 1 M events/s
local DEFAULT_DRAIN_MS = 10
local DEFAULT_FREQ = 4000          -- clock events, as perf record

local handles = {}                 -- every handle not yet stopped

-- ---------------------------------------------------------------- events e

local ev_mt = { __index = nil, __tostring = nil }
local copies = setmetatable({}, { __mode = "k" })  -- copy -> buffers it points at

local function copy_event(e)
  local t = e.raw ~= nil and types.by_name(ffi.string(e.name)) or types.generic(ev_mt)
  local c = t.ev()
  ffi.copy(c, e, SAMPLE_SIZE)
  local keep = {}
  if e.raw ~= nil and e.raw_size > 0 then
    local b = ffi.new("uint8_t[?]", e.raw_size)
    ffi.copy(b, e.raw, e.raw_size)
    c.raw = ffi.cast(ffi.typeof(e.raw), b)
    keep[#keep + 1] = b
  end
  if e.nr_ips > 0 then
    local b = ffi.new("uint64_t[?]", e.nr_ips)
    ffi.copy(b, e.ips, 8 * e.nr_ips)
    c.ips = b
    keep[#keep + 1] = b
  end
  if e.user_regs ~= nil then
    local r = ffi.new("uint64_t[?]", USER_REGS)
    ffi.copy(r, e.user_regs, 8 * USER_REGS)
    c.user_regs = r
    keep[#keep + 1] = r
  end
  if e.user_stack ~= nil and e.user_stack_size > 0 then
    local b = ffi.new("uint8_t[?]", e.user_stack_size)
    ffi.copy(b, e.user_stack, e.user_stack_size)
    c.user_stack = b
    keep[#keep + 1] = b
  end
  copies[c] = keep
  return c
end

local methods = {
  copy = copy_event,
  -- frames as a table: { {ip = cdata, sym = "name", kernel = bool}, ... }, leaf first
  stack = function(e) return stack.frames(e) end,
}

ev_mt.__index = function(e, k)
  if k == "callchain" then return stack.intern(e) end
  if k == "comm" then return ffi.string(api.comm(e.pid)) end
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
  ordered = "boolean",
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

local function session_opts(opts, evs)
  local o = ffi.new("struct shark_perf_opts")
  o.pid, o.tid, o.cgroup_fd = -1, 0, -1
  o.mmap_pages = opts.mmap_pages or DEFAULT_PAGES
  o.watermark = opts.wakeup or 0
  o.ordered = opts.ordered and 1 or 0
  local ck = truthy(opts.callchain_k) or truthy(opts.callchain)
  local cu = truthy(opts.callchain_u) or truthy(opts.callchain)
  o.callchain_k, o.callchain_u = ck and 1 or 0, cu and 1 or 0
  o.max_stack = opts.max_stack or 0
  o.track_tasks = (cu or require("shark.journal").active) and 1 or 0  -- shark record: names after exit
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
local function event_type(e)
  if e.tracepoint then return assert(types.tracepoint(e.system, e.event, ev_mt)) end
  return types.generic(ev_mt)
end

local function single_type(evs)
  local t = event_type(evs[1])
  for i = 2, #evs do
    local e = evs[i]
    if e.tracepoint or evs[1].tracepoint then return nil end
  end
  return t
end

-- The drain: read a batch, call fn on each event, hand the space back.
-- When all events of the handle share one type (the usual case), the batch
-- is an array of that type and fn gets batch[i] itself: no copy at all.
-- Otherwise each sample is copied into a reused event of its own type.
local function make_drain(h, fn)
  local batch = h.batch
  local dispatch
  local typed = h.typed_batch
  if typed then
    dispatch = function(n)
      for i = 0, n - 1 do
        fn(typed[i])
        if h.stopping then return end
      end
    end
  else
    local evs, copy = h.evs, ffi.copy
    local function make(idx)
      local ev = event_type(h.events[idx + 1]).ev()
      evs[idx] = ev
      return ev
    end
    dispatch = function(n)
      for i = 0, n - 1 do
        local s = batch + i
        local idx = s.event
        local e = evs[idx] or make(idx)
        copy(e, s, SAMPLE_SIZE)
        fn(e)
        if h.stopping then return end
      end
    end
  end
  local read = require("shark.journal").tap_perf(h, api.perf_read)  -- shark record
  return drain_loop(h, "p", read, api.perf_consume, batch, BATCH, dispatch)
end

-- perf.on(spec, [opts], fn) -> handle
function M.on(spec, opts, fn)
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

  local so, anchors = session_opts(o, evs)
  if not so then error(("perf.on(%q): %s"):format(spec, anchors), 2) end
  local p = api.perf_new(so)
  if p == nil then
    error(("perf.on(%q): %s"):format(spec, ffi.string(api.strerror(ffi.errno()))), 2)
  end
  p = ffi.gc(p, api.perf_free)
  for i, e in ipairs(evs) do
    e.index = i - 1
    local idx = api.perf_add(p, event_struct(e, o))
    if idx < 0 then
      local msg = ffi.string(api.perf_error(p))
      if msg == "" then msg = e.name .. ": " .. ffi.string(api.strerror(-idx)) end
      ffi.gc(p, nil)
      api.perf_free(p)
      error(("perf.on(%q): %s"):format(spec, msg), 2)
    end
  end
  local _ = anchors
  local share = require "shark.tpshare"
  for _, e in ipairs(evs) do
    if e.tracepoint then share.perf(e.system .. ":" .. e.event) end
  end

  local h = setmetatable({ spec = spec, p = p, events = evs, opts = o, evs = {}, polls = {}, closed = false },
    Handle)
  local one = single_type(evs)
  if one then
    h.typed_batch = ffi.new(ffi.typeof("$[?]", one.ev), BATCH)
    h.batch = ffi.cast("struct shark_sample *", h.typed_batch)
  else
    h.batch = ffi.new("struct shark_sample[?]", BATCH)
  end
  h.drain = make_drain(h, fn)
  local drain = h.drain
  for i = 0, api.perf_nrings(p) - 1 do
    local poll = uv.new_poll(api.perf_ring_fd(p, i))
    poll:start("r", drain)
    h.polls[#h.polls + 1] = poll
  end
  local ms = o.drain_ms or DEFAULT_DRAIN_MS
  h.timer = uv.new_timer()
  -- a first look soon after enabling, then every drain_ms
  uv.update_time()
  h.timer:start(math.min(ms, 2), ms, drain)
  local rc = api.perf_enable(p)
  if rc < 0 then
    h:_close()
    error(("perf.on(%q): cannot enable: %s"):format(spec, ffi.string(api.strerror(-rc))), 2)
  end
  handles[h] = true
  return h
end

-- Stop delivering events and release everything the handle holds.
function Handle:stop()
  if self.closed then return end
  if self.draining then
    self.stopping = true
  else
    self:_close()
  end
end

function Handle:_close()
  if self.closed then return end
  self.closed = true
  for _, poll in ipairs(self.polls) do poll:stop(); poll:close() end
  if self.timer then self.timer:stop(); self.timer:close() end
  self.final = self:stats()
  ffi.gc(self.p, nil)
  api.perf_free(self.p)
  self.p = nil
  handles[self] = nil
  -- lost events are never dropped silently
  if self.final.lost > 0 then
    io.stdout:flush()
    io.stderr:write(("shark: perf.on(%q): %d events lost (ring full); raise mmap_pages (now %d)\n")
      :format(self.spec, self.final.lost, self.opts.mmap_pages or DEFAULT_PAGES))
  end
end

-- Counters: samples delivered, lost (ring full), throttled.
function Handle:stats()
  if self.final then return self.final end
  local st = ffi.new("struct shark_perf_stats")
  api.perf_stats(self.p, st)
  return { samples = tonumber(st.samples), lost = tonumber(st.lost), throttled = tonumber(st.throttled) }
end

-- Events delivered so far (all events of the spec).
function Handle:count()
  return self:stats().samples
end

-- Events the kernel dropped because the ring was full.
function Handle:lost()
  return self:stats().lost
end

function Handle:active()
  return not self.closed
end

function Handle:__tostring()
  return ("perf.on(%q)%s"):format(self.spec, self.closed and " (stopped)" or "")
end

-- ------------------------------------------------------------------ print

-- One ftrace-style line: comm-pid [cpu] secs: name: field=value ...
function M.format(e)
  local head = ("%16s-%-7d [%03d] %.6f: %s:"):format(ffi.string(api.comm(e.pid)), e.pid, e.cpu,
    e.time / 1e9, ffi.string(e.name))
  if e.raw == nil then
    return ("%s period=%d ip=0x%x"):format(head, e.period, e.ip)
  end
  local fields = types.format_fields(types.by_name(ffi.string(e.name)), e.raw)
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

-- ------------------------------------------------------- end of the run

-- Before on_end handlers: stop the events and deliver what is still in the
-- rings, so counts are complete (unless the run failed).
table.insert(shark._end_hooks.before, function(failed)
  for h in pairs(handles) do
    if h.p then api.perf_disable(h.p) end
    if not failed and not h.closed then h.drain() end
  end
end)

-- After them: say what was lost, per handle.
table.insert(shark._end_hooks.after, function()
  local all = {}
  for h in pairs(handles) do all[#all + 1] = h end
  for _, h in ipairs(all) do h:_close() end
end)

M.Handle = Handle
return M
