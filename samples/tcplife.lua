-- SPDX-License-Identifier: GPL-2.0
-- tcplife.lua - TCP sessions as they close: endpoints, bytes sent and received, lifespan (BCC tcplife).
-- Run: shark samples/tcplife.lua [-p PID] [-P PORT] [-4|-6] [-t] [-j]
local inet = require "shark.inet"
local o = shark.getopt(inet.options({
  about = "Trace TCP session lifespans from sock:inet_sock_set_state. TX/RX are payload bytes from tcp_sock " ..
    "(bytes_sent - bytes_retrans, bytes_received less a FIN); PID/COMM is the process that connect()ed or close()d it.",
  examples = { "tcplife.lua -P 22", "tcplife.lua -6 -j" },
}, "only sessions with this local or remote port"))

bpf.cdef([[
const volatile u32 cfg_pid = 0;
const volatile u16 cfg_port = 0, cfg_family = 0;
struct who { u32 pid; char comm[16]; };
struct event { u64 ts, span_ns, tx, rx; u32 pid; u16 family, lport, rport; u8 laddr[16], raddr[16]; char comm[16]; };
SHARK_RINGBUF(events, struct event, 1 << 18);
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16384);
  __type(key, u64); __type(value, u64); } births SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16384);
  __type(key, u64); __type(value, struct who); } whoami SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
  u64 sk = (u64)ctx->skaddr, now = bpf_ktime_get_ns(), *birth;
  int ns = ctx->newstate;
  struct who w = {}, *wp;
  if (ctx->protocol != IPPROTO_TCP) return 0;
  if (ns < TCP_FIN_WAIT1 && !bpf_map_lookup_elem(&births, &sk)) bpf_map_update_elem(&births, &sk, &now, BPF_ANY);
  /* connect(), and close() either first (FIN_WAIT1) or second (LAST_ACK), run in the owner's context */
  if (ns == TCP_SYN_SENT || ns == TCP_FIN_WAIT1 || ns == TCP_LAST_ACK) {
    w.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&w.comm, sizeof(w.comm));
    bpf_map_update_elem(&whoami, &sk, &w, BPF_NOEXIST);
  }
  if (ns != TCP_CLOSE) return 0;
  birth = bpf_map_lookup_elem(&births, &sk);
  wp = bpf_map_lookup_elem(&whoami, &sk);
  if (birth && (!cfg_family || ctx->family == cfg_family) &&
      (!cfg_port || ctx->sport == cfg_port || ctx->dport == cfg_port) && (!cfg_pid || (wp && wp->pid == cfg_pid))) {
    struct tcp_sock *tp = (struct tcp_sock *)ctx->skaddr;
    /* payload bytes: data sent once (retransmits out), data received (a peer FIN counts one in
     * bytes_received; tcp_fin() has set SOCK_DONE by the time the socket closes) */
    u64 flags = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_flags);
    struct event e = { now, now - *birth, BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans),
      BPF_CORE_READ(tp, bytes_received) - ((flags >> SOCK_DONE) & 1) };
    e.family = ctx->family;
    e.lport = ctx->sport;
    e.rport = ctx->dport;
    if (e.family == 2 /* AF_INET */) {
      bpf_probe_read_kernel(e.laddr, 4, ctx->saddr);
      bpf_probe_read_kernel(e.raddr, 4, ctx->daddr);
    } else {
      bpf_probe_read_kernel(e.laddr, 16, ctx->saddr_v6);
      bpf_probe_read_kernel(e.raddr, 16, ctx->daddr_v6);
    }
    if (wp) {
      e.pid = wp->pid;
      __builtin_memcpy(e.comm, wp->comm, sizeof(e.comm));
    }
    shark_ringbuf_output(events, &e, sizeof(e));
  }
  bpf_map_delete_elem(&births, &sk);
  bpf_map_delete_elem(&whoami, &sk);
  return 0;
}
]], { rodata = inet.rodata(o) })

local t0 = shark.time()
local function kb(bytes) return math.floor(bytes / 1024) end
local out = inet.output(o, { { "PID", "%-7d", "pid" }, { "COMM", "%-12.12s", "comm" },
  { "LADDR", "%-15s", "laddr" }, { "LPORT", "%-5d", "lport" }, { "RADDR", "%-15s", "raddr" },
  { "RPORT", "%-5d", "rport" }, { "TX_KB", "%6d", "tx_bytes", text = kb }, { "RX_KB", "%6d", "rx_bytes", text = kb },
  { "MS", "%.2f", "ms" } })
bpf.on_ring("events", function(e)
  local r = inet.row(e, t0, "laddr", "raddr")
  r.lport, r.rport, r.ms = e.lport, e.rport, tonumber(e.span_ns) / 1e6
  r.tx_bytes, r.rx_bytes = tonumber(e.tx), tonumber(e.rx)
  out:row(r)
end)
