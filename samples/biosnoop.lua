-- SPDX-License-Identifier: GPL-2.0
-- biosnoop.lua - one line per block I/O: who issued it, the disk, direction, sector, size and latency (BCC biosnoop).
-- Run: shark samples/biosnoop.lua -d 5     shark samples/biosnoop.lua -Q -p 1234
local dev = require "shark.dev"

local o = shark.getopt{
  about = "Block I/O requests as they complete, with the process that queued them and the time from\n" ..
    "issue to the device to completion (with -Q, from being queued); from the block tracepoints.",
  examples = { "biosnoop.lua -d 5", "biosnoop.lua -Q -j" },
  "pid", "duration", "json",
  { "Q", "queue", nil, "include the time queued in the kernel (a QUE(ms) column)" },
}

bpf.load([[
const volatile u32 cfg_pid = 0;
struct rqkey { u64 dev, sector; };
struct rqinfo { u64 insert, issue; u32 pid; char comm[16]; };
struct bio_event { u64 ts, lat, queued, sector; u32 pid, dev, bytes; char comm[16], rwbs[10]; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct rqkey); __type(value, struct rqinfo); } rqs SEC(".maps");
SHARK_RINGBUF(events, struct bio_event, 1 << 22);

static struct rqinfo *info(struct trace_event_raw_block_rq *ctx)
{
	struct rqkey k = { ctx->dev, ctx->sector };
	struct rqinfo zero = {}, *i = bpf_map_lookup_elem(&rqs, &k);

	if (i)
		return i;
	zero.pid = bpf_get_current_pid_tgid() >> 32;	/* the submitter: block_io_start runs in its context */
	bpf_get_current_comm(zero.comm, sizeof(zero.comm));
	bpf_map_update_elem(&rqs, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&rqs, &k);
}

SEC("tracepoint/block/block_io_start")
int io_start(struct trace_event_raw_block_rq *ctx) { info(ctx); return 0; }

static int stamp(struct trace_event_raw_block_rq *ctx, int issue)
{
	struct rqinfo *i = info(ctx);

	if (i && issue)
		i->issue = bpf_ktime_get_ns();
	else if (i)
		i->insert = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/block/block_rq_insert")
int rq_insert(struct trace_event_raw_block_rq *ctx) { return stamp(ctx, 0); }

SEC("tracepoint/block/block_rq_issue")
int rq_issue(struct trace_event_raw_block_rq *ctx) { return stamp(ctx, 1); }

SEC("tracepoint/block/block_rq_complete")
int rq_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct rqkey k = { ctx->dev, ctx->sector };
	struct rqinfo *i = bpf_map_lookup_elem(&rqs, &k);
	struct bio_event e = {};

	if (!i)
		return 0;
	if (i->issue && (!cfg_pid || i->pid == cfg_pid)) {
		e.ts = bpf_ktime_get_ns();
		e.lat = e.ts - i->issue;
		e.queued = i->insert ? i->issue - i->insert : 0;
		e.sector = ctx->sector;
		e.pid = i->pid;
		e.dev = ctx->dev;
		e.bytes = ctx->nr_sector * 512;
		__builtin_memcpy(e.comm, i->comm, sizeof(e.comm));
		bpf_probe_read_kernel(e.rwbs, sizeof(e.rwbs), ctx->rwbs);
		shark_ringbuf_output(events, &e, sizeof(e));
	}
	bpf_map_delete_elem(&rqs, &k);
	return 0;
}
]], { rodata = { cfg_pid = o.pid or 0 } })

local t0
local out = require("shark.table").new{ json = o.json,
  { "TIME(s)", "%-11.6f", "time" }, { "COMM", "%-14s", "comm" }, { "PID", "%-7d", "pid" }, { "DISK", "%-9s", "disk" },
  { "T", "%s", "t" }, { "SECTOR", "%-10d", "sector" }, { "BYTES", "%7d", "bytes" },
  { "QUE(ms)", "%7.2f", "que_ms", hide = not o.queue }, { "LAT(ms)", "%8.2f", "lat_ms" } }
out:header()
bpf.on_ring("events", function(e)
  t0 = t0 or tonumber(e.ts)
  local rwbs = ffi.string(e.rwbs)
  local r = { time = (tonumber(e.ts) - t0) / 1e9, comm = ffi.string(e.comm), pid = e.pid, disk = dev.disk_name(e.dev),
    t = rwbs:match("[RWD]") or rwbs:sub(1, 1), sector = tonumber(e.sector), bytes = e.bytes,
    lat_ms = tonumber(e.lat) / 1e6, que_ms = o.queue and tonumber(e.queued) / 1e6 or nil }
  out:row(r)
end)
