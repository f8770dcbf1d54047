/* SPDX-License-Identifier: GPL-2.0 */
/* shark.bpf.h - helpers for BPF programs run by shark: everything a bpf.cdef needs in one include. */
#ifndef SHARK_BPF_H
#define SHARK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "shark_arch.bpf.h"

/*
 * The log2 histogram slot of v, as bpftrace numbers them: 0 -> 0, 1 -> 1,
 * [2, 4) -> 2, [4, 8) -> 3, ... print with bpf.print_hist_map().
 */
static __always_inline __u32 shark_log2_slot(__u64 v)
{
	__u32 slot = 0;

	if (v == 0)
		return 0;
#pragma unroll
	for (int i = 32; i > 0; i >>= 1) {
		if (v >= (1ULL << i)) {
			v >>= i;
			slot += i;
		}
	}
	return slot + 1;
}

/*
 * Add n to the __u64 value of key in a hash map, creating it at n; when
 * another CPU created it meanwhile, add to theirs. Return: 0, or -1 when the
 * map is full and the key is not in it (the caller may count a drop).
 */
static __always_inline int shark_sum(void *map, const void *key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (!v && bpf_map_update_elem(map, key, &n, BPF_NOEXIST) == 0)
		return 0;
	if (!v)
		v = bpf_map_lookup_elem(map, key);
	if (!v)
		return -1;
	__sync_fetch_and_add(v, n);
	return 0;
}

/* Add one to the __u64 value of key in a hash map, creating it at 1. */
#define shark_count(map, key) shark_sum(map, key, 1)

/*
 * A BPF ring buffer of `type` records whose drops (submissions that failed
 * because user space fell behind) shark counts and reports:
 *   SHARK_RINGBUF(events, struct event, 1 << 20);
 *   ... shark_ringbuf_output(events, &rec, sizeof(rec));
 * and in Lua bpf.on_ring("events", fn) gets each record typed as `type`.
 * Records go without a wake-up: shark drains on a timer (a wake-up per
 * record costs a cross-CPU interrupt, ~44 us on a VM).
 */
#define SHARK_RINGBUF(name, rectype, bytes)                                      \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                             \
		__uint(max_entries, bytes);                                     \
	} name SEC(".maps");                                                    \
	__u64 name##_drops SEC(".bss");                                         \
	rectype *name##_record SEC(".bss") __attribute__((unused))

#define shark_ringbuf_output(name, data, size)                                  \
	({                                                                      \
		long __r = bpf_ringbuf_output(&name, data, size, BPF_RB_NO_WAKEUP); \
		if (__r)                                                        \
			__sync_fetch_and_add(&name##_drops, 1);                 \
		__r;                                                            \
	})

#endif /* SHARK_BPF_H */
