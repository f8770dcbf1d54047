-- SPDX-License-Identifier: GPL-2.0
-- bpf/compile.lua - BPF C to a CO-RE object with clang, cached by content.
-- Needs no kernel headers: vmlinux.h comes from the running kernel's BTF and
-- libbpf's BPF headers are inside shark. A cached object is used without
-- clang, so a second run works where clang is missing.
local ffi = require "ffi"
local uv = require "uv"
local api = require "shark.api"
local core = require "shark.core"

local M = {}

local function cache_root()
  local dir = os.getenv("SHARK_CACHE")
  if dir and dir ~= "" then return dir end
  local base = os.getenv("XDG_CACHE_HOME")
  if not base or base == "" then base = (os.getenv("HOME") or "/tmp") .. "/.cache" end
  return base .. "/shark"
end

local function mkdir_p(path)
  local cur = path:sub(1, 1) == "/" and "" or "."
  for part in path:gmatch("[^/]+") do
    cur = cur .. "/" .. part
    uv.fs_mkdir(cur, 493) -- 0755; EEXIST is fine
  end
  local st = uv.fs_stat(path)
  if not st or st.type ~= "directory" then return nil, "cannot create " .. path end
  return path
end

local read_file = require("shark.fs").read_file

M.read_file = read_file

-- Write atomically: a concurrent shark never sees half a file.
local function write_file(path, data)
  local tmp = ("%s.%d.tmp"):format(path, uv.os_getpid())
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(data)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then return nil, rerr end
  return true
end

-- A short hex digest for file names.
function M.hash(s)
  local h = api.hash64(s, #s)
  return ("%08x%08x"):format(tonumber(h / 2 ^ 32), tonumber(h % 2 ^ 32))
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The include directory: shark's embedded headers, written once per content.
local include_dir
local function includes(root)
  if include_dir then return include_dir end
  local files = core.files()
  local names = {}
  for name in pairs(files) do
    if name:match("^include/") then names[#names + 1] = name end
  end
  table.sort(names)
  local all = {}
  for _, n in ipairs(names) do all[#all + 1] = n .. "\0" .. files[n] end
  local dir = ("%s/include-%s"):format(root, M.hash(table.concat(all, "\0")))
  if not uv.fs_stat(dir .. "/shark.bpf.h") then
    for _, n in ipairs(names) do
      local path = dir .. "/" .. n:sub(#"include/" + 1)
      assert(mkdir_p(path:match("^(.*)/[^/]+$")))
      assert(write_file(path, files[n]))
    end
  end
  include_dir = dir
  return dir
end

-- vmlinux.h of the running kernel, made from its BTF once per kernel.
local vmlinux_dir
local function vmlinux(root)
  if vmlinux_dir then return vmlinux_dir end
  local id = ffi.string(api.kernel_id())
  local dir = ("%s/vmlinux-%s"):format(root, M.hash(id))
  local path = dir .. "/vmlinux.h"
  if not uv.fs_stat(path) then
    assert(mkdir_p(dir))
    local tmp = ("%s.%d.tmp"):format(path, uv.os_getpid())
    local rc = api.bpf_write_vmlinux_h(tmp)
    if rc < 0 then
      os.remove(tmp)
      return nil, ("cannot write vmlinux.h from the kernel's BTF (/sys/kernel/btf/vmlinux): %s")
        :format(ffi.string(api.strerror(-rc)))
    end
    os.rename(tmp, path)
  end
  vmlinux_dir = dir
  return dir
end

local clang_version
local function clang()
  local cc = os.getenv("SHARK_CLANG") or "clang"
  if clang_version == nil then
    local p = io.popen(shell_quote(cc) .. " --version 2>/dev/null")
    local out = p and p:read("*a") or ""
    if p then p:close() end
    clang_version = out:match("version ([%d%.]+)") or false
  end
  if not clang_version then
    return nil, ("compiling BPF C needs clang, and '%s' was not found: apt-get install clang, " ..
      "or use a compiler-free template (bpf.count, bpf.hist, ...), or build a bundle elsewhere " ..
      "(shark bundle)"):format(cc)
  end
  return cc, clang_version
end

local CFLAGS = "-g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_" .. (require("shark.arch").bpf_target or "unknown") ..
  " -D__BPF_TRACING__ -Wall -Wno-unused-variable " ..
  "-Wno-unused-function -Wno-compare-distinct-pointer-types -Werror=implicit-function-declaration " ..
  "-Werror=incompatible-pointer-types -Werror=int-conversion"

-- Compile BPF C source text. `name` is how errors name the source (the
-- user's file), `line` the line of that file where the text starts.
-- Returns the object's bytes, and whether it came from the cache.
function M.compile(src, name, line)
  local root = cache_root()
  local ok, err = mkdir_p(root .. "/obj")
  if not ok then return nil, err end
  local inc = includes(root)
  local vdir
  vdir, err = vmlinux(root)
  if not vdir then return nil, err end
  -- the key: the source, where it came from (for error lines), the kernel and shark
  local text = ('#line %d "%s"\n%s'):format(line or 1, name or "bpf.c", src)
  local key = M.hash(table.concat({ text, ffi.string(api.kernel_id()), inc, CFLAGS, core.versions().shark }, "\0"))
  local obj_path = ("%s/obj/%s.bpf.o"):format(root, key)
  local cached = read_file(obj_path)
  if cached then return cached, true end

  local cc, cerr = clang()
  if not cc then return nil, cerr end
  local src_path = ("%s/obj/%s.bpf.c"):format(root, key)
  assert(write_file(src_path, text))
  local tmp = ("%s.%d.tmp"):format(obj_path, uv.os_getpid())
  local cmd = ("%s %s -I%s -I%s -c %s -o %s 2>&1"):format(shell_quote(cc), CFLAGS, shell_quote(inc),
    shell_quote(vdir), shell_quote(src_path), shell_quote(tmp))
  local p = io.popen(cmd)
  local out = p:read("*a")
  local okc = p:close()
  if not okc or not uv.fs_stat(tmp) then
    os.remove(tmp)
    out = out:gsub("%d+ warnings? generated%.\n?", "")
    -- a clang crash: its message, not its backtrace
    out = out:gsub("\nPLEASE submit a bug report.*$", ""):gsub("\n+$", "")
    return nil, "the BPF C does not compile:\n" .. out
  end
  os.rename(tmp, obj_path)
  return read_file(obj_path), false
end

M.cache_root = cache_root
return M
