-- SPDX-License-Identifier: GPL-2.0
-- shark/bundle.lua - what goes into a bundle and how it comes out: the
-- script, the modules it requires from its folder and its BPF objects,
-- compiled ahead of time (CO-RE: they relocate on the target's kernel).
local ju = require "jit.util"
local uv = require "uv"
local core = require "shark.core"

local M = {}

local MAGIC = "shark-payload-1\n"

-- ------------------------------------------------------------- the archive

-- entries: { {name, data}, ... } -> one string: "name\0<len>\n<data>" each.
function M.encode(entries)
  local out = { MAGIC }
  for _, e in ipairs(entries) do
    out[#out + 1] = ("%s\0%d\n"):format(e[1], #e[2])
    out[#out + 1] = e[2]
  end
  return table.concat(out)
end

function M.decode(s)
  if s:sub(1, #MAGIC) ~= MAGIC then return nil, "not a shark payload" end
  local files, pos = {}, #MAGIC + 1
  while pos <= #s do
    local name, len, body = s:match("^([^%z]+)%z(%d+)\n()", pos)
    if not name then return nil, "damaged entry at byte " .. pos end
    len = tonumber(len)
    if body + len - 1 > #s then return nil, "entry " .. name .. " runs past the end" end
    files[name] = s:sub(body, body + len - 1)
    pos = body + len
  end
  return files
end

-- The payload of this executable, decoded once (nil when it is plain shark).
local loaded
function M.current()
  if loaded == nil then
    local raw = core.bundle()
    loaded = false
    if raw then loaded = assert(M.decode(raw)) end
  end
  return loaded or nil
end

-- Keys of the compiled objects: BPF C given as text is found by its
-- content, a .bpf.c or .bpf.o file by its name.
function M.source_key(src) return "bpf/src/" .. require("bpf.compile").hash(src) end
function M.file_key(path) return "bpf/file/" .. (path:match("([^/]+)$") or path) end

-- ------------------------------------------- the runtime (shark bundle --arch)

-- The machines a bundle can be made for, by the kernel's names (__TARGET_ARCH_):
-- this shark's, and arm64 from x86 with the cross-built runtime (make ARCH=arm64).
local ELF_MACHINE = { x86 = 62, arm64 = 183 }
M.ARCHES = "x86, arm64"

function M.host_arch() return require("shark.arch").bpf_target end

-- The e_machine of an ELF file (nil: not a 64-bit little-endian ELF file).
local function elf_machine(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local h = f:read(20)
  f:close()
  if not h or #h < 20 or h:sub(1, 4) ~= "\127ELF" or h:byte(5) ~= 2 or h:byte(6) ~= 1 then return nil end
  return h:byte(19) + 256 * h:byte(20)
end

-- --arch and --runtime -> the architecture, the runtime's path (nil: this
-- executable), or nil and what is wrong.
function M.target(arch, runtime)
  local host = M.host_arch()
  arch = arch or host
  if not ELF_MACHINE[arch] then
    return nil, nil, ("--arch %s: not one of %s"):format(arch, M.ARCHES)
  end
  if arch == host and not runtime then return arch, nil end
  local how = "build it with 'make ARCH=" .. arch .. "' in shark's tree, or give --runtime SHARK"
  if not runtime then
    local env = "SHARK_RUNTIME_" .. arch:upper()
    runtime = os.getenv(env)
    if runtime == "" then runtime = nil end
    if not runtime then
      runtime = (uv.exepath():match("^(.*)/[^/]*$") or ".") .. "/" .. arch .. "/shark"
      how = ("build it with 'make ARCH=%s' in shark's tree (it writes .output/%s/shark beside .output/shark), " ..
        "or give --runtime SHARK or %s"):format(arch, arch, env)
    end
  end
  if not uv.fs_stat(runtime) then
    return nil, nil, ("--arch %s needs shark's %s runtime, and %s does not exist: %s"):format(arch, arch, runtime, how)
  end
  local m = elf_machine(runtime)
  if m ~= ELF_MACHINE[arch] then
    return nil, nil, ("--arch %s: %s is not a shark for %s (%s)"):format(arch, runtime, arch,
      m and ("ELF machine " .. m) or "not an ELF executable")
  end
  return arch, runtime
end

-- --------------------------------------------- a bundle's command line

-- Does the chunk read its arguments (getopt, shark.args, arg, or `...` in
-- its main chunk)? A script that does not gets shark's own options.
function M.reads_args(chunk)
  for _, s in ipairs(M.strings(chunk)) do
    if s == "getopt" or s == "args" or s == "arg" then return true end
  end
  -- VARG's opcode, from the second instruction of `return ...` (the first is
  -- the function header): jit.vmdef, which names them, is not inside shark
  local varg = bit.band(ju.funcbc(loadstring("return ..."), 1), 0xff)
  local i = 0
  while true do
    local ins = ju.funcbc(chunk, i)
    if not ins then return false end
    if bit.band(ins, 0xff) == varg then return true end
    i = i + 1
  end
end

local SHARK_OPTS = "-d SECONDS, -p PID, -c 'CMD', -o FILE, -v, -q"

-- The options of shark a bundle takes when its script reads no arguments:
-- -d, -p, -c, -o, -v, -q, as shark's (-d from when the script is ready, -p
-- and -c end the run when the process exits). Anything else is a usage
-- error (exit 2): an argument nobody reads would be ignored silently.
function M.shark_options(args, name)
  local shark = require "shark"
  local core_ = require "shark.core"
  local function fail(msg, code)
    io.stderr:write(("%s: %s\n"):format(name, msg))
    if code ~= 1 then io.stderr:write(("usage: %s [%s]\n"):format(name, SHARK_OPTS)) end
    shark.exit(code or 2)
  end
  local i = 1
  while i <= #args do
    local a = args[i]
    local flag, inline = a:match("^(%-[dpco])(.+)$")
    flag = flag or a
    local needs = ({ ["-d"] = "SECONDS", ["-p"] = "PID", ["-c"] = "CMD", ["-o"] = "FILE" })[flag]
    local v = inline
    if needs and not v then
      i = i + 1
      v = args[i]
      if not v then return fail(flag .. " needs " .. needs) end
    end
    if flag == "-d" then
      local sec = tonumber(v)
      if not sec or sec <= 0 then return fail("-d wants a positive number of seconds, not '" .. v .. "'") end
      shark.on_ready(function() require("timer").set_timeout(sec * 1000, function() shark.exit(0) end) end)
    elseif flag == "-p" then
      local pid = tonumber(v)
      if not pid or pid ~= math.floor(pid) then return fail("-p wants a process id, not '" .. v .. "'") end
      local ok, err = core_.watch(pid, true)
      if not ok then return fail(err, 1) end
    elseif flag == "-c" then
      local ok, err = core_.spawn(v)
      if not ok then return fail(err, 1) end
      shark._command = v
    elseif flag == "-o" then
      local ok, err = core_.output(v)
      if not ok then return fail(err, 1) end
    elseif a == "-v" then
      shark.verbose = shark.verbose + 1
    elseif a == "-q" then
      shark.quiet = true
    else
      return fail(("unexpected argument '%s': this tool takes shark's options only (%s)"):format(a, SHARK_OPTS))
    end
    i = i + 1
  end
end

-- ------------------------------------------------------ what a script needs

-- Every string constant of a chunk and the functions inside it.
local function strings(fn, out)
  out = out or {}
  local i = -1
  while true do
    local k = ju.funck(fn, i)
    if k == nil then break end
    if type(k) == "string" then
      out[#out + 1] = k
    elseif type(k) == "proto" then
      strings(k, out)
    end
    i = i - 1
  end
  return out
end

M.strings = strings

local read_file = require("bpf.compile").read_file
M.read_file = read_file

-- The chunk of a library module embedded in shark (lua/hist.lua, lua/ucalls.lua: not the runtime's own
-- shark.*, bpf.*, perf.*, whose programs are prebuilt), whose BPF C literals a bundle takes along too.
local function library(name)
  local top = name:match("^[^.]+")
  if top == "shark" or top == "bpf" or top == "perf" then return nil end
  local embedded = false
  for _, m in ipairs(core.modules()) do embedded = embedded or m == name end
  if not embedded then return nil end
  for _, loader in ipairs(package.loaders) do
    local f = loader(name)
    if type(f) == "function" then return debug.getinfo(f, "S").what ~= "C" and f or nil end
  end
end

-- The line of `text` where `s` first appears (1 when it does not, literally).
local function line_of(text, s)
  local at = text:find(s, 1, true)
  if not at then return 1 end
  local _, nl = text:sub(1, at):gsub("\n", "")
  return nl + 1
end

-- Is module `name` inside the shark runtime (embedded Lua, built-in C)?
local function in_runtime(name)
  if package.loaded[name] or package.preload[name] then return true end
  for _, m in ipairs(core.modules()) do
    if m == name then return true end
  end
  return name:match("^jit%.") ~= nil
end

-- BPF C: SEC("...") and C's braces or semicolons (one line or many, from a
-- [[long string]] or a quoted one)
local function is_bpf_c(s)
  return s:find('SEC%("[^"\n]*"%)') ~= nil and s:find("[{;]") ~= nil
end

-- What the script at `path` takes along: { modules = {name = {path, src}},
-- sources = { {text, file}... }, files = { path... } }. Found from the string
-- constants of the script and its modules (BPF C is text with SEC("…"),
-- files end in .bpf.c/.bpf.o), its require "x" of an x.lua in its folder and
-- the BPF C of the library modules it requires from shark.
function M.collect(path, src)
  local dir = path:match("^(.*)/[^/]*$") or "."
  local need = { modules = {}, sources = {}, files = {} }
  local seen_src, seen_file, seen_lib = {}, {}, {}
  local function sources(chunk, file, text)
    for _, s in ipairs(strings(chunk)) do
      if is_bpf_c(s) then
        if not seen_src[s] then
          seen_src[s] = true
          need.sources[#need.sources + 1] = { text = s, file = file, body = text }
        end
      elseif s:match("%.bpf%.[co]$") and not s:find("\n", 1, true) then
        -- next to the script, else as given (relative to where shark bundle runs)
        local p = s:sub(1, 1) == "/" and s or (dir .. "/" .. s)
        if not uv.fs_stat(p) then p = s end
        if not uv.fs_stat(p) then
          -- the target would fail on it: fail now
          need.missing = need.missing or ("shark bundle: %s:%d: the BPF file '%s' does not exist (looked in %s and .)")
            :format(file, line_of(text, s), s, dir)
        elseif not seen_file[p] then
          seen_file[p] = true
          need.files[#need.files + 1] = p
        end
      end
    end
  end
  local function scan(text, file)
    local chunk, err = loadstring(text:sub(1, 1) == "#" and "--" .. text or text, "@" .. file)
    if not chunk then return nil, err end
    sources(chunk, file, text)
    for _, q in ipairs({ '"', "'" }) do
      for name in text:gmatch("require%s*%(?%s*" .. q .. "([%w_%.]+)" .. q) do
        local mpath = dir .. "/" .. name:gsub("%.", "/") .. ".lua"
        local msrc = not need.modules[name] and read_file(mpath)
        if msrc then
          need.modules[name] = { path = mpath, src = msrc }
          local ok, merr = scan(msrc, mpath)
          if not ok then return nil, merr end
        elseif not need.modules[name] and not seen_lib[name] then
          seen_lib[name] = true
          if not in_runtime(name) then
            return nil, ("shark bundle: %s:%d: require '%s': no %s next to the script and no such module in shark")
              :format(file, line_of(text, name), name, mpath)
          end
          local lib = library(name)
          if lib then sources(lib, "lua/" .. name:gsub("%.", "/") .. ".lua", "") end
        end
      end
    end
    return true
  end
  local ok, err = scan(src, path)
  if not ok then return nil, err end
  if need.missing then return nil, need.missing end
  return need
end

return M
