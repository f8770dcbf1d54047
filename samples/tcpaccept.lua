-- SPDX-License-Identifier: GPL-2.0
-- tcpaccept.lua - passive TCP opens (accept()), IPv4 and IPv6, with the accepting process (BCC tcpaccept).
-- Run: shark samples/tcpaccept.lua [-p PID] [-P PORT] [-4|-6] [-t] [-j]
local inet = require "shark.inet"
local o = shark.getopt(inet.options({
  about = "Trace TCP accept()s. The handshake completes (SYN_RECV -> ESTABLISHED) in softirq context, where " ..
    "the current task is a bystander, so the connection is remembered there and reported when accept() or " ..
    "accept4() returns its fd in the accepting process.",
  examples = { "tcpaccept.lua -P 80", "tcpaccept.lua -4 -t" },
}, "only connections to this local port"))

bpf.cdef([[
const volatile u32 cfg_pid = 0;
const volatile u16 cfg_port = 0, cfg_family = 0;
struct event { u64 ts; u32 pid; u16 family, lport, rport; u8 laddr[16], raddr[16]; char comm[16]; };
SHARK_RINGBUF(events, struct event, 1 << 18);
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16384);
  __type(key, u64); __type(value, struct event); } established SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
  u64 sk = (u64)ctx->skaddr;
  struct event e = {};
  if (ctx->protocol != IPPROTO_TCP) return 0;
  if (ctx->newstate == TCP_CLOSE) { bpf_map_delete_elem(&established, &sk); return 0; }
  if (ctx->oldstate != TCP_SYN_RECV || ctx->newstate != TCP_ESTABLISHED) return 0;
  if ((cfg_port && ctx->sport != cfg_port) || (cfg_family && ctx->family != cfg_family)) return 0;
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
  bpf_map_update_elem(&established, &sk, &e, BPF_ANY);
  return 0;
}

static __always_inline int accepted(long fd)
{
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
  struct file *f = 0;
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (fd < 0 || (cfg_pid && pid != cfg_pid)) return 0;
  if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f) return 0;
  struct socket *so = BPF_CORE_READ(f, private_data);
  u64 sk = (u64)BPF_CORE_READ(so, sk);
  struct event *e = bpf_map_lookup_elem(&established, &sk);
  if (!e) return 0;
  e->ts = bpf_ktime_get_ns();
  e->pid = pid;
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  shark_ringbuf_output(events, e, sizeof(*e));
  bpf_map_delete_elem(&established, &sk);
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx->ret); }
]], { rodata = inet.rodata(o) })

local t0 = shark.time()
local out = inet.output(o, { { "PID", "%-7d", "pid" }, { "COMM", "%-16s", "comm" }, { "IP", "%-2d", "ip" },
  { "RADDR", "%-16s", "raddr" }, { "RPORT", "%-5d", "rport" }, { "LADDR", "%-16s", "laddr" },
  { "LPORT", "%d", "lport" } })
bpf.on_ring("events", function(e)
  local r = inet.row(e, t0, "raddr", "laddr")
  r.rport, r.lport = e.rport, e.lport
  out:row(r)
end)
