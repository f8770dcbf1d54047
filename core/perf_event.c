// SPDX-License-Identifier: GPL-2.0
/* perf_event.c - the one perf_event_open of the core. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "shark.h"

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
