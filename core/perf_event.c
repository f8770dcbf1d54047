// SPDX-License-Identifier: GPL-2.0
/* perf_event.c - the one perf_event_open of the core, probing events, CPUs and threads. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "perf_session.h"

/*
 * Every perf_event_open of shark goes through here (perf sessions, counting,
 * BPF attachments), so flags and error conventions are decided once.
 * Return: the fd, or -errno (errno is set too).
 */
int shark_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags)
{
	int fd = (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);

	return fd < 0 ? -errno : fd;
}

/* Can this machine open the event at all? 0 or -errno (counting, on ourselves). */
int32_t shark_perf_probe(uint32_t type, uint64_t config)
{
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.disabled = 1;
	fd = shark_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* ------------------------------------------------------------ CPUs, tasks */

int32_t shark_online_cpus(int32_t *cpus, int32_t max)
{
	char buf[1024];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int n = 0;
	char *s, *save = NULL;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (s = strtok_r(buf, ",\n", &save); s; s = strtok_r(NULL, ",\n", &save)) {
		int a, b;

		if (sscanf(s, "%d-%d", &a, &b) != 2)
			b = a = atoi(s);
		for (int c = a; c <= b; c++) {
			if (n < max)
				cpus[n] = c;
			n++;
		}
	}
	return n;
}

/* The threads of @pid now; inherit covers those it creates later. */
int shark_list_tids(pid_t pid, pid_t **out)
{
	char path[64];
	struct dirent *d;
	pid_t *tids = NULL;
	int n = 0, cap = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (n == cap) {
			pid_t *nt = realloc(tids, (size_t)(cap = cap ? cap * 2 : 8) * sizeof(*tids));

			if (!nt) {
				free(tids);
				closedir(dir);
				return -ENOMEM;
			}
			tids = nt;
		}
		tids[n++] = atoi(d->d_name);
	}
	closedir(dir);
	*out = tids;
	return n;
}
