// SPDX-License-Identifier: GPL-2.0
/* ustack.bpf.c - off-CPU time with user stacks copied for DWARF unwinding in shark. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "include/shark.bpf.h"
#include "ustack.h"

/*
 * The kernel's stack walker (bpf_get_stack) follows frame pointers, which
 * code built with -O2 lacks. So when a thread of the target leaves the CPU,
 * this copies its user registers and the top of its user stack into the ring
 * (shark unwinds them with .eh_frame while the process still runs), and when
 * it comes back, how long it was away. One ring for every CPU keeps the
 * records of a thread in order.
 */

const volatile __u32 cfg_pid = 0;	/* only this process, 0: all */
const volatile __u32 cfg_kernel = 1;
__u32 pass_on = 0;			/* perf.on shares the tracepoint: let it see events */
__u64 dropped = 0;			/* records the ring had no room for */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");
struct shark_ustack_rec *events_record;	/* the record type, in BTF for bpf.on_ring */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

SHARK_STACKS(stacks, 32768);	/* kernel stacks by content (shark.bpf.h) */

/*
 * struct pt_regs into perf's register order (SHARK_UNWIND_REGS_MASK): x86-64
 * only, as is the unwinder (core/unwind.h); elsewhere the Lua side refuses
 * user = "dwarf" before loading this.
 */
#if defined(__TARGET_ARCH_x86)
static __always_inline void put_regs(__u64 *r, const struct pt_regs *p)
{
	r[0] = p->ax;
	r[1] = p->bx;
	r[2] = p->cx;
	r[3] = p->dx;
	r[4] = p->si;
	r[5] = p->di;
	r[6] = p->bp;
	r[7] = p->sp;
	r[8] = p->ip;
	r[9] = p->flags;
	r[10] = p->cs;
	r[11] = p->ss;
	r[12] = p->r8;
	r[13] = p->r9;
	r[14] = p->r10;
	r[15] = p->r11;
	r[16] = p->r12;
	r[17] = p->r13;
	r[18] = p->r14;
	r[19] = p->r15;
}
#else
static __always_inline void put_regs(__u64 *r, const struct pt_regs *p)
{
	(void)p;
	for (int i = 0; i < SHARK_USTACK_NREGS; i++)
		r[i] = 0;
}
#endif

static __always_inline void blocked(void *ctx, __u32 pid, __u32 tid, __u64 now)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct shark_ustack_rec *rec;
	struct pt_regs regs;
	__u64 sp;

	if (!BPF_CORE_READ(t, mm))
		return;		/* a kernel thread: no user stack */
	if (bpf_probe_read_kernel(&regs, sizeof(regs), (void *)bpf_task_pt_regs(t)))
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		__sync_fetch_and_add(&dropped, 1);
		return;
	}
	rec->h.kind = SHARK_USTACK_BLOCKED;
	rec->h.pid = pid;
	rec->h.tid = tid;
	rec->h.pad = 0;
	rec->h.ns = 0;
	rec->h.kstack = cfg_kernel ? shark_stack_id(ctx, stacks, 0) : -1;
	put_regs(rec->regs, &regs);
	sp = regs.sp;
	rec->size = 0;
	rec->pad = 0;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	/* the stack ends somewhere: copy piece by piece until a piece fails */
	for (int i = 0; i < SHARK_USTACK_BYTES / SHARK_USTACK_CHUNK; i++) {
		if (bpf_probe_read_user(rec->stack + i * SHARK_USTACK_CHUNK, SHARK_USTACK_CHUNK,
					(void *)(sp + i * SHARK_USTACK_CHUNK)))
			break;
		rec->size += SHARK_USTACK_CHUNK;
	}
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
}

SEC("tp/sched/sched_switch")
int ustack_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), *ts;
	__u32 prev = BPF_CORE_READ(ctx, prev_pid), next = BPF_CORE_READ(ctx, next_pid);
	struct shark_ustack_head *h;

	/* the thread leaving is still current here */
	if (prev && (!cfg_pid || (id >> 32) == cfg_pid))
		blocked(ctx, id >> 32, prev, now);
	ts = bpf_map_lookup_elem(&start, &next);
	if (!ts)
		return pass_on;
	h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
	if (h) {
		h->kind = SHARK_USTACK_BACK;
		h->pid = 0;
		h->tid = next;
		h->pad = 0;
		h->kstack = -1;
		h->ns = now - *ts;
		bpf_ringbuf_submit(h, BPF_RB_NO_WAKEUP);
	} else {
		__sync_fetch_and_add(&dropped, 1);
	}
	bpf_map_delete_elem(&start, &next);
	return pass_on;
}

char LICENSE[] SEC("license") = "GPL";
