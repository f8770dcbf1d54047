-- SPDX-License-Identifier: GPL-2.0
-- prebuild.lua - compile the BPF C of the shipped samples (and of the library
-- modules they require) at build time, so shark runs them with no compiler:
-- every string literal shark bundle would take along, compiled as bpf.load
-- compiles it, written as OUTDIR/<content hash>.bpf.o (embedded as
-- bpf/src/<hash>, where bpf.load looks before it runs clang).
-- Run by the shark being built: shark tools/prebuild.lua OUTDIR SCRIPT...
local bundle = require "shark.bundle"
local compile = require "bpf.compile"
local bpf = require "bpf"

local outdir = assert(shark.args[1], "usage: shark tools/prebuild.lua OUTDIR SCRIPT...")
local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == 0 or ok == true
end
assert(sh(("mkdir -p '%s'"):format(outdir)))

local function line_of(body, text)
  local at = body:find(text, 1, true)
  if not at then return 1 end
  local _, nl = body:sub(1, at):gsub("\n", "")
  return nl + 1
end

local want, n, failed = {}, 0, 0
for i = 2, #shark.args do
  local path = shark.args[i]
  local src = assert(bundle.read_file(path))
  local need = assert(bundle.collect(path, src))
  for _, s in ipairs(need.sources) do
    local key = compile.hash(s.text)
    if not want[key] then
      want[key] = true
      local bytes, err = bpf.compile(s.text, s.file, line_of(s.body, s.text))
      if not bytes then
        io.stderr:write(("prebuild: %s: %s\n"):format(s.file, err))
        failed = failed + 1
      else
        local f = assert(io.open(("%s/%s.bpf.o"):format(outdir, key), "wb"))
        f:write(bytes)
        f:close()
        n = n + 1
      end
    end
  end
end
-- objects of sources that changed or went away are not embedded
local p = io.popen(("ls '%s'"):format(outdir))
for name in p:lines() do
  local key = name:match("^(%x+)%.bpf%.o$")
  if key and not want[key] then os.remove(outdir .. "/" .. name) end
end
p:close()
if failed > 0 then shark.exit(1) end
shark.info(("prebuild: %d BPF objects in %s"):format(n, outdir))
