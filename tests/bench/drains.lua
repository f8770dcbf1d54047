-- SPDX-License-Identifier: GPL-2.0
-- drains.lua - where a handle loses events: one line per drain of a counting
-- handler on EVENT (default raw_syscalls:sys_enter, system-wide), written at
-- the end as TSV to FILE (default drains.tsv), and a summary on stdout.
--   shark [-r PRIO] tests/bench/drains.lua [EVENT] [bpf|perf] [FILE]
-- Columns: t0_ms (drain start, from the first drain), dur_ms (the drain),
-- gap_ms (since the previous drain ended), events (the drain's), lost (since
-- the previous drain ended), poll (P: a ring's wake-up, T: the timer),
-- age_ms (how long the drain's first event waited in the ring), rqwait_ms (the
-- reader runnable but not running since the previous drain: schedstat).
-- A loss after a gap whose rqwait is most of it: the reader was woken in time
-- and waited on the run queue while the ring filled.
local event, via, file = shark.args[1] or "raw_syscalls:sys_enter", shark.args[2], shark.args[3] or "drains.tsv"

local n, first, first_t = 0, false, 0
local h = perf.on(event, { via = via }, function(e)
  n = n + 1
  if first then first_t, first = e.time, false end
end)
local src = h.src

-- ns this thread waited on a run queue so far
local function rqwait()
  local f = assert(io.open("/proc/thread-self/schedstat"))
  local wait = f:read("*l"):match("^%d+ (%d+)")
  f:close()
  return tonumber(wait)
end

local log, last_lost, last_wakeups = {}, 0, src.wakeups
local drain = src.drain
src.drain = function()
  local t0, n0, w0 = shark.time(), n, rqwait()
  first = true
  drain()
  local lost = h:lost()
  log[#log + 1] = { t0, shark.time(), n - n0, lost - last_lost, src.wakeups ~= last_wakeups,
    first and 0 or t0 - first_t, w0 }
  last_lost, last_wakeups = lost, src.wakeups
end
print("ready", h.via)
io.stdout:flush()

shark.on_end(function()
  local f = assert(io.open(file, "w"))
  f:write("t0_ms\tdur_ms\tgap_ms\tevents\tlost\tpoll\tage_ms\trqwait_ms\n")
  local base, prev_end, prev_w = log[1] and log[1][1] or 0, nil, nil
  local busy, max_age, max_batch, lossy, wait = 0, 0, 0, 0, 0
  for i, x in ipairs(log) do
    local gap, rq = prev_end and (x[1] - prev_end) / 1e6 or 0, prev_w and (x[7] - prev_w) / 1e6 or 0
    f:write(("%.3f\t%.3f\t%.3f\t%d\t%d\t%s\t%.3f\t%.3f\n"):format((x[1] - base) / 1e6, (x[2] - x[1]) / 1e6,
      gap, x[3], x[4], x[5] and "P" or "T", x[6] / 1e6, rq))
    prev_end, prev_w = x[2], x[7]
    wait = wait + rq
    -- a drain of the stream, not of a quiet moment nor the one after detach
    if x[3] >= 1000 and i < #log then
      busy = busy + 1
      max_age = math.max(max_age, x[6] / 1e6)
      max_batch = math.max(max_batch, x[3])
    end
    if x[4] > 0 then lossy = lossy + 1 end
  end
  f:close()
  print(("events %d lost %d; %d drains (%d of 1000+ events), the oldest event waited %.1f ms, " ..
    "largest drain %d events, %d drains after a loss, reader on a run queue %.0f ms in all")
    :format(n, h:lost(), #log, busy, max_age, max_batch, lossy, wait))
end)
