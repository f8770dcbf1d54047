// SPDX-License-Identifier: GPL-2.0
/*
 * funcs.c - uprobe targets called a known number of times. "funcs N" calls
 * work_alpha N times (each calls libc's getppid once), work_beta 2N,
 * work_gamma 3N and other_fn once; "funcs N wait" first reads a byte of stdin
 * (so a tracer given its pid can attach first);
 * "funcs nap N MS" calls work_nap(MS), which sleeps MS ms, N times.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

__attribute__((noinline)) int work_alpha(int x) { return x + getppid(); }
__attribute__((noinline)) int work_beta(int x) { __asm__ volatile("" ::: "memory"); return x + 2; }
__attribute__((noinline)) int work_gamma(int x) { __asm__ volatile("" ::: "memory"); return x + 3; }
__attribute__((noinline)) int other_fn(int x) { __asm__ volatile("" ::: "memory"); return x + 4; }
__attribute__((noinline)) void work_nap(long ms) { pause_ms(ms); }

int main(int argc, char **argv)
{
	long n, sum = 0;

	if (argc > 3 && !strcmp(argv[1], "nap")) {
		n = atol(argv[2]);
		for (long i = 0; i < n; i++)
			work_nap(atol(argv[3]));
		return 0;
	}
	n = argc > 1 ? atol(argv[1]) : 100;
	if (argc > 2 && !strcmp(argv[2], "wait") && read(0, &sum, 1) != 1)
		return 2;
	sum = 0;
	for (long i = 0; i < n; i++) {
		sum += work_alpha((int)i);
		for (int j = 0; j < 2; j++)
			sum += work_beta((int)i);
		for (int j = 0; j < 3; j++)
			sum += work_gamma((int)i);
	}
	sum += other_fn((int)sum);
	return sum ? 0 : 1;
}
