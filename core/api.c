// SPDX-License-Identifier: GPL-2.0
/* api.c - the function table behind core/shark_api.h. */
#include <string.h>
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

static const char *api_strerror(int32_t err)
{
	return strerror(err < 0 ? -err : err);
}

const struct shark_api shark_api = {
	.size = sizeof(struct shark_api),
	.state = &shark_state,
	.time_ns = shark_time_ns,
	.realtime_ns = realtime_ns,
	.stop = shark_stop,
	.release_target = release_target,
	.kill_target = kill_target,
	.strerror = api_strerror,
	.perf_new = shark_perf__new,
	.perf_add = shark_perf__add,
	.perf_enable = shark_perf__enable,
	.perf_disable = shark_perf__disable,
	.perf_free = shark_perf__free,
	.perf_error = shark_perf__error,
	.perf_nrings = shark_perf__nrings,
	.perf_ring_fd = shark_perf__ring_fd,
	.perf_read = shark_perf__read,
	.perf_consume = shark_perf__consume,
	.perf_stats = shark_perf__stats,
	.perf_count = shark_perf__count,
	.online_cpus = shark_online_cpus,
	.cgroup_open = shark_cgroup_open,
	.comm = shark_comm,
	.read_user_string = shark_read_user_string,
	.symbolize = shark_symbolize,
	.perf_probe = shark_perf_probe,
	.perf_snapshot = shark_perf__snapshot,
	.perf_replay = shark_perf__replay,
};
