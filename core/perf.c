// SPDX-License-Identifier: GPL-2.0
/* perf.c - perf_event_open sessions: events on every CPU, shared per-CPU rings, batch decoding. */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "shark.h"
#include "unwind.h"
#include "pyframes.h"

/*
 * A session is what one perf.on() asks for: several events, each opened on
 * every CPU (and, for a process target, for each of its threads). All fds of
 * one CPU write into one ring (PERF_EVENT_IOC_SET_OUTPUT), so a session has a
 * ring per CPU whatever the number of events. The kernel wakes the reader
 * only at a watermark; the Lua side also drains on a short timer, so nothing
 * waits long and nothing wakes per event.
 *
 * Reading decodes records into a caller's array of struct shark_sample
 * without moving the ring's tail: raw data and callchains are used in place
 * until perf_consume() hands the space back to the kernel.
 */

struct ring {
	int fd;
	int cpu;
	int replay;		/* memory of ours, not a kernel ring (benchmarks) */
	struct perf_event_mmap_page *meta;
	uint8_t *data;
	uint64_t size;		/* data area, a power of 2 */
	uint64_t pos;		/* read position, published by consume */
	uint8_t *scratch;	/* one record that wrapped, made contiguous */
	uint64_t tasks_at;	/* task records before here are applied (tasks_first) */
};

struct event {
	char *name;
	struct perf_event_attr attr;
	uint64_t count;
	int32_t *route;		/* a carrier: syscall nr -> event index, -1: drop */
	int32_t nroute;
};

struct idmap {
	uint64_t id;
	int32_t event;
};

struct shark_perf {
	struct shark_perf_opts opts;
	int *cpus;
	int ncpus;
	pid_t *tids;		/* threads of opts.pid, or {-1} */
	int ntids;
	struct ring *rings;	/* one per CPU, indexed like cpus */
	struct event *evs;
	int nevs;
	int *fds;
	int nfds;
	int *leaders;		/* per (cpu, thread): the group every event joins */
	int *solos;		/* events that could not join a group */
	int nsolos;
	struct idmap *ids;	/* open addressing, size a power of 2 */
	uint32_t idcap;
	uint32_t nids;
	int next_ring;
	uint64_t last_id;	/* the id decoded last, and its event */
	int32_t last_ev;
	int no_format_lost;	/* the kernel predates PERF_FORMAT_LOST (6.0) */
	uint64_t *chains;	/* callchain_u = "dwarf": unwound chains of this batch */
	uint32_t nchains, chains_cap;
	struct shark_perf_stats st;
	char err[320];
};

static void set_err(struct shark_perf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct shark_perf *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

static int sys_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group, unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
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
	fd = sys_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
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
static int list_tids(pid_t pid, pid_t **out)
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
		n = list_tids(o->pid, &p->tids);
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

static int32_t id_find(const struct shark_perf *p, uint64_t id)
{
	for (uint32_t j = (uint32_t)id & (p->idcap - 1);; j = (j + 1) & (p->idcap - 1)) {
		if (p->ids[j].id == id)
			return p->ids[j].event;
		if (!p->ids[j].id)
			return -1;
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
		a->comm = 1;
		a->task = 1;
	}
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
		fd = sys_perf_event_open(&a, tid, cpu, *leader, flags);
		if (fd >= 0 || errno != EINVAL)
			return fd;
		/* fall back to an event of its own */
	}
	fd = sys_perf_event_open(&ev->attr, tid, cpu, -1, flags);
	if (fd < 0 && errno == EINVAL && ev->attr.read_format) {
		/* a kernel before 6.0: no PERF_FORMAT_LOST */
		p->no_format_lost = 1;
		ev->attr.read_format = 0;
		fd = sys_perf_event_open(&ev->attr, tid, cpu, -1, flags);
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
			set_err(p, "%s: cannot route it through event %d", e->name, e->via);
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
				set_err(p, "%s: %s%s", e->name, strerror(err), open_hint(err, e));
				return -err;
			}
			err = push_fd(p, fd);
			if (err) {
				close(fd);
				return err;
			}
			if (ioctl(fd, PERF_EVENT_IOC_ID, &id)) {
				err = errno;
				set_err(p, "%s: cannot read the event id: %s", e->name, strerror(err));
				return -err;
			}
			err = id_add(p, id, idx);
			if (err)
				return err;
			if (e->filter && *e->filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, e->filter)) {
				err = errno;
				set_err(p, "%s: the kernel rejected the filter '%s': %s", e->name, e->filter,
					strerror(err));
				return -err;
			}
			if (r->fd < 0)
				err = ring_map(p, r, fd);
			else
				err = ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->fd) ? -errno : 0;
			if (err) {
				set_err(p, "%s: cannot map its ring on CPU %d: %s%s", e->name, p->cpus[c],
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
	/* with enable_on_exec the kernel starts the events at exec */
	if (p->opts.enable_on_exec)
		return 0;
	return ioctl_all(p, PERF_EVENT_IOC_ENABLE);
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
 * records also count task records when track_tasks is on): report the larger.
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

/* ------------------------------------------------------------- decoding */

/* FNV-1a over the frames; user addresses only mean something within a pid. */
uint64_t shark_stack_key(const uint64_t *ips, uint32_t n, uint32_t pid)
{
	uint64_t h = SHARK_FNV_BASIS;
	int user = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (ips[i] == (uint64_t)PERF_CONTEXT_USER)
			user = 1;
		h = shark_fnv1a(h, ips[i]);
	}
	if (user)
		h = shark_fnv1a(h, pid);
	h &= (1ull << 52) - 1;
	return h ? h : 1;
}

/* Room a sample's chain may take in p->chains: kernel frames, markers, user frames. */
static uint32_t chain_room(const struct shark_perf *p)
{
	uint32_t max = p->opts.max_stack ? p->opts.max_stack : 127;

	return 2 * max + 4;
}

/*
 * PERF_SAMPLE_REGS_USER then PERF_SAMPLE_STACK_USER at @q: unwind them and
 * make s->ips the kernel's chain followed by the user frames found, in
 * p->chains (reset when the batch is consumed). 0, or -1 if malformed.
 */
static int unwind_sample(struct shark_perf *p, const uint64_t *q, const uint8_t *end, struct shark_sample *s)
{
	const uint64_t *regs = NULL, *stack;
	uint64_t abi, size, dyn = 0, *out;
	uint32_t nk = 0, max = p->opts.max_stack ? p->opts.max_stack : 127;
	int32_t nu;

	if ((const uint8_t *)(q + 1) > end)
		return -1;
	abi = *q++;
	if (abi) {
		regs = q;
		q += __builtin_popcountll(SHARK_UNWIND_REGS_MASK);
	}
	if ((const uint8_t *)(q + 1) > end)
		return -1;
	size = *q++;
	stack = q;
	if (size) {
		if ((const uint8_t *)q + size + 8 > end)
			return -1;
		dyn = *(const uint64_t *)((const uint8_t *)q + size);
	}
	if (!p->chains || p->nchains + chain_room(p) > p->chains_cap)
		return 0;	/* read() ends the batch first: cannot happen */
	out = p->chains + p->nchains;
	/* the kernel's part, without a user part it was told to leave out */
	for (uint32_t i = 0; i < s->nr_ips && nk < max + 1; i++) {
		if (s->ips[i] == (uint64_t)PERF_CONTEXT_USER)
			break;
		out[nk++] = s->ips[i];
	}
	nu = 0;
	if (regs && abi == PERF_SAMPLE_REGS_ABI_64 && s->pid) {
		out[nk] = (uint64_t)PERF_CONTEXT_USER;
		nu = shark_unwind__user((int32_t)s->pid, regs, SHARK_UNWIND_REGS_MASK, stack,
					dyn < size ? dyn : size, out + nk + 1, (int32_t)max);
		if (nu > 0 && p->opts.lang_frames)
			nu = shark_py__splice((int32_t)s->pid, (int32_t)s->tid, out + nk + 1, nu, (int32_t)max);
	}
	s->user_regs = abi == PERF_SAMPLE_REGS_ABI_64 ? regs : NULL;
	s->user_stack = size ? stack : NULL;
	s->user_stack_size = (uint32_t)(dyn < size ? dyn : size);
	s->ips = out;
	s->nr_ips = nk + (nu > 0 ? (uint32_t)nu + 1 : 0);
	p->nchains += s->nr_ips;
	s->stack_key = s->nr_ips ? shark_stack_key(out, s->nr_ips, s->pid) : 0;
	return 0;
}

static int decode_sample(struct shark_perf *p, const uint64_t *w, const uint8_t *end, struct shark_sample *s)
{
	uint64_t type;
	int32_t ev;
	const uint64_t *q = w;

	/* PERF_SAMPLE_IDENTIFIER comes first whatever else the event samples;
	 * runs of one event are the common case */
	if (*q == p->last_id) {
		ev = p->last_ev;
		q++;
	} else {
		ev = id_find(p, *q);
		if (ev < 0)
			return -1;
		p->last_id = *q++;
		p->last_ev = ev;
	}
	type = p->evs[ev].attr.sample_type;
	/* every member is written: no memset on the hot path */
	s->event = (uint32_t)ev;
	s->id = q[-1];
	s->name = p->evs[ev].name;
	s->ip = type & PERF_SAMPLE_IP ? *q++ : 0;
	if (type & PERF_SAMPLE_TID) {
		s->pid = (uint32_t)*q;
		s->tid = (uint32_t)(*q++ >> 32);
	} else {
		s->pid = s->tid = 0;
	}
	s->time = type & PERF_SAMPLE_TIME ? (double)*q++ : 0;
	s->cpu = type & PERF_SAMPLE_CPU ? (uint32_t)*q++ : 0;
	s->period = type & PERF_SAMPLE_PERIOD ? (double)*q++ : 0;
	s->nr_ips = 0;
	s->ips = NULL;
	s->stack_key = 0;
	s->raw = NULL;
	s->raw_size = 0;
	s->comm_at = NULL;
	s->user_regs = NULL;
	s->user_stack = NULL;
	s->user_stack_size = 0;
	if (p->opts.track_tasks)
		shark_sym__note_pid((int)s->pid);
	if (type & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr = *q++;

		if ((const uint8_t *)(q + nr) > end)
			return -1;
		s->nr_ips = (uint32_t)nr;
		s->ips = q;
		s->stack_key = shark_stack_key(q, (uint32_t)nr, s->pid);
		q += nr;
	}
	if (type & PERF_SAMPLE_RAW) {
		const uint32_t *sz = (const uint32_t *)q;

		if ((const uint8_t *)(sz + 1) + *sz > end)
			return -1;
		s->raw_size = *sz;
		s->raw = sz + 1;
		q = (const uint64_t *)((const uint8_t *)q + ((4 + *sz + 7) & ~7u));
		if (p->evs[ev].route) {
			/* raw_syscalls: the syscall number is the long at offset 8 */
			int32_t nr = *sz >= 16 ? *(const int32_t *)((const uint8_t *)s->raw + 8) : -1;

			if (nr < 0 || nr >= p->evs[ev].nroute || p->evs[ev].route[nr] < 0)
				return -1;
			ev = p->evs[ev].route[nr];
			s->event = (uint32_t)ev;
			s->name = p->evs[ev].name;
		}
	}
	if (type & PERF_SAMPLE_REGS_USER && unwind_sample(p, q, end, s))
		return -1;
	p->evs[ev].count++;
	return 0;
}

/* A task record (mmap, exec, a name) into the symbol tables. */
static void task_record(const struct perf_event_header *h)
{
	const uint32_t *w = (const uint32_t *)(h + 1);

	if (h->type == PERF_RECORD_MMAP2) {
		/* pid, tid, addr, len, pgoff, maj, min, ino, ino_gen, prot, flags, name */
		const uint64_t *a = (const uint64_t *)(w + 2);
		const uint32_t *prot = (const uint32_t *)(a + 3) + 4 + 2;
		const char *file = (const char *)(prot + 2);

		if (*prot & 4 /* PROT_EXEC */)
			shark_sym__mmap((int)w[0], a[0], a[1], a[2], file);
	} else if (h->type == PERF_RECORD_COMM) {
		/* pid, tid, comm */
		if (h->misc & PERF_RECORD_MISC_COMM_EXEC) {
			shark_sym__exec((int)w[0]);
			shark_py__forget((int)w[0]);
		}
		if (w[0] == w[1])
			shark_comm__note((int32_t)w[0], (const char *)(w + 2));
	}
}

/*
 * Samples are unwound (callchain_u = "dwarf") and their task named while
 * they are decoded, but the mmap and exec records of their process may sit in
 * another CPU's ring that this read reaches later (it exec'd there, it runs
 * here), and once it has exited /proc has nothing left. So task records of
 * every ring are applied first, up to its head; the main pass skips them.
 */
static void tasks_first(struct shark_perf *p)
{
	for (int k = 0; k < p->ncpus; k++) {
		struct ring *r = &p->rings[k];
		uint64_t head, pos;

		if (r->fd < 0 && !r->replay)
			continue;
		head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
		for (pos = r->tasks_at > r->pos ? r->tasks_at : r->pos; pos < head;) {
			uint64_t off = pos & (r->size - 1);
			const struct perf_event_header *h = (const void *)(r->data + off);
			uint16_t size = h->size;

			if (size < sizeof(*h) || size > head - pos)
				break;
			if (h->type == PERF_RECORD_MMAP2 || h->type == PERF_RECORD_COMM) {
				if (off + size > r->size) {	/* wraps: make it contiguous */
					uint64_t first = r->size - off;

					if (!r->scratch && !(r->scratch = malloc(65536)))
						break;
					memcpy(r->scratch, h, first);
					memcpy(r->scratch + first, r->data, size - first);
					h = (const void *)r->scratch;
				}
				task_record(h);
			}
			pos += size;
		}
		r->tasks_at = pos;
	}
}

/* Is there room for one more unwound chain in this batch? */
static int chains_room(struct shark_perf *p)
{
	if (!p->chains) {
		p->chains_cap = 1u << 18;	/* 2 MiB: a batch of ~2000 chains of 100 frames */
		p->chains = malloc(sizeof(*p->chains) * p->chains_cap);
		if (!p->chains)
			return 0;
	}
	return p->nchains + chain_room(p) <= p->chains_cap;
}

/*
 * Decode up to @max samples from the rings into @batch. The tails do not
 * move until shark_perf__consume(). Return: the number of samples.
 */
int32_t shark_perf__read(struct shark_perf *p, struct shark_sample *batch, int32_t max)
{
	int32_t n = 0;

	if (p->opts.track_tasks)
		tasks_first(p);
	for (int k = 0; k < p->ncpus && n < max; k++) {
		struct ring *r = &p->rings[(p->next_ring + k) % p->ncpus];
		uint64_t head;

		if (r->fd < 0 && !r->replay)
			continue;
		head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
		while (r->pos < head && n < max) {
			uint64_t off = r->pos & (r->size - 1);
			const struct perf_event_header *h = (const void *)(r->data + off);
			const uint8_t *rec = r->data + off;

			if (h->size < sizeof(*h) || h->size > head - r->pos)
				break;	/* torn: should not happen, retry later */
			if (off + h->size > r->size) {
				/* wraps around the end: make it contiguous */
				uint64_t first = r->size - off;

				if (!r->scratch && !(r->scratch = malloc(65536)))
					break;
				memcpy(r->scratch, rec, first);
				memcpy(r->scratch + first, r->data, h->size - first);
				rec = r->scratch;
				h = (const void *)rec;
				p->st.wraps++;
			}
			if (h->type == PERF_RECORD_SAMPLE && p->opts.stack_user &&
			    !chains_room(p)) {
				k = p->ncpus;	/* the batch is full of chains: the rest next time */
				break;
			}
			switch (h->type) {
			case PERF_RECORD_SAMPLE:
				if (!decode_sample(p, (const uint64_t *)(h + 1), rec + h->size, &batch[n])) {
					n++;
					p->st.samples++;
				}
				break;
			case PERF_RECORD_LOST: {
				const uint64_t *l = (const uint64_t *)(h + 1);

				p->st.lost += l[1];
				p->st.lost_records++;
				break;
			}
			case PERF_RECORD_THROTTLE:
				p->st.throttled++;
				break;
			case PERF_RECORD_MMAP2:
			case PERF_RECORD_COMM:
				if (r->pos >= r->tasks_at)	/* not applied by tasks_first */
					task_record(h);
				break;
			default:
				break;
			}
			r->pos += h->size;
			/* a wrapped record is in scratch: the batch must end here */
			if (rec == r->scratch)
				break;
		}
	}
	p->next_ring = (p->next_ring + 1) % (p->ncpus ? p->ncpus : 1);
	if (p->opts.ordered && n > 1)
		shark_samples__sort(batch, n);
	return n;
}

/* Give the space of everything read back to the kernel. */
void shark_perf__consume(struct shark_perf *p)
{
	p->nchains = 0;
	for (int i = 0; i < p->ncpus; i++) {
		struct ring *r = &p->rings[i];

		if (r->fd >= 0 || r->replay)
			__atomic_store_n(&r->meta->data_tail, r->pos, __ATOMIC_RELEASE);
	}
}

/* ---------------------------------------------------- replay (benchmarks) */

/*
 * Copy the unread records of the first ring into @buf (whole records, at most
 * @len bytes) without consuming them. Return: the bytes copied.
 */
int32_t shark_perf__snapshot(struct shark_perf *p, uint8_t *buf, int32_t len)
{
	struct ring *r = NULL;
	uint64_t head, pos;
	int32_t n = 0;

	for (int i = 0; i < p->ncpus && !r; i++)
		if (p->rings[i].fd >= 0 && p->rings[i].meta->data_head != p->rings[i].pos)
			r = &p->rings[i];
	if (!r)
		return 0;
	head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
	for (pos = r->pos; pos < head;) {
		uint64_t off = pos & (r->size - 1);
		const struct perf_event_header *h = (const void *)(r->data + off);
		uint16_t size = h->size;

		if (!size || n + size > len)
			break;
		for (uint16_t i = 0; i < size; i++)
			buf[n + i] = r->data[(off + i) & (r->size - 1)];
		n += size;
		pos += size;
	}
	return n;
}

/*
 * Make the session read @buf (records from snapshot) instead of its kernel
 * rings, from the start again at every call: the user-space cost of decoding
 * and dispatch, measured without the kernel. Return: 0 or -errno.
 */
int32_t shark_perf__replay(struct shark_perf *p, const uint8_t *buf, int32_t len)
{
	struct ring *r = &p->rings[0];
	uint64_t size = 4096;
	long page = sysconf(_SC_PAGESIZE);

	if (!p->ncpus || len <= 0)
		return -EINVAL;
	while (size < (uint64_t)len)
		size *= 2;
	if (!r->replay || r->size < size) {
		void *m = calloc(1, (size_t)page + size);

		if (!m)
			return -ENOMEM;
		for (int i = 0; i < p->ncpus; i++)
			p->rings[i].fd = -1;	/* the fds stay open, in p->fds */
		if (r->replay)
			free(r->meta);
		r->replay = 1;
		r->meta = m;
		r->data = (uint8_t *)m + page;
		r->size = size;
		memcpy(r->data, buf, (size_t)len);
	}
	r->meta->data_head = (uint64_t)len;
	r->meta->data_tail = 0;
	r->pos = 0;
	r->tasks_at = 0;
	return 0;
}

/*
 * Tests: read @buf at ring position @start (modulo the ring's size) of the
 * first ring, so that records straddle the ring's end as the kernel's do.
 */
int32_t shark_perf__replay_at(struct shark_perf *p, const uint8_t *buf, int32_t len, uint64_t start)
{
	struct ring *r = &p->rings[0];
	int32_t err = shark_perf__replay(p, buf, len);

	if (err)
		return err;
	for (int32_t i = 0; i < len; i++)
		r->data[(start + (uint64_t)i) & (r->size - 1)] = buf[i];
	r->meta->data_tail = start;
	r->meta->data_head = start + (uint64_t)len;
	r->pos = start;
	r->tasks_at = start;
	return 0;
}

/* Stable merge sort by time: samples of one CPU are already in order. */
void shark_samples__sort(struct shark_sample *s, int32_t n)
{
	struct shark_sample *tmp = malloc(sizeof(*s) * (size_t)n);

	if (!tmp)
		return;
	for (int32_t width = 1; width < n; width *= 2) {
		for (int32_t lo = 0; lo < n; lo += 2 * width) {
			int32_t mid = lo + width < n ? lo + width : n;
			int32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			int32_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = s[j].time < s[i].time ? s[j++] : s[i++];
			while (i < mid)
				tmp[k++] = s[i++];
			while (j < hi)
				tmp[k++] = s[j++];
		}
		memcpy(s, tmp, sizeof(*s) * (size_t)n);
	}
	free(tmp);
}
