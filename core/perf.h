/* SPDX-License-Identifier: GPL-2.0 */
/* perf.h - perf_event_open sessions, beyond the entry points Lua calls (perf.c). */
#ifndef SHARK_PERF_H
#define SHARK_PERF_H

#include "shark_api.h"

struct perf_event_attr;
/**
 * shark_perf_event_open() - perf_event_open(2), the one place shark calls it
 * Return: the event's fd, or -errno (errno stays set, as after the syscall).
 */
int shark_perf_event_open(struct perf_event_attr *attr, int32_t pid, int32_t cpu, int32_t group,
			  unsigned long flags);

uint64_t shark_perf__count(struct shark_perf *p, int32_t event);
void shark_samples__sort(struct shark_sample *s, int32_t n);
/* FNV-1a of a callchain (52 bits, never 0); user frames keyed by pid too (BPF delivery's records too) */
uint64_t shark_stack_key(const uint64_t *ips, uint32_t n, uint32_t pid);
/* tests: read @buf at ring position @start of the first ring (records straddle its end) */
int32_t shark_perf__replay_at(struct shark_perf *p, const uint8_t *buf, int32_t len, uint64_t start);

#endif /* SHARK_PERF_H */
