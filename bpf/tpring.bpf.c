// SPDX-License-Identifier: GPL-2.0
/* tpring.bpf.c - tracepoint records copied into a ring buffer at event time, user strings included. */
/*
 * perf.on() on tracepoints, delivered through BPF: one program attached to
 * each tracepoint (the cookie says which conf entry applies; raw_syscalls
 * carriers add the syscall number to it) copies the record, reads the
 * `const char *` user strings the format names while the task still runs,
 * and sends it to one ring buffer. Filters (pid with its children, tid,
 * cgroup, CPUs) apply here. The program returns 1: other perf consumers of
 * the tracepoint still see every event.
 *
 * No CO-RE: records come as offsets from the format files.
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "include/shark.bpf.h"
#include "tpring.h"

const volatile __u32 cfg_pids = 0;	/* only the processes in `pids` */
const volatile __u32 cfg_tid = 0;	/* only this thread */
const volatile __u32 cfg_cgroup = 0;	/* only tasks under cgroups[0] */
const volatile __u32 cfg_cpus = 0;	/* only CPUs set in `cpus` */
const volatile __u32 cfg_stack_k = 0;	/* callchains: kernel frames */
const volatile __u32 cfg_stack_u = 0;	/* callchains: user frames */
const volatile __u32 cfg_wake_shift = 20;	/* wake the reader each time a CPU writes 2^this bytes */
const volatile __u32 cfg_fork_child = 44;	/* sched_process_fork: offset of child_pid */
/* raw tracepoints sys_enter/sys_exit: the conf keys of raw_syscalls events (SHARK_TP_NONE: none) */
const volatile __u32 cfg_sys_enter_key = SHARK_TP_NONE;
const volatile __u32 cfg_sys_exit_key = SHARK_TP_NONE;
const volatile __u32 cfg_routed = 0;	/* conf keys below SHARK_TP_ROUTED are routed syscalls' */
const volatile __u32 cfg_names = 0;	/* name records at thread exits (track_rename is attached) */

__u64 unreadable = 0;	/* user strings that could not be read: delivered empty */
__u32 woke_first = 0;	/* the reader was woken for the first record */

/* bytes each CPU wrote, on a cache line of its own: what paces wake-ups */
struct written {
	__u64 bytes;
	__u64 pad[7];
};

struct written written[SHARK_TP_NCPU];

SHARK_RINGBUF(events, struct shark_tprec, 1 << 23);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHARK_TP_CONF);
	__type(key, __u32);
	__type(value, struct shark_tpconf);
} conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);	/* exits between two drains */
	__type(key, __u32);
	__type(value, struct shark_tpgone);
} gone SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

#define SCRATCH 16384
#define HDR sizeof(struct shark_tprec)
#define AREA 8191	/* mask of an offset in the area after the header */

struct scratch {
	__u8 b[SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline int wanted(__u32 tgid, __u32 tid, __u32 cpu)
{
	if (cfg_tid && tid != cfg_tid)
		return 0;
	if (cfg_pids) {
		__u8 *on = bpf_map_lookup_elem(&pids, &tgid);

		/* 0: a command shark started, traced from its exec on (perf's enable_on_exec) */
		if (!on || !*on)
			return 0;
	}
	if (cfg_cpus) {
		__u8 *on = bpf_map_lookup_elem(&cpus, &cpu);

		if (!on || !*on)
			return 0;
	}
	if (cfg_cgroup && bpf_current_task_under_cgroup(&cgroups, 0) != 1)
		return 0;
	return 1;
}

/* The end of the __data_loc data of the record (its fixed part if none). */
static __always_inline __u32 record_end(void *ctx, struct shark_tpconf *c)
{
	__u32 end = c->size;

	for (int i = 0; i < SHARK_TP_NLOC; i++) {
		__u32 loc = 0, e;

		if (i >= c->nloc)
			break;
		bpf_probe_read_kernel(&loc, sizeof(loc), ctx + (c->loc_off[i] & 0xfff));
		e = (loc & 0xffff) + (loc >> 16);
		if (e > end)
			end = e;
	}
	return end < SHARK_TP_RAW_MAX ? end : SHARK_TP_RAW_MAX;
}

/* Read the user strings into the record's tail; return its new size. */
static __always_inline __u32 read_strings(void *ctx, struct shark_tpconf *c, __u8 *raw, __u32 pos)
{
	for (int i = 0; i < SHARK_TP_NSTR; i++) {
		__u32 off;
		__u64 ptr = 0;
		long n;

		if (i >= c->nstr)
			break;
		off = c->str_off[i] & (SHARK_TP_RAW_MAX - 8);
		bpf_probe_read_kernel(&ptr, sizeof(ptr), ctx + off);
		pos = (pos + 7) & ~7u;
		n = bpf_probe_read_user_str(raw + (pos & AREA), SHARK_TP_STR_MAX, (const void *)ptr);
		if (n <= 0) {
			__sync_fetch_and_add(&unreadable, 1);
			n = 1;
			raw[pos & AREA] = 0;
		}
		/* the field now says where the string is: (length << 32) | offset */
		*(__u64 *)(raw + off) = ((__u64)(n - 1) << 32) | pos;
		pos += (__u32)n;
	}
	return pos;
}

/* Kernel then user frames, with perf's PERF_CONTEXT_* markers. */
static __always_inline __u32 read_stack(void *ctx, __u64 *ips)
{
	__u32 n = 0;
	long got;

	if (cfg_stack_k) {
		ips[0] = (__u64)-128;	/* PERF_CONTEXT_KERNEL */
		got = bpf_get_stack(ctx, ips + 1, SHARK_TP_MAX_FRAMES * 8, 0);
		if (got > 0)
			n = 1 + (__u32)got / 8;
	}
	if (cfg_stack_u) {
		n &= 255;
		ips[n] = (__u64)-512;	/* PERF_CONTEXT_USER */
		got = bpf_get_stack(ctx, ips + n + 1, SHARK_TP_MAX_FRAMES * 8, BPF_F_USER_STACK);
		if (got > 0)
			n += 1 + (__u32)got / 8;
		else if (!cfg_stack_k)
			n = 0;
	}
	return n;
}

/*
 * Wake the reader each time this CPU's bytes cross a multiple of 2^shift
 * (user space sets it to a quarter of the ring over the CPUs: a wake-up
 * comes before the ring fills, never per record), and for the very first
 * record, so the first event is not held until the timed drain. Counting per
 * CPU costs no shared cache line, unlike asking the ring how full it is.
 */
static __always_inline __u64 wake_flag(__u32 cpu, __u32 size)
{
	struct written *w = &written[cpu & (SHARK_TP_NCPU - 1)];
	__u64 before = w->bytes, after = before + size + 8;

	w->bytes = after;
	if ((before >> cfg_wake_shift) != (after >> cfg_wake_shift))
		return BPF_RB_FORCE_WAKEUP;
	if (!woke_first) {
		woke_first = 1;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

#define SMALL SHARK_TP_SMALL

struct small {
	struct shark_tprec h;
	__u8 raw[SMALL];
};

/*
 * The common case (no strings, no __data_loc, no stack, a record of at most
 * 64 bytes: syscalls, sched_switch): written in place in the ring, with no
 * copy through the scratch buffer.
 */
static __always_inline int put_small(void *ctx, struct shark_tpconf *c, __u32 tgid, __u32 tid, __u32 cpu)
{
	__u32 size = c->size <= SMALL ? c->size : SMALL;
	struct small *s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);

	if (!s) {
		__sync_fetch_and_add(&events_drops, 1);
		return 1;
	}
	bpf_probe_read_kernel(s->raw, size, ctx);
	*(__u16 *)s->raw = c->type;
	s->raw[2] = 0;
	s->raw[3] = 0;
	*(__u32 *)(s->raw + 4) = tid;
	s->h.time = bpf_ktime_get_ns();
	s->h.pid = tgid;
	s->h.tid = tid;
	s->h.cpu = cpu;
	s->h.event = c->event - 1;
	s->h.pad = 0;
	s->h.raw_size = size;
	s->h.nr_ips = 0;
	s->h.ips_off = sizeof(*s);
	bpf_ringbuf_submit(s, wake_flag(cpu, sizeof(*s)));
	return 1;
}

/* The conf entry of this event (the cookie says which), or NULL when not wanted. */
static __always_inline struct shark_tpconf *conf_of(void *ctx, __u32 tgid, __u32 tid, __u32 cpu)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 key = (__u32)cookie;
	struct shark_tpconf *c;

	if (!wanted(tgid, tid, cpu))
		return NULL;
	if (cookie >> 32) {
		/* a raw_syscalls carrier: the syscall number is the long at 8 */
		long nr = -1;

		bpf_probe_read_kernel(&nr, sizeof(nr), ctx + 8);
		if (nr < 0 || nr >= 1024)
			return NULL;
		key += (__u32)nr;
	}
	c = bpf_map_lookup_elem(&conf, &key);
	if (!c || !c->event)
		return NULL;
	return c;
}

/*
 * Events whose records are all small (see put_small), loaded instead of
 * deliver when user space knows that: a tenth of the instructions for the
 * verifier, which is most of the time to the first event.
 */
SEC("tracepoint")
int deliver_small(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, cpu = bpf_get_smp_processor_id();
	struct shark_tpconf *c = conf_of(ctx, tgid, tid, cpu);

	if (c)
		put_small(ctx, c, tgid, tid, cpu);
	return 1;
}

SEC("tracepoint")
int deliver(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, cpu = bpf_get_smp_processor_id();
	__u32 zero = 0, size, total;
	struct shark_tpconf *c = conf_of(ctx, tgid, tid, cpu);
	struct shark_tprec *r;
	__u8 *buf, *raw;

	if (!c)
		return 1;
	if (!c->nstr && !c->nloc && !cfg_stack_k && !cfg_stack_u && c->size <= SMALL)
		return put_small(ctx, c, tgid, tid, cpu);
	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 1;
	r = (void *)buf;
	raw = buf + HDR;
	size = record_end(ctx, c);
	if (bpf_probe_read_kernel(raw, size & (SHARK_TP_RAW_MAX - 1 + SHARK_TP_RAW_MAX), ctx)) {
		/* a __data_loc that points past the record: its fixed part only
		 * (the field then reads as nil in Lua) */
		size = c->size < SHARK_TP_RAW_MAX ? c->size : SHARK_TP_RAW_MAX;
		if (bpf_probe_read_kernel(raw, size & (SHARK_TP_RAW_MAX - 1 + SHARK_TP_RAW_MAX), ctx)) {
			__sync_fetch_and_add(&events_drops, 1);
			return 1;
		}
	}
	/* the first 8 bytes held the pt_regs pointer for BPF: the common fields again */
	*(__u16 *)raw = c->type;
	raw[2] = 0;
	raw[3] = 0;
	*(__u32 *)(raw + 4) = tid;
	size = read_strings(ctx, c, raw, size);
	r->time = bpf_ktime_get_ns();
	r->pid = tgid;
	r->tid = tid;
	r->cpu = cpu;
	r->event = c->event - 1;
	r->pad = 0;
	r->raw_size = size;
	r->nr_ips = 0;
	total = (HDR + size + 7) & ~7u;
	r->ips_off = (__u16)total;
	if (cfg_stack_k || cfg_stack_u) {
		__u32 n = read_stack(ctx, (__u64 *)(buf + (total & (AREA & ~7u))));

		r->nr_ips = (__u16)n;
		total += (n & 511) * 8;
	}
	total &= SCRATCH - 1;
	if (bpf_ringbuf_output(&events, buf, total, wake_flag(cpu, total)))
		__sync_fetch_and_add(&events_drops, 1);
	return 1;
}

/*
 * raw_syscalls (and the syscalls routed through them) at the raw tracepoints
 * sys_enter and sys_exit: the same records as the tracepoints give, built
 * from the registers, without the perf buffer a tracepoint program is
 * handed (its allocation, clearing and the walk over the tracepoint's perf
 * events cost more than the rest of the delivery). Small records only.
 */
static __always_inline void put_syscall(struct shark_tpconf *c, const __u8 *regs, long nr, long ret,
					int exit, __u32 tgid, __u32 tid, __u32 cpu)
{
	struct small *s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);
	__u64 *w;

	if (!s) {
		__sync_fetch_and_add(&events_drops, 1);
		return;
	}
	w = (__u64 *)s->raw;
	/* common_type, flags, preempt_count, common_pid; then id and args (or ret) */
	w[0] = (__u64)c->type | ((__u64)tid << 32);
	w[1] = nr;
	if (exit) {
		w[2] = ret;
		w[3] = w[4] = w[5] = w[6] = w[7] = 0;
	} else {
		for (int i = 0; i < 6; i++)
			w[2 + i] = *(const __u64 *)(regs + shark_syscall_arg_offset(i));
	}
	s->h.time = bpf_ktime_get_ns();
	s->h.pid = tgid;
	s->h.tid = tid;
	s->h.cpu = cpu;
	s->h.event = c->event - 1;
	s->h.pad = 0;
	s->h.raw_size = c->size <= SMALL ? c->size : SMALL;
	s->h.nr_ips = 0;
	s->h.ips_off = sizeof(*s);
	bpf_ringbuf_submit(s, wake_flag(cpu, sizeof(*s)));
}

static __always_inline int sys_event(struct bpf_raw_tracepoint_args *ctx, int exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, cpu = bpf_get_smp_processor_id();
	__u32 key = exit ? cfg_sys_exit_key : cfg_sys_enter_key;
	const void *at = (const void *)ctx->args[0];
	struct shark_tpconf *c1 = NULL, *c2 = NULL;
	__u64 regs[SHARK_SYSCALL_REGS / 8];	/* aligned: the verifier wants 8-byte stack reads so */
	long nr = -1;
	int found = 0;

	if (!wanted(tgid, tid, cpu))
		return 0;
	if (exit) {
		int n = -1;

		bpf_probe_read_kernel(&n, sizeof(n), at + shark_syscall_nr_offset());
		nr = n;
	} else
		nr = (long)ctx->args[1];
	if (key != SHARK_TP_NONE) {
		c1 = bpf_map_lookup_elem(&conf, &key);
		if (c1 && c1->event)
			found++;
		else
			c1 = NULL;
	}
	if (cfg_routed && nr >= 0 && nr < 1024) {
		key = (exit ? 1024 : 0) + (__u32)nr;
		c2 = bpf_map_lookup_elem(&conf, &key);
		if (c2 && c2->event)
			found++;
		else
			c2 = NULL;
	}
	if (!found)
		return 0;
	/* the arguments: one copy of the registers, once something wants them */
	if (!exit && bpf_probe_read_kernel(regs, sizeof(regs), at))
		return 0;
	if (c1)
		put_syscall(c1, (const __u8 *)regs, nr, (long)ctx->args[1], exit, tgid, tid, cpu);
	if (c2)
		put_syscall(c2, (const __u8 *)regs, nr, (long)ctx->args[1], exit, tgid, tid, cpu);
	return 0;
}

SEC("raw_tp/sys_enter")
int deliver_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return sys_event(ctx, 0);
}

SEC("raw_tp/sys_exit")
int deliver_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return sys_event(ctx, 1);
}

/* Children of traced processes are traced too (perf's inherit). */
SEC("tracepoint/sched/sched_process_fork")
int track_fork(void *ctx)
{
	__u32 parent = bpf_get_current_pid_tgid() >> 32, child = 0;
	__u8 *on = bpf_map_lookup_elem(&pids, &parent), v;

	if (!on)
		return 1;
	v = *on;
	bpf_probe_read_kernel(&child, sizeof(child), ctx + (cfg_fork_child & 0xff));
	bpf_map_update_elem(&pids, &child, &v, BPF_ANY);
	return 1;
}

/* A name record into the ring (see tpring.h); tid is whose, the names are at @names. */
static __always_inline void put_name(__u32 tgid, __u32 tid, const void *names, int kernel)
{
	struct {
		struct shark_tprec h;
		struct shark_tpname n;
	} *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&events_drops, 1);
		return;
	}
	if (kernel) {
		bpf_probe_read_kernel(&r->n, sizeof(r->n), names);
	} else {
		bpf_get_current_comm(r->n.oldcomm, sizeof(r->n.oldcomm));
		__builtin_memcpy(r->n.newcomm, r->n.oldcomm, sizeof(r->n.newcomm));
	}
	r->h.time = bpf_ktime_get_ns();
	r->h.pid = tgid;
	r->h.tid = tid;
	r->h.cpu = bpf_get_smp_processor_id();
	r->h.event = SHARK_TP_NAME;
	r->h.raw_size = sizeof(r->n);
	r->h.nr_ips = 0;
	r->h.ips_off = sizeof(*r);
	r->h.pad = !kernel;	/* SHARK_TPNAME_EXIT */
	bpf_ringbuf_submit(r, wake_flag(r->h.cpu, sizeof(*r)));
}

/* The pid and cgroup filters, for name records (no CPU filter: a name holds on every CPU). */
static __always_inline int wanted_name(__u32 tgid, __u32 tid)
{
	if (cfg_tid && tid != cfg_tid)
		return 0;
	/* a held command (0) too: its exec names it */
	if (cfg_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return 0;
	if (cfg_cgroup && bpf_current_task_under_cgroup(&cgroups, 0) != 1)
		return 0;
	return 1;
}

/*
 * Each traced thread as it exits: a name record with its last name (what a
 * thread first seen by the reader after it is gone was called, when it was
 * never renamed: one record per thread, not per event); and the name of each
 * process, kept in `gone` for events read after it is gone.
 * A raw tracepoint: it reads nothing of the record, and its link closes
 * without the RCU grace period (tens of ms) a perf tracepoint's takes.
 */
SEC("raw_tp/sched_process_exit")
int track_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct shark_tpgone g;

	if (!wanted_name(tgid, tid))
		return 1;
	if (cfg_names)
		put_name(tgid, tid, NULL, 0);
	if (tgid != tid || !wanted(tgid, cfg_tid ? cfg_tid : tgid, bpf_get_smp_processor_id()))
		return 1;
	bpf_get_current_comm(g.comm, sizeof(g.comm));
	bpf_map_update_elem(&gone, &tgid, &g, BPF_ANY);
	return 1;
}

/*
 * Names change at exec and at prctl(PR_SET_NAME) (task_rename fires for
 * both, before the change): a name record into the ring, where it sits
 * between the thread's events before and after (see tpring.h). The pid and
 * cgroup filters apply (a held command's exec included); no CPU filter: a
 * name holds on every CPU. A rename of another thread (a write to
 * /proc/PID/task/TID/comm) is judged by the writer's process.
 */
SEC("tracepoint/task/task_rename")
int track_rename(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, whose = 0;

	if (!wanted_name(tgid, tid))
		return 1;
	bpf_probe_read_kernel(&whose, sizeof(whose), ctx + 8);
	/* another process's thread (its tgid unknown here): pid 0 */
	put_name(whose == tid ? tgid : 0, whose, ctx + 12, 1);
	return 1;
}

/* A held command is traced from its exec on (a raw tracepoint: no record read). */
SEC("raw_tp/sched_process_exec")
int track_exec(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 *on = bpf_map_lookup_elem(&pids, &tgid);

	if (on)
		*on = 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
