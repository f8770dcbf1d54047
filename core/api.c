// SPDX-License-Identifier: GPL-2.0
/* api.c - process state and the small entry points of core/shark_api.h (the table is generated). */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "shark.h"

struct shark_state shark_state = {
	.exit_code = -1,
	.target_status = -1,
	.rt_prio = SHARK_RT_PRIO_DEFAULT,
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t shark_time_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t shark_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

const char *shark_strerror(int32_t err)
{
	return shark_bpf_strerror(err);
}

void shark_trim_memory(void)
{
	malloc_trim(0);
}

int32_t shark_set_rlimit(int32_t resource, uint64_t soft, uint64_t hard)
{
	struct rlimit r = { .rlim_cur = soft, .rlim_max = hard };

	return setrlimit(resource, &r) ? -errno : 0;
}

/*
 * Real-time scheduling for the thread that drains event sources (perf's
 * record -r): a sleeping reader woken at a ring's watermark runs at once
 * instead of queueing behind CPU-bound tasks of a lower nice (see -r).
 */
int32_t shark_sched_reader(int32_t prio)
{
	struct sched_param p = { .sched_priority = prio > 0 ? prio : 0 };

	if (prio < 0 || prio > SHARK_RT_PRIO_MAX)
		return -EINVAL;
	if (sched_setscheduler(0, (prio ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK, &p))
		return -errno;
	return 0;
}
