/* SPDX-License-Identifier: GPL-2.0 */
/* template.bpf.h - BPF-side helpers of shark's prebuilt programs. */
#ifndef SHARK_TEMPLATE_BPF_H
#define SHARK_TEMPLATE_BPF_H

#include "include/shark.bpf.h"	/* shark_sum, shark_log2_slot: one copy for templates and scripts */

/*
 * What a tracepoint program returns: 0 hides the event from every perf event
 * of the tracepoint on the machine (perf stat, perf record, another shark),
 * so it is 1 unless the script asks for `private = true` (~60 ns an event
 * cheaper) and this run opens no perf.on of the same tracepoint
 * (shark/tpshare.lua). In .data: Lua writes it while the program runs.
 */
__u32 pass_on = 1;

/* A map of __u64 counts by struct shark_key (Lua resizes it before load). */
#define SHARK_KEY_MAP(name)                                                     \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_HASH);                                \
		__uint(max_entries, 10240);                                     \
		__type(key, struct shark_key);                                  \
		__type(value, __u64);                                           \
	} name SEC(".maps")

/*
 * The counts of a result, double-buffered so that a window ends exactly:
 * programs add to counts (shark_window 0) or counts2 (1); user space flips
 * shark_window, waits until shark_busy of the other map is 0 (no program is
 * still adding to it), then drains it (core/bpf.c shark_bpf_switch). A
 * program marks the map busy, then checks the window did not flip meanwhile
 * (else it unmarks and follows the flip): once user space saw busy at 0
 * after its flip, nothing adds to that map any more. Reading a map and then
 * clearing it lost what came in between; deleting each entry as it is read
 * (BPF_MAP_LOOKUP_AND_DELETE_ELEM) still lost an add to an entry a program
 * had looked up just before (measured: ~100 of 2 M).
 */
#define SHARK_WINDOWED_KEY_MAPS                                                 \
	__u32 shark_window = 0;                                                 \
	__u64 shark_busy[2] = {};                                               \
	SHARK_KEY_MAP(counts);                                                  \
	SHARK_KEY_MAP(counts2)

/*
 * Run do0 (window 0) or do1 (window 1) with that window's maps marked busy,
 * as above: what either adds lands in the window current while it ran.
 */
#define shark_windowed(do0, do1)                                                \
	do {                                                                    \
		for (int try_ = 0; try_ < 4; try_++) {                          \
			__u32 i_ = *(volatile __u32 *)&shark_window & 1;        \
			/* fetch: a fully ordered atomic, before the re-read */ \
			if (__sync_fetch_and_add(&shark_busy[i_], 1) > (1ull << 62)) \
				break;                                          \
			if ((*(volatile __u32 *)&shark_window & 1) == i_) {     \
				if (i_)                                         \
					do1;                                    \
				else                                            \
					do0;                                    \
				__sync_fetch_and_add(&shark_busy[i_], -1);      \
				break;                                          \
			}                                                       \
			__sync_fetch_and_add(&shark_busy[i_], -1);              \
		}                                                               \
	} while (0)

#define shark_add_windowed(key, v, dropped)                                     \
	shark_windowed(shark_add(&counts, key, v, dropped), shark_add(&counts2, key, v, dropped))

/*
 * Stacks by content (shark.bpf.h's SHARK_STACKS): ids in struct shark_key,
 * stacks_missed counts the events whose stack was lost (the map was full;
 * Lua sizes it with the templates' stacks = N).
 */
#define SHARK_STACK_MAP(name) SHARK_STACKS(name, 32768)

/* Add v to the __u64 at key, creating it; when the map is full, count a drop. */
static __always_inline void shark_add(void *map, const void *key, __u64 v, __u64 *dropped)
{
	if (shark_sum(map, key, v))
		__sync_fetch_and_add(dropped, 1);
}

/* An integer field of a tracepoint record: size 1, 2, 4 or 8, sign-extended when signed. */
static __always_inline __u64 shark_field(void *rec, __u32 off, __u32 size, __u32 is_signed)
{
	__u64 v = 0;

	switch (size) {
	case 1: {
		__u8 x = 0;
		bpf_probe_read_kernel(&x, 1, rec + off);
		v = is_signed ? (__u64)(__s64)(__s8)x : x;
		break;
	}
	case 2: {
		__u16 x = 0;
		bpf_probe_read_kernel(&x, 2, rec + off);
		v = is_signed ? (__u64)(__s64)(__s16)x : x;
		break;
	}
	case 4: {
		__u32 x = 0;
		bpf_probe_read_kernel(&x, 4, rec + off);
		v = is_signed ? (__u64)(__s64)(__s32)x : x;
		break;
	}
	default:
		bpf_probe_read_kernel(&v, 8, rec + off);
	}
	return v;
}

/* Does v pass `field OP value` (enum shark_where_op)? Compared as signed 64-bit. */
static __always_inline int shark_where(__u32 op, __s64 v, __s64 want)
{
	switch (op) {
	case SHARK_WHERE_EQ: return v == want;
	case SHARK_WHERE_NE: return v != want;
	case SHARK_WHERE_LT: return v < want;
	case SHARK_WHERE_LE: return v <= want;
	case SHARK_WHERE_GT: return v > want;
	case SHARK_WHERE_GE: return v >= want;
	}
	return 1;
}

#endif /* SHARK_TEMPLATE_BPF_H */
