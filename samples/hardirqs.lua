-- SPDX-License-Identifier: GPL-2.0
-- hardirqs.lua - time (or count) spent in each hard IRQ handler, summed in the kernel (BCC hardirqs).
-- Run: shark samples/hardirqs.lua -d 5     shark samples/hardirqs.lua -D -N 1 5
local hist = require "hist"

local o = shark.getopt{
  about = "Time in hard interrupt handlers per handler name (as /proc/interrupts names them), from\n" ..
    "irq:irq_handler_entry/exit. -D gives a histogram per handler (BCC's -d: -d is the duration here).",
  args = { "[interval]", "[count]" },
  examples = { "hardirqs.lua -d 5", "hardirqs.lua -D 1 5     histograms every second, 5 times" },
  "duration", "timestamp", "json",
  { "C", "count-events", nil, "count events instead of time" },
  { "D", "dist", nil, "a log2 histogram of the time per handler" },
  { "N", "nanoseconds", nil, "nanoseconds (default microseconds)" },
}

local obj = bpf.load([[
const volatile u64 cfg_unit = 1000;
const volatile u32 cfg_count = 0, cfg_dist = 0;
struct hkey { char name[32]; u32 slot; };
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1);
         __type(key, u32); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);
         __type(key, struct hkey); __type(value, u64); } sums SEC(".maps");

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(irq_in, int irq, struct irqaction *action)
{
	u32 zero = 0;
	u64 *t = bpf_map_lookup_elem(&start, &zero);

	if (t)
		*t = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(irq_out, int irq, struct irqaction *action)
{
	u32 zero = 0;
	u64 *t = bpf_map_lookup_elem(&start, &zero), d;
	struct hkey k = {};

	if (!t || !*t)
		return 0;
	bpf_probe_read_kernel_str(k.name, sizeof(k.name), BPF_CORE_READ(action, name));
	d = (bpf_ktime_get_ns() - *t) / cfg_unit;
	*t = 0;
	if (cfg_dist)
		k.slot = shark_log2_slot(d);
	shark_sum(&sums, &k, cfg_dist || cfg_count ? 1 : d);
	return 0;
}
]], { rodata = { cfg_unit = o.nanoseconds and 1 or 1000, cfg_count = o.count_events and 1 or 0,
  cfg_dist = o.dist and 1 or 0 } })
shark.info(("Tracing hard irq event %s... Hit Ctrl-C to end."):format(o.count_events and "count" or "time"))

local total = "TOTAL_" .. (o.count_events and "count" or o.nanoseconds and "nsecs" or "usecs")
local function report()
  if o.timestamp and not o.json then print(os.date("%H:%M:%S")) end
  local hs = hist.group(obj.maps.sums, function(k) return ffi.string(k.name), k.slot end)
  if o.dist then
    hist.print_log2_keyed(hs, "hardirq = %s: %d events", { json = o.json, unit = total:sub(7) })
  else
    hist.print_totals(hist.totals(hs), { "HARDIRQ", total }, { width = 24, json = o.json })
  end
  obj.maps.sums:clear()
end
if o.interval then shark.every(o.interval, o.count, report) end
shark.on_end(report)
