/* SPDX-License-Identifier: GPL-2.0 */
/* template.bpf.h - BPF-side helpers of shark's prebuilt programs. */
#ifndef SHARK_TEMPLATE_BPF_H
#define SHARK_TEMPLATE_BPF_H

/*
 * Add v to the __u64 at key, creating it. When another CPU created it first,
 * add to theirs; when the map is full, count a drop.
 */
static __always_inline void shark_add(void *map, const void *key, __u64 v, __u64 *dropped)
{
	__u64 *c = bpf_map_lookup_elem(map, key);

	if (c) {
		__sync_fetch_and_add(c, v);
	} else if (bpf_map_update_elem(map, key, &v, BPF_NOEXIST)) {
		c = bpf_map_lookup_elem(map, key);
		if (c)
			__sync_fetch_and_add(c, v);
		else
			__sync_fetch_and_add(dropped, 1);
	}
}

#endif /* SHARK_TEMPLATE_BPF_H */
