// SPDX-License-Identifier: GPL-2.0
/*
 * renamer.c - a task whose names change while traced, each name marked by an
 * openat of PREFIX.N: PREFIX.1 as "renamer", prctl(PR_SET_NAME, "rn-named"),
 * PREFIX.2; two threads that name themselves "rn-thr-a" and "rn-thr-b"
 * (pthread_setname_np) open PREFIX.a and PREFIX.b, a third thread never
 * renamed (so "rn-named", its creator's name) opens PREFIX.c; joined, then
 * exec cat PREFIX.3 (named "cat"). A tracer's e.comm of each open must be
 * the name written beside it. With "wait", it first waits (30 s at most) for
 * PREFIX.go to exist: a tracer attaching to it (-p) says when. With "self",
 * it execs itself as /proc/self/exe (named "exe") to open PREFIX.3, for a
 * tracer that cannot read the path of a task gone: each open's mode
 * argument (ignored without O_CREAT) is the character after PREFIX.
 * usage: renamer PREFIX [wait] [self]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *prefix;

static int has(int argc, char **argv, const char *word)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], word))
			return 1;
	return 0;
}

static void mark(const char *what)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s.%s", prefix, what);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY, (unsigned)(unsigned char)*what);
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
		fprintf(stderr, "usage: renamer PREFIX [wait] [self]\n");
		return 2;
	}
	prefix = argv[1];
	if (has(argc, argv, "exec'd")) {
		mark("3");
		return 0;
	}
	if (has(argc, argv, "wait")) {
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
	if (has(argc, argv, "self")) {
		execl("/proc/self/exe", "renamer", prefix, "exec'd", (char *)NULL);
		perror("exec self");
		return 1;
	}
	snprintf(last, sizeof(last), "%s.3", prefix);
	execlp("cat", "cat", last, (char *)NULL);
	perror("exec cat");
	return 1;
}
