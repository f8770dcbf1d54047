-- SPDX-License-Identifier: GPL-2.0
-- The script environment: globals, modules, arguments, time, pairs, errors.
-- args: alpha "two words"
local t = require "tap"

t.is(type(shark), "table", "shark is a global")
t.is(type(ffi), "table", "ffi is a global")
t.is(type(set_interval), "function", "set_interval is a global")
t.is(type(set_timeout), "function", "set_timeout is a global")
t.is(type(clear_timer), "function", "clear_timer is a global")
t.is(require("shark"), shark, "require 'shark' gives the global")
t.is(require("ffi"), ffi, "require 'ffi' gives the global")

t.is(#shark.args, 2, "shark.args has the script arguments")
t.is(shark.args[1], "alpha", "first argument")
t.is(arg[2], "two words", "arg[] mirrors them")
t.is(select("#", ...), 2, "the chunk gets them as ...")

local a, b = shark.time(), shark.time()
t.ok(type(a) == "number" and a > 0 and b >= a, "shark.time() is monotonic ns")

local cjson = require "cjson"
t.is(cjson.encode({ 1, 2, 3 }), "[1,2,3]", "cjson is embedded")
t.is(cjson.decode('{"a":5}').a, 5, "cjson decodes")

local uv = require "uv"
t.is(require("luv"), uv, "luv is the same module as uv")
local fired = false
local h = uv.new_timer()
h:start(5, 0, function() fired = true; h:close() end)

-- pairs honours __pairs
local proxy = setmetatable({}, { __pairs = function()
  local i = 0
  return function() i = i + 1; if i <= 3 then return i, i * 10 end end, nil, nil
end })
local sum = 0
for k, v in pairs(proxy) do sum = sum + k + v end
t.is(sum, 66, "pairs() honours __pairs")
local plain = 0
for _, v in pairs({ x = 1, y = 2 }) do plain = plain + v end
t.is(plain, 3, "pairs() on plain tables still works")

t.raises(function() shark.on_end(42) end, "expected a function", "on_end checks its argument")
t.raises(function() shark.exit(300) end, "integer from 0 to 255", "exit checks its code")
t.raises(function() shark.exit(1.5) end, "integer from 0 to 255", "exit rejects fractions")
t.raises(function() shark.print_hist({ a = "x" }) end, "is a string, not a number",
  "print_hist checks values")
t.raises(function() shark.print_hist(3) end, "expected a table", "print_hist checks its argument")

t.is(shark.target(), nil, "no target without -p or -c")
t.is(type(shark.version), "string", "shark.version")
t.ok(shark.versions.luajit:find("LuaJIT 2.1", 1, true) ~= nil, "LuaJIT 2.1 inside")

shark.on_end(function()
  t.ok(fired, "a uv timer ran on shark's loop")
  t.done()
end)
