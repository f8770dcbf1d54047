/* SPDX-License-Identifier: GPL-2.0 */
/* perf_session.h - the inside of a perf session: perf.c opens it, perf_read.c reads it (private to them). */
#ifndef SHARK_PERF_SESSION_H
#define SHARK_PERF_SESSION_H

#include <linux/perf_event.h>
#include <sys/types.h>
#include "shark.h"

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
	uint8_t *task_scratch;	/* the same for tasks_first, which may run mid-batch */
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
	int names_applied;	/* task records applied for this batch (perf_comm) */
	uint64_t last_id;	/* the id decoded last, and its event */
	int32_t last_ev;
	int no_format_lost;	/* the kernel predates PERF_FORMAT_LOST (6.0) */
	uint64_t *chains;	/* callchain_u = "dwarf": unwound chains of this batch */
	uint32_t nchains, chains_cap;
	struct shark_perf_stats st;
	char err[320];
};

void shark_perf__set_err(struct shark_perf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the threads of @pid now (perf_event.c): their count, or -errno */
int shark_list_tids(pid_t pid, pid_t **out);

/* The event of sample id @id, or -1. */
static inline int32_t shark_perf__id_find(const struct shark_perf *p, uint64_t id)
{
	for (uint32_t j = (uint32_t)id & (p->idcap - 1);; j = (j + 1) & (p->idcap - 1)) {
		if (p->ids[j].id == id)
			return p->ids[j].event;
		if (!p->ids[j].id)
			return -1;
	}
}

#endif /* SHARK_PERF_SESSION_H */
