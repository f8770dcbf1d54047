-- SPDX-License-Identifier: GPL-2.0
-- A tracepoint record shorter than its format's fixed fields (a truncated
-- record, or a format that does not match it): e.raw.<field> inside the
-- record reads as usual, one beyond it raises an error naming the field,
-- never a read past the record. Real raw_syscalls:sys_enter records made by
-- getppid_n on CPU 0, captured from the ring, cut, and decoded again by the
-- real decoders (perf rings: shark_perf__replay; BPF delivery: ringbuf_replay).
local t = require "tap"
local api = require "shark.api"
local out = os.getenv("OUT") or ".output"

local CUT = 12   -- the common fields (8 bytes) and half of `id` (offset 8, 8 bytes)
local seen

local function handler(e)
  local r = e.raw
  local id_ok, id = pcall(function() return r.id end)
  local args_ok, args = pcall(function() return r.args end)
  local print_ok, printed = pcall(tostring, e)
  seen[#seen + 1] = { size = e.raw_size, tid = e.tid, pid = r.common_pid, id_ok = id_ok, id = id,
    args_ok = args_ok, args = args, print_ok = print_ok, printed = printed }
end

local function checks(via, seen_full, seen_short)
  t.ok(#seen_full >= 1, via .. ": whole records are delivered")
  local bad = 0
  for _, f in ipairs(seen_full) do
    if not (f.id_ok and type(f.id) == "number" and f.args_ok and f.print_ok) then bad = bad + 1 end
  end
  t.is(bad, 0, via .. ": e.raw.id, e.raw.args and perf.print of whole records read")
  t.is(#seen_short, 1, via .. ": the cut record is delivered")
  local s = seen_short[1] or {}
  t.is(s.size, CUT, via .. ": e.raw_size is the cut size")
  t.is(s.pid, s.tid, via .. ": a field inside the record (common_pid) reads")
  t.ok(not s.id_ok, via .. ": e.raw.id beyond the record raises", tostring(s.id))
  t.ok(tostring(s.id):find("test_perf_short%.lua:%d+: e%.raw%.id: the field %(offset 8, 8 bytes%) lies beyond " ..
    "this raw_syscalls:sys_enter record of 12 bytes"), via .. ": ... at the reading line, naming the field",
    tostring(s.id))
  t.ok(not s.args_ok, via .. ": e.raw.args raises too", tostring(s.args))
  t.ok(tostring(s.args):find("e%.raw%.args: "), via .. ": ... naming it")
  t.ok(not s.print_ok and tostring(s.printed):find("beyond this", 1, true) ~= nil,
    via .. ": perf.print of it raises the same error", tostring(s.printed))
end

-- the first raw_syscalls:sys_enter sample of a perf ring snapshot: its
-- offset and the offset of its raw size (the u32 before common_type)
local function first_sample(buf, len, tp_id)
  local pos = 0
  while pos + 8 <= len do
    local typ = ffi.cast("uint32_t *", buf + pos)[0]
    local size = ffi.cast("uint16_t *", buf + pos + 6)[0]
    if size == 0 then break end
    if typ == 9 then
      for q = 8, size - 6, 8 do
        local raw_size = ffi.cast("uint32_t *", buf + pos + q)[0]
        if ffi.cast("uint16_t *", buf + pos + q + 4)[0] == tp_id and raw_size >= 64 and
          q + 4 + raw_size <= size then
          return pos, size, pos + q
        end
      end
    end
    pos = pos + size
  end
end

local tp_id = require("perf.core").tp_format("raw_syscalls", "sys_enter").id

-- perf rings
seen = {}
local opened, h = pcall(perf.on, "raw_syscalls:sys_enter", { cpu = 0, pid = -1, via = "perf", mmap_pages = 64 },
  handler)
if not opened then
  local why = t.no_kernel(h)
  if not why then error(h, 0) end
  t.skip("records from the live rings, cut and decoded again", why)
  t.done()
  return
end
assert(os.execute(("taskset -c 0 %s/progs/getppid_n 20"):format(out)) == 0)
local SIZE = 1024 * 1024
local buf = ffi.new("uint8_t[?]", SIZE)
local len = api.perf_snapshot(h.p, buf, SIZE)
local rec, rec_size, raw_at = first_sample(buf, len, tp_id)
t.ok(rec ~= nil, "perf: a raw_syscalls:sys_enter sample captured from the ring")
seen = {}
h.drain()   -- the live records, whole
local full = seen
if rec then
  -- (a session's replay copies its buffer once: only the cut record is replayed)
  local one = ffi.new("uint8_t[?]", rec_size)
  ffi.copy(one, buf + rec, rec_size)
  ffi.cast("uint32_t *", one + (raw_at - rec))[0] = CUT
  seen = {}
  assert(api.perf_replay(h.p, one, rec_size) == 0)
  h.drain()
  checks("perf", full, seen)
end
h:stop()

-- BPF delivery
seen = {}
local b = perf.on("raw_syscalls:sys_enter", { cpu = 0, pid = -1, via = "bpf" }, handler)
if b.via ~= "bpf" then
  t.skip("bpf: cut records", "BPF delivery did not load here")
else
  assert(os.execute(("taskset -c 0 %s/progs/getppid_n 20"):format(out)) == 0)
  local blen = api.ringbuf_snapshot(b.r, buf, SIZE)
  t.ok(blen > 0, "bpf: records captured from the ring")
  -- the first event record alone (name records, event 0xffffffff, of any
  -- task renamed or exiting meanwhile are passed over), moved to the start:
  -- the ring's 8-byte header, then struct shark_tprec
  local at, one_len = 0, 0
  while at + 8 <= blen do
    local size = ffi.cast("uint32_t *", buf + at)[0]
    local rlen = bit.band(size + 8 + 7, bit.bnot(7))
    if ffi.cast("uint32_t *", buf + at + 8 + 20)[0] ~= 0xffffffff then
      one_len = rlen
      break
    end
    at = at + rlen
  end
  t.ok(one_len > 0, "bpf: an event record among them")
  local first = ffi.new("uint8_t[?]", one_len)
  ffi.copy(first, buf + at, one_len)
  ffi.copy(buf, first, one_len)
  local real = b.r
  local function replay()
    seen = {}
    local rr = ffi.gc(api.ringbuf_replay(buf, one_len), api.ringbuf_free)
    b.r = rr
    b.drain()
    b.r = real
    return seen
  end
  local whole = replay()
  -- struct shark_tprec (bpf/tpring.h): time, pid, tid, cpu, event, raw_size
  ffi.cast("uint32_t *", buf + 8 + 24)[0] = CUT
  checks("bpf", whole, replay())
end
b:stop()

-- a short record's __data_loc string whose data lies beyond it: an error,
-- not a read past it (sched_process_exec: filename's loc at offset 8, pid
-- at 12, old_pid at 16; the fixed fields need 20 bytes, the record has 18)
local exec = require("perf.types").tracepoint("sched", "sched_process_exec", {})
local ev = exec.ev()
local erec = ffi.new("uint8_t[64]")
ffi.copy(erec + 24, "/bin/true\0", 10)
ffi.cast("uint32_t *", erec + 8)[0] = bit.bor(bit.lshift(10, 16), 24)
ffi.cast("int32_t *", erec + 12)[0] = 4242
ev._raw = ffi.cast(ffi.typeof(ev._raw), erec)
ev._raw_size = 18
local ok, err = pcall(function() return ev.raw.filename end)
t.ok(not ok and tostring(err):find("e%.raw%.filename: its data %(offset 24, 10 bytes%) lies beyond this " ..
  "sched:sched_process_exec record of 18 bytes"), "a __data_loc string beyond a short record raises", tostring(err))
t.is(ev.raw.pid, 4242, "... a field inside it reads")
t.raises(function() return ev.raw.old_pid end, "e.raw.old_pid: the field (offset 16, 4 bytes) lies beyond",
  "... one beyond it raises")
ev._raw_size = 64
t.is(ev.raw.filename, "/bin/true", "a whole record reads as before")
t.done()
