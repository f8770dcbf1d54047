-- SPDX-License-Identifier: GPL-2.0
-- shark/signals.lua - Linux signal numbers and names (x86, arm, most
-- others), for tools that print signals: name(9) -> "SIGKILL", number("KILL") -> 9.
local M = {}

local NAMES = { "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
  "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
  "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
  "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS" }
local BY_NAME = {}
for i, n in ipairs(NAMES) do BY_NAME[n] = i BY_NAME[n:sub(4)] = i end

-- "SIGKILL" for 9, "SIGRTMIN+2" for 36, "0" for 0 (a kill(2) probe), else the number.
function M.name(n)
  if NAMES[n] then return NAMES[n] end
  if n >= 34 and n <= 64 then return n == 34 and "SIGRTMIN" or ("SIGRTMIN+%d"):format(n - 34) end
  return tostring(n)
end

-- 9 for "SIGKILL", "KILL", "kill" or "9"; nil if unknown.
function M.number(s)
  return tonumber(s) or BY_NAME[tostring(s):upper()]
end

return M
