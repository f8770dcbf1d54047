-- SPDX-License-Identifier: GPL-2.0
-- getopt: the option parser tools written as scripts use (parsing only; the
-- -h and usage-error exits are checked end to end in tests/e2e/samples.sh).
local t = require "tap"
local getopt = require "shark.getopt"

local spec = {
  name = "tool", about = "does things", args = { "[interval]", "[count]" },
  "pid", "json",
  { "x", "failed", nil, "show failures" },
  { "n", "name", "NAME", "only NAME" },
  { "m", "min-us", "US", "at least US", type = "number", default = 0 },
  { "e", "event", "EV", "an event (repeatable)", list = true },
  { nil, "unit", "UNIT", "us or ms", choices = { "us", "ms" }, default = "us" },
}

local me = require("uv").os_getpid()   -- a -p is checked: a pid that exists
local o = getopt.parse(spec, { "-p", tostring(me), "-jx", "--name=bash", "-m5", "-e", "a", "--event", "b", "2", "10" })
t.is(o.pid, me, "-p PID as an integer")
t.is(o.json, true, "bundled flags: -j")
t.is(o.failed, true, "bundled flags: -x")
t.is(o.name, "bash", "--long=value")
t.is(o.min_us, 5, "-mVALUE, dashes become underscores, converted to a number")
t.is(table.concat(o.event, ","), "a,b", "repeatable option collects a list")
t.is(o.unit, "us", "default value")
t.is(o.interval, 2, "positional arguments by name, as numbers")
t.is(o.count, 10, "second positional argument")
t.is(#o.args, 2, "positional list")

o = getopt.parse(spec, { "--", "-5" })
t.is(o.args[1], "-5", "-- ends the options")
t.is(o.pid, nil, "no -p and no target: no pid")
o = getopt.parse(spec, { "--unit", "ms" })
t.is(o.unit, "ms", "a choice")

o = getopt.parse({ { "s", "signal", "SIG", "a signal", type = function(v) return v == "KILL" and 9 or nil end } },
  { "-s", "KILL" })
t.is(o.signal, 9, "type = function converts the value")

o = getopt.parse({ { "4", "ipv4", nil, "IPv4 only" }, max_args = 1 }, { "-4", "-5" })
t.is(o.ipv4, true, "a digit flag (-4) is an option when the spec has it")
t.is(o.args[1], "-5", "other negative numbers stay arguments")

local help = getopt.help(spec)
t.ok(help:find("^usage: tool %[options%] %[interval%] %[count%]"), "usage line")
t.ok(help:find("%-p, %-%-pid PID +trace this process only"), "common option row")
t.ok(help:find("%-m, %-%-min%-us US +at least US %(default 0%)"), "default shown")
t.ok(help:find("%-%-unit UNIT"), "long-only option")
t.is(getopt.unknown("zz", { b = 1, a = 1 }), "unknown option 'zz' (options: a, b)", "unknown option message")
t.raises(function() getopt.parse({ "nope" }, {}) end, "no common option 'nope'", "a misspelt common option is an error")
t.done()
