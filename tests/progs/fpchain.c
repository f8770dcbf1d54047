// SPDX-License-Identifier: GPL-2.0
/*
 * fpchain.c - spin for MS milliseconds of CPU time in leaf(), called from
 * mid(), called from main(): built with frame pointers, so sampled user stacks
 * read leaf <- mid <- main. CPU time, not wall time: on a busy machine it gets
 * the same number of cpu-clock samples, only later. usage: fpchain MS [COMM]
 * (COMM: the name the process gives itself, any bytes a thread name takes)
 */
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) double leaf(double until)
{
	volatile double x = 0;

	while (now_ms() < until)
		for (int i = 0; i < 10000; i++)
			x += i * 0.5;
	return x;
}

__attribute__((noinline)) double mid(double until)
{
	double r = leaf(until);

	return r + 1;
}

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 500;

	if (argc > 2)
		prctl(PR_SET_NAME, argv[2]);

	return mid(now_ms() + ms) > 0 ? 0 : 1;
}
