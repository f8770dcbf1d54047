// SPDX-License-Identifier: GPL-2.0
/*
 * watched.c - print the address of the global `counter`, wait for a line on
 * stdin (the tracer is ready), then write `counter` exactly N times and read
 * it N/2 times. usage: watched N
 */
#include <stdio.h>
#include <stdlib.h>

volatile long counter;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, sum = 0;
	char line[16];

	printf("%p\n", (void *)&counter);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (long i = 0; i < n; i++)
		counter = i;
	for (long i = 0; i < n / 2; i++)
		sum += counter;
	return sum == 0 && n > 1;
}
