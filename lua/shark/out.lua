-- SPDX-License-Identifier: GPL-2.0
-- shark/out.lua - the one sink every printer writes through: stdout by
-- default, a file, or anything with write (an upload collects the text).
--   local out = require("shark.out").of(opts.out)   -- nil: stdout; "path"; a function(line); a sink
--   out:line("text")  out:write(bytes)  out:close()
local M = {}

local Sink = {}
Sink.__index = Sink

-- Write text (or bytes) as they are.
function Sink:write(s)
  self._write(s)
  return self
end

-- Write one line (a newline added).
function Sink:line(s)
  if self._line then
    self._line(s)
  else
    self._write(s .. "\n")
  end
  return self
end

-- A function(line) that writes a line: what the printers that take `out = print` call.
function Sink:printer()
  return function(s) self:line(s == nil and "" or tostring(s)) end
end

-- Finish: a file is closed (a sink of stdout stays open).
function Sink:close()
  if self._close then self._close() end
  self._write = function() error("shark.out: write after close of " .. self.name, 2) end
  self._line = nil
end

-- Done with a sink from M.of: closed when M.of opened it (a path), else
-- left to its owner.
function Sink:finish()
  if self.owned then self:close() end
end

-- Standard output, lines through print (shark's -o and pipes apply, and a
-- script that replaces print sees them).
function M.stdout()
  return setmetatable({ name = "stdout", _write = function(s) io.stdout:write(s) end,
    _line = function(s) print(s) end }, Sink)
end

-- A file, created or truncated; or nil, "path: why".
function M.file(path)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  return setmetatable({ name = path, path = path, _write = function(s) assert(f:write(s)) end,
    _close = function() f:close() end }, Sink)
end

-- A sink that keeps what is written: :text() gives it (uploads, tests).
function M.buffer()
  local parts = {}
  local s = setmetatable({ name = "buffer", _write = function(x) parts[#parts + 1] = x end }, Sink)
  function s.text() return table.concat(parts) end
  return s
end

-- Whatever printers accept as `out`: nil or "-" (stdout), a path, a
-- function called with each line (print), or a sink.
function M.of(x)
  if x == nil or x == "-" then return M.stdout() end
  if getmetatable(x) == Sink then return x end
  if type(x) == "string" then
    local s, err = M.file(x)
    if not s then error("cannot write " .. tostring(err), 3) end
    s.owned = true
    return s
  end
  if type(x) == "function" then
    return setmetatable({ name = "function", _write = function(s)
      for line in (s:sub(-1) == "\n" and s or s .. "\n"):gmatch("([^\n]*)\n") do x(line) end
    end }, Sink)
  end
  error("shark.out: expected nil, a path, a function or a sink, got " .. type(x), 3)
end

-- Is x a sink?
function M.is(x)
  return getmetatable(x) == Sink
end

return M
