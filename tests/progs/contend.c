// SPDX-License-Identifier: GPL-2.0
/*
 * contend.c - a pthread mutex contended exactly N times: in each round the
 * main thread holds the lock for MS ms while a second thread blocks on it
 * (a FUTEX_WAIT of about MS ms on the mutex). The threads hand rounds over
 * by polling with nanosleep, and the process ends without a join, so no
 * other futex wait happens however the threads are scheduled.
 * Prints the mutex address. usage: contend N MS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long go, trying, done, finished;
static long n, ms;

static void nap(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void *waiter(void *arg)
{
	for (long i = 1; i <= n; i++) {
		while (go != i)
			nap(100);
		trying = i;	/* the main thread holds the lock until we block on it */
		pthread_mutex_lock(&lock);
		pthread_mutex_unlock(&lock);
		done = i;
	}
	finished = 1;
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 3)
		return 2;
	n = atol(argv[1]);
	ms = atol(argv[2]);
	printf("mutex %p\n", (void *)&lock);
	fflush(stdout);
	if (pthread_create(&t, NULL, waiter, NULL))
		return 1;
	for (long i = 1; i <= n; i++) {
		pthread_mutex_lock(&lock);
		go = i;
		while (trying != i)	/* however late the waiter runs on a busy machine */
			nap(100);
		nap(ms * 1000);
		pthread_mutex_unlock(&lock);
		while (done != i)
			nap(100);
	}
	/* no pthread_join: it waits on a futex when the thread has not exited yet */
	while (!finished)
		nap(100);
	return 0;
}
