// SPDX-License-Identifier: GPL-2.0
/* getppid_n.c - call getppid() exactly N times (the benchmark workload and burst tests). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}
