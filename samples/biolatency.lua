-- SPDX-License-Identifier: GPL-2.0
-- biolatency.lua - block I/O latency as a log2 histogram, aggregated in the kernel (BCC biolatency).
-- Run: shark samples/biolatency.lua -d 5     shark samples/biolatency.lua -D -m 1 10
local hist = require "hist"

local o = shark.getopt{
  about = "Time from a block I/O request's issue to the device to its completion (with -Q, from being\n" ..
    "queued), as a log2 histogram; from block:block_rq_issue/insert/complete, keyed by disk and sector.",
  args = { "[interval]", "[count]" },
  examples = { "biolatency.lua -d 5", "biolatency.lua -D -m 1 10     per disk, in ms, every second 10 times" },
  "duration", "timestamp",
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

local function disk(dev)   -- the kernel's dev_t: 12 bits major, 20 bits minor
  local mm = ("%d:%d"):format(bit.rshift(dev, 20), bit.band(dev, 0xfffff))
  local f = io.open("/sys/dev/block/" .. mm .. "/uevent")
  local name = f and f:read("*a"):match("DEVNAME=(%S+)") or mm
  if f then f:close() end
  return name
end

local label = o.milliseconds and "msecs" or "usecs"
local function report()
  if o.timestamp then print(os.date("%H:%M:%S")) end
  local hs, devs = {}, {}
  for k, n in pairs(obj.maps.lat) do
    if not hs[k.dev] then hs[k.dev], devs[#devs + 1] = {}, k.dev end
    hs[k.dev][k.slot] = n
  end
  table.sort(devs)
  for _, dev in ipairs(devs) do
    local total = 0
    for _, n in pairs(hs[dev]) do total = total + n end
    print(o.disks and ("@%s[%s]: %d I/Os"):format(label, disk(dev), total) or ("@%s: %d I/Os"):format(label, total))
    hist.print_log2(hs[dev])
    print()
  end
  obj.maps.lat:clear()
end
if o.interval then shark.every(o.interval, o.count, report) end
shark.on_end(report)
