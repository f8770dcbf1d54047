-- SPDX-License-Identifier: GPL-2.0
-- futex.lua - futex contention: time threads wait in FUTEX_WAIT (and PI lock) calls, log2 histograms by process.
-- Run: shark samples/futex.lua -d 5     shark samples/futex.lua -p 1234 -a -m 1 10
local hist = require "hist"

local o = shark.getopt{
  about = "Time threads spend waiting in futex(2) wait operations (FUTEX_WAIT, FUTEX_WAIT_BITSET, the PI\n" ..
    "lock ops): contended mutexes, condition variables, joins. A log2 histogram per process, or per\n" ..
    "process and futex address with -a; from syscalls:sys_enter_futex/sys_exit_futex, in the kernel.",
  args = { "[interval]", "[count]" },
  examples = { "futex.lua -d 5               every process, 5 s", "futex.lua -p 1234 -a -m 1 10" },
  "pid", "duration", "timestamp",
  { "a", "address", nil, "a histogram per futex address too" },
  { "m", "milliseconds", nil, "milliseconds (default microseconds)" },
}

local obj = bpf.load([[
const volatile u32 cfg_pid = 0, cfg_addr = 0;
const volatile u64 cfg_unit = 1000;
struct wkey { u32 pid; u32 slot; u64 uaddr; };
struct wstart { u64 ts, uaddr; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, u32); __type(value, struct wstart); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct wkey); __type(value, u64); } waits SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, u32); __type(value, char[16]); } comms SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_futex")
int futex_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id, op = ctx->args[1] & 127;	/* FUTEX_CMD_MASK */
	struct wstart s = { bpf_ktime_get_ns(), ctx->args[0] };

	if (cfg_pid && id >> 32 != cfg_pid)
		return 0;
	/* WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2 */
	if (op == 0 || op == 6 || op == 9 || op == 11 || op == 13)
		bpf_map_update_elem(&start, &tid, &s, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int futex_exit(struct trace_event_raw_sys_exit *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id;
	struct wstart *s = bpf_map_lookup_elem(&start, &tid);
	struct wkey k = { .pid = id >> 32 };
	char comm[16];

	if (!s)
		return 0;
	k.slot = shark_log2_slot((bpf_ktime_get_ns() - s->ts) / cfg_unit);
	k.uaddr = cfg_addr ? s->uaddr : 0;
	bpf_map_delete_elem(&start, &tid);
	shark_count(&waits, &k);
	bpf_get_current_comm(comm, sizeof(comm));
	bpf_map_update_elem(&comms, &k.pid, comm, BPF_ANY);
	return 0;
}
]], { rodata = { cfg_pid = o.pid or 0, cfg_addr = o.address and 1 or 0, cfg_unit = o.milliseconds and 1e6 or 1e3 } })
shark.info("Tracing futex waits... Hit Ctrl-C to end.")

local function report()
  if o.timestamp then print(os.date("%H:%M:%S")) end
  -- take: each entry read and deleted at once, so no wait ends between a read and a clear
  local hs = hist.group(obj.maps.waits:take(), function(k)
    local addr = o.address and (" futex 0x%x"):format(tonumber(k.uaddr)) or ""
    return ("%s[%d]%s"):format(obj.maps.comms[k.pid] or "?", k.pid, addr), k.slot
  end)
  hist.print_log2_keyed(hs, "@" .. (o.milliseconds and "msecs" or "usecs") .. "[%s]: %d waits")
end
if o.interval then shark.every(o.interval, o.count, report) end
shark.on_end(report)
