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
 * or, to fill the record in place,
 *   struct event *e = shark_ringbuf_reserve(events, sizeof(*e));
 *   if (!e) return 0;   (counted as a drop)
 *   ... shark_ringbuf_submit(e);
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

#define shark_ringbuf_reserve(name, size)                                      \
	({                                                                      \
		void *__p = bpf_ringbuf_reserve(&name, size, 0);                \
		if (!__p)                                                       \
			__sync_fetch_and_add(&name##_drops, 1);                 \
		__p;                                                            \
	})

#define shark_ringbuf_submit(rec) bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP)

/*
 * Stacks stored by their content, never lost to a collision:
 *   SHARK_STACKS(stacks, 32768);                   (Lua may resize it before load)
 *   __s64 id = shark_stack_id(ctx, stacks, 0);     (or BPF_F_USER_STACK)
 * and in Lua, obj.maps.stacks:stack(id, pid) names its frames, leaf first.
 * bpf_get_stackid()'s BPF_MAP_TYPE_STACK_TRACE keeps one stack per hash
 * bucket: a new stack whose bucket holds another is dropped (-EEXIST), and
 * BPF_F_REUSE_STACKID instead overwrites the old one under the ids counted
 * before. Here the frames go to a per-CPU scratch buffer (bpf_get_stack
 * zero-fills its tail), a 64-bit hash of them is the id, and a hash map keyed
 * by it keeps them. An id is >= 0; < 0 is an error: -EFAULT (14) when there
 * is no stack (a kernel thread's user stack), else the stack was lost (the
 * map is full) and counted in name_missed.
 * The map fills as stacks come (BPF_F_NO_PREALLOC: ~1.1 KB a stack charged
 * when stored; preallocating 16384 cost 10-14 ms of start). Such an element
 * comes from a per-CPU cache that holds ~20 of this size and refills from
 * irq_work: a burst of new stacks in sched_switch got -ENOMEM (measured: 2 of
 * ~700 stacks in 3 s, system-wide). Those go to name_spill, a small
 * preallocated map of the same ids: Lua looks there second.
 */
#define SHARK_STACK_DEPTH 128	/* the kernel walks 127 (perf_event_max_stack); 4 lanes */
#define SHARK_EFAULT 14

struct shark_stack {
	__u64 ips[SHARK_STACK_DEPTH];
};

#define SHARK_STACKS(name, n)                                                   \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_HASH);                                \
		__uint(map_flags, BPF_F_NO_PREALLOC);                           \
		__uint(max_entries, n);                                         \
		__type(key, __u64);                                             \
		__type(value, struct shark_stack);                              \
	} name SEC(".maps");                                                    \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_HASH);                                \
		__uint(max_entries, 1024);                                      \
		__type(key, __u64);                                             \
		__type(value, struct shark_stack);                              \
	} name##_spill SEC(".maps");                                            \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                        \
		__uint(max_entries, 1);                                         \
		__type(key, __u32);                                             \
		__type(value, struct shark_stack);                              \
	} name##_scratch SEC(".maps");                                          \
	__u64 name##_missed SEC(".bss")

#define shark_stack_id(ctx, name, flags) \
	shark_stack_store(ctx, &name, &name##_spill, &name##_scratch, &name##_missed, flags)

/*
 * A 64-bit hash of the frames, xxh64's way: four lanes of four frames
 * (independent multiplies: a 30-frame stack hashes in ~8 rounds of latency,
 * not 30), merged, then avalanched.
 */
#define SHARK_H1 0x9e3779b185ebca87ULL
#define SHARK_H2 0xc2b2ae3d27d4eb4fULL
#define SHARK_H3 0x165667b19e3779f9ULL
#define shark_rotl(x, r) (((x) << (r)) | ((x) >> (64 - (r))))

static __always_inline __u64 shark_lane(__u64 acc, __u64 in)
{
	acc += in * SHARK_H2;
	return shark_rotl(acc, 31) * SHARK_H1;
}

static __always_inline __u64 shark_stack_hash(const struct shark_stack *s, long n, __u64 seed)
{
	__u64 a = seed + SHARK_H1 + SHARK_H2, b = SHARK_H2, c = seed, d = seed - SHARK_H1, h;

	for (int i = 0; i < SHARK_STACK_DEPTH / 4; i++) {
		if (4 * i >= n)
			break;
		a = shark_lane(a, s->ips[4 * i]);
		b = shark_lane(b, s->ips[4 * i + 1]);
		c = shark_lane(c, s->ips[4 * i + 2]);
		d = shark_lane(d, s->ips[4 * i + 3]);
	}
	h = shark_rotl(a, 1) + shark_rotl(b, 7) + shark_rotl(c, 12) + shark_rotl(d, 18) + n;
	h ^= h >> 33;
	h *= SHARK_H2;
	h ^= h >> 29;
	h *= SHARK_H3;
	h ^= h >> 32;
	return h;
}

static __always_inline __s64 shark_stack_store(void *ctx, void *map, void *spill, void *scratch, __u64 *missed,
						 __u64 flags)
{
	struct shark_stack *s;
	__u32 zero = 0;
	long n, err;
	__u64 h;

	s = bpf_map_lookup_elem(scratch, &zero);
	if (!s)
		return -SHARK_EFAULT;
	n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), flags);
	if (n <= 0)
		return n < 0 ? n : -SHARK_EFAULT;
	/* the tail is zeroed: frames past n hash as 0 alike */
	h = shark_stack_hash(s, n / sizeof(__u64), flags) & 0x7fffffffffffffffULL;	/* ids are >= 0 */
	if (bpf_map_lookup_elem(map, &h))
		return h;
	err = bpf_map_update_elem(map, &h, s, BPF_NOEXIST);
	if (err == -12 /* ENOMEM: the element cache ran dry */)
		err = bpf_map_update_elem(spill, &h, s, BPF_NOEXIST);
	else if (err && bpf_map_lookup_elem(spill, &h))
		return h;	/* the map is full, but a dry spell put this one in the spill */
	if (err == 0 || err == -17 /* EEXIST: another CPU stored it meanwhile */)
		return h;
	__sync_fetch_and_add(missed, 1);
	return err;
}

#endif /* SHARK_BPF_H */
