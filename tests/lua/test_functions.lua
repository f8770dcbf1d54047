-- SPDX-License-Identifier: GPL-2.0
-- shark.functions and shark.find_binary: the function symbols of an ELF file
-- by glob (for uprobes on many functions), and binaries named as the classic
-- tools name them.
local t = require "tap"

-- shark itself, by the path /proc/self/exe links to (under qemu-user, /proc/self/exe
-- itself stats as the emulator)
local exe = require("uv").exepath()
local fs = shark.functions(exe, "shark_sym_function[s]")
t.is(#fs, 1, "one function of shark itself matches a glob with a class")
t.is(fs[1].name, "shark_sym_functions", "by its name")
t.ok(fs[1].offset > 0, "at a file offset")

local all = shark.functions(exe, "shark_bpf__attach*")
local names = {}
for _, f in ipairs(all) do names[f.name] = true end
t.ok(#all >= 5 and names.shark_bpf__attach_uprobe and names.shark_bpf__attach_usdt, "a glob matches several")
for i = 2, #all do
  if all[i].offset <= all[i - 1].offset then t.ok(false, "address order") end
end
t.is(#shark.functions(exe, "no_such_function_*"), 0, "no match: an empty list")
local none, err = shark.functions("/nonexistent/file", "x")
t.ok(none == nil and err:find("No such file", 1, true), "a missing file: nil, message")
local _, e2 = shark.functions("/proc/self/status", "x")
t.ok(e2 ~= nil, "not an ELF file: nil, message")

local libc = shark.find_binary("c")
t.ok(libc and libc:find("/libc%.so"), "library 'c' is libc: " .. tostring(libc))
t.is(shark.find_binary("libc.so.6"), libc, "and so is libc.so.6")
local self_pid = tonumber(io.open("/proc/self/stat"):read("*l"):match("^%d+"))
t.ok(shark.find_binary("c", self_pid):find("/libc%.so"), "also through a process's maps")
t.ok(shark.find_binary("sh"):find("/sh$"), "a program in PATH")
t.is(shark.find_binary("/a/path"), "/a/path", "a path is a path")
t.is(select(2, shark.find_binary("no_such_library_xyz")), "no library or program named 'no_such_library_xyz'",
  "unknown name: nil, message")
t.done()
