-- SPDX-License-Identifier: GPL-2.0
-- tap.lua - a tiny TAP producer for Lua tests that run inside ./shark.
-- Checks print "ok N - name" at once; done() prints the plan and sets the exit
-- code. Call done from shark.on_end when the test uses timers.
local M = {}
local n, failed = 0, 0

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

local function check(level, cond, name, ...)
  n = n + 1
  print(("%s %d - %s"):format(cond and "ok" or "not ok", n, name))
  if not cond then
    failed = failed + 1
    local info = debug.getinfo(level, "Sl")
    if info then print(("#   at %s:%d"):format(info.short_src, info.currentline)) end
    for i = 1, select("#", ...) do print("#   " .. tostring((select(i, ...)))) end
  end
  return cond
end

-- (not tail calls: check() looks two frames up for the caller's line)
function M.ok(cond, name, ...)
  local r = check(3, cond, name, ...)
  return r
end

function M.is(got, want, name)
  local r = check(3, got == want, name, "got  " .. show(got), "want " .. show(want))
  return r
end

-- fn must raise an error whose message contains `pattern` (plain text).
function M.raises(fn, pattern, name)
  local ok, err = pcall(fn)
  local r = check(3, not ok and tostring(err):find(pattern, 1, true) ~= nil, name,
    "error: " .. tostring(err), "want it to contain " .. show(pattern))
  return r
end

function M.skip(name, why)
  n = n + 1
  print(("ok %d - %s # SKIP %s"):format(n, name, why))
end

-- Under qemu-user (tests/run's arm64 suite sets SHARK_QEMU_USER to the
-- emulator), which emulates neither perf_event_open nor bpf (ENOSYS): why a
-- check of the live kernel that failed with `err` cannot run here, or nil
-- (on a real kernel, where such a failure fails the test).
function M.no_kernel(err)
  local qemu = os.getenv("SHARK_QEMU_USER")
  if qemu and qemu ~= "" and tostring(err):find("Function not implemented", 1, true) then
    return qemu .. " emulates no perf_event_open or bpf: it needs an arm64 kernel"
  end
end

function M.done()
  print("1.." .. n)
  if failed > 0 then shark.exit(1) end
end

return M
