-- symcache.lua N PROG: the symbol caches of a long-running profiler stay
-- bounded. N short-lived processes, each running its own copy of PROG (its
-- own file), are symbolized while they run; after they exit, sweeps drop
-- them, their files and tables, while a process still in use is kept. One
-- "name value" line per check, for tests/e2e/agent_symbols.sh.
local ffi = require "ffi"
local uv = require "uv"
local api = require "shark.api"
local frames = require "shark.frames"

local n, prog = tonumber(arg[1]), arg[2]
local dir = assert(uv.fs_mkdtemp("/tmp/shark-symcache.XXXXXX"))
local buf = ffi.new("char[512]")

local function copy(i)
  local path = ("%s/prog%d"):format(dir, i)
  assert(uv.fs_copyfile(prog, path))
  assert(uv.fs_chmod(path, tonumber("755", 8)))
  return path
end

-- the address of function fn of file path in process pid, from its maps
local function address(pid, path, fn)
  local need = api.sym_functions(path, fn, buf, 512)
  local off = need > 0 and tonumber(ffi.string(buf, need):match("^(%x+) " .. fn .. "\n"), 16)
  if not off then return nil end
  for line in io.lines(("/proc/%d/maps"):format(pid)) do
    local s, e, perm, pgoff, file = line:match("^(%x+)-(%x+) (%S+) (%x+) %S+ %S+%s+(.*)$")
    s, e, pgoff = tonumber(s, 16), tonumber(e, 16), tonumber(pgoff, 16)
    if file == path and perm:find("x") and off >= pgoff and off < pgoff + (e - s) then
      return ffi.cast("uint64_t", s + off - pgoff)
    end
  end
end

local function name_of(pid, ip)
  local len = api.symbolize(pid, ip, buf, 512)
  return len > 0 and ffi.string(buf, len) or "[unknown]"
end

local function out(k, v) print(k, v) end

-- the processes: each runs a while (sleeper COMM 300: 300 x 1 ms), named from its own file
local pids, named, left = {}, 0, n
local long = uv.spawn(copy(0), { args = { "symlong", "100000" } }, function() end)
local long_pid = long:get_pid()
local long_ip
for i = 1, n do
  local path = copy(i)
  local h, pid
  h, pid = uv.spawn(path, { args = { "symshort", "300" } }, function()
    h:close()
    left = left - 1
  end)
  pids[i] = pid
  local ip
  for _ = 1, 200 do   -- its maps show the file once it has exec'd
    ip = address(pid, path, "main")
    if ip then break end
    uv.sleep(5)
  end
  if ip and name_of(pid, ip) == "main" then named = named + 1 end
end
while left > 0 do uv.run("once") end
long_ip = address(long_pid, dir .. "/prog0", "main")
out("named", named)
out("long_named", long_ip and name_of(long_pid, long_ip) or "none")

-- a kernel address named in one pass over kallsyms, without the whole table
local kaddr
for line in io.lines("/proc/kallsyms") do
  local a, name = line:match("^(%x+) [Tt] (%S+)$")
  if name == "schedule" then kaddr = a break end
end
local kip = ffi.new("uint64_t[1]", ffi.cast("uint64_t", tonumber(kaddr:sub(1, 8), 16)) * 2 ^ 32
  + tonumber(kaddr:sub(9), 16) + 1)
out("kernel_batch", api.sym_kernel_names(kip, 1))
out("kernel_name", name_of(-1, kip[0]))

local function known()
  local k = 0
  for _, pid in ipairs(pids) do if api.sym_maps(pid, nil, 0) > 0 then k = k + 1 end end
  return k
end
local st = frames.stats()
out("before_procs", st.procs)
out("before_known", known())
out("before_tables", st.tables)
for i = 1, 3 do
  frames.sweep(2)
  -- the long-lived process is in use: symbolized in every window
  if long_ip then name_of(long_pid, long_ip) end
  st = frames.stats()
  out("sweep" .. i .. "_known", known())
  out("sweep" .. i .. "_procs", st.procs)
end
out("after_dsos", st.dsos)
out("after_tables", st.tables)
out("evicted_procs", st.evicted_procs)
out("evicted_dsos", st.evicted_dsos)
out("long_kept", api.sym_maps(long_pid, nil, 0) > 0 and "yes" or "no")
out("long_named_after", long_ip and name_of(long_pid, long_ip) or "none")
long:kill("sigkill")
long:close()
for i = 0, n do os.remove(("%s/prog%d"):format(dir, i)) end
uv.fs_rmdir(dir)
