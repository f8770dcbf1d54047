-- SPDX-License-Identifier: GPL-2.0
-- pycalls.lua - Python function calls counted (and timed with -L) in the kernel from CPython's USDT
-- probes python:function__entry/function__return, as BCC's ucalls does.
-- Run: shark samples/pycalls.lua -p PID -L     shark -c "python3.11 app.py" samples/pycalls.lua -L
local ucalls = require "ucalls"
local o = shark.getopt(ucalls.options{
  about = "Count Python function calls (file.function) from the interpreter's USDT probes; with -L, total\n" ..
    "and average time per function. Debian's /usr/bin/python3.11 carries the probes (readelf -n). Python\n" ..
    "3.11 fires them only while its line probe is on too: each line and call then traps (~1-3 us).",
  examples = { "shark samples/pycalls.lua -p 1234 -L", "shark -c 'python3.11 app.py' samples/pycalls.lua -T 10",
    "shark samples/pycalls.lua -L 5     # every 5 s, all python3.11 processes" },
  binary = "the interpreter with the probes (default: /usr/bin/python3.11, or -p's)",
})

-- python:function__entry(file, function, line). Python 3.11 fires function__entry/return only on its
-- tracing path, taken while its line probe is enabled: an empty program on python:line enables it (a trap
-- per line run, as each probe costs one)
ucalls.trace(o, { provider = "python", binary = "/usr/bin/python3.11", cls = 0, func = 1, sep = ".",
  enable = { "line" } })
