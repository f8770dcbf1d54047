-- SPDX-License-Identifier: GPL-2.0
-- execsnoop.lua - every exec(): the path, its arguments and the result (BCC/libbpf-tools execsnoop).
-- Run: shark samples/execsnoop.lua [-x] [-n NAME] [-T|-t] [-j]
local o = shark.getopt{
  about = "Trace exec() system calls: the new command, its pid, parent, the path exec'd and its\n" ..
    "arguments (argv[1...]), as BCC and libbpf-tools execsnoop print them: successful ones, and\n" ..
    "failed ones too with -x (RET is then -errno; PCOMM is the caller's).",
  examples = { "execsnoop.lua -x          # failed execs too", "execsnoop.lua -n make -T   # commands named *make*" },
  { "x", "fails", nil, "include failed exec()s" },
  { "n", "name", "NAME", "only commands whose name contains NAME" },
  { "l", "line", "TEXT", "only commands whose arguments contain TEXT" },
  "timestamp", { "t", "time", nil, "print seconds since the start" },
  "duration", "json",
}

bpf.cdef[[
#define MAX_ARGS 20
#define ARG_SIZE 128
struct event { u64 ts; u32 pid, ppid; int ret, argc; u32 args_size; char comm[16]; char args[MAX_ARGS * ARG_SIZE]; };
SHARK_RINGBUF(events, struct event, 1 << 20);
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);
  __type(key, u32); __type(value, struct event); } execs SEC(".maps");
static const struct event empty;

static __always_inline int enter(const char *path, const char *const *argv)
{
  u32 tid = (u32)bpf_get_current_pid_tgid();
  if (bpf_map_update_elem(&execs, &tid, &empty, BPF_ANY)) return 0;
  struct event *e = bpf_map_lookup_elem(&execs, &tid);
  if (!e) return 0;
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->ppid = BPF_CORE_READ(t, real_parent, tgid);
  /* the path exec'd, then argv[1...]: argv[0] is whatever the caller chose */
  long n0 = bpf_probe_read_user_str(e->args, ARG_SIZE, path);
  if (n0 <= 0) return 0;
  e->args_size = n0;
  e->argc = 1;
  for (int i = 1; i < MAX_ARGS; i++) {
    const char *p = 0;
    if (bpf_probe_read_user(&p, sizeof(p), &argv[i]) || !p) break;
    if (e->args_size > (MAX_ARGS - 1) * ARG_SIZE) break;
    long n = bpf_probe_read_user_str(&e->args[e->args_size], ARG_SIZE, p);
    if (n <= 0) break;
    e->args_size += n;
    e->argc++;
  }
  return 0;
}
SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(struct trace_event_raw_sys_enter *ctx)
{ return enter((const char *)ctx->args[0], (const char *const *)ctx->args[1]); }
SEC("tracepoint/syscalls/sys_enter_execveat")
int on_execveat(struct trace_event_raw_sys_enter *ctx)
{ return enter((const char *)ctx->args[1], (const char *const *)ctx->args[2]); }

static __always_inline int leave(struct trace_event_raw_sys_exit *ctx)
{
  u32 tid = (u32)bpf_get_current_pid_tgid();
  struct event *e = bpf_map_lookup_elem(&execs, &tid);
  if (!e) return 0;
  e->ret = ctx->ret;
  e->ts = bpf_ktime_get_ns();
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  shark_ringbuf_output(events, e, sizeof(*e));
  bpf_map_delete_elem(&execs, &tid);
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_execve")
int on_execve_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx); }
SEC("tracepoint/syscalls/sys_exit_execveat")
int on_execveat_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx); }
]]

local t0   -- the first event's time: 0 s
local out = require("shark.table").new{ json = o.json,
  { "TIME", "%-8s", "clock", hide = not o.timestamp, text = function() return os.date("%H:%M:%S") end },
  { "TIME(s)", "%-8.3f", "time", hide = not o.time }, { "PCOMM", "%-16s", "comm" }, { "PID", "%-7d", "pid" },
  { "PPID", "%-7d", "ppid" }, { "RET", "%3d", "ret" }, { "ARGS", "%s", "args" } }
out:header()

bpf.on_ring("events", function(e)
  if e.ret < 0 and not o.fails then return end
  local comm = ffi.string(e.comm)
  local args = ffi.string(e.args, e.args_size):gsub("%z$", ""):gsub("%z", " ")
  if e.argc == 20 then args = args .. " ..." end
  if (o.name and not comm:find(o.name, 1, true)) or (o.line and not args:find(o.line, 1, true)) then return end
  t0 = t0 or e.ts
  out:row{ comm = comm, pid = e.pid, ppid = e.ppid, ret = e.ret, args = args, time = tonumber(e.ts - t0) / 1e9 }
end)
