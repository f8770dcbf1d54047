-- SPDX-License-Identifier: GPL-2.0
-- shark bundle script.lua [-o tool] [--arch arm64]: one executable holding the
-- shark runtime, the script, the modules it requires from its folder and its
-- BPF objects compiled now, so the target needs neither clang nor shark.
local ffi = require "ffi"
local cjson = require "cjson"
local api = require "shark.api"
local core = require "shark.core"
local bundle = require "shark.bundle"
local shark = require "shark"

local M = {}

local function position(body, text)
  local at = body:find(text, 1, true)
  if not at then return 1 end
  local _, nl = body:sub(1, at):gsub("\n", "")
  return nl + 1
end

local function kb(n) return ("%.1f KB"):format(n / 1024) end

function M.main(args)
  local o = shark.getopt({
    name = "shark bundle",
    usage = "script.lua [-o TOOL] [--name NAME] [--arch ARCH [--runtime SHARK]]",
    about = "Write one executable that runs script.lua on a machine without shark, clang, LuaJIT or libbpf:\n" ..
      "the runtime, the script, the modules it requires from its folder, and its BPF C compiled now\n" ..
      "(CO-RE objects that relocate on the target's kernel). The tool takes the script's arguments;\n" ..
      "--shark-version says what it was made from, --shark-verbose shows shark's and libbpf's messages.",
    args = { "script.lua" }, min_args = 1,
    { "o", "output", "TOOL", "the executable to write (default: the script's name without .lua)" },
    { nil, "name", "NAME", "the tool's name in its messages (default: TOOL's file name)" },
    { nil, "arch", "ARCH", "the machine the tool runs on: " .. bundle.ARCHES .. " (default: this shark's, " ..
      bundle.host_arch() .. "); another one takes that architecture's shark as runtime (make ARCH=arm64)" },
    { nil, "runtime", "SHARK", "the shark of --arch to build on (default: $SHARK_RUNTIME_<ARCH>, then " ..
      "arm64/shark beside this shark, where make ARCH=arm64 puts it)" },
    examples = { "shark bundle samples/execsnoop.lua -o execsnoop && scp execsnoop host: && ssh host ./execsnoop",
      "shark bundle --arch arm64 samples/execsnoop.lua -o execsnoop && scp execsnoop arm64-host:" },
  }, args)
  local path = o.args[1]
  local arch, runtime, rerr = bundle.target(o.arch, o.runtime)
  if not arch then
    io.stderr:write("shark bundle: ", rerr, "\n")
    return shark.exit(rerr:find(": not one of", 1, true) and 2 or 1)
  end
  local src = bundle.read_file(path)
  if not src then
    io.stderr:write(("shark bundle: cannot read %s\n"):format(path))
    return shark.exit(1)
  end
  local need, err = bundle.collect(path, src)
  if not need then
    io.stderr:write(err, "\n")
    return shark.exit(1)
  end
  local script = path:match("([^/]+)$")
  local out = o.output or script:gsub("%.lua$", "")
  if out == path then out = out .. ".bin" end

  local bpf = require "bpf"
  local entries, objects, obj_bytes = { { "script", src } }, {}, 0
  for name, m in pairs(need.modules) do entries[#entries + 1] = { "module/" .. name, m.src } end
  local function add(key, bytes, what)
    entries[#entries + 1] = { key, bytes }
    objects[#objects + 1] = what
    obj_bytes = obj_bytes + #bytes
  end
  for _, s in ipairs(need.sources) do
    local line = position(s.body, s.text)
    local bytes, cerr = bpf.compile(s.text, s.file, line, arch)
    if not bytes then
      io.stderr:write(("shark bundle: %s:%d: %s\n"):format(s.file, line, cerr))
      return shark.exit(1)
    end
    add(bundle.source_key(s.text), bytes, ("%s:%d"):format(s.file, line))
  end
  for _, f in ipairs(need.files) do
    local bytes = bundle.read_file(f)
    if f:match("%.c$") then
      local cerr
      bytes, cerr = bpf.compile(bytes, f, 1, arch)
      if not bytes then
        io.stderr:write(("shark bundle: %s\n"):format(cerr))
        return shark.exit(1)
      end
    end
    add(bundle.file_key(f), bytes, f)
  end
  local v = core.versions()
  entries[#entries + 1] = { "meta", cjson.encode({
    script = script, name = o.name, arch = arch, shark = v.shark, luajit = v.luajit,
    libbpf = v.libbpf, kernel = v.kernel, made = os.date("!%Y-%m-%dT%H:%M:%SZ"), objects = objects,
  }) }
  table.sort(entries, function(a, b) return a[1] < b[1] end)
  local payload = bundle.encode(entries)
  local rc = api.bundle_write(runtime, out, payload, #payload)
  if rc < 0 then
    local why = ffi.string(api.strerror(-rc))
    -- EINVAL, ENOEXEC (the same numbers on every Linux architecture)
    if runtime and rc == -22 then why = runtime .. " is a bundle, not a plain shark" end
    if runtime and rc == -8 then why = runtime .. " is not a shark executable" end
    io.stderr:write(("shark bundle: cannot write %s: %s\n"):format(out, why))
    return shark.exit(1)
  end
  local f = io.open(out, "rb")
  local size = f:seek("end")
  f:close()
  local nmod = 0
  for _ in pairs(need.modules) do nmod = nmod + 1 end
  shark.info(("shark bundle: wrote %s, %.2f MB: runtime %s%s, script %s, %d module%s, %d BPF object%s %s"):format(
    out, size / 2 ^ 20, kb(size - #payload), runtime and (" (" .. arch .. ")") or "", kb(#src),
    nmod, nmod == 1 and "" or "s", #objects, #objects == 1 and "" or "s", kb(obj_bytes)))
end

return M
