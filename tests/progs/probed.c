// SPDX-License-Identifier: GPL-2.0
/*
 * probed.c - a uprobe and USDT target with known behaviour: for i in 1..N,
 * calls probed_add(i, 2 * i) (returns 3 * i) and fires USDT probe
 * shark_test:tick(i, i * i). usage: probed N
 */
#include <stdlib.h>
#include <sys/sdt.h>

__attribute__((noinline)) int probed_add(int a, int b)
{
	__asm__ volatile("" ::: "memory");
	return a + b;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	long sum = 0;

	for (long i = 1; i <= n; i++) {
		sum += probed_add((int)i, (int)(2 * i));
		DTRACE_PROBE2(shark_test, tick, i, i * i);
	}
	return sum == 3 * n * (n + 1) / 2 ? 0 : 1;
}
