-- SPDX-License-Identifier: GPL-2.0
-- shark/top.lua - a live table redrawn in place, for `shark top` and any script:
--   local live = require("shark.top").live{
--     { "COUNT", "%8d", "count" }, { "NAME", "%s", "name" } }   -- shark.table's columns
--   set_interval(1000, function() live:refresh(rows, { "a header line", ... }) end)
-- On a terminal each refresh redraws the screen from its top: the header lines, the
-- column titles, then as many rows as the terminal's height leaves room for; `q` or
-- Ctrl-C ends the run (the terminal is in raw mode until the run ends, and restored
-- on every way out: q, Ctrl-C, SIGTERM, -d, an error; a refresh in on_end prints plain). Elsewhere (a pipe, a file, or
-- spec.plain) each refresh prints a plain snapshot, no escape codes, spec.rows rows
-- at most (default 25), then a blank line.
-- spec.on_key(ch): called with each other key pressed; spec.keys = false: leave the
-- keyboard alone.
local uv = require "uv"
local tbl = require "shark.table"
local shark = require "shark"

local M = {}

local Live = {}
Live.__index = Live

local CSI = "\27["
local active = {}     -- live tables holding the terminal, restored at the end

local function restore_all()
  for i = #active, 1, -1 do active[i]:close() end
end
-- before anything the end prints (on_end handlers, lost events), and before an error's message
table.insert(shark._end_hooks.before, 1, restore_all)
table.insert(shark._end_hooks.error, restore_all)

-- Is fd a terminal?
function M.isatty(fd)
  return uv.guess_handle(fd) == "tty"
end

local function on_keys(self, data)
  for ch in data:gmatch(".") do
    if ch == "q" or ch == "Q" or ch == "\3" then
      shark.exit(0)
      return
    end
    if self.on_key then self.on_key(ch) end
  end
end

-- Raw mode on stdin, when stdin is a terminal: keys arrive one by one, not echoed.
local function take_keyboard(self)
  if not M.isatty(0) then return end
  local tty = uv.new_tty(0, true)
  if not tty then return end
  local ok = pcall(tty.set_mode, tty, 1)
  if not ok then
    tty:close()
    return
  end
  self.stdin = tty
  tty:read_start(function(err, data)
    if err or not data then return end
    on_keys(self, data)
  end)
end

function M.live(spec)
  local cols = {}
  for i, c in ipairs(spec) do cols[i] = c end
  local self = setmetatable({ fmt = tbl.new(cols), max_rows = spec.rows or 25, on_key = spec.on_key },
    Live)
  self.tty = not spec.plain and M.isatty(1)
  if self.tty then
    self.stdout = uv.new_tty(1, false)
    if spec.keys ~= false then take_keyboard(self) end
    -- the alternate screen: what was on the terminal comes back at the end
    io.stdout:write(CSI .. "?1049h" .. CSI .. "?25l" .. CSI .. "H" .. CSI .. "2J")
    io.stdout:flush()
    active[#active + 1] = self
  end
  return self
end

-- The terminal's height and width (24 x 80 when it does not say).
function Live:size()
  local w, h
  if self.stdout then w, h = self.stdout:get_winsize() end
  if type(w) ~= "number" or w <= 0 then w = 80 end
  if type(h) ~= "number" or h <= 0 then h = 24 end
  return h, w
end

-- The column titles line.
function Live:titles()
  local t = {}
  for i, c in ipairs(self.fmt.cols) do t[i] = c[1] end
  return self.fmt.head:format(unpack(t, 1, #t))
end

-- Show rows (tables keyed by the columns' keys, in the order to show) under
-- the header lines (a string or a list of strings).
function Live:refresh(rows, header)
  if type(header) == "string" then header = { header } end
  header = header or {}
  local lines = {}
  for _, l in ipairs(header) do lines[#lines + 1] = l end
  lines[#lines + 1] = self:titles()
  local room = self.max_rows
  local width
  if self.tty then
    local h, w = self:size()
    room, width = h - #lines, w
  end
  for i = 1, math.min(#rows, math.max(room, 0)) do lines[#lines + 1] = self.fmt:text(rows[i]) end
  for i, l in ipairs(lines) do lines[i] = l:gsub("%s+$", "") end
  if not self.tty then
    io.stdout:write(table.concat(lines, "\n"), "\n\n")
    io.stdout:flush()
    return
  end
  -- raw mode: no newline translation, so each line ends in \r\n; lines cut at the width
  for i, l in ipairs(lines) do lines[i] = l:sub(1, width) .. CSI .. "K" end
  io.stdout:write(CSI .. "H", table.concat(lines, "\r\n"), CSI .. "J")
  io.stdout:flush()
end

-- Give the terminal back as it was (also done when the run ends, before the
-- on_end handlers, and before an error is printed).
function Live:close()
  if not self.tty or self.closed then return end
  -- what is refreshed from now on (an on_end handler's last table) prints plain
  self.closed, self.tty = true, false
  if self.stdin then
    self.stdin:read_stop()
    pcall(self.stdin.set_mode, self.stdin, 0)
    self.stdin:close()
  end
  uv.tty_reset_mode()
  if self.stdout then self.stdout:close() end
  io.stdout:write(CSI .. "?25h" .. CSI .. "?1049l")
  io.stdout:flush()
  for i, l in ipairs(active) do
    if l == self then table.remove(active, i) break end
  end
end

return M
