// SPDX-License-Identifier: GPL-2.0
/* count.bpf.c - count events by a key, on any tracepoint or user probe; configured from Lua. */
/*
 * No CO-RE here: record fields come as offsets from the format files, and
 * pt_regs is ABI (shark_arch.bpf.h). An object without CO-RE relocations spares
 * libbpf parsing the kernel's BTF (5 MB) at each load: half the start time.
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "template.h"
#include "template.bpf.h"

const volatile __u32 cfg_key = SHARK_KEY_NONE;
const volatile __u32 cfg_field_off = 0;		/* tracepoints: offset in the record */
const volatile __u32 cfg_field_size = 8;
const volatile __u32 cfg_field_signed = 0;
const volatile __u32 cfg_arg = 0;		/* probes: which argument */
const volatile __u32 cfg_pid = 0;		/* only this process, 0: all */
const volatile __u32 cfg_dense = 0;		/* integer keys below this count in `dense` */
const volatile __u32 cfg_where = SHARK_WHERE_NONE;	/* tracepoints: count if field OP value */
const volatile __u32 cfg_where_off = 0;
const volatile __u32 cfg_where_size = 8;
const volatile __u32 cfg_where_signed = 1;
const volatile __s64 cfg_where_value = 0;

__u64 dropped = 0;	/* events not counted: the map was full */

SHARK_WINDOWED_KEY_MAPS;

/*
 * Small integer keys (syscall ids, CPUs) count in a per-CPU array: no hash
 * of a 40-byte key, no contention on a count between CPUs. Lua adds it up.
 * Two of them, switched with counts and counts2 (shark_windowed), so that a
 * take drains one no program adds to.
 */
#define SHARK_DENSE_MAP(name)                                                   \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                        \
		__uint(max_entries, 1024);                                      \
		__type(key, __u32);                                             \
		__type(value, __u64);                                           \
	} name SEC(".maps")

SHARK_DENSE_MAP(dense);
SHARK_DENSE_MAP(dense2);

/* Add one at @i of a dense map; 0: @i is past its end */
static __always_inline int dense_add(void *map, __u32 i)
{
	__u64 *v = bpf_map_lookup_elem(map, &i);

	if (!v)
		return 0;
	*v += 1;
	return 1;
}

SHARK_STACK_MAP(stacks);

static __always_inline __u64 field(void *rec)
{
	return shark_field(rec, cfg_field_off, cfg_field_size, cfg_field_signed);
}

/* tracepoints: count only records whose where-field passes (cfg_where) */
static __always_inline int wanted(void *rec)
{
	if (cfg_where == SHARK_WHERE_NONE)
		return 1;
	return shark_where(cfg_where, (__s64)shark_field(rec, cfg_where_off, cfg_where_size, cfg_where_signed),
			   cfg_where_value);
}

static __always_inline int count(void *ctx, __u64 num)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct shark_key k = { .kstack = -1, .ustack = -1 };

	if (cfg_pid && (id >> 32) != cfg_pid)
		return 0;
	switch (cfg_key) {
	case SHARK_KEY_PID:
		k.num = id >> 32;
		/* the command, for tables of processes that may be gone when printed */
		bpf_get_current_comm(&k.comm, sizeof(k.comm));
		break;
	case SHARK_KEY_TID:
		k.num = (__u32)id;
		break;
	case SHARK_KEY_COMM:
		bpf_get_current_comm(&k.comm, sizeof(k.comm));
		break;
	case SHARK_KEY_CPU:
		k.num = bpf_get_smp_processor_id();
		break;
	case SHARK_KEY_FIELD:
		k.num = num;
		if (num < cfg_dense) {
			int done = 0;

			__u32 i = (__u32)num;

			shark_windowed(done = dense_add(&dense, i), done = dense_add(&dense2, i));
			if (done)
				return 0;
		}
		break;
	/* stacks also carry their process and command (profile, stackcount print them) */
	case SHARK_KEY_KSTACK:
		k.kstack = shark_stack_id(ctx, stacks, 0);
		k.pid = id >> 32;
		bpf_get_current_comm(&k.comm, sizeof(k.comm));
		break;
	case SHARK_KEY_USTACK:
		k.ustack = shark_stack_id(ctx, stacks, BPF_F_USER_STACK);
		k.pid = id >> 32;
		bpf_get_current_comm(&k.comm, sizeof(k.comm));
		break;
	case SHARK_KEY_STACKS:
		k.kstack = shark_stack_id(ctx, stacks, 0);
		k.ustack = shark_stack_id(ctx, stacks, BPF_F_USER_STACK);
		k.pid = id >> 32;
		bpf_get_current_comm(&k.comm, sizeof(k.comm));
		break;
	}
	shark_add_windowed(&k, 1, &dropped);
	return 0;
}

SEC("tracepoint")
int count_tp(void *ctx)
{
	if (wanted(ctx))
		count(ctx, cfg_key == SHARK_KEY_FIELD ? field(ctx) : 0);
	return pass_on;
}

/*
 * The common field, 8 bytes at offset 8 (raw_syscalls' id, the first
 * argument of syscalls:*), loaded directly: a constant ctx offset the
 * verifier accepts, where the general path pays a helper call per event.
 */
SEC("tracepoint")
int count_tp8(void *ctx)
{
	__u64 v = ((__u64 *)ctx)[1];

	if (wanted(ctx))
		count(ctx, v);
	return pass_on;
}

SEC("uprobe")
int count_probe(struct pt_regs *ctx)
{
	__u64 arg = 0;

	if (cfg_key == SHARK_KEY_FIELD) {
		/* the verifier refuses a variable offset into ctx: read a copy */
		bpf_probe_read_kernel(&arg, sizeof(arg), (void *)ctx + shark_arg_offset(cfg_arg));
	}
	return count(ctx, arg);
}

SEC("usdt")
int count_usdt(struct pt_regs *ctx)
{
	long arg = 0;

	if (cfg_key == SHARK_KEY_FIELD)
		bpf_usdt_arg(ctx, cfg_arg, &arg);
	return count(ctx, (__u64)arg);
}

/* stack sampling: on a perf event (cpu-clock at a frequency) */
SEC("perf_event")
int count_perf(struct bpf_perf_event_data *ctx)
{
	return count(ctx, 0);
}

char LICENSE[] SEC("license") = "GPL";
