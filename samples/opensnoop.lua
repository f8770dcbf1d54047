-- SPDX-License-Identifier: GPL-2.0
-- opensnoop.lua - open(2)/openat(2) calls with their path, fd or error (BCC/libbpf-tools opensnoop).
-- Run: shark samples/opensnoop.lua [-x] [-p PID] [-n NAME] [-e] [-T] [-j]
local o = shark.getopt{
  about = "Trace open() and openat() system calls: who opened which path, and the fd or the error.",
  examples = { "opensnoop.lua -x -e      # failed opens, with their flags", "opensnoop.lua -p 1234" },
  "pid", { "x", "failed", nil, "only failed opens" },
  { "n", "name", "NAME", "only processes whose name contains NAME" },
  { "e", "extended", nil, "show the open flags (octal)" },
  { "T", "timestamp", nil, "print seconds since the start" },
  "duration", "json",
}

bpf.cdef([[
const volatile u32 cfg_pid = 0;
const volatile bool cfg_failed = false;
struct start { const char *fname; int flags; };
struct event { u64 ts; u32 pid, tid; int ret, flags; char comm[16]; char fname[256]; };
SHARK_RINGBUF(events, struct event, 1 << 20);
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8192);
  __type(key, u32); __type(value, struct start); } starts SEC(".maps");

static __always_inline int enter(const char *fname, int flags)
{
  u64 id = bpf_get_current_pid_tgid();
  u32 tid = (u32)id;
  struct start s = { fname, flags };
  if (cfg_pid && (id >> 32) != cfg_pid) return 0;
  bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
  return 0;
}
SEC("tracepoint/syscalls/sys_enter_open")
int on_open(struct trace_event_raw_sys_enter *ctx) { return enter((const char *)ctx->args[0], ctx->args[1]); }
SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct trace_event_raw_sys_enter *ctx) { return enter((const char *)ctx->args[1], ctx->args[2]); }

static __always_inline int leave(struct trace_event_raw_sys_exit *ctx)
{
  u64 id = bpf_get_current_pid_tgid();
  u32 tid = (u32)id;
  struct start *s = bpf_map_lookup_elem(&starts, &tid);
  if (!s) return 0;
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e || (cfg_failed && ctx->ret >= 0)) {
    if (e) bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP); else __sync_fetch_and_add(&events_drops, 1);
    bpf_map_delete_elem(&starts, &tid);
    return 0;
  }
  e->ts = bpf_ktime_get_ns();
  e->pid = id >> 32;
  e->tid = tid;
  e->ret = ctx->ret;
  e->flags = s->flags;
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  bpf_probe_read_user_str(&e->fname, sizeof(e->fname), s->fname);
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  bpf_map_delete_elem(&starts, &tid);
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_open")
int on_open_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx); }
SEC("tracepoint/syscalls/sys_exit_openat")
int on_openat_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx); }
]], { rodata = { cfg_pid = o.pid or 0, cfg_failed = o.failed or false } })

local t0   -- the first event's time: 0 s
local out = require("shark.table").new{ json = o.json,
  { "TIME(s)", "%-12.6f", "time", hide = not o.timestamp }, { "PID", "%-7d", "pid" },
  { "TID", "%d", "tid", hide = true }, { "COMM", "%-16s", "comm" }, { "FD", "%3d", "fd" }, { "ERR", "%3d", "err" },
  { "FLAGS", "%-8s", "flags", hide = not o.extended, text = function(v) return ("%08o"):format(v) end },
  { "PATH", "%s", "path" } }
out:header()

bpf.on_ring("events", function(e)
  local comm = ffi.string(e.comm)
  if o.name and not comm:find(o.name, 1, true) then return end
  t0 = t0 or e.ts
  out:row{ pid = e.pid, tid = e.tid, comm = comm, fd = e.ret >= 0 and e.ret or -1, err = e.ret >= 0 and 0 or -e.ret,
    flags = e.flags, path = ffi.string(e.fname), time = tonumber(e.ts - t0) / 1e9 }
end)
