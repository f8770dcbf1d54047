// SPDX-License-Identifier: GPL-2.0
/* test_perf.c - pieces of the perf core that need no kernel: ordering, CPU lists. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "shark.h"

static void test_sort(void)
{
	struct shark_sample s[64], before[64];
	int sorted = 1, stable = 1;

	memset(s, 0, sizeof(s));

	/* two "rings" interleaved: each in order, together not */
	for (int i = 0; i < 64; i++) {
		s[i].time = (i < 32) ? i * 2.0 : (i - 32) * 2.0 + 1.0;
		s[i].cpu = i < 32 ? 0 : 1;
		s[i].event = (uint32_t)i;
	}
	s[10].time = s[11].time = 20.0;	/* equal times keep their order */
	shark_samples__sort(s, 64);
	for (int i = 1; i < 64; i++) {
		if (s[i].time < s[i - 1].time)
			sorted = 0;
		if (s[i].time == s[i - 1].time && s[i].event < s[i - 1].event)
			stable = 0;
	}
	ok(sorted, "batch sorted by time");
	ok(stable, "equal times keep their order");
	memcpy(before, s, sizeof(s));
	s[1].time = -1.0;	/* out of order, but beyond the n given */
	before[1].time = -1.0;
	shark_samples__sort(s, 1);
	shark_samples__sort(s, 0);
	ok(!memcmp(before, s, sizeof(s)), "sorting 0 or 1 samples leaves the array as it was");
}

static void test_cpus(void)
{
	int32_t cpus[1024];
	int n = shark_online_cpus(cpus, 1024);

	ok(n >= 1, "at least one online CPU (%d)", n);
	ok(n < 1 || cpus[0] >= 0, "CPU numbers are not negative");
}

void test_perf(void)
{
	test_sort();
	test_cpus();
}
