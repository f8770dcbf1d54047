/* SPDX-License-Identifier: GPL-2.0 */
/* perf.h - perf_event_open and its sessions, beyond the entry points Lua calls (perf*.c). */
#ifndef SHARK_PERF_H
#define SHARK_PERF_H

#include <sys/types.h>
#include "shark_api.h"

struct perf_event_attr;

/*
 * shark_perf_event_open - the core's one perf_event_open (perf_event.c):
 * perf sessions, counting (shark stat) and BPF attachments go through it.
 * Return: the fd, or -errno (errno set too).
 */
int shark_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags);

uint64_t shark_perf__count(struct shark_perf *p, int32_t event);
void shark_samples__sort(struct shark_sample *s, int32_t n);
/* FNV-1a of a callchain (52 bits, never 0); user frames keyed by pid too (BPF delivery's records too) */
uint64_t shark_stack_key(const uint64_t *ips, uint32_t n, uint32_t pid);
/* tests: read @buf at ring position @start of the first ring (records straddle its end) */
int32_t shark_perf__replay_at(struct shark_perf *p, const uint8_t *buf, int32_t len, uint64_t start);

#endif /* SHARK_PERF_H */
