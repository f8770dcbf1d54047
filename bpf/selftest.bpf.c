// SPDX-License-Identifier: GPL-2.0
/*
 * selftest.bpf.c - what `shark test` loads to see that BPF works here: a
 * tracepoint program writing ring buffer records, a uprobe and a USDT probe
 * (both in shark itself, fired by shark.core.selftest), CO-RE against the
 * kernel's BTF. Counts are exact for shark's own pid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>

const volatile __u32 cfg_pid = 0;

__u64 tp_hits = 0;
__u64 uprobe_hits = 0;
__u64 usdt_hits = 0;
__u64 usdt_sum = 0;
__u32 task_pid = 0;	/* read through CO-RE: the kernel's BTF relocated it */

struct selftest_rec {
	__u32 pid;
	__u32 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");
struct selftest_rec *events_record __attribute__((unused));	/* the record type, in BTF for Lua */

static __always_inline int ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == cfg_pid;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct selftest_rec *r;

	if (!ours())
		return 0;
	task_pid = BPF_CORE_READ(t, tgid);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		return 0;
	r->pid = cfg_pid;
	r->seq = __sync_fetch_and_add(&tp_hits, 1);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	if (ours())
		__sync_fetch_and_add(&uprobe_hits, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_usdt, long i)
{
	if (ours()) {
		__sync_fetch_and_add(&usdt_hits, 1);
		__sync_fetch_and_add(&usdt_sum, i);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
