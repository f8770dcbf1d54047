// SPDX-License-Identifier: GPL-2.0
/* pidsleep.c - write our pid to FILE, sleep MS milliseconds, exit with CODE. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	long ms;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: pidsleep FILE MS [CODE]\n");
		return 2;
	}
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	ms = atol(argv[2]);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return argc > 3 ? atoi(argv[3]) : 0;
}
