-- SPDX-License-Identifier: GPL-2.0
-- biolatency.lua - block I/O latency as a log2 histogram, aggregated in the kernel (BCC biolatency).
-- Run: shark samples/biolatency.lua -d 5     shark samples/biolatency.lua -D -m 1 10
local hist = require "hist"
local dev = require "shark.dev"

local o = shark.getopt{
  about = "Time from a block I/O request's issue to the device to its completion (with -Q, from being\n" ..
    "queued), as a log2 histogram; from block:block_rq_issue/insert/complete, keyed by disk and sector.",
  args = { "[interval]", "[count]" },
  examples = { "biolatency.lua -d 5", "biolatency.lua -D -m 1 10     per disk, in ms, every second 10 times" },
  "duration", "timestamp", "json",
  { "D", "disks", nil, "a histogram per disk" },
  { "m", "milliseconds", nil, "milliseconds (default microseconds)" },
  { "Q", "queued", nil, "include the time queued in the kernel" },
}

local obj = bpf.load([[
const volatile u32 cfg_disks = 0, cfg_queued = 0;
const volatile u64 cfg_unit = 1000;
struct rqkey { u64 dev, sector; };
struct hkey { u32 dev, slot; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct rqkey); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4096);
         __type(key, struct hkey); __type(value, u64); } lat SEC(".maps");

static int stamp(struct trace_event_raw_block_rq *ctx, int queued)
{
	struct rqkey k = { ctx->dev, ctx->sector };
	u64 now = bpf_ktime_get_ns();

	if (queued && !cfg_queued)
		return 0;
	/* -Q: from the insert, or from the issue of requests never inserted */
	bpf_map_update_elem(&start, &k, &now, !queued && cfg_queued ? BPF_NOEXIST : BPF_ANY);
	return 0;
}

SEC("tracepoint/block/block_rq_insert")
int rq_insert(struct trace_event_raw_block_rq *ctx) { return stamp(ctx, 1); }

SEC("tracepoint/block/block_rq_issue")
int rq_issue(struct trace_event_raw_block_rq *ctx) { return stamp(ctx, 0); }

SEC("tracepoint/block/block_rq_complete")
int rq_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct rqkey k = { ctx->dev, ctx->sector };
	u64 *t = bpf_map_lookup_elem(&start, &k);
	struct hkey h = {};

	if (!t)
		return 0;
	h.dev = cfg_disks ? ctx->dev : 0;
	h.slot = shark_log2_slot((bpf_ktime_get_ns() - *t) / cfg_unit);
	bpf_map_delete_elem(&start, &k);
	shark_count(&lat, &h);
	return 0;
}
]], { rodata = { cfg_disks = o.disks and 1 or 0, cfg_queued = o.queued and 1 or 0,
  cfg_unit = o.milliseconds and 1e6 or 1e3 } })
shark.info("Tracing block device I/O... Hit Ctrl-C to end.")

local label = o.milliseconds and "msecs" or "usecs"
local function report()
  if o.timestamp and not o.json then print(os.date("%H:%M:%S")) end
  local hs = hist.group(obj.maps.lat, function(k) return o.disks and dev.disk_name(k.dev) or "all", k.slot end)
  hist.print_log2_keyed(hs, function(d, n)
    return o.disks and ("@%s[%s]: %d I/Os"):format(label, d, n) or ("@%s: %d I/Os"):format(label, n)
  end, { order = "key", json = o.json, unit = label })
  obj.maps.lat:clear()
end
if o.interval then shark.every(o.interval, o.count, report) end
shark.on_end(report)
