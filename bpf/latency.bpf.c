// SPDX-License-Identifier: GPL-2.0
/*
 * latency.bpf.c - time from one event to another, matched by a key (the
 * thread, or a field such as the woken pid), into log2 or linear histograms,
 * optionally per key and per time interval (heat maps). Configured from Lua.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "template.h"
#include "template.bpf.h"

const volatile __u32 cfg_start_off = 0;	/* start key: a u32/pid_t field at this offset ... */
const volatile __u32 cfg_start_field = 0;	/* ... when set, else the current thread */
const volatile __u32 cfg_end_off = 0;
const volatile __u32 cfg_end_field = 0;
const volatile __u64 cfg_unit = 1;		/* ns per unit of the histogram */
const volatile __u32 cfg_linear = 0;		/* 0: log2 slots; 1: linear buckets */
const volatile __u64 cfg_lin_min = 0;
const volatile __u64 cfg_lin_step = 1;
const volatile __u32 cfg_lin_buckets = 100;	/* the last one takes everything above */
const volatile __u32 cfg_key = SHARK_KEY_NONE;	/* per-key histograms (end's context) */
const volatile __u64 cfg_interval = 0;		/* ns; heat maps: one histogram per interval */
const volatile __u64 cfg_t0 = 0;		/* interval 0 starts here (monotonic ns) */
const volatile __u32 cfg_pid = 0;		/* thread keys: only this process */

__u64 dropped = 0;	/* starts or buckets not recorded: a map was full */
__u64 unmatched = 0;	/* ends without a start (began before tracing) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct shark_key);
	__type(value, __u64);
} hist SEC(".maps");

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	if (!v)
		return 0;
	for (int i = 32; i > 0; i >>= 1) {
		if (v >= (1ULL << i)) {
			v >>= i;
			slot += i;
		}
	}
	return slot + 1;
}

static __always_inline __u32 key_of(void *rec, __u32 field, __u32 off)
{
	__u32 k = 0;

	if (!field)
		return (__u32)bpf_get_current_pid_tgid();
	bpf_probe_read_kernel(&k, sizeof(k), rec + off);
	return k;
}

static __always_inline int on_start(void *rec, int is_tp)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 k;

	if (!cfg_start_field && cfg_pid && (bpf_get_current_pid_tgid() >> 32) != cfg_pid)
		return 0;
	k = key_of(rec, is_tp && cfg_start_field, cfg_start_off);
	if (bpf_map_update_elem(&start, &k, &now, BPF_ANY))
		__sync_fetch_and_add(&dropped, 1);
	return 0;
}

static __always_inline int on_end(void *rec, int is_tp)
{
	__u64 now = bpf_ktime_get_ns(), *ts, delta;
	struct shark_key hk = { .kstack = -1, .ustack = -1 };
	__u32 k = key_of(rec, is_tp && cfg_end_field, cfg_end_off);
	__u64 id = bpf_get_current_pid_tgid();

	ts = bpf_map_lookup_elem(&start, &k);
	if (!ts) {
		__sync_fetch_and_add(&unmatched, 1);
		return 0;
	}
	delta = (now - *ts) / cfg_unit;
	bpf_map_delete_elem(&start, &k);
	if (cfg_linear) {
		__u64 b = delta < cfg_lin_min ? 0 : (delta - cfg_lin_min) / cfg_lin_step;

		hk.slot = b >= cfg_lin_buckets ? cfg_lin_buckets : (__u32)b;
	} else {
		hk.slot = log2_slot(delta);
	}
	switch (cfg_key) {
	case SHARK_KEY_PID:
		hk.num = id >> 32;
		break;
	case SHARK_KEY_TID:
		hk.num = k;
		break;
	case SHARK_KEY_COMM:
		bpf_get_current_comm(&hk.comm, sizeof(hk.comm));
		break;
	case SHARK_KEY_CPU:
		hk.num = bpf_get_smp_processor_id();
		break;
	}
	if (cfg_interval)
		hk.pid = (__u32)((now - cfg_t0) / cfg_interval);
	shark_add(&hist, &hk, 1, &dropped);
	return 0;
}

SEC("tracepoint")
int start_tp(void *ctx)
{
	return on_start(ctx, 1);
}

SEC("tracepoint")
int end_tp(void *ctx)
{
	return on_end(ctx, 1);
}

SEC("uprobe")
int start_probe(struct pt_regs *ctx)
{
	return on_start(ctx, 0);
}

SEC("uprobe")
int end_probe(struct pt_regs *ctx)
{
	return on_end(ctx, 0);
}

char LICENSE[] SEC("license") = "GPL";
