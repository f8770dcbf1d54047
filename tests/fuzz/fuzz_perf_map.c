// SPDX-License-Identifier: GPL-2.0
/* fuzz_perf_map.c - libFuzzer: a /tmp/perf-PID.map as another user could write it. */
#include <stdint.h>
#include <string.h>
#include "shark.h"

static int add(void *ctx, uint64_t start, uint64_t size, const char *name)
{
	/* touch what the parser hands over: a name must be a terminated string */
	*(size_t *)ctx += strlen(name) + (start ^ size);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0;

	shark_perf_map_parse((const char *)data, size, add, &sum);
	return 0;
}
