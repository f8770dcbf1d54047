-- SPDX-License-Identifier: GPL-2.0
-- biolatency.lua - block I/O latency as a log2 histogram, aggregated in the kernel (BCC biolatency).
-- Run: shark samples/biolatency.lua -d 5     shark samples/biolatency.lua -D -m 1 10
local hist = require "hist"
local dev = require "shark.dev"

local o = shark.getopt{
  about = "Time from a block I/O request's issue to the device to its completion (with -Q, from being\n" ..
    "queued), as a log2 histogram, like BCC/libbpf-tools biolatency; from the block_rq_issue/insert/complete\n" ..
    "raw tracepoints, each request known by its struct request (as libbpf-tools does).",
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
extern int LINUX_KERNEL_VERSION __kconfig;
struct hkey { u32 dev, slot; };
/* in-flight requests by their struct request: a disk and sector is not a
 * key (two reads of one block, flushes, in flight at once would collide) */
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, u64); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4096);
         __type(key, struct hkey); __type(value, u64); } lat SEC(".maps");

/* the block tracepoints' dev: the disk's MKDEV(major, first_minor) */
static u32 disk_dev(struct request *rq)
{
	struct gendisk *d = BPF_CORE_READ(rq, q, disk);

	return d ? (u32)BPF_CORE_READ(d, major) << 20 | (u32)BPF_CORE_READ(d, first_minor) : 0;
}

static int stamp(struct request *rq, int queued)
{
	u64 k = (u64)rq, now = bpf_ktime_get_ns();

	if (queued && !cfg_queued)
		return 0;
	/* -Q: from the insert, or from the issue of requests never inserted */
	bpf_map_update_elem(&start, &k, &now, !queued && cfg_queued ? BPF_NOEXIST : BPF_ANY);
	return 0;
}

/* before 5.11, block_rq_insert and block_rq_issue took (q, rq) */
SEC("raw_tp/block_rq_insert")
int rq_insert(struct bpf_raw_tracepoint_args *ctx)
{
	return stamp((struct request *)ctx->args[LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 11, 0)], 1);
}

SEC("raw_tp/block_rq_issue")
int rq_issue(struct bpf_raw_tracepoint_args *ctx)
{
	return stamp((struct request *)ctx->args[LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 11, 0)], 0);
}

SEC("raw_tp/block_rq_complete")
int rq_complete(struct bpf_raw_tracepoint_args *ctx)
{
	struct request *rq = (struct request *)ctx->args[0];
	u64 k = (u64)rq, *t = bpf_map_lookup_elem(&start, &k);
	struct hkey h = {};

	if (!t)
		return 0;
	h.dev = cfg_disks ? disk_dev(rq) : 0;
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
