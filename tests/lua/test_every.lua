-- SPDX-License-Identifier: GPL-2.0
-- shark.every with opts.final: one more call when the run ends before the count-th.
local t = require "tap"

local calls = {}
shark.every(0.01, 5, function(i)
  calls[#calls + 1] = tostring(i)
  if i == 2 then shark.exit(0) end
end, { final = true })
shark.on_end(function()
  t.is(table.concat(calls, ","), "1,2,nil", "ended after 2 of 5: a final call, with no i")
  t.done()
end)
