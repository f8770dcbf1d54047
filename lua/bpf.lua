-- SPDX-License-Identifier: GPL-2.0
-- bpf.lua - BPF programs from Lua: bpf.load (object, .bpf.c file or C text),
-- bpf.cdef (the original's form: load and attach), maps as tables, globals,
-- explicit attach of every kind this kernel supports.
local ffi = require "ffi"
local uv = require "uv"
local api = require "shark.api"
local shark = require "shark"
local phases = require "shark.phases"
local btf = require "bpf.btf"
local Map = require "bpf.map"
local probes = require "shark.probes"

local M = {}

-- Maps of every loaded object by name (the original's bpf.var.<map>), and
-- their globals (.bss, .data, .rodata: bpf.var.hits reads obj.bss.hits). A
-- name that is neither is an error that lists what there is.
local all_maps, all_globals = {}, {}
local function var_names()
  local maps, globals = {}, {}
  for n in pairs(all_maps) do maps[#maps + 1] = n end
  for n in pairs(all_globals) do globals[#globals + 1] = n end
  table.sort(maps)
  table.sort(globals)
  return ("maps: %s; globals: %s"):format(#maps > 0 and table.concat(maps, ", ") or "none",
    #globals > 0 and table.concat(globals, ", ") or "none")
end
M.var = setmetatable({}, {
  __index = function(_, name)
    local m = all_maps[name]
    if m then return m end
    local g = all_globals[name]
    if g then return g[1][name] end
    error(("bpf.var.%s: no map or global of that name in the loaded BPF objects (%s)")
      :format(tostring(name), var_names()), 2)
  end,
  __newindex = function(_, name, v)
    local g = all_globals[name]
    if not g then error(("bpf.var.%s: only globals can be set (%s)"):format(tostring(name), var_names()), 2) end
    g[1][name] = v
  end,
})

-- Loaded objects belong to the session that loaded them (shark.source):
-- detached first when it ends, closed last.
local source = require "shark.source"

-- bpf.compile and hist load when first needed: perf.on's delivery, a
-- prebuilt object, needs neither (start-up)
local function read_file(path)
  return require("bpf.compile").read_file(path)
end

-- ------------------------------------------------------------------ programs

local Prog = {}
Prog.__index = Prog

-- Why the last call failed, in words (libbpf's own lines that only mislead
-- here dropped: memory is charged to the cgroup, not RLIMIT_MEMLOCK).
local function why(o, rc, what)
  local msg = ffi.string(api.bpf_error(o))
  if msg == "" then msg = what .. ": " .. ffi.string(api.strerror(-rc)) end
  msg = msg:gsub("[^\n]*ulimit %-l[^\n]*\n?", ""):gsub("\n+$", "")
  return msg
end

-- level: 2 from a tail call (`return check(...)`: the method's frame is gone)
local function check(self, rc, what, level)
  if rc < 0 then error(why(self.obj.o, rc, what), level or 3) end
  M.keep_alive()
  return self
end

-- SEC() prefixes that name their target, so libbpf can attach them alone.
local AUTO = { "tracepoint/", "tp/", "raw_tracepoint/", "raw_tp/", "tp_btf/", "kprobe/", "kretprobe/",
  "fentry/", "fexit/", "fmod_ret/", "lsm/", "iter/" }

function Prog:auto_attachable()
  local sec = self.section
  for _, p in ipairs(AUTO) do
    if sec:sub(1, #p) == p and #sec > #p then return true end
  end
  -- uprobe/PATH:FUNC, usdt/PATH:PROVIDER:NAME
  return (sec:match("^uprobe/.+:.+") or sec:match("^uretprobe/.+:.+") or sec:match("^usdt/.+:.+:.+")) ~= nil
end

-- prog:attach(): by its SEC() name. prog:attach(spec, [opts]): to the
-- target of a spec of any kind of shark.probes ("sched:sched_switch",
-- "uprobe:/path:func", "usdt:/path:provider:name", "cpu-clock", ...);
-- opts: pid, cookie, freq, period.
function Prog:attach(spec, o)
  if spec == nil then return check(self, api.bpf_attach(self.obj.o, self.index), "attach " .. self.name, 2) end
  local t, err = probes.parse(spec)
  if not t then error(("attach: %s"):format(err), 2) end
  local ok, aerr = pcall(probes.attach, self, t, o)
  if not ok then error((tostring(aerr):gsub("^[^:\n]*:%d+: ", "")), 2) end
  return self
end

-- "sys:event" (or "tracepoint:sys:event") or ("sys", "event")
function Prog:attach_tracepoint(sys, name)
  if not name then
    local t = probes.parse(tostring(sys))
    if not t or t.kind ~= "tracepoint" then
      error(("attach_tracepoint: expected 'system:event', got '%s'"):format(tostring(sys)), 2)
    end
    sys, name = t.system, t.event
  end
  return check(self, api.bpf_attach_tracepoint(self.obj.o, self.index, sys, name), "attach " .. self.name, 2)
end

function Prog:attach_raw_tracepoint(name)
  return check(self, api.bpf_attach_raw_tracepoint(self.obj.o, self.index, name), "attach " .. self.name, 2)
end

local function default_pid(pid)
  if pid then
    local v = require("shark.pid").assert(pid, "pid", true, 4)
    return v
  end
  local t = shark.target()
  return t and t.pid or -1
end

-- { binary = path, func = name | offset = n, pid = n, ret = bool, cookie = n (bpf_get_attach_cookie) }
function Prog:attach_uprobe(o)
  if type(o) ~= "table" or type(o.binary) ~= "string" then
    error("attach_uprobe{binary = PATH, func = NAME | offset = N, [pid = PID], [ret = true]}", 2)
  end
  return check(self, api.bpf_attach_uprobe(self.obj.o, self.index, o.ret and 1 or 0, default_pid(o.pid),
    o.binary, o.func, o.offset or 0, o.cookie or 0), "attach " .. self.name, 2)
end

function Prog:attach_uretprobe(o)
  local c = {}
  for k, v in pairs(o or {}) do c[k] = v end
  c.ret = true
  return self:attach_uprobe(c)
end

-- { binary = path, provider = name, name = probe, pid = n, cookie = n }
function Prog:attach_usdt(o)
  if type(o) ~= "table" or type(o.binary) ~= "string" or type(o.provider) ~= "string"
    or type(o.name) ~= "string" then
    error("attach_usdt{binary = PATH, provider = NAME, name = PROBE, [pid = PID], [cookie = N]}", 2)
  end
  return check(self, api.bpf_attach_usdt(self.obj.o, self.index, default_pid(o.pid), o.binary, o.provider, o.name,
    o.cookie or 0), "attach " .. self.name, 2)
end

function Prog:attach_kprobe(func, ret)
  return check(self, api.bpf_attach_kprobe(self.obj.o, self.index, ret and 1 or 0, func), "attach " .. self.name, 2)
end

function Prog:attach_kretprobe(func)
  return self:attach_kprobe(func, true)
end

-- { event = "cpu-clock", freq = 99 | period = n, pid = n }: a sampling perf
-- event on every CPU runs the program (bpf_get_stackid for stacks).
function Prog:attach_perf_event(o)
  o = o or {}
  local e, err = probes.parse(o.event or "cpu-clock")
  if not e then error("attach_perf_event: " .. err, 2) end
  if e.kind ~= "perf" then error(("attach_perf_event: '%s' is a %s: use its attach method"):format(e.spec,
    e.handler.what), 2) end
  local freq = o.freq or (not o.period and 99) or nil
  return check(self, api.bpf_attach_perf(self.obj.o, self.index, e.type, e.config, freq or o.period,
    freq and 1 or 0, default_pid(o.pid)), "attach " .. self.name, 2)
end

-- { interface = "lo" }: a socket filter (SEC("socket")) on a raw packet
-- socket that sees both directions of the interface (none given: all of
-- them); the socket closes when the object is detached. Returns self and the
-- socket's fd.
function Prog:attach_socket(o)
  o = o or {}
  if type(o) ~= "table" or (o.interface ~= nil and type(o.interface) ~= "string") then
    error("attach_socket{[interface = NAME]}", 2)
  end
  local fd = api.bpf_attach_socket(self.obj.o, self.index, o.interface)
  return check(self, fd, "attach " .. self.name, 3), fd
end

-- ------------------------------------------------------------------ objects

local Obj = {}
Obj.__index = Obj

function Obj:close()
  if self.o then
    api.bpf_free(ffi.gc(self.o, nil))
    self.o = nil
    if self._session then self._session:remove(self) end
  end
end

-- The session's detach phase: no more events, before on_end handlers read
-- the maps (their own bpf() calls would be counted by a syscall counter).
-- Lost events are reported per source: here, per program.
function Obj:detach()
  if not self.o then return end
  api.bpf_detach(self.o)
  if self.misses_said then return end
  self.misses_said = true
  local _, by = self:misses()
  for name, n in pairs(by) do
    io.stderr:write(("shark: BPF program '%s' missed %d event%s: the kernel skips a program while " ..
      "a BPF program already runs on its CPU\n"):format(name, n, n == 1 and "" or "s"))
  end
end

-- Events the kernel did not run the programs for: a tracing program is skipped
-- while a BPF program (itself, for raw tracepoints) already runs on its CPU.
-- The total, and { prog name = n }.
function Obj:misses()
  local total, by = 0, {}
  if not self.o then return total, by end
  for i = 0, api.bpf_nprogs(self.o) - 1 do
    local n = tonumber(api.bpf_prog_misses(self.o, i))
    if n > 0 then
      local info = ffi.new("struct shark_bpf_prog_info")
      api.bpf_prog(self.o, i, info)
      by[ffi.string(info.name)] = n
      total = total + n
    end
  end
  return total, by
end

-- Globals of a section as a table proxy: v.name reads, v.name = x writes.
local function section_proxy(obj, section)
  local size = ffi.new("uint64_t[1]")
  local vars = btf.section_vars(obj.ns, section)
  return setmetatable({}, {
    __index = function(_, k)
      local v = vars[k]
      if not v then return nil end
      local mem = api.bpf_section(obj.o, section, size)
      if mem == nil then return nil end
      return v.conv.get(ffi.cast("uint8_t *", mem) + v.offset)
    end,
    __newindex = function(_, k, x)
      local v = vars[k]
      if not v then error(("no global '%s' in %s"):format(tostring(k), section), 2) end
      local mem = api.bpf_section(obj.o, section, size)
      if mem == nil then error("section " .. section .. " is not mapped", 2) end
      if obj.loaded and section == ".rodata" then
        error(("'%s' is const volatile (.rodata): set it before load, in bpf.load's opts.rodata"):format(k), 2)
      end
      v.conv.put(ffi.cast("uint8_t *", mem) + v.offset, x)
    end,
    __pairs = function()
      local names = {}
      for n in pairs(vars) do names[#names + 1] = n end
      table.sort(names)
      local i = 0
      return function()
        i = i + 1
        local n = names[i]
        if n then return n, obj[section == ".rodata" and "rodata" or section == ".data" and "data" or "bss"][n] end
      end
    end,
  })
end

local function is_path(x, exts)
  if x:find("\n", 1, true) then return false end
  for _, e in ipairs(exts) do
    if x:sub(-#e) == e then return true end
  end
  return false
end

-- Where the caller's string literal sits in its file, for compiler messages.
local function source_position(text, level)
  local info = debug.getinfo(level + 1, "Sl")
  if not info then return "bpf.c", 1 end
  local src = info.source
  if src:sub(1, 1) == "@" then
    local file = src:sub(2)
    local body = read_file(file)
    if body then
      local at = body:find(text, 1, true)
      if at then
        local _, nl = body:sub(1, at):gsub("\n", "")
        return file, nl + 1
      end
    end
    return file, info.currentline
  end
  return src:gsub("^=", ""), info.currentline
end

local function object_name(path)
  return ((path:match("([^/]+)$") or "bpf"):gsub("%.bpf%.[co]$", ""):gsub("%.%w+$", ""):gsub("[^%w_]", "_"))
end

-- In a bundle (shark bundle), objects were compiled when it was made.
local function bundled_object(x, level)
  local bundle = require "shark.bundle"
  local files = bundle.current()
  if not files then return nil end
  if is_path(x, { ".o", ".c" }) then
    local bytes = files[bundle.file_key(x)]
    if bytes then return bytes, object_name(x) end
    error(("bpf.load: %s is not in this bundle (only files named by a string literal ending in .bpf.c " ..
      "or .bpf.o in the script are bundled)"):format(x), level + 1)
  end
  local bytes = files[bundle.source_key(x)]
  if bytes then
    local name = source_position(x, level + 1)
    return bytes, object_name(name)
  end
  error("bpf: this bundle holds no compiled object for this BPF C: only text written as a string literal " ..
    "in the script (not built at run time) is compiled when the bundle is made", level + 1)
end

-- A file inside shark (a prebuilt object), or nil: read when wanted, not
-- all of them kept (their 800 KB in every job of the agent)
local function embedded(name)
  return require("shark.core").file(name)
end

-- Turn x (a .bpf.o path, a .bpf.c path or C source) into object bytes.
local function object_bytes(x, level)
  if type(x) ~= "string" then
    error("bpf.load(x): expected a .bpf.o or .bpf.c path or C source, got " .. type(x), level + 1)
  end
  local bbytes, bname = bundled_object(x, level + 1)
  if bbytes then return bbytes, bname end
  if is_path(x, { ".o" }) then
    local bytes = read_file(x)
    if not bytes then error("bpf.load: cannot read " .. x, level + 1) end
    return bytes, x:match("([^/]+)%.o$")
  end
  local src, name, line
  -- one line with no C in it names a file: a missing one is not C source
  if not is_path(x, { ".c" }) and not x:find("[\n{};()#]") and (x:find("/", 1, true) or x:match("%.%w+$")) then
    local bytes = read_file(x)
    if not bytes then error("bpf.load: no such file: " .. x, level + 1) end
    if bytes:sub(1, 4) == "\127ELF" then return bytes, x:match("([^/]+)$") end
    src, name, line = bytes, x, 1
  elseif is_path(x, { ".c" }) then
    src = read_file(x)
    if not src then error("bpf.load: cannot read " .. x, level + 1) end
    name, line = x, 1
  else
    src = x
    name, line = source_position(x, level + 1)
    -- the samples' BPF C (and their library modules'), compiled when shark was built
    local pre = embedded("bpf/src/" .. require("bpf.compile").hash(src))
    if pre then return pre, object_name(name) end
  end
  local bytes, err = M.compile(src, name, line)
  if not bytes then error("bpf: " .. err, level + 1) end
  return bytes, object_name(name)
end

-- Compile BPF C text from `name` (a file) at `line`: shark.bpf.h and a GPL
-- licence are added when the text has no #include / licence of its own.
-- `arch` (x86, arm64): the architecture the object is for, by default shark's.
function M.compile(src, name, line, arch)
  if not src:find("#include", 1, true) then
    -- usdt.bpf.h brings its own maps: only for programs that use it (BPF_USDT or bpf_usdt_arg…)
    local usdt = (src:find("BPF_USDT", 1, true) or src:find("bpf_usdt_", 1, true)) and
      "#include <bpf/usdt.bpf.h>\n" or ""
    src = '#include "shark.bpf.h"\n' .. usdt .. '#line ' .. line .. '\n' .. src
    line = line - 1
  end
  if not src:find('SEC("license")', 1, true) then
    src = src .. '\nchar LICENSE[] SEC("license") = "GPL";\n'
  end
  return require("bpf.compile").compile(src, name, line, arch)
end

-- bpf.load(x, [opts]) -> object with .progs, .maps, .bss/.data/.rodata.
-- opts: rodata = { cfg_x = v } (set before load), only = { names } (load just these
-- programs), max_entries = { map = n }, reuse = { map = fd } (a map made
-- already; or a function that returns its fd, or nil for libbpf to make it:
-- called as late as it can be, a thread may be making it), attach = false (do not
-- attach programs whose SEC() names their target), private = true (maps not in
-- bpf.var: shark's own objects).
-- (level: as error() counts from these helpers, the script's frame)
-- Before load: rodata knobs, the programs to load (opts.only: the verifier,
-- and vmlinux BTF for CO-RE, cost per program), map sizes.
local function configure(obj, opts, level)
  local o = obj.o
  for k, v in pairs(opts.rodata or {}) do obj.rodata[k] = v end
  if opts.only then
    local pi = ffi.new("struct shark_bpf_prog_info")
    local want = {}
    for _, pname in ipairs(opts.only) do want[pname] = true end
    for i = 0, api.bpf_nprogs(o) - 1 do
      api.bpf_prog(o, i, pi)
      api.bpf_autoload(o, pi.name, want[ffi.string(pi.name)] and 1 or 0)
    end
  end
  for mname, n in pairs(opts.max_entries or {}) do
    if api.bpf_map_resize(o, mname, n) < 0 then error(("bpf: no map '%s' to resize"):format(mname), level) end
  end
  for mname, fd in pairs(opts.reuse or {}) do
    if type(fd) == "function" then fd = fd() end
    local rc = fd and api.bpf_map_reuse(o, mname, fd) or 0
    if rc < 0 then
      error(("bpf: map '%s': cannot reuse fd %d: %s"):format(mname, fd, ffi.string(api.strerror(-rc))), level)
    end
  end
end

-- After load: obj.progs, obj.maps, and the maps and globals bpf.var finds.
local function collect(obj, opts)
  local o = obj.o
  local pi = ffi.new("struct shark_bpf_prog_info")
  for i = 0, api.bpf_nprogs(o) - 1 do
    api.bpf_prog(o, i, pi)
    local p = setmetatable({ obj = obj, index = i, name = ffi.string(pi.name), section = ffi.string(pi.section),
      fd = pi.fd }, Prog)
    obj.progs[p.name] = p
  end
  local mi = ffi.new("struct shark_bpf_map_info")
  for i = 0, api.bpf_nmaps(o) - 1 do
    api.bpf_map(o, i, mi)
    local mname = ffi.string(mi.name)
    if not mname:find(".", 1, true) then
      local m = Map.new(obj.ns, mi, obj)
      obj.maps[mname] = m
      -- shark's own objects (opts.private: perf.on's delivery) stay out of
      -- bpf.var, so they never shadow a script's map of the same name
      if not opts.private then all_maps[mname] = m end
    end
  end
  for _, section in ipairs{ "rodata", "data", "bss" } do
    for gname in next, btf.section_vars(obj.ns, "." .. section) do all_globals[gname] = { obj[section] } end
  end
end

-- Attach the programs whose SEC() names their target.
local function auto_attach(obj, level)
  -- libbpf finds tracepoints in tracefs, which a fresh boot has not mounted
  require("perf.core").tracefs()
  for _, p in pairs(obj.progs) do
    if p:auto_attachable() then
      local arc = api.bpf_attach(obj.o, p.index)
      if arc < 0 then error("bpf: " .. why(obj.o, arc, "attach " .. p.name), level) end
      M.keep_alive()
    end
  end
end

function M.load(x, opts, level)
  level = level or 2
  if type(opts) == "number" then opts, level = nil, opts end
  opts = opts or {}
  local allowed, denied = shark.privileged("bpf")
  if not allowed then error("bpf: " .. denied, level) end
  local bytes, name
  if opts.object then
    bytes, name = opts.object, opts.name or "object"
  else
    bytes, name = object_bytes(x, level)
  end
  if not uv.fs_stat("/sys/kernel/btf/vmlinux") then
    error("bpf: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing: it needs CONFIG_DEBUG_INFO_BTF=y), " ..
      "so BPF programs cannot be relocated for it; scripts using only perf.on still run", level)
  end
  phases.mark("bpf: open")
  local o = api.bpf_open(bytes, #bytes, name)
  if o == nil then error("bpf: " .. ffi.string(api.bpf_error(nil)), level) end
  o = ffi.gc(o, api.bpf_free)
  local obj = setmetatable({ o = o, name = name, progs = {}, maps = {}, ns = btf.namespace(o) }, Obj)
  obj.rodata = section_proxy(obj, ".rodata")
  obj.data = section_proxy(obj, ".data")
  obj.bss = section_proxy(obj, ".bss")
  configure(obj, opts, level + 1)
  phases.mark("bpf: opened, configured")
  local rc = api.bpf_load(o)
  phases.mark("bpf: bpf_object__load")
  if rc < 0 then error("bpf: " .. why(o, rc, "load"), level) end
  obj.loaded = true
  collect(obj, opts)
  source.current():add(obj)
  if opts.attach ~= false then auto_attach(obj, level + 1) end
  return obj
end

-- The original form: C source with SEC() programs and maps; loaded and
-- attached; its maps appear in bpf.var.
function M.cdef(src, opts)
  local obj = M.load(src, opts, 3) -- not a tail call: level 3 is the caller
  return obj
end

-- A prebuilt program embedded in shark (bpf/<name>.bpf.c): no compiler needed.
function M.load_prebuilt(name, opts, level)
  local bytes = embedded("bpf/" .. name .. ".bpf.o")
  if not bytes then error("bpf: no prebuilt program " .. name, (level or 2) + 1) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.object, o.name = bytes, name
  local obj = M.load(nil, o, (level or 2) + 1)
  return obj
end

-- Compiler-free aggregation (lua/bpf/template/).
function M.count(o)
  return require("bpf.template.count").count(o)
end

function M.stacks(o)
  return require("bpf.template.count").stacks(o)
end

function M.offcpu(o)
  return require("bpf.template.count").offcpu(o)
end

function M.latency(o)
  return require("bpf.template.latency").latency(o)
end

-- bpf.on_ring(map, [opts], fn): records of a ring buffer or perf event array.
function M.on_ring(...)
  return require("bpf.ring").on_ring(...)
end

-- ----------------------------------------------------------- histograms

-- Print a log2 histogram map (keys: slots from shark_log2_slot) the way
-- bpftrace does. opts.linear = { min, step } for linear bucket maps.
function M.print_hist_map(m, opts)
  if not Map.is_map(m) then error("bpf.print_hist_map(m): expected a bpf map, got " .. type(m), 2) end
  opts = opts or {}
  local counts = {}
  for k, v in pairs(m) do
    if type(v) == "table" then v = v:sum() end
    counts[k] = v
  end
  local hist = require "hist"
  if opts.linear then
    hist.print_linear(counts, opts.linear.min or opts.linear[1] or 0, opts.linear.step or opts.linear[2] or 1)
  else
    hist.print_log2(counts)
  end
end

-- ------------------------------------------------------------- lifecycle

local holder
-- Attached programs are something to wait for: the run goes on until an end
-- (Ctrl-C, -d, shark.exit), as the original's bpf scripts did.
-- Keep the loop running while programs are attached (they need no fd to
-- watch). Its ticks also remember the traced process's mappings, so user
-- stacks from BPF maps still get names after it exits (the perf module
-- learns them from its records; BPF programs send none).
function M.keep_alive()
  if holder then return end
  holder = uv.new_timer()
  local function note()
    local t = shark.target()
    if t and t.running and not t.held then api.sym_note_pid(t.pid) end
  end
  -- now (-p: its maps before it can exit), then at every tick
  note()
  holder:start(20, 1000, note)
end

table.insert(shark._end_hooks.after, function()
  if holder then
    holder:close()
    holder = nil
  end
end)

M.Map = Map
return M
