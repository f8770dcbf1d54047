-- SPDX-License-Identifier: GPL-2.0
-- tcpconnect.lua - active TCP opens (connect()), IPv4 and IPv6, from sock:inet_sock_set_state (BCC tcpconnect).
-- Run: shark samples/tcpconnect.lua [-p PID] [-P PORT] [-4|-6] [-t] [-j]
local inet = require "shark.inet"
local o = shark.getopt{
  about = "Trace TCP connect()s: the socket's CLOSE -> SYN_SENT transition, made in the connecting process.",
  examples = { "tcpconnect.lua -P 443", "tcpconnect.lua -6 -t" },
  "pid", { "P", "port", "PORT", "only connections to this destination port", type = "int" },
  { "4", "ipv4", nil, "IPv4 only" }, { "6", "ipv6", nil, "IPv6 only" },
  { "t", "timestamp", nil, "print seconds since the start" },
  "duration", "json",
}

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
]], { rodata = { cfg_pid = o.pid or 0, cfg_port = o.port or 0,
  cfg_family = o.ipv4 and inet.AF_INET or o.ipv6 and inet.AF_INET6 or 0 } })

local cjson = require "cjson"
local t0 = shark.time()
if not o.json then
  print((o.timestamp and "TIME(s)   " or "") ..
    ("%-7s %-16s %-2s %-16s %-16s %s"):format("PID", "COMM", "IP", "SADDR", "DADDR", "DPORT"))
end
bpf.on_ring("events", function(e)
  local ip = e.family == inet.AF_INET and 4 or 6
  local comm, saddr, daddr = ffi.string(e.comm), inet.ntop(e.family, e.saddr), inet.ntop(e.family, e.daddr)
  if o.json then
    return print(cjson.encode{ pid = e.pid, comm = comm, ip = ip, saddr = saddr, daddr = daddr, dport = e.dport,
      time = tonumber(e.ts - t0) / 1e9 })
  end
  print((o.timestamp and ("%-9.3f "):format(tonumber(e.ts - t0) / 1e9) or "") ..
    ("%-7d %-16s %-2d %-16s %-16s %d"):format(e.pid, comm, ip, saddr, daddr, e.dport))
end)
