// SPDX-License-Identifier: GPL-2.0
/* perf_open.c - the one perf_event_open(2) call: perf sessions, BPF perf_event attach, shark stat. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "shark.h"

int shark_perf_event_open(struct perf_event_attr *attr, int32_t pid, int32_t cpu, int32_t group,
			  unsigned long flags)
{
	int fd = (int)syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);

	return fd < 0 ? -errno : fd;
}
