// SPDX-License-Identifier: GPL-2.0
/* getppid_bursts.c - BURSTS bursts of exactly PER getppid() calls, SLEEP_US apart (burst tests). */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long bursts = argc > 1 ? atol(argv[1]) : 100;
	long per = argc > 2 ? atol(argv[2]) : 1000;
	long us = argc > 3 ? atol(argv[3]) : 2000;
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	for (long b = 0; b < bursts; b++) {
		for (long i = 0; i < per; i++)
			syscall(SYS_getppid);
		nanosleep(&ts, NULL);
	}
	return 0;
}
