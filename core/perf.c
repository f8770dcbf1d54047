// SPDX-License-Identifier: GPL-2.0
/* perf.c - perf_event_open sessions: events on every CPU and thread, their shared per-CPU rings. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "perf_session.h"

/* Reading and decoding the rings is perf_read.c; the syscall, CPUs and threads perf_event.c. */

void shark_perf__set_err(struct shark_perf *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------- lifecycle */

struct shark_perf *shark_perf__new(const struct shark_perf_opts *o)
{
	struct shark_perf *p = calloc(1, sizeof(*p));
	int32_t all[1024];
	int n;

	if (!p)
		return NULL;
	p->opts = *o;
	p->opts.cpus = NULL;
	if (!p->opts.mmap_pages)
		p->opts.mmap_pages = 256;
	if (p->opts.mmap_pages & (p->opts.mmap_pages - 1)) {
		shark_perf__free(p);
		errno = EINVAL;
		return NULL;
	}
	if (o->cpus && o->ncpus > 0) {
		n = o->ncpus;
		memcpy(all, o->cpus, sizeof(int32_t) * (size_t)(n < 1024 ? n : 1024));
	} else {
		n = shark_online_cpus(all, 1024);
		if (n < 0) {
			shark_perf__free(p);
			errno = -n;
			return NULL;
		}
	}
	if (n > 1024)
		n = 1024;
	p->cpus = calloc((size_t)n, sizeof(int));
	p->rings = calloc((size_t)n, sizeof(struct ring));
	if (!p->cpus || !p->rings)
		goto nomem;
	for (int i = 0; i < n; i++) {
		p->cpus[i] = all[i];
		p->rings[i].fd = -1;
		p->rings[i].cpu = all[i];
	}
	p->ncpus = n;
	if (o->tid > 0) {
		p->tids = malloc(sizeof(pid_t));
		if (!p->tids)
			goto nomem;
		p->tids[0] = o->tid;
		p->ntids = 1;
	} else if (o->pid > 0 && o->cgroup_fd < 0) {
		n = shark_list_tids(o->pid, &p->tids);
		if (n < 0) {
			shark_perf__free(p);
			errno = -n;
			return NULL;
		}
		p->ntids = n;
	} else {
		p->tids = malloc(sizeof(pid_t));
		if (!p->tids)
			goto nomem;
		p->tids[0] = o->cgroup_fd >= 0 ? o->cgroup_fd : -1;
		p->ntids = 1;
	}
	p->idcap = 64;
	p->ids = calloc(p->idcap, sizeof(*p->ids));
	p->leaders = malloc(sizeof(int) * (size_t)p->ncpus * (size_t)p->ntids);
	if (!p->ids || !p->leaders)
		goto nomem;
	for (int i = 0; i < p->ncpus * p->ntids; i++)
		p->leaders[i] = -1;
	return p;
nomem:
	shark_perf__free(p);
	errno = ENOMEM;
	return NULL;
}

void shark_perf__free(struct shark_perf *p)
{
	if (!p)
		return;
	if (p->opts.cgroup_fd >= 0)
		close(p->opts.cgroup_fd);
	for (int i = 0; p->rings && i < p->ncpus; i++) {
		struct ring *r = &p->rings[i];

		if (r->replay)
			free(r->meta);
		else if (r->meta)
			munmap(r->meta, (size_t)r->size + (size_t)sysconf(_SC_PAGESIZE));
		free(r->scratch);
		free(r->task_scratch);
	}
	for (int i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	for (int i = 0; i < p->nevs; i++) {
		free(p->evs[i].name);
		free(p->evs[i].route);
	}
	free(p->leaders);
	free(p->solos);
	free(p->evs);
	free(p->fds);
	free(p->rings);
	free(p->chains);
	free(p->cpus);
	free(p->tids);
	free(p->ids);
	free(p);
}

const char *shark_perf__error(struct shark_perf *p)
{
	return p && p->err[0] ? p->err : "";
}

/* ------------------------------------------------------------- opening */

static int id_add(struct shark_perf *p, uint64_t id, int32_t ev)
{
	if ((p->nids + 1) * 2 > p->idcap) {
		uint32_t cap = p->idcap * 2;
		struct idmap *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (uint32_t i = 0; i < p->idcap; i++) {
			if (!p->ids[i].id)
				continue;
			for (uint32_t j = (uint32_t)p->ids[i].id & (cap - 1);; j = (j + 1) & (cap - 1)) {
				if (!n[j].id) {
					n[j] = p->ids[i];
					break;
				}
			}
		}
		free(p->ids);
		p->ids = n;
		p->idcap = cap;
	}
	for (uint32_t j = (uint32_t)id & (p->idcap - 1);; j = (j + 1) & (p->idcap - 1)) {
		if (!p->ids[j].id) {
			p->ids[j].id = id;
			p->ids[j].event = ev;
			p->nids++;
			return 0;
		}
	}
}

static int ring_map(struct shark_perf *p, struct ring *r, int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)page * (p->opts.mmap_pages + 1);
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		return -errno;
	r->fd = fd;
	r->meta = m;
	r->data = (uint8_t *)m + page;
	r->size = (uint64_t)page * p->opts.mmap_pages;
	r->pos = r->meta->data_tail;
	return 0;
}

static int push_fd(struct shark_perf *p, int fd)
{
	if ((p->nfds & 63) == 0) {
		int *n = realloc(p->fds, sizeof(int) * (size_t)(p->nfds + 64));

		if (!n)
			return -ENOMEM;
		p->fds = n;
	}
	p->fds[p->nfds++] = fd;
	return 0;
}

static const char *open_hint(int err, const struct shark_perf_event *e)
{
	switch (err) {
	case ENOENT:
	case EOPNOTSUPP:
		if (e->type == PERF_TYPE_HARDWARE || e->type == PERF_TYPE_HW_CACHE || e->type == PERF_TYPE_RAW)
			return " (no hardware PMU here, e.g. under virtualization)";
		return " (this kernel does not support it)";
	case EACCES:
	case EPERM:
		return " (run shark as root, or lower kernel.perf_event_paranoid)";
	case EMFILE:
		return " (too many open files: fewer events, or raise ulimit -n)";
	case ESRCH:
		return " (the process is gone)";
	case EINVAL:
		return " (the kernel rejected these settings)";
	default:
		return "";
	}
}

static void fill_attr(const struct shark_perf *p, const struct shark_perf_event *e, struct perf_event_attr *a)
{
	uint64_t bytes = (uint64_t)sysconf(_SC_PAGESIZE) * p->opts.mmap_pages;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = e->type;
	a->config = e->config;
	if (e->type == PERF_TYPE_BREAKPOINT) {
		a->bp_type = e->bp_type;
		a->bp_addr = e->bp_addr;
		a->bp_len = e->bp_len;
	}
	if (e->freq) {
		a->freq = 1;
		a->sample_freq = e->period;
	} else {
		a->sample_period = e->period ? e->period : 1;
	}
	a->sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			 PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD;
	if (e->raw)
		a->sample_type |= PERF_SAMPLE_RAW;
	if (p->opts.callchain_k || p->opts.callchain_u) {
		a->sample_type |= PERF_SAMPLE_CALLCHAIN;
		a->exclude_callchain_kernel = !p->opts.callchain_k;
		a->exclude_callchain_user = !p->opts.callchain_u;
		if (p->opts.max_stack)
			a->sample_max_stack = (uint16_t)p->opts.max_stack;
	}
	if (p->opts.stack_user) {
		/* user frames come from unwinding a copy of the stack, not the kernel's walk */
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->sample_regs_user = SHARK_UNWIND_REGS_MASK;
		a->sample_stack_user = p->opts.stack_user;
		if (p->opts.callchain_k)
			a->exclude_callchain_user = 1;
		else
			a->sample_type &= ~(uint64_t)PERF_SAMPLE_CALLCHAIN;
	}
	a->exclude_kernel = e->exclude_kernel;
	a->exclude_user = e->exclude_user;
	a->disabled = 1;
	/* read() then tells the samples lost, even those no LOST record reports yet */
	if (!p->no_format_lost)
		a->read_format = PERF_FORMAT_LOST;
	a->inherit = p->opts.inherit;
	a->enable_on_exec = p->opts.enable_on_exec;
	a->sample_id_all = 1;
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(p->opts.watermark ? p->opts.watermark : bytes / 4);
	if (a->wakeup_watermark > bytes / 2)
		a->wakeup_watermark = (uint32_t)(bytes / 2);
	/* task records once per session, on its first event */
	if (p->opts.track_tasks && p->nevs == 0) {
		a->mmap = 1;
		a->mmap2 = 1;
		a->task = 1;
	}
	if ((p->opts.track_tasks || p->opts.track_comm) && p->nevs == 0)
		a->comm = 1;
}

/*
 * Open one event on one (thread, CPU). The events of a session on the same
 * (thread, CPU) form a group, so one ioctl enables or disables them all: with
 * hundreds of tracepoints, enabling them one by one would trace shark's own
 * ioctls into the rings it is about to read. An event the kernel will not
 * group is opened alone and switched on its own.
 */
static int open_member(struct shark_perf *p, struct event *ev, pid_t tid, int cpu, unsigned long flags,
		       int *leader)
{
	struct perf_event_attr a = ev->attr;
	int fd;

	if (*leader >= 0) {
		a.disabled = 0;
		a.enable_on_exec = 0;
		fd = shark_perf_event_open(&a, tid, cpu, *leader, flags);
		if (fd >= 0 || errno != EINVAL)
			return fd;
		/* fall back to an event of its own */
	}
	fd = shark_perf_event_open(&ev->attr, tid, cpu, -1, flags);
	if (fd < 0 && errno == EINVAL && ev->attr.read_format) {
		/* a kernel before 6.0: no PERF_FORMAT_LOST */
		p->no_format_lost = 1;
		ev->attr.read_format = 0;
		fd = shark_perf_event_open(&ev->attr, tid, cpu, -1, flags);
	}
	if (fd < 0)
		return fd;
	if (*leader < 0) {
		*leader = fd;
	} else {
		int *n = realloc(p->solos, sizeof(int) * (size_t)(p->nsolos + 1));

		if (!n) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		p->solos = n;
		p->solos[p->nsolos++] = fd;
	}
	return fd;
}

/*
 * Open @e on every CPU (and thread) of the session; its fds share the
 * session's rings. Return: the event's index, or -errno with perf_error() set.
 */
/* Deliver samples of carrier @via with syscall @nr as event @idx. */
static int add_route(struct shark_perf *p, int32_t via, int32_t nr, int32_t idx)
{
	struct event *c;

	if (via < 0 || via >= idx || nr < 0 || nr > 4095)
		return -EINVAL;
	c = &p->evs[via];
	if (!(c->attr.sample_type & PERF_SAMPLE_RAW))
		return -EINVAL;
	if (nr >= c->nroute) {
		int32_t *r = realloc(c->route, sizeof(*r) * (size_t)(nr + 1));

		if (!r)
			return -ENOMEM;
		for (int i = c->nroute; i <= nr; i++)
			r[i] = -1;
		c->route = r;
		c->nroute = nr + 1;
	}
	c->route[nr] = idx;
	return 0;
}

int32_t shark_perf__add(struct shark_perf *p, const struct shark_perf_event *e)
{
	unsigned long flags = PERF_FLAG_FD_CLOEXEC;
	struct event *ev, *nevs;
	int err, fd, idx;

	nevs = realloc(p->evs, sizeof(*p->evs) * (size_t)(p->nevs + 1));
	if (!nevs)
		return -ENOMEM;
	p->evs = nevs;
	idx = p->nevs;
	ev = &p->evs[idx];
	memset(ev, 0, sizeof(*ev));
	fill_attr(p, e, &ev->attr);
	ev->name = strdup(e->name ? e->name : "?");
	if (!ev->name)
		return -ENOMEM;
	p->nevs++;
	if (e->routed) {
		err = add_route(p, e->via, e->nr, idx);
		if (err)
			shark_perf__set_err(p, "%s: cannot route it through event %d", e->name, e->via);
		return err ? err : idx;
	}
	if (p->opts.cgroup_fd >= 0)
		flags |= PERF_FLAG_PID_CGROUP;

	for (int c = 0; c < p->ncpus; c++) {
		struct ring *r = &p->rings[c];

		for (int t = 0; t < p->ntids; t++) {
			int *leader = &p->leaders[c * p->ntids + t];
			uint64_t id;

			fd = open_member(p, ev, p->tids[t], p->cpus[c], flags, leader);
			if (fd < 0) {
				err = errno;
				/* a thread that exited since we listed it */
				if (err == ESRCH && p->ntids > 1)
					continue;
				shark_perf__set_err(p, "%s: %s%s", e->name, strerror(err), open_hint(err, e));
				return -err;
			}
			err = push_fd(p, fd);
			if (err) {
				close(fd);
				return err;
			}
			if (ioctl(fd, PERF_EVENT_IOC_ID, &id)) {
				err = errno;
				shark_perf__set_err(p, "%s: cannot read the event id: %s", e->name, strerror(err));
				return -err;
			}
			err = id_add(p, id, idx);
			if (err)
				return err;
			if (e->filter && *e->filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, e->filter)) {
				err = errno;
				shark_perf__set_err(p, "%s: the kernel rejected the filter '%s': %s", e->name, e->filter,
					strerror(err));
				return -err;
			}
			if (r->fd < 0)
				err = ring_map(p, r, fd);
			else
				err = ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->fd) ? -errno : 0;
			if (err) {
				shark_perf__set_err(p, "%s: cannot map its ring on CPU %d: %s%s", e->name, p->cpus[c],
					strerror(-err), err == -ENOMEM || err == -EPERM ?
					" (try a smaller mmap_pages)" : "");
				return err;
			}
		}
	}
	return idx;
}

/* Enable or disable every group leader (with its members) and every solo. */
static int ioctl_all(struct shark_perf *p, unsigned long req)
{
	for (int i = 0; i < p->ncpus * p->ntids; i++)
		if (p->leaders[i] >= 0 && ioctl(p->leaders[i], req, PERF_IOC_FLAG_GROUP))
			return -errno;
	for (int i = 0; i < p->nsolos; i++)
		if (ioctl(p->solos[i], req, 0))
			return -errno;
	return 0;
}

int32_t shark_perf__enable(struct shark_perf *p)
{
	uint64_t t = shark_time_ns();
	int err;

	/* with enable_on_exec the kernel starts the events at exec */
	if (p->opts.enable_on_exec)
		return 0;
	err = ioctl_all(p, PERF_EVENT_IOC_ENABLE);
	/*
	 * The threads of a task attached to get their names of now, from before
	 * their first sample on: their renames from here on have name records.
	 */
	if (!err && (p->opts.track_comm || p->opts.track_tasks) && (p->opts.pid > 0 || p->opts.tid > 0) &&
	    p->opts.cgroup_fd < 0)
		for (int i = 0; i < p->ntids; i++)
			shark_comm__seed(p->tids[i], t);
	return err;
}

int32_t shark_perf__disable(struct shark_perf *p)
{
	return ioctl_all(p, PERF_EVENT_IOC_DISABLE);
}

int32_t shark_perf__nrings(struct shark_perf *p)
{
	int n = 0;

	for (int i = 0; i < p->ncpus; i++)
		n += p->rings[i].fd >= 0;
	return n;
}

int32_t shark_perf__ring_fd(struct shark_perf *p, int32_t i)
{
	for (int c = 0; c < p->ncpus; c++)
		if (p->rings[c].fd >= 0 && i-- == 0)
			return p->rings[c].fd;
	return -ENOENT;
}

/*
 * Counters. Lost samples come two ways: PERF_RECORD_LOST records in the ring
 * (late: written only when the next record fits) and, since Linux 6.0, a
 * read() of each event (exact for the events we opened, not for copies
 * inherited by children). Both are lower bounds of the samples lost (LOST
 * records and read() also count name, fork and exit records when track_comm
 * or track_tasks is on): report the larger.
 */
/* fds are kept event by event, then CPU by CPU (then thread by thread) */
int32_t shark_perf__fd(struct shark_perf *p, int32_t event, int32_t i)
{
	int32_t k = event * p->ncpus * p->ntids + i;

	return event >= 0 && i >= 0 && k < p->nfds ? p->fds[k] : -ENOENT;
}

void shark_perf__stats(struct shark_perf *p, struct shark_perf_stats *st)
{
	uint64_t lost = 0;

	*st = p->st;
	if (p->no_format_lost)
		return;
	for (int i = 0; i < p->nfds; i++) {
		uint64_t v[2];

		if (read(p->fds[i], v, sizeof(v)) == sizeof(v))
			lost += v[1];
	}
	if (lost > st->lost)
		st->lost = lost;
}

uint64_t shark_perf__count(struct shark_perf *p, int32_t event)
{
	return event >= 0 && event < p->nevs ? p->evs[event].count : 0;
}
