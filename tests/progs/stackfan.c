// SPDX-License-Identifier: GPL-2.0
/*
 * stackfan.c - call getppid from exactly N distinct user stacks, R times from
 * each: stack i goes down one call per bit of i, through zero() or one(), so
 * the return addresses spell i and no two stacks are alike (a recursion that
 * only differs in depth would not do: stack walkers keep 127 frames).
 * usage: stackfan N R [GOFILE [sleep|call [PASSES]]]: with GOFILE (not "-"),
 * wait until it exists first (a tracer can attach to our pid), and at the end
 * create GOFILE.done and GOFILE.end and wait until GOFILE is gone (the tracer
 * names our frames while we live). "sleep": each of the R times blocks in a 100 us
 * nanosleep instead. PASSES (default 1): after each pass but the last,
 * create GOFILE.done and wait until it is gone; pass p makes N more stacks,
 * N * p to N * (p + 1) - 1.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define barrier() __asm__ volatile("" ::: "memory")

__attribute__((noinline)) long answer(long ret)
{
	barrier();
	return ret;
}

/* the syscall inline on x86-64: no libc frame without a frame pointer */
__attribute__((noinline)) long ask_parent(void)
{
	long ret;

#if defined(__x86_64__)
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
#else
	ret = getppid();
#endif
	return answer(ret);
}

static int blocking;

/* block: off CPU in do_nanosleep, with this function as the leaf user frame */
__attribute__((noinline)) long nap(void)
{
	struct timespec ts = { 0, 100 * 1000 };

	nanosleep(&ts, NULL);
	return answer(1);
}

long step(long i, int bit, int nbits, long r);

__attribute__((noinline)) long zero(long i, int bit, int nbits, long r)
{
	long v = step(i, bit + 1, nbits, r);

	barrier();
	return v + 1;
}

__attribute__((noinline)) long one(long i, int bit, int nbits, long r)
{
	long v = step(i, bit + 1, nbits, r);

	barrier();
	return v + 1;
}

__attribute__((noinline)) long step(long i, int bit, int nbits, long r)
{
	long v = 0;

	if (bit == nbits) {
		for (long k = 0; k < r; k++)
			v += blocking ? nap() : ask_parent();
		return v;
	}
	if ((i >> bit) & 1)
		v = one(i, bit, nbits, r);
	else
		v = zero(i, bit, nbits, r);
	barrier();
	return v;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 3000, r = argc > 2 ? atol(argv[2]) : 1, sum = 0;
	struct timespec wait = { 0, 10 * 1000 * 1000 };
	long passes = argc > 5 ? atol(argv[5]) : 1;
	char done[PATH_MAX];
	int nbits = 1;
	FILE *f;

	if (n < 1 || r < 1 || passes < 1) {
		fprintf(stderr, "usage: stackfan N R [GOFILE [sleep|call [PASSES]]]\n");
		return 2;
	}
	blocking = argc > 4 && argv[4][0] == 's';
	if (argc > 3 && strcmp(argv[3], "-") == 0)
		argc = 3;
	while ((1L << nbits) < n * passes)
		nbits++;
	while (argc > 3 && access(argv[3], F_OK) != 0)
		nanosleep(&wait, NULL);
	if (argc > 3)
		snprintf(done, sizeof(done), "%s.done", argv[3]);
	for (long p = 0; p < passes; p++) {
		for (long i = n * p; i < n * (p + 1); i++)
			sum += step(i, 0, nbits, r);
		if (argc <= 3)
			continue;
		f = fopen(done, "w");
		if (!f) {
			perror(done);
			return 2;
		}
		fclose(f);
		while (p < passes - 1 && access(done, F_OK) == 0)
			nanosleep(&wait, NULL);
	}
	if (argc > 3) {
		snprintf(done, sizeof(done), "%s.end", argv[3]);
		f = fopen(done, "w");
		if (!f) {
			perror(done);
			return 2;
		}
		fclose(f);
	}
	while (argc > 3 && access(argv[3], F_OK) == 0)
		nanosleep(&wait, NULL);
	return sum == 0;	/* 0: every call answered */
}
