-- SPDX-License-Identifier: GPL-2.0
-- signals: numbers and names as the snoop tools print them.
local t = require "tap"
local sig = require "shark.signals"

t.is(sig.name(9), "SIGKILL", "9 is SIGKILL")
t.is(sig.name(10), "SIGUSR1", "10 is SIGUSR1 (x86)")
t.is(sig.name(31), "SIGSYS", "the last classic signal")
t.is(sig.name(34), "SIGRTMIN", "real-time signals from 34")
t.is(sig.name(36), "SIGRTMIN+2", "real-time signals by offset")
t.is(sig.name(0), "0", "0 (existence probe) stays a number")
t.is(sig.number("USR1"), 10, "a name without SIG")
t.is(sig.number("sigterm"), 15, "any case")
t.is(sig.number("9"), 9, "a number as a string")
t.is(sig.number("NOPE"), nil, "unknown: nil")
t.done()
