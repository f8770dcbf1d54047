// SPDX-License-Identifier: GPL-2.0
/*
 * dwlib.c - the shared-library half of dwchain: dw_lib_mid() calls
 * dw_lib_leaf(), which spins. Built like Debian builds packages (-O2, no
 * frame pointers): only .eh_frame says how to find the callers.
 */
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) double dw_lib_leaf(double until, int depth)
{
	volatile double x = depth;

	/* the clock is read once per ~10 ms of arithmetic: nearly every sample is in here */
	while (now_ms() < until)
		for (int i = 0; i < 2000000; i++)
			x += i * 0.5;
	return x;
}

__attribute__((noinline)) double dw_lib_mid(double until, int depth)
{
	volatile char pad[64];	/* a frame of its own, with rbp free for data */
	double r;

	pad[depth & 63] = (char)depth;
	r = dw_lib_leaf(until, depth + pad[depth & 63]);
	return r * 2 + pad[0];
}
