// SPDX-License-Identifier: GPL-2.0
/* api.c - process state and the small entry points of core/shark_api.h (the table is generated). */
#include <malloc.h>
#include <string.h>
#include <time.h>
#include "shark.h"

struct shark_state shark_state = {
	.exit_code = -1,
	.target_status = -1,
};

uint64_t shark_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *shark_strerror(int32_t err)
{
	return shark_bpf_strerror(err);
}

void shark_trim_memory(void)
{
	malloc_trim(0);
}
