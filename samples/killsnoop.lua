-- SPDX-License-Identifier: GPL-2.0
-- killsnoop.lua - kill(2) system calls: who sent which signal to whom, and the result (BCC/libbpf-tools killsnoop).
-- Run: shark samples/killsnoop.lua [-x] [-p PID] [-s SIGNAL] [-j]
local signals = require "shark.signals"
local o = shark.getopt{
  about = "Trace kill() system calls: sender, signal, target pid and the result (0 or -errno).",
  examples = { "killsnoop.lua -x          # failed kill()s only", "killsnoop.lua -s KILL" },
  "pid", { "x", "failed", nil, "only failed kill()s" },
  { "s", "signal", "SIGNAL", "only this signal (number or name)", type = signals.number },
  "duration", "json",
}

bpf.cdef([[
const volatile u32 cfg_pid = 0;
struct start { int tpid, sig; };
struct event { u32 pid; int tpid, sig, ret; char comm[16]; };
SHARK_RINGBUF(events, struct event, 1 << 18);
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);
  __type(key, u32); __type(value, struct start); } starts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_kill")
int on_kill(struct trace_event_raw_sys_enter *ctx)
{
  u64 id = bpf_get_current_pid_tgid();
  u32 tid = (u32)id;
  struct start s = { (int)ctx->args[0], (int)ctx->args[1] };
  if (cfg_pid && (id >> 32) != cfg_pid) return 0;
  bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_kill")
int on_kill_exit(struct trace_event_raw_sys_exit *ctx)
{
  u64 id = bpf_get_current_pid_tgid();
  u32 tid = (u32)id;
  struct start *s = bpf_map_lookup_elem(&starts, &tid);
  if (!s) return 0;
  struct event e = { id >> 32, s->tpid, s->sig, ctx->ret };
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  shark_ringbuf_output(events, &e, sizeof(e));
  bpf_map_delete_elem(&starts, &tid);
  return 0;
}
]], { rodata = { cfg_pid = o.pid or 0 } })

local out = require("shark.table").new{ json = o.json,
  { "TIME", "%-8s", "time", text = function() return os.date("%H:%M:%S") end },
  { "PID", "%-7d", "pid" }, { "COMM", "%-16s", "comm" }, { "SIG", "%-4d", "sig" },
  { "SIGNAL", "%s", "signal", hide = true }, { "TPID", "%-7d", "tpid" }, { "RESULT", "%d", "result" } }
out:header()
bpf.on_ring("events", function(e)
  if (o.failed and e.ret == 0) or (o.signal and e.sig ~= o.signal) then return end
  out:row{ pid = e.pid, comm = ffi.string(e.comm), sig = e.sig, signal = signals.name(e.sig), tpid = e.tpid,
    result = e.ret }
end)
