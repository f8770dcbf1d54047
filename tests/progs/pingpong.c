// SPDX-License-Identifier: GPL-2.0
/*
 * pingpong.c - two threads named "ping" and "pong", both on CPU 0, hand a
 * token back and forth N times through pipes: each blocks reading until the
 * other writes, so the scheduler switches between them.
 * usage: pingpong N
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static int to_pong[2], to_ping[2];
static long rounds;

static void pin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *pong(void *arg)
{
	char c;

	(void)arg;
	prctl(PR_SET_NAME, "pong");
	pin();
	for (long i = 0; i < rounds; i++) {
		if (read(to_pong[0], &c, 1) != 1 || write(to_ping[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char c = 'x';

	rounds = argc > 1 ? atol(argv[1]) : 1000;
	if (pipe(to_pong) || pipe(to_ping))
		return 1;
	prctl(PR_SET_NAME, "ping");
	pin();
	pthread_create(&t, NULL, pong, NULL);
	for (long i = 0; i < rounds; i++) {
		if (write(to_pong[1], &c, 1) != 1 || read(to_ping[0], &c, 1) != 1)
			break;
	}
	pthread_join(t, NULL);
	return 0;
}
