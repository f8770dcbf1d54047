// SPDX-License-Identifier: GPL-2.0
/*
 * sleeper.c - name the thread COMM, then sleep 1 ms exactly N times: N
 * context switches out of COMM in state S (interruptible sleep).
 * usage: sleeper COMM N
 */
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 1000000 };
	long n;

	if (argc < 3)
		return 2;
	prctl(PR_SET_NAME, argv[1]);
	n = atol(argv[2]);
	for (long i = 0; i < n; i++)
		nanosleep(&ts, NULL);
	return 0;
}
