-- SPDX-License-Identifier: GPL-2.0
-- shark.json: keys in the caller's order (else sorted), '/' as it is, arrays.
local t = require "tap"
local json = require "shark.json"

t.is(json.encode({ pid = 1, comm = "a", args = "/bin/true", ret = 0 }, { "comm", "pid", "ret", "args" }),
  '{"comm":"a","pid":1,"ret":0,"args":"/bin/true"}', "keys in the given order, '/' not escaped")
t.is(json.encode({ b = 1, a = 2, c = { z = 1, y = "x" } }), '{"a":2,"b":1,"c":{"y":"x","z":1}}',
  "no order given: keys sorted, nested objects too")
t.is(json.encode({ x = 1, y = 2 }, { "y", "nope" }), '{"y":2,"x":1}', "keys missing from the order follow, sorted")
t.is(json.encode("a\\/b\\\\"), '"a\\\\/b\\\\\\\\"', "a backslash before '/' stays escaped")
t.is(json.decode(json.encode("a\\/b/c\"\n")), "a\\/b/c\"\n", "round trip of backslashes, slashes, quotes, newlines")
t.is(json.encode({ 1, 2, { 3 } }), "[1,2,[3]]", "arrays")
t.is(json.encode(json.array()), "[]", "an empty array marked as one")
t.is(json.encode({}), "{}", "an empty table is an object, as cjson says")
t.is(json.encode({ [1] = "a", [3] = "c" }), '["a",null,"c"]', "holes in an array are null")
t.is(json.encode({ [2] = "x", k = true }), '{"2":"x","k":true}', "mixed keys: an object, numbers first")
t.is(json.encode({ n = 0.5, big = 2 ^ 40 }, { "n", "big" }), '{"n":0.5,"big":1099511627776}',
  "numbers as cjson writes them")
local loop = {}
loop.self = loop
t.ok(not pcall(json.encode, loop), "a table containing itself is an error")
local ok, err = pcall(json.encode, { f = print })
t.ok(not ok and tostring(err):find("function"), "a function value is an error", err)
t.done()
