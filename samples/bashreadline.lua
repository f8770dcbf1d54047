-- SPDX-License-Identifier: GPL-2.0
-- bashreadline.lua - commands typed into interactive bash shells, system-wide (BCC/bpftrace bashreadline).
-- Run: shark samples/bashreadline.lua [-s /path/to/bash-or-libreadline.so] [-p PID] [-j]
local o = shark.getopt{
  about = "Print the lines bash reads with readline() (what users type), from a uretprobe on readline.",
  examples = { "bashreadline.lua", "bashreadline.lua -s /lib/x86_64-linux-gnu/libreadline.so.8" },
  { "s", "shared", "PATH", "the binary or library holding readline (default: bash's real path)" },
  "pid", "duration", "json",
}

local binary = o.shared or require("uv").fs_realpath("/bin/bash") or "/usr/bin/bash"

local obj = bpf.load([[
struct event { u64 ts; u32 pid; char comm[16]; char line[256]; };
SHARK_RINGBUF(events, struct event, 1 << 18);

SEC("uretprobe")
int BPF_KRETPROBE(on_readline, const char *ret)
{
  struct event *e;
  if (!ret) return 0;
  e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) { __sync_fetch_and_add(&events_drops, 1); return 0; }
  e->ts = bpf_ktime_get_ns();
  e->pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  bpf_probe_read_user_str(&e->line, sizeof(e->line), ret);
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}
]], { attach = false })
obj.progs.on_readline:attach_uretprobe{ binary = binary, func = "readline", pid = o.pid or -1 }

local out = require("shark.table").new{ json = o.json,
  { "TIME", "%-9s", "time", text = function() return os.date("%H:%M:%S") end },
  { "PID", "%-7d", "pid" }, { "COMM", "%s", "comm", hide = true }, { "COMMAND", "%s", "command" } }
out:header()
bpf.on_ring(obj.maps.events, function(e)
  out:row{ pid = e.pid, comm = ffi.string(e.comm), command = ffi.string(e.line) }
end)
