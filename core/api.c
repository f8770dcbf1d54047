// SPDX-License-Identifier: GPL-2.0
/* api.c - the function table behind core/shark_api.h. */
#include <time.h>
#include "shark.h"

struct shark_state shark_state = {
	.exit_code = -1,
	.target_status = -1,
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

static uint64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static int32_t release_target(void)
{
	return shark_target__release();
}

static int32_t kill_target(int32_t sig)
{
	return shark_target__kill(sig);
}

const struct shark_api shark_api = {
	.size = sizeof(struct shark_api),
	.state = &shark_state,
	.time_ns = shark_time_ns,
	.realtime_ns = realtime_ns,
	.stop = shark_stop,
	.release_target = release_target,
	.kill_target = kill_target,
};
