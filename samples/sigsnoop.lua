-- SPDX-License-Identifier: GPL-2.0
-- sigsnoop.lua - every signal generated, by kill(2) or by the kernel, with sender and target (libbpf-tools sigsnoop).
-- Run: shark samples/sigsnoop.lua [-x] [-p PID] [-s SIGNAL] [-n NAME] [-j]
local signals = require "shark.signals"
local o = shark.getopt{
  about = "Trace signals as they are generated (signal:signal_generate): from kill(), tgkill(), and the kernel " ..
    "(SIGCHLD, SIGSEGV, SIGPIPE, ...). PID/COMM is the task that caused it, TPID/TCOMM its target.",
  examples = { "sigsnoop.lua -s KILL", "sigsnoop.lua -x            # signals not delivered" },
  "pid", { "x", "failed", nil, "only signals that were not delivered (ignored, already pending, ...)" },
  { "s", "signal", "SIGNAL", "only this signal (number or name)", type = signals.number },
  { "n", "name", "NAME", "only senders whose name contains NAME" },
  "duration", "json",
}
local RESULT = { [0] = "delivered", "ignored", "already_pending", "overflow_fail", "lose_info" }

bpf.cdef([[
const volatile u32 cfg_pid = 0;
const volatile int cfg_sig = 0;
struct event { u32 pid; int tpid, sig, result; char comm[16], tcomm[16]; };
SHARK_RINGBUF(events, struct event, 1 << 18);

SEC("tracepoint/signal/signal_generate")
int on_signal(struct trace_event_raw_signal_generate *ctx)
{
  struct event e = { bpf_get_current_pid_tgid() >> 32, ctx->pid, ctx->sig, ctx->result };
  if ((cfg_pid && e.pid != cfg_pid) || (cfg_sig && e.sig != cfg_sig)) return 0;
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  bpf_probe_read_kernel(e.tcomm, sizeof(e.tcomm), ctx->comm);
  shark_ringbuf_output(events, &e, sizeof(e));
  return 0;
}
]], { rodata = { cfg_pid = o.pid or 0, cfg_sig = o.signal or 0 } })

local out = require("shark.table").new{ json = o.json,
  { "TIME", "%-8s", "time", text = function() return os.date("%H:%M:%S") end },
  { "PID", "%-7d", "pid" }, { "COMM", "%-16s", "comm" }, { "SIG", "%-9s", "signal" },
  { "SIGNO", "%d", "sig", hide = true }, { "TPID", "%-7d", "tpid" }, { "TCOMM", "%-16s", "tcomm" },
  { "RESULT", "%s", "result" } }
out:header()
bpf.on_ring("events", function(e)
  if o.failed and e.result == 0 then return end
  local comm = ffi.string(e.comm)
  if o.name and not comm:find(o.name, 1, true) then return end
  local result = RESULT[e.result] or tostring(e.result)
  out:row{ pid = e.pid, comm = comm, sig = e.sig, signal = signals.name(e.sig), tpid = e.tpid,
    tcomm = ffi.string(e.tcomm), result = result }
end)
