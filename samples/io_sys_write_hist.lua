-- SPDX-License-Identifier: GPL-2.0
-- io_sys_write_hist.lua - a log2 histogram of write(2) sizes, aggregated in the kernel.
-- Run: shark samples/io_sys_write_hist.lua [-p PID | -c COMM] [-d SECONDS] [interval [count]]
--      shark -c 'dd if=/dev/zero of=/dev/null bs=3000 count=500' samples/io_sys_write_hist.lua
local o = shark.getopt{
  about = "Histogram of the bytes asked of write(2), counted in the kernel (a BPF array of log2 slots).",
  examples = { "io_sys_write_hist.lua -c dd          # writes of processes named dd, until Ctrl-C",
    "io_sys_write_hist.lua 1 5            # every process, a histogram per second, 5 times" },
  args = { "[interval]", "[count]" }, "pid", "comm", "duration",
}

local obj = bpf.load([[
const volatile u32 cfg_pid = 0;
const volatile char cfg_comm[16] = {};
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 64);
         __type(key, u32); __type(value, u64); } bytes SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(struct trace_event_raw_sys_enter *ctx)
{
  if (cfg_pid && (bpf_get_current_pid_tgid() >> 32) != cfg_pid) return 0;
  if (cfg_comm[0]) {
    char comm[16];
    bpf_get_current_comm(comm, sizeof(comm));
    for (int i = 0; i < 16 && (comm[i] || cfg_comm[i]); i++)
      if (comm[i] != cfg_comm[i]) return 0;
  }
  u32 slot = shark_log2_slot(ctx->args[2]);
  u64 *n = bpf_map_lookup_elem(&bytes, &slot);
  if (n) __sync_fetch_and_add(n, 1);
  return 0;
}
]], { rodata = { cfg_pid = o.pid or 0, cfg_comm = o.comm or "" } })

local function show()
  print("@bytes:")
  bpf.print_hist_map(obj.maps.bytes)
  print()
end

shark.info(("tracing write(2) of %s... %s"):format(o.pid and ("pid " .. o.pid) or o.comm and ("comm " .. o.comm)
  or "every process", o.interval and "" or "Ctrl-C to end"))
if o.interval then
  shark.every(o.interval, o.count, function()
    show()
    obj.maps.bytes:clear()
  end)
else
  shark.on_end(show)
end
