// SPDX-License-Identifier: GPL-2.0
/*
 * dwchain.c - spin for MS milliseconds with a known call chain, built with
 * Debian's default flags (-O2, no frame pointers):
 *   main -> dw_app_mid (here) -> dw_lib_mid -> dw_lib_leaf (libdwlib.so)
 * Frame-pointer walks lose the callers; DWARF (.eh_frame) unwinding finds
 * them. usage: dwchain MS
 */
#include <stdlib.h>
#include <time.h>

double dw_lib_mid(double until, int depth);

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) double dw_app_mid(double until, int depth)
{
	volatile long pad[8];
	double r;

	pad[depth & 7] = depth;
	r = dw_lib_mid(until, depth + (int)pad[depth & 7]);
	return r + (double)pad[1];
}

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 500;

	return dw_app_mid(now_ms() + ms, argc) > 0 ? 0 : 1;
}
