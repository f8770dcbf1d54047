// SPDX-License-Identifier: GPL-2.0
/* test_perf_event.c - the one perf_event_open(2) wrapper: an fd, or -errno with errno kept. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "tap.h"
#include "shark.h"

static void attr_of(struct perf_event_attr *a, uint32_t type, uint64_t config)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = type;
	a->config = config;
	a->disabled = 1;
}

void test_perf_event(void)
{
	struct perf_event_attr a;
	int fd;

	/* a software counter on this process, any CPU: what every shark run can open */
	attr_of(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	fd = shark_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd == -ENOSYS && tap_qemu_user()) {
		/* the wrapper's checks need the syscall itself */
		for (int i = 0; i < 4; i++)
			tap_skip("perf_event_open: %s emulates no perf_event_open: it needs an arm64 kernel",
				 tap_qemu_user());
		return;
	}
	ok(fd >= 0, "a task-clock counter on ourselves opens (%d)", fd);
	if (fd >= 0)
		close(fd);

	/* an attr the kernel refuses: flags it does not know */
	attr_of(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	errno = 0;
	fd = shark_perf_event_open(&a, 0, -1, -1, 1UL << 30);
	ok(fd == -EINVAL, "unknown flags: -EINVAL (%d)", fd);
	ok(errno == EINVAL, "... and errno stays EINVAL, as after the syscall");

	/* a group leader that is no perf event */
	attr_of(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
	fd = shark_perf_event_open(&a, 0, -1, 0, PERF_FLAG_FD_CLOEXEC);
	ok(fd < 0 && fd == -errno, "a group fd that is not a perf event: -errno (%d)", fd);
}
