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

-- The cache: objects compiled as root are loaded into the kernel, so the
-- cache never sits where another user could plant or swap a file: no /tmp
-- fallback, and every directory is checked along its whole path (owned by
-- root or us, not writable by others, no symlink) by core's safe_dir.
local function cache_root()
  local dir = os.getenv("SHARK_CACHE")
  if dir and dir ~= "" then return dir end
  local pw = uv.os_get_passwd()
  if pw and pw.uid == 0 then return "/var/cache/shark" end
  local base = os.getenv("XDG_CACHE_HOME")
  if not base or base:sub(1, 1) ~= "/" then
    local home = os.getenv("HOME")
    if not home or home:sub(1, 1) ~= "/" then
      return nil, "no cache directory for compiled BPF C: set SHARK_CACHE, XDG_CACHE_HOME or HOME"
    end
    base = home .. "/.cache"
  end
  return base .. "/shark"
end

local function safe_error()
  return ffi.string(api.safe_error())
end

-- A verified directory, created 0700 where missing.
local function safe_dir(path)
  if api.safe_dir(path, 1) < 0 then return nil, "cache: " .. safe_error() end
  return path
end

local read_file = require("shark.fs").read_file

M.read_file = read_file

local lenp = ffi.new("uint64_t[1]")
-- dir/name when it is a regular file of ours, never through a symlink.
local function safe_read(dir, name)
  local p = api.safe_read(dir, name, lenp)
  if p == nil then return nil end
  local s = ffi.string(p, lenp[0])
  api.free_mem(p)
  return s
end

-- Write atomically (a new O_EXCL temporary file, then a rename): a
-- concurrent shark never sees half a file.
local function write_file(path, data)
  local dir, name = path:match("^(.*)/([^/]+)$")
  if api.safe_write(dir, name, data, #data) < 0 then return nil, "cache: " .. safe_error() end
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

-- The include directory: shark's embedded headers, written once per content
-- (shark.bpf.h last: its presence says the rest is there).
local include_dir
local function includes(root)
  if include_dir then return include_dir end
  local files = core.files()
  local names = {}
  for name in pairs(files) do
    if name:match("^include/") then names[#names + 1] = name end
  end
  table.sort(names, function(x, y)
    return (x == "include/shark.bpf.h" and 1 or 0) < (y == "include/shark.bpf.h" and 1 or 0) or
      ((x == "include/shark.bpf.h") == (y == "include/shark.bpf.h") and x < y)
  end)
  local all = {}
  for _, n in ipairs(names) do all[#all + 1] = n .. "\0" .. files[n] end
  local dir = ("%s/include-%s"):format(root, M.hash(table.concat(all, "\0")))
  local ok, err = safe_dir(dir)
  if not ok then return nil, err end
  if not safe_read(dir, "shark.bpf.h") then
    for _, n in ipairs(names) do
      ok, err = write_file(dir .. "/" .. n:sub(#"include/" + 1), files[n])
      if not ok then return nil, err end
    end
  end
  include_dir = dir
  return dir
end

local function tmp_name(path)
  return ("%s.%s.tmp"):format(path, M.hash(("%d %s %s"):format(uv.os_getpid(), uv.hrtime(), tostring({}))))
end

-- vmlinux.h of the running kernel, made from its BTF once per kernel.
local vmlinux_dir
local function vmlinux(root)
  if vmlinux_dir then return vmlinux_dir end
  local id = ffi.string(api.kernel_id())
  local dir = ("%s/vmlinux-%s"):format(root, M.hash(id))
  local ok, err = safe_dir(dir)
  if not ok then return nil, err end
  if not uv.fs_lstat(dir .. "/vmlinux.h") then
    -- the directory is ours along its whole path: a name in it is too
    local path = dir .. "/vmlinux.h"
    local tmp = tmp_name(path)
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

local CFLAGS = "-g -O2 -target bpf -mcpu=v3 -D__BPF_TRACING__ -Wall -Wno-unused-variable " ..
  "-Wno-unused-function -Wno-compare-distinct-pointer-types -Werror=implicit-function-declaration " ..
  "-Werror=incompatible-pointer-types -Werror=int-conversion"

-- CO-RE relocates kernel structs by name on the target's BTF, but cannot
-- invent a type the vmlinux.h lacks: BPF C for arm64 compiled against the
-- vmlinux.h of another architecture's kernel (shark bundle --arch arm64 on
-- x86, or the cross build's prebuild under qemu-user) takes arm64's uapi
-- struct user_pt_regs, which bpf_tracing.h reads, from shark_cross.bpf.h.
local foreign = {}
local function arch_flags(target, vdir)
  local flags = "-D__TARGET_ARCH_" .. target
  if target == "arm64" then
    if foreign[vdir] == nil then
      local f = io.open(vdir .. "/vmlinux.h", "rb")
      local text = f and f:read("*a") or ""
      if f then f:close() end
      foreign[vdir] = not text:find("\nstruct user_pt_regs {", 1, true)
    end
    if foreign[vdir] then flags = flags .. " -DSHARK_FOREIGN_BTF -include shark_cross.bpf.h" end
  end
  return flags
end

-- Compile BPF C source text. `name` is how errors name the source (the
-- user's file), `line` the line of that file where the text starts.
-- Returns the object's bytes, and whether it came from the cache.
-- A cached object carries its key and a digest of key and bytes at its end
-- (ELF readers ignore bytes after the sections): a file that is not what
-- this key compiled to is never loaded.
local function seal(key, obj)
  return obj .. ("\0shark-obj %s %s\n"):format(key, M.hash(key .. obj))
end

local function unseal(key, data)
  local n = #key + 16 + 13
  if not data or #data <= n then return nil end
  local obj, k, sum = data:sub(1, -n - 1), data:sub(-n):match("^%z?shark%-obj (%x+) (%x+)\n$")
  if k ~= key or sum ~= M.hash(key .. obj) then return nil end
  return obj
end

-- `arch`: the kernel's name of the architecture the object is for (x86,
-- arm64: __TARGET_ARCH_), by default this shark's.
function M.compile(src, name, line, arch)
  arch = arch or require("shark.arch").bpf_target or "unknown"
  local root, err = cache_root()
  if not root then return nil, err end
  local objdir = root .. "/obj"
  local ok
  ok, err = safe_dir(objdir)
  if not ok then return nil, err end
  local inc
  inc, err = includes(root)
  if not inc then return nil, err end
  local vdir
  vdir, err = vmlinux(root)
  if not vdir then return nil, err end
  -- the key: the source, where it came from (for error lines), the kernel and shark
  local text = ('#line %d "%s"\n%s'):format(line or 1, name or "bpf.c", src)
  local cflags = CFLAGS .. " " .. arch_flags(arch, vdir)
  local key = M.hash(table.concat({ text, ffi.string(api.kernel_id()), inc, cflags, core.versions().shark, "strip -g" },
    "\0"))
  local obj_path = ("%s/%s.bpf.o"):format(objdir, key)
  local cached = unseal(key, safe_read(objdir, key .. ".bpf.o"))
  if cached then return cached, true end

  local cc, cerr = clang()
  if not cc then return nil, cerr end
  local src_path = ("%s/%s.bpf.c"):format(objdir, key)
  ok, err = write_file(src_path, text)
  if not ok then return nil, err end
  local tmp = tmp_name(obj_path)
  local cmd = ("%s %s -I%s -I%s -c %s -o %s 2>&1"):format(shell_quote(cc), cflags, shell_quote(inc),
    shell_quote(vdir), shell_quote(src_path), shell_quote(tmp))
  local p = io.popen(cmd)
  local out = p:read("*a")
  local okc = p:close()
  if okc then
    -- DWARF is 90% of the object and nothing reads it (.BTF and .BTF.ext stay):
    -- bundles and shark's own prebuilt objects carry 20x less
    local strip = os.getenv("SHARK_LLVM_STRIP") or "llvm-strip"
    os.execute(("%s -g %s 2>/dev/null"):format(shell_quote(strip), shell_quote(tmp)))
  end
  local obj = okc and read_file(tmp)
  os.remove(tmp)
  if not obj then
    out = out:gsub("%d+ warnings? generated%.\n?", "")
    -- a clang crash: its message, not its backtrace
    out = out:gsub("\nPLEASE submit a bug report.*$", ""):gsub("\n+$", "")
    return nil, "the BPF C does not compile:\n" .. out
  end
  ok, err = write_file(obj_path, seal(key, obj))
  if not ok then return nil, err end
  return obj, false
end

M.cache_root = cache_root
return M
