// SPDX-License-Identifier: GPL-2.0
/* offcpu.bpf.c - time threads spend off CPU, summed by the stacks they blocked in. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "template.h"
#include "template.bpf.h"

const volatile __u32 cfg_pid = 0;	/* only this process, 0: all */
const volatile __u64 cfg_min_us = 1;	/* shorter blocks are not counted */
const volatile __u32 cfg_kernel = 1;
const volatile __u32 cfg_user = 1;

__u64 dropped = 0;

struct blocked {
	__u64 ts;
	__s64 kstack;
	__s64 ustack;
	__u32 tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct blocked);
} start SEC(".maps");

SHARK_WINDOWED_KEY_MAPS;

SHARK_STACK_MAP(stacks);

static __always_inline void switched(struct trace_event_raw_sched_switch *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), us;
	__u32 prev = BPF_CORE_READ(ctx, prev_pid), next = BPF_CORE_READ(ctx, next_pid);
	struct shark_key k = { .kstack = -1, .ustack = -1 };
	struct blocked b = { .kstack = -1, .ustack = -1 }, *s;

	/* the thread leaving: where it blocks (it is still current here) */
	if (prev && (!cfg_pid || (id >> 32) == cfg_pid)) {
		b.ts = now;
		b.tgid = id >> 32;
		if (cfg_kernel)
			b.kstack = shark_stack_id(ctx, stacks, 0);
		if (cfg_user)
			b.ustack = shark_stack_id(ctx, stacks, BPF_F_USER_STACK);
		if (bpf_map_update_elem(&start, &prev, &b, BPF_ANY))
			__sync_fetch_and_add(&dropped, 1);
	}
	/* the thread coming back: how long it was away */
	s = bpf_map_lookup_elem(&start, &next);
	if (!s)
		return;
	us = (now - s->ts) / 1000;
	k.kstack = s->kstack;
	k.ustack = s->ustack;
	k.pid = s->tgid;
	bpf_map_delete_elem(&start, &next);
	if (us < cfg_min_us)
		return;
	bpf_probe_read_kernel_str(&k.comm, sizeof(k.comm), ctx->next_comm);
	shark_add_windowed(&k, us, &dropped);
}

SEC("tracepoint/sched/sched_switch")
int on_switch(struct trace_event_raw_sched_switch *ctx)
{
	switched(ctx);
	return pass_on;
}

char LICENSE[] SEC("license") = "GPL";
