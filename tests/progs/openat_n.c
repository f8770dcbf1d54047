// SPDX-License-Identifier: GPL-2.0
/*
 * openat_n.c - call openat(AT_FDCWD, PATH, O_RDONLY | O_NOCTTY | O_NOFOLLOW) exactly N
 * times (that flag set marks our calls apart from the loader's), then stay
 * alive HOLD_MS so a tracer can still read our memory. PATH "NULL" passes a
 * NULL pointer: a string no tracer can read (the call fails with EFAULT).
 * usage: openat_n N PATH [HOLD_MS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	const char *path;
	long n, hold;

	if (argc < 3) {
		fprintf(stderr, "usage: openat_n N PATH [HOLD_MS]\n");
		return 2;
	}
	n = atol(argv[1]);
	hold = argc > 3 ? atol(argv[3]) : 0;
	path = strcmp(argv[2], "NULL") ? argv[2] : NULL;
	for (long i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_NOCTTY | O_NOFOLLOW);

		if (fd >= 0)
			close(fd);
	}
	ts.tv_sec = hold / 1000;
	ts.tv_nsec = (hold % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return 0;
}
