-- SPDX-License-Identifier: GPL-2.0
-- perf/stack.lua - callchains: symbolized once per distinct stack, interned
-- as Lua strings so they can key a table (profile[e.callchain] += 1).
local ffi = require "ffi"
local api = require "shark.api"

local M = {}

-- PERF_CONTEXT_* markers in a callchain
local CONTEXT_KERNEL = 0xffffffffffffff80ULL
local CONTEXT_USER = 0xfffffffffffffe00ULL
local CONTEXT_MAX = 0xfffffffffffff001ULL

local cache = {}      -- stack_key -> string
local NAMEBUF = 512
local namebuf = ffi.new("char[?]", NAMEBUF)

local function sym(ip, pid, kernel)
  local n = api.symbolize(kernel and -1 or pid, ip, namebuf, NAMEBUF)
  if n > 0 then return ffi.string(namebuf, n) end
  return "[unknown]"
end

-- Frames leaf first: { {ip = uint64 cdata, sym = "name", kernel = bool}, ... }
function M.frames(e)
  local out, kernel = {}, true
  local ips, pid = e.ips, e.pid
  for i = 0, e.nr_ips - 1 do
    local ip = ips[i]
    if ip >= CONTEXT_MAX then
      if ip == CONTEXT_KERNEL then kernel = true elseif ip == CONTEXT_USER then kernel = false end
    else
      out[#out + 1] = { ip = ip, sym = sym(ip, pid, kernel), kernel = kernel }
    end
  end
  return out
end

-- Unwind a copied user stack again (a recorded sample: e.user_regs,
-- e.user_stack, e.user_stack_size of a callchain_u = "dwarf" event, or the
-- same from a journal): the return addresses leaf first (uint64_t[?]) and
-- their count, or nil and why.
function M.unwind(pid, regs, stack_bytes, size, max)
  max = max or 127
  local ips = ffi.new("uint64_t[?]", max)
  local n = api.unwind_user(pid, regs, ffi.C.SHARK_UNWIND_REGS_MASK, stack_bytes, size, ips, max)
  if n < 0 then return nil, ffi.string(api.strerror(-n)) end
  return ips, n
end

-- The frames of e as two lists of names, leaf first: kernel, user.
function M.split(e)
  local k, u = {}, {}
  for _, f in ipairs(M.frames(e)) do
    local t = f.kernel and k or u
    t[#t + 1] = f.sym
  end
  return k, u
end

-- Where every user stack ends when it is whole: the C runtime's entry
-- points and the thread start routines.
local roots = {
  _start = true, __libc_start_main = true, __libc_start_call_main = true, ["__libc_start_main@GLIBC_2.2.5"] = true,
  ["__libc_start_main@@GLIBC_2.34"] = true, clone = true, clone3 = true, start_thread = true,
  __clone = true, __clone3 = true, __GI___clone3 = true,
}

-- Does a user stack (names, leaf first) reach the start of its thread?
-- A walk that lost the frame chain (code without frame pointers) does not.
function M.whole(user)
  local last = user[#user]
  return last ~= nil and roots[last] == true
end

-- For tools counting frame-pointer stacks: a notice when some user stacks
-- (rows as the templates' entries() give them) stop before their thread's
-- start, with why and what does better. Returns the text, or nil.
function M.partial_notice(rows, weight)
  local part, all = 0, 0
  for _, r in ipairs(rows) do
    if r.user and #r.user > 0 then
      all = all + r.count
      if not M.whole(r.user) then part = part + r.count end
    end
  end
  -- a sample or two in the dynamic loader's start is no pattern: one in ten is
  if part == 0 or part < 0.1 * all then return nil end
  return ("%d of %d %s have user stacks that stop before their thread's start: code without frame " ..
    "pointers (Debian builds -O2 without them) hides its callers"):format(part, all, weight or "samples")
end

-- The callchain of e as one string, a frame per line, leaf first.
function M.intern(e)
  local key = e.stack_key
  if key == 0 then return nil end
  key = tonumber(key)
  local s = cache[key]
  if s then return s end
  local names = {}
  for _, f in ipairs(M.frames(e)) do names[#names + 1] = f.sym end
  s = table.concat(names, "\n")
  cache[key] = s
  return s
end

return M
