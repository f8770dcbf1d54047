// SPDX-License-Identifier: GPL-2.0
/* count.c - shark stat's mechanism: counting perf events (read(), no ring) and a held child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shark.h"

/* Open one counter; with enable_on_exec it starts when the held child execs. */
int32_t shark_count__open(const struct shark_count_attr *c)
{
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = c->type;
	a.config = c->config;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	a.inherit = c->inherit;
	a.disabled = 1;
	a.enable_on_exec = c->enable_on_exec;
	a.exclude_kernel = c->exclude_kernel;
	a.exclude_user = c->exclude_user;
	fd = shark_perf_event_open(&a, c->pid, c->cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return fd;
	if (c->filter && *c->filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, c->filter)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int32_t shark_count__read(int32_t fd, uint64_t *vals)
{
	ssize_t n = read(fd, vals, 3 * sizeof(uint64_t));

	if (n < 0)
		return -errno;
	return n == 3 * sizeof(uint64_t) ? 0 : -EIO;
}

int32_t shark_count__enable(int32_t fd, int32_t on)
{
	return ioctl(fd, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0) ? -errno : 0;
}

int32_t shark_fd_close(int32_t fd)
{
	return close(fd) ? -errno : 0;
}

/* ------------------------------------------------------------ held children */

/*
 * A child forked and held before exec (it reads a pipe), so counters opened on
 * its pid with enable_on_exec count exactly the command. A few at a time
 * (shark stat -r runs them one after another).
 */
#define NCHILD 8

static struct child {
	pid_t pid;
	int go;		/* write a byte: exec */
	int ready;	/* EOF: exec'd; an int: why exec failed */
	int pidfd;
} children[NCHILD];

static struct child *find(pid_t pid)
{
	for (int i = 0; i < NCHILD; i++)
		if (children[i].pid == pid && pid > 0)
			return &children[i];
	return NULL;
}

int32_t shark_child__spawn(const char *const *argv)
{
	struct child *c = find(0);
	int go, ready;
	pid_t pid;

	for (int i = 0; !c && i < NCHILD; i++)
		if (!children[i].pid)
			c = &children[i];
	if (!c)
		return -EAGAIN;
	if (!argv || !argv[0])
		return -EINVAL;
	pid = shark_spawn_held((char *const *)argv, &go, &ready);
	if (pid < 0)
		return pid;
	c->pid = pid;
	c->go = go;
	c->ready = ready;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}

int32_t shark_child__release(int32_t pid)
{
	struct child *c = find(pid);
	ssize_t n;
	int e = 0;

	if (!c)
		return -ESRCH;
	if (c->go < 0)
		return 0;
	n = write(c->go, "g", 1);
	close(c->go);
	c->go = -1;
	if (n != 1)
		return -EPIPE;
	do
		n = read(c->ready, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->ready);
	c->ready = -1;
	return n == sizeof(e) ? -e : 0;
}

int32_t shark_child__wait(int32_t pid, int32_t timeout_ms, int32_t *status)
{
	struct child *c = find(pid);
	struct pollfd p;
	int st, rc;

	if (!c)
		return -ESRCH;
	if (c->go >= 0) {	/* never released: it leaves on EOF */
		close(c->go);
		c->go = -1;
	}
	p.fd = c->pidfd;
	p.events = POLLIN;
	rc = c->pidfd >= 0 ? poll(&p, 1, timeout_ms) : 1;
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return 0;
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	if (status)
		*status = st;
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->ready >= 0)
		close(c->ready);
	memset(c, 0, sizeof(*c));
	return 1;
}
