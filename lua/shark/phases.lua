-- SPDX-License-Identifier: GPL-2.0
-- shark/phases.lua - start-up phases on stderr when SHARK_PHASES is set:
-- "shark: phase  3.210 ms  what", milliseconds since main(). For the
-- start-up bench (tests/bench/perf.sh); a no-op otherwise.
local api = require "shark.api"

local M = {}

local on = os.getenv("SHARK_PHASES")
M.on = on ~= nil and on ~= ""

function M.mark(what)
  if not M.on then return end
  io.stderr:write(("shark: phase %7.3f ms  %s\n"):format((tonumber(api.time_ns()) - api.state.start_time) / 1e6,
    what))
end

return M
