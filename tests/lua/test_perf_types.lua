-- SPDX-License-Identifier: GPL-2.0
-- perf event types: for every field of many real tracepoints, the struct
-- member shark generates sits at the offset and has the size the kernel's
-- format file gives; the event struct keeps struct shark_sample's layout.
local t = require "tap"
local pcore = require "perf.core"
local types = require "perf.types"

local globs = { "sched:*", "syscalls:sys_enter_*", "raw_syscalls:*", "irq:*", "block:*", "net:*",
  "skb:*", "signal:*", "task:*", "timer:*", "kmem:*", "sock:*", "tcp:*", "writeback:*" }

local events, fields, bad = 0, 0, {}
for _, g in ipairs(globs) do
  for _, name in ipairs(pcore.tp_list(g) or {}) do
    local sys, ev = name:match("^([^:]+):(.+)$")
    local ty = types.tracepoint(sys, ev, {})
    if ty then
      events = events + 1
      for _, f in ipairs(ty.format.fields) do
        local m = ty.members[f.name]
        if m then
          fields = fields + 1
          local off = ffi.offsetof(ty.raw_name, m)
          local size = ffi.sizeof(ty.ctypes[f.name])
          if off ~= f.offset or (size ~= f.size and not f.dynamic) then
            bad[#bad + 1] = ("%s.%s: offset %s size %s, format says %d/%d"):format(name, f.name,
              tostring(off), tostring(size), f.offset, f.size)
          end
        elseif not (f.array and f.arraylen == 0) and f.size > 0 then
          bad[#bad + 1] = name .. "." .. f.name .. ": no member"
        end
      end
    else
      bad[#bad + 1] = name .. ": no type"
    end
  end
end
t.ok(events > 300, "typed many tracepoints", events)
t.ok(fields > 1500, "checked many fields", fields)
t.is(#bad, 0, "every member at its format offset and size")
for i = 1, math.min(#bad, 10) do print("# " .. bad[i]) end

local sw = types.tracepoint("sched", "sched_switch", {})
t.is(ffi.offsetof(sw.ev, "raw"), ffi.offsetof("struct shark_sample", "raw"), "event struct keeps the sample layout")
t.is(ffi.sizeof(sw.ev), ffi.sizeof("struct shark_sample"), "event struct has the sample size")
t.is(sw.members.prev_comm, "prev_comm", "char arrays keep their names")
t.is(sw.members.prev_state, "__64_prev_state", "64-bit integers go through an accessor")

-- __data_loc strings decode from a record laid out by hand
local exec = types.tracepoint("sched", "sched_process_exec", {})
local buf = ffi.new("uint8_t[64]")
local r = ffi.cast(ffi.typeof(exec.raw_name .. "*"), buf)
local fname = "/bin/true"
local off = 32
ffi.copy(buf + off, fname .. "\0")
r.__loc_filename = bit.bor(bit.lshift(#fname + 1, 16), off)
t.is(r.filename, "/bin/true", "__data_loc strings read as Lua strings")

-- sched_switch's prev_state as perf prints it (the kernel's print fmt)
local ts = require("perf").task_state
t.is(ts("0") .. " " .. ts("1") .. " " .. ts("2") .. " " .. ts("128") .. " " .. ts("256") .. " " .. ts("3"),
  "prev_state=R prev_state=S prev_state=D prev_state=I prev_state=R+ prev_state=S|D",
  "prev_state: R, S, D, I, R+ (preempted), S|D")
t.done()
