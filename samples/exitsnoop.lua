-- SPDX-License-Identifier: GPL-2.0
-- exitsnoop.lua - process exits with their age and exit code or signal (BCC/libbpf-tools exitsnoop).
-- Run: shark samples/exitsnoop.lua [-x] [-p PID] [-t] [-T] [-j]
local signals = require "shark.signals"
local o = shark.getopt{
  about = "Trace process exits (sched:sched_process_exit): age, exit code, or the signal that killed it.",
  examples = { "exitsnoop.lua -x      # failed or killed only", "exitsnoop.lua -t      # every thread" },
  "pid", { "x", "failed", nil, "only exits with a non-zero code or a signal" },
  { "t", "threaded", nil, "trace every thread's exit, not just processes'" },
  "timestamp", "duration", "json",
}

local obj = bpf.load([[
const volatile u32 cfg_pid = 0;
const volatile bool cfg_threads = false, cfg_failed = false;
struct event { u64 age_ns; u32 pid, ppid, tid; int exit_code; char comm[16]; };
SHARK_RINGBUF(events, struct event, 1 << 18);

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx)
{
  u64 id = bpf_get_current_pid_tgid();
  u32 pid = id >> 32, tid = (u32)id;
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct event e = {};
  if ((cfg_pid && pid != cfg_pid) || (!cfg_threads && pid != tid)) return 0;
  e.exit_code = BPF_CORE_READ(t, exit_code);
  if (cfg_failed && !e.exit_code) return 0;
  e.pid = pid;
  e.tid = tid;
  e.ppid = BPF_CORE_READ(t, real_parent, tgid);
  e.age_ns = bpf_ktime_get_ns() - BPF_CORE_READ(t, start_time);
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  shark_ringbuf_output(events, &e, sizeof(e));
  return 0;
}
]], { rodata = { cfg_pid = o.pid or 0, cfg_threads = o.threaded or false, cfg_failed = o.failed or false } })

local out = require("shark.table").new{ json = o.json,
  { "TIME    ", "%s", "time", hide = not o.timestamp, text = function() return os.date("%H:%M:%S") end },
  { "PCOMM", "%-16s", "comm" }, { "PID", "%-7d", "pid" }, { "PPID", "%-7d", "ppid" }, { "TID", "%-7d", "tid" },
  { "AGE(s)", "%-7.2f", "age" }, { "EXIT_CODE", "%s", "exit_code", text = function(_, r) return r.what end },
  { "SIGNAL", "%s", "signal", hide = true } }
out:header()

bpf.on_ring(obj.maps.events, function(e)
  local code, sig = bit.rshift(e.exit_code, 8), bit.band(e.exit_code, 0x7f)
  local what = sig ~= 0 and ("signal %d (%s)"):format(sig, signals.name(sig):sub(4)) or
    (code ~= 0 and ("code %d"):format(code) or "0")
  if sig ~= 0 and bit.band(e.exit_code, 0x80) ~= 0 then what = what .. ", core dumped" end
  local comm, age = ffi.string(e.comm), tonumber(e.age_ns) / 1e9
  out:row{ comm = comm, pid = e.pid, ppid = e.ppid, tid = e.tid, age = age, exit_code = code, what = what,
    signal = sig ~= 0 and signals.name(sig) or nil }
end)
