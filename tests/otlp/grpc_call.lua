-- SPDX-License-Identifier: GPL-2.0
-- grpc_call.lua BASE MODE... - shark's gRPC client (shark.httpc.grpc, the
-- agent's OTLP/gRPC path) calling BASE/hostile.Test/MODE for each MODE in
-- turn: one line each, "MODE status CODE message "TEXT"" or "MODE error WHY".
-- A MODE "random*N" makes N calls to .../random and prints one summary line;
-- "ok+N" sends a message of N bytes (else 1).
local httpc = require "shark.httpc"

local base, modes = arg[1], { select(2, unpack(arg)) }
local i, repeats, seen = 0, 0, { status = 0, error = 0 }

local function next_call()
  local mode = modes[i]
  if repeats == 0 then
    i = i + 1
    mode = modes[i]
    if not mode then return end
    repeats = tonumber(mode:match("%*(%d+)$")) or 1
  end
  repeats = repeats - 1
  local name = mode:gsub("%*%d+$", "")
  local many = mode ~= name
  local size = tonumber(name:match("%+(%d+)$")) or 1
  name = name:gsub("%+%d+$", "")
  local ok, err = httpc.grpc({ url = base .. "/hostile.Test/" .. name, body = ("x"):rep(size), timeout_ms = 5000 },
    function(code, msg, _, http)
      if many then
        seen[code and "status" or "error"] = seen[code and "status" or "error"] + 1
        if repeats == 0 then print(("%s calls %d answered %d"):format(name, seen.status + seen.error, seen.status)) end
      elseif code then
        print(("%s status %d message %q http %d"):format(name, code, msg, http))
      else
        print(("%s error %s"):format(name, msg))
      end
      next_call()
    end)
  if not ok then print(name .. " not started: " .. tostring(err)) end
end
next_call()
