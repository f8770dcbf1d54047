/* SPDX-License-Identifier: GPL-2.0 */
/* perf.h - perf_event_open sessions, beyond the entry points Lua calls (perf.c). */
#ifndef SHARK_PERF_H
#define SHARK_PERF_H

#include "shark_api.h"

uint64_t shark_perf__count(struct shark_perf *p, int32_t event);
void shark_samples__sort(struct shark_sample *s, int32_t n);
/* tests: read @buf at ring position @start of the first ring (records straddle its end) */
int32_t shark_perf__replay_at(struct shark_perf *p, const uint8_t *buf, int32_t len, uint64_t start);

#endif /* SHARK_PERF_H */
