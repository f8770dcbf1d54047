// SPDX-License-Identifier: GPL-2.0
/*
 * samesector.c - THREADS threads each read the first 4 KiB of PATH N times
 * with O_DIRECT: exactly THREADS * N block requests for the same sector,
 * many of them in flight at once (a block device of its own, e.g. a loop
 * device, makes the count exact). usage: samesector PATH THREADS N
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *path;
static long n;

static void *reader(void *arg)
{
	void *buf;
	int fd;

	(void)arg;
	if (posix_memalign(&buf, 4096, 4096))
		return (void *)1;
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		perror(path);
		return (void *)1;
	}
	for (long i = 0; i < n; i++) {
		if (pread(fd, buf, 4096, 0) != 4096) {
			perror("pread");
			return (void *)1;
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	long threads;
	int rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: samesector PATH THREADS N\n");
		return 2;
	}
	path = argv[1];
	threads = atol(argv[2]);
	n = atol(argv[3]);
	if (threads < 1 || threads > 64)
		return 2;
	for (long i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	for (long i = 0; i < threads; i++) {
		void *r;

		pthread_join(t[i], &r);
		rc |= r != NULL;
	}
	return rc;
}
