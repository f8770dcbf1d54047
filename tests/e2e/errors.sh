# SPDX-License-Identifier: GPL-2.0
# errors.sh - Lua errors anywhere print file:line and a traceback, run the
# on_end handlers and exit 1; shark.exit(n) sets the exit code.
. "$(dirname "$0")/lib.bash"

printf 'local x = 1\nlocal y = = 2\n' >"$T/syntax.lua"
run "$T/syntax.lua"
check "syntax error: file:line, exit 1" rc=1 "err~syntax.lua:2: unexpected symbol near '='" '!err~stack traceback'

cat >"$T/top.lua" <<'LUA'
shark.on_end(function() print("on_end ran") end)
local function inner() error("top level failure") end
inner()
print("not reached")
LUA
run "$T/top.lua"
check "runtime error at top level: file:line, traceback, on_end, exit 1" rc=1 \
	"err~^.*top.lua:2: top level failure" 'err~stack traceback:' "err~top.lua:3: in main chunk" \
	'out=on_end ran' '!err~boot.lua'

cat >"$T/timer.lua" <<'LUA'
shark.on_end(function() print("cleanup") end)
set_interval(5, function()
  local t = nil
  return t.field
end)
LUA
run "$T/timer.lua"
check "error in a timer callback: file:line, on_end, exit 1" rc=1 \
	"err~timer.lua:4: attempt to index local 't' \\(a nil value\\)" 'out=cleanup' '!err~lua/timer.lua'

cat >"$T/end.lua" <<'LUA'
shark.on_end(function() print("first") end)
shark.on_end(function() error("broken handler") end)
shark.on_end(function() print("third") end)
LUA
run "$T/end.lua"
check "error in on_end: reported, other handlers still run, exit 1" rc=1 \
	"err~end.lua:2: broken handler" "out=first
third"

run -e 'set_timeout("soon", print)'
check "a bad argument to a shark function points at the user's line" rc=1 \
	'err~^-e:1: set_timeout\(ms, fn\): expected a number and a function, got string' '!err~lua/timer.lua'

run -e 'error({code = 1})'
check "a non-string error object is described" rc=1 'err~\(error object is a table value\)'

run -e 'error(setmetatable({}, {__tostring = function() return "custom" end}))'
check "an error object with __tostring is shown" rc=1 'err~^custom$'

run -e 'local uv = require "uv"; local t = uv.new_timer(); t:start(1, 0, function() error("in a uv callback") end)'
check "errors in raw uv callbacks are shark errors too" rc=1 'err~-e:1: in a uv callback' '!err~Uncaught Error'

run -e 'shark.exit(3)'
check "shark.exit(3) at top level exits 3" rc=3 quiet
run -e 'shark.on_end(function() print("end") end) set_timeout(5, function() shark.exit(7) print("no") end)'
check "shark.exit(7) in a timer: on_end runs, exit 7" rc=7 out=end quiet
run -e 'shark.exit()'
check "shark.exit() exits 0" rc=0
run -e 'shark.exit(false)'
check "shark.exit(false) exits 1" rc=1
run -e 'shark.on_end(function() shark.exit(4) end)'
check "shark.exit in on_end sets the code" rc=4
run -e 'shark.exit(256)'
check "shark.exit(256) is an error" rc=1 'err~-e:1: shark.exit\(code\): expected an integer from 0 to 255'
run -e 'set_timeout(1, function() shark.exit(5) end) error("first")'
check "an error wins over a later exit code" rc=1 'err~-e:1: first'

cat >"$T/ffistr.lua" <<'LUA'
local f = require "ffi"
shark.on_end(function() print("on_end ran") end)
print(f.string(ffi.cast("const char *", "ok")), ffi.string("s"), f.string(nil, 0) == "")
local ok, err = pcall(function() local s = ffi.string(nil); return s end)
print(ok, err)
local p = ffi.cast("const char *", 0)
local s = f.string(p)
print("not reached", s)
LUA
run "$T/ffistr.lua"
check "ffi.string of nil or a NULL pointer: a Lua error at the script's line, never SIGSEGV" rc=1 \
	'out~^ok	s	true' 'out~false	.*ffistr.lua:4: ffi.string: NULL pointer' \
	'err~ffistr.lua:7: ffi.string: NULL pointer' 'out~on_end ran' '!out~not reached'

done_testing
