// SPDX-License-Identifier: GPL-2.0
/*
 * latency.bpf.c - time from one event to another, matched by a key (the
 * thread, or a field such as the woken pid), into log2 or linear histograms,
 * optionally per key and per time interval (heat maps). Configured from Lua.
 */
/*
 * Built twice: latency.bpf.o (tracepoints and probes, keyed by the current
 * thread or a record field: no CO-RE, so libbpf does not parse the kernel's
 * BTF at load, 15 ms) and latency_task.bpf.o (latency_task.bpf.c: the same
 * and raw tracepoints keyed by a task_struct argument, which needs CO-RE).
 */
#ifndef SHARK_LATENCY_TASK
#define BPF_NO_PRESERVE_ACCESS_INDEX
#endif
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
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
const volatile __u32 cfg_pid = 0;		/* thread and task keys: only this process */
const volatile __u32 cfg_key_off = 0;		/* SHARK_KEY_FIELD: a field of the end record */
const volatile __u32 cfg_key_size = 8;
const volatile __u32 cfg_key_signed = 0;
const volatile __u32 cfg_where = SHARK_WHERE_NONE;	/* end tracepoints: only if field OP value */
const volatile __u32 cfg_where_off = 0;
const volatile __u32 cfg_where_size = 8;
const volatile __u32 cfg_where_signed = 1;
const volatile __s64 cfg_where_value = 0;
const volatile __u32 cfg_sums = 0;		/* also sum the time (ns) per key in `sums` */

__u64 dropped = 0;	/* starts or buckets not recorded: a map was full */
__u64 unmatched = 0;	/* ends without a start (began before tracing) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

SHARK_KEY_MAP(hist);

SHARK_KEY_MAP(sums);

static __always_inline __u32 key_of(void *rec, __u32 field, __u32 off)
{
	__u32 k = 0;

	if (!field)
		return (__u32)bpf_get_current_pid_tgid();
	bpf_probe_read_kernel(&k, sizeof(k), rec + off);
	return k;
}

static __always_inline int on_start(void *rec, int is_tp, struct task_struct *task)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 k;

	if (task) {
		if (cfg_pid && BPF_CORE_READ(task, tgid) != cfg_pid)
			return 0;
		k = BPF_CORE_READ(task, pid);
		if (!k)
			return 0;
	} else {
		if (!cfg_start_field && cfg_pid && (bpf_get_current_pid_tgid() >> 32) != cfg_pid)
			return 0;
		k = key_of(rec, is_tp && cfg_start_field, cfg_start_off);
	}
	if (bpf_map_update_elem(&start, &k, &now, BPF_ANY))
		__sync_fetch_and_add(&dropped, 1);
	return 0;
}

static __always_inline int on_end(void *rec, int is_tp, struct task_struct *task)
{
	__u64 now = bpf_ktime_get_ns(), *ts, delta, ns;
	struct shark_key hk = { .kstack = -1, .ustack = -1 };
	__u64 id = bpf_get_current_pid_tgid();
	__u32 k;

	if (task) {
		/* the task the event is about (sched_switch's next), not current */
		__u32 tgid = BPF_CORE_READ(task, tgid);

		if (cfg_pid && tgid != cfg_pid)
			return 0;
		k = BPF_CORE_READ(task, pid);
		id = (__u64)tgid << 32 | k;
	} else {
		k = key_of(rec, is_tp && cfg_end_field, cfg_end_off);
	}
	ts = bpf_map_lookup_elem(&start, &k);
	if (!ts) {
		__sync_fetch_and_add(&unmatched, 1);
		return 0;
	}
	ns = now - *ts;
	delta = ns / cfg_unit;
	bpf_map_delete_elem(&start, &k);
	if (is_tp && cfg_where != SHARK_WHERE_NONE &&
	    !shark_where(cfg_where, (__s64)shark_field(rec, cfg_where_off, cfg_where_size, cfg_where_signed),
			 cfg_where_value))
		return 0;
	if (cfg_linear) {
		__u64 b = delta < cfg_lin_min ? 0 : (delta - cfg_lin_min) / cfg_lin_step;

		hk.slot = b >= cfg_lin_buckets ? cfg_lin_buckets : (__u32)b;
	} else {
		hk.slot = shark_log2_slot(delta);
	}
	switch (cfg_key) {
	case SHARK_KEY_PID:
		hk.num = id >> 32;
		if (task)
			BPF_CORE_READ_STR_INTO(&hk.comm, task, comm);
		else
			bpf_get_current_comm(&hk.comm, sizeof(hk.comm));
		break;
	case SHARK_KEY_TID:
		hk.num = k;
		break;
	case SHARK_KEY_COMM:
		if (task)
			BPF_CORE_READ_STR_INTO(&hk.comm, task, comm);
		else
			bpf_get_current_comm(&hk.comm, sizeof(hk.comm));
		break;
	case SHARK_KEY_CPU:
		hk.num = bpf_get_smp_processor_id();
		break;
	case SHARK_KEY_FIELD:
		if (is_tp)
			hk.num = shark_field(rec, cfg_key_off, cfg_key_size, cfg_key_signed);
		break;
	}
	if (cfg_interval)
		hk.pid = (__u32)((now - cfg_t0) / cfg_interval);
	shark_add(&hist, &hk, 1, &dropped);
	if (cfg_sums) {
		hk.slot = 0;
		shark_add(&sums, &hk, ns, &dropped);
	}
	return 0;
}

SEC("tracepoint")
int start_tp(void *ctx)
{
	on_start(ctx, 1, NULL);
	return pass_on;
}

SEC("tracepoint")
int end_tp(void *ctx)
{
	on_end(ctx, 1, NULL);
	return pass_on;
}

SEC("uprobe")
int start_probe(struct pt_regs *ctx)
{
	return on_start(ctx, 0, NULL);
}

SEC("uprobe")
int end_probe(struct pt_regs *ctx)
{
	return on_end(ctx, 0, NULL);
}

#ifdef SHARK_LATENCY_TASK
/*
 * Raw tracepoints keyed by the task_struct * in argument N (sched_wakeup's p
 * is 0, sched_switch's prev 1 and next 2): one program per N, as the
 * verifier wants a constant offset into ctx.
 */
#define TASK_PROGS(n)								\
SEC("raw_tp")									\
int start_task##n(struct bpf_raw_tracepoint_args *ctx)				\
{										\
	struct task_struct *t = (struct task_struct *)ctx->args[n];		\
										\
	return t ? on_start(ctx, 0, t) : 0;					\
}										\
SEC("raw_tp")									\
int end_task##n(struct bpf_raw_tracepoint_args *ctx)				\
{										\
	struct task_struct *t = (struct task_struct *)ctx->args[n];		\
										\
	return t ? on_end(ctx, 0, t) : 0;					\
}

TASK_PROGS(0)
TASK_PROGS(1)
TASK_PROGS(2)

/* task_struct's `state` became `__state` (an unsigned int) in 5.14 */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/*
 * sched_switch's prev when it leaves the CPU still runnable (preempted, or
 * yielding): it waits on a run queue from now on, as after a wake-up. BCC and
 * libbpf-tools runqlat start the clock here too.
 */
SEC("raw_tp")
int start_requeue(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[1];

	if (!t || task_state(t) != 0)	/* TASK_RUNNING */
		return 0;
	return on_start(ctx, 0, t);
}

#endif

char LICENSE[] SEC("license") = "GPL";
