-- SPDX-License-Identifier: GPL-2.0
-- tcpconnect.lua - active TCP opens (connect()), IPv4 and IPv6, from sock:inet_sock_set_state (BCC tcpconnect).
-- Run: shark samples/tcpconnect.lua [-p PID] [-P PORT] [-4|-6] [-t] [-j]
local inet = require "shark.inet"
local o = shark.getopt(inet.options({
  about = "Trace TCP connect()s: the socket's CLOSE -> SYN_SENT transition, made in the connecting process.",
  examples = { "tcpconnect.lua -P 443", "tcpconnect.lua -6 -t" },
}, "only connections to this destination port"))

bpf.cdef([[
const volatile u32 cfg_pid = 0;
const volatile u16 cfg_port = 0, cfg_family = 0;
struct event { u64 ts; u32 pid; u16 family, dport; u8 saddr[16], daddr[16]; char comm[16]; };
SHARK_RINGBUF(events, struct event, 1 << 18);

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
  struct event e = {};
  if (ctx->protocol != IPPROTO_TCP || ctx->oldstate != TCP_CLOSE || ctx->newstate != TCP_SYN_SENT) return 0;
  e.pid = bpf_get_current_pid_tgid() >> 32;
  if ((cfg_pid && e.pid != cfg_pid) || (cfg_port && ctx->dport != cfg_port) ||
      (cfg_family && ctx->family != cfg_family)) return 0;
  e.ts = bpf_ktime_get_ns();
  e.family = ctx->family;
  e.dport = ctx->dport;
  if (e.family == 2 /* AF_INET */) {
    bpf_probe_read_kernel(e.saddr, 4, ctx->saddr);
    bpf_probe_read_kernel(e.daddr, 4, ctx->daddr);
  } else {
    bpf_probe_read_kernel(e.saddr, 16, ctx->saddr_v6);
    bpf_probe_read_kernel(e.daddr, 16, ctx->daddr_v6);
  }
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  shark_ringbuf_output(events, &e, sizeof(e));
  return 0;
}
]], { rodata = inet.rodata(o) })

local t0 = shark.time()
local out = inet.output(o, { { "PID", "%-7d", "pid" }, { "COMM", "%-16s", "comm" }, { "IP", "%-2d", "ip" },
  { "SADDR", "%-16s", "saddr" }, { "DADDR", "%-16s", "daddr" }, { "DPORT", "%d", "dport" } })
bpf.on_ring("events", function(e)
  local r = inet.row(e, t0, "saddr", "daddr")
  r.dport = e.dport
  out:row(r)
end)
