-- luacheck configuration: LuaJIT, and the globals shark gives scripts.
std = "luajit"
max_line_length = 120
read_globals = { "shark", "ffi", "set_interval", "set_timeout", "clear_timer",
  "perf", "bpf", "sharkcloud" }
files["lua/shark/boot.lua"] = { globals = { "pairs", "arg" } }
files["tools"] = { std = "luajit" }
files["tests/fuzz/getopt.lua"] = { globals = { "print", "io", "shark" } }  -- stubs what getopt prints and exits by
-- Library modules require what they use: only scripts see shark's globals.
files["lua"] = { not_globals = { "shark", "ffi", "set_interval", "set_timeout", "clear_timer",
  "perf", "bpf", "sharkcloud" } }
