// SPDX-License-Identifier: GPL-2.0
/*
 * renamer.c - a task whose names change while traced, each name marked by an
 * openat of PREFIX.N: PREFIX.1 as "renamer", prctl(PR_SET_NAME, "rn-named"),
 * PREFIX.2; two threads that name themselves "rn-thr-a" and "rn-thr-b"
 * (pthread_setname_np) open PREFIX.a and PREFIX.b, a third thread never
 * renamed (so "rn-named", its creator's name) opens PREFIX.c; joined, then
 * exec cat PREFIX.3 (named "cat"). A tracer's e.comm of each open must be
 * the name written beside it. With "wait", it first waits (30 s at most) for
 * PREFIX.go to exist: a tracer attaching to it (-p) says when.
 * usage: renamer PREFIX [wait]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *prefix;

static void mark(const char *what)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s.%s", prefix, what);
	fd = open(path, O_RDONLY);
	if (fd >= 0)
		close(fd);
}

static void *thread(void *arg)
{
	const char *which = arg;
	char name[16];

	if (*which != 'c') {
		snprintf(name, sizeof(name), "rn-thr-%s", which);
		pthread_setname_np(pthread_self(), name);
	}
	mark(which);
	return NULL;
}

int main(int argc, char **argv)
{
	static char a[] = "a", b[] = "b", c[] = "c";
	pthread_t t[3];
	char last[512];

	if (argc < 2) {
		fprintf(stderr, "usage: renamer PREFIX [wait]\n");
		return 2;
	}
	prefix = argv[1];
	if (argc > 2) {
		snprintf(last, sizeof(last), "%s.go", prefix);
		for (int i = 0; i < 3000 && access(last, F_OK); i++)
			usleep(10000);
	}
	mark("1");
	prctl(PR_SET_NAME, "rn-named");
	mark("2");
	if (pthread_create(&t[0], NULL, thread, a) || pthread_create(&t[1], NULL, thread, b) ||
	    pthread_create(&t[2], NULL, thread, c))
		return 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	snprintf(last, sizeof(last), "%s.3", prefix);
	execlp("cat", "cat", last, (char *)NULL);
	perror("exec cat");
	return 1;
}
