// SPDX-License-Identifier: GPL-2.0
/*
 * tpring.c - the records of bpf/tpring.bpf.c read from a BPF ring as typed
 * events, each named as its thread was at event time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "shark.h"
#include "ringbuf.h"
#include "tpring.h"

/*
 * The name of each thread seen in tpring records (open addressing by tid).
 * An entry's name is a slot of its own, so the pointer an event carries
 * (comm_at) stays put when the table grows. A name record points the entry
 * at the record in the ring (valid until consume); the next read copies it
 * into the slot, so events of the batch before the rename keep the old name.
 */
struct tpname {
	uint32_t tid;
	uint32_t pid;
	uint16_t state;		/* TPN_* */
	uint16_t exited;	/* a later event of its tid is a new thread's (tid reused) */
	const char *cur;	/* what events get: slot or a name record in the ring */
	char *slot;		/* 16 bytes */
};

enum {
	TPN_OK,			/* slot holds the name */
	TPN_RING,		/* cur is a name record: copy it at the next read */
	TPN_FIRST,		/* first seen in this batch: name read at its end */
	TPN_MAX_ENTRIES = 1 << 16,	/* then the table starts over */
};

#define TPN_SLACK_NS 1000000ull	/* between a record's reservation and its time stamp, at most */

static void tpnames__free_retired(struct tpnames *t)
{
	for (uint32_t i = 0; i < t->nretired; i++)
		free(t->retired[i]);
	free(t->retired);
	t->retired = NULL;
	t->nretired = 0;
}

void shark_tpnames__clear(struct tpnames *t)
{
	tpnames__free_retired(t);
	free(t->ahead);
	for (uint32_t i = 0; i < t->cap; i++)
		free(t->e[i].slot);
	free(t->e);
	free(t->touched);
	memset(t, 0, sizeof(*t));
}

/* The entry of @tid, or the free one where it would go. */
static struct tpname *tpnames__find(struct tpnames *t, uint32_t tid)
{
	for (uint32_t i = tid * 2654435761u;; i++) {
		struct tpname *e = &t->e[i & (t->cap - 1)];

		if (!e->slot || e->tid == tid)
			return e;
	}
}

static int tpnames__grow(struct tpnames *t)
{
	struct tpnames n = { .cap = t->cap ? t->cap * 2 : 256 };

	n.e = calloc(n.cap, sizeof(*n.e));
	n.touched = malloc(n.cap * sizeof(*n.touched));
	if (!n.e || !n.touched) {
		free(n.e);
		free(n.touched);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->cap; i++) {
		if (t->e[i].slot) {
			struct tpname *e = tpnames__find(&n, t->e[i].tid);

			*e = t->e[i];
			if (e->state != TPN_OK)
				n.touched[n.ntouched++] = (uint32_t)(e - n.e);
		}
	}
	n.used = t->used;
	free(t->e);
	free(t->touched);
	*t = n;
	return 0;
}

/*
 * A tid reused by a new thread: a new slot, the old one freed at the next
 * read (events of this batch may point at it).
 */
static struct tpname *tpnames__reuse(struct tpnames *t, struct tpname *e, uint32_t pid)
{
	char *slot = calloc(1, 16), **retired;

	retired = slot ? realloc(t->retired, (t->nretired + 1) * sizeof(*retired)) : NULL;
	if (!retired) {
		free(slot);
		return NULL;
	}
	t->retired = retired;
	t->retired[t->nretired++] = e->slot;
	if (e->state == TPN_OK)
		t->touched[t->ntouched++] = (uint32_t)(e - t->e);
	e->slot = slot;
	e->cur = slot;
	e->pid = pid;
	e->state = TPN_FIRST;
	e->exited = 0;
	return e;
}

/* The entry of @tid, added (state TPN_FIRST) if new; NULL when out of memory. */
static struct tpname *tpnames__get(struct tpnames *t, uint32_t pid, uint32_t tid)
{
	struct tpname *e;

	if (t->cap && (e = tpnames__find(t, tid))->slot) {
		if (e->exited)
			return tpnames__reuse(t, e, pid);
		return e;
	}
	if ((t->used + 1) * 4 > t->cap * 3 && tpnames__grow(t))
		return NULL;
	e = tpnames__find(t, tid);
	e->slot = calloc(1, 16);
	if (!e->slot)
		return NULL;
	e->tid = tid;
	e->pid = pid;
	e->cur = e->slot;
	e->state = TPN_FIRST;
	t->used++;
	t->touched[t->ntouched++] = (uint32_t)(e - t->e);
	return e;
}

/* A thread's name now, from /proc ("" when it is gone). */
static void read_comm(uint32_t pid, uint32_t tid, char *out)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? 0 : read(fd, out, 15);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	if (n > 0 && out[n - 1] == '\n')
		n--;
	memset(out + n, 0, (size_t)(16 - n));
}

/* Name record @h, if the first of a thread first seen: its old name is the thread's. */
static uint32_t tpnames__apply_ahead(struct tpnames *t, const struct shark_tprec *h)
{
	struct tpname *e = tpnames__find(t, h->tid);

	if (!e->slot || e->state != TPN_FIRST)
		return 0;
	memcpy(e->slot, ((const struct shark_tpname *)(h + 1))->oldcomm, 15);
	e->slot[15] = 0;
	e->state = TPN_OK;
	return 1;
}

static const struct shark_tprec *rec_at(struct shark_ringbuf *r, uint64_t pos)
{
	return (const void *)(r->data + (pos & r->mask) + BPF_RINGBUF_HDR_SZ);
}

/*
 * The ring past the batch, once: name records found there are kept (by
 * position, until the reader passes them), so later looks start where the
 * last one ended instead of reading a backlog again per new thread.
 */
static uint32_t tpnames__scan_ahead(struct shark_ringbuf *r, uint32_t pending, uint64_t until)
{
	struct tpnames *t = &r->names;
	uint64_t prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	uint64_t pos = t->scanned_to > r->pos ? t->scanned_to : r->pos;

	while (pending && pos < prod) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (pos & r->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		const struct shark_tprec *h = rec_at(r, pos);
		uint32_t size;

		/* a program between reserve and submit: a few hundred ns */
		for (int spin = 0; (len & BPF_RINGBUF_BUSY_BIT) && spin < 100000; spin++)
			len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		size = len & ~BPF_RINGBUF_DISCARD_BIT;
		if (size >= sizeof(*h) && h->time > until && !r->replay)
			break;
		if (!(len & BPF_RINGBUF_DISCARD_BIT) && size >= sizeof(*h) + sizeof(struct shark_tpname) &&
		    h->event == SHARK_TP_NAME) {
			uint64_t *ahead = realloc(t->ahead, (t->nahead + 1) * sizeof(*ahead));

			if (!ahead)
				break;
			t->ahead = ahead;
			t->ahead[t->nahead++] = pos;
			pending -= tpnames__apply_ahead(t, h);
		}
		pos += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	}
	t->scanned_to = pos;
	return pending;
}

/*
 * Threads first seen in this batch: the name they had since the trace began
 * is the old name of their first name record (a rename, or their exit),
 * else their name now. /proc first, then the ring past the batch: a rename
 * or exit after the event but before the /proc read has its record there
 * by then (the tracepoints fire before the name changes and before the
 * thread leaves /proc). Records stamped well after the /proc reads were
 * reserved after them (a program stamps its record right after reserving
 * it): the look ends there, not at the end of a backlog.
 */
static void tpnames__first_seen(struct shark_ringbuf *r)
{
	struct tpnames *t = &r->names;
	uint32_t pending = 0, keep = 0;

	for (uint32_t i = 0; i < t->ntouched; i++) {
		struct tpname *e = &t->e[t->touched[i]];

		if (e->state == TPN_FIRST) {
			read_comm(e->pid, e->tid, e->slot);
			pending++;
		}
	}
	/* name records found ahead before: those the reader has not passed */
	for (uint32_t i = 0; i < t->nahead; i++) {
		if (t->ahead[i] < r->pos)
			continue;
		t->ahead[keep++] = t->ahead[i];
		if (pending)
			pending -= tpnames__apply_ahead(t, rec_at(r, t->ahead[i]));
	}
	t->nahead = keep;
	if (pending)
		tpnames__scan_ahead(r, pending, shark_time_ns() + TPN_SLACK_NS);
}

/* The end of a read: what first-seen threads were called, and the table clean for the next one. */
static void tpnames__settle(struct shark_ringbuf *r)
{
	struct tpnames *t = &r->names;
	uint32_t keep = 0;

	tpnames__first_seen(r);
	for (uint32_t i = 0; i < t->ntouched; i++) {
		struct tpname *e = &t->e[t->touched[i]];

		if (e->state == TPN_FIRST)
			e->state = TPN_OK;
		if (e->state == TPN_RING)
			t->touched[keep++] = t->touched[i];
	}
	t->ntouched = keep;
}

/* The start of a read: names records of the last batch pointed at, into their slots. */
static void tpnames__begin(struct tpnames *t)
{
	tpnames__free_retired(t);
	if (t->used > TPN_MAX_ENTRIES)
		shark_tpnames__clear(t);
	for (uint32_t i = 0; i < t->ntouched; i++) {
		struct tpname *e = &t->e[t->touched[i]];

		memcpy(e->slot, e->cur, 15);
		e->slot[15] = 0;
		e->cur = e->slot;
		e->state = TPN_OK;
	}
	t->ntouched = 0;
}

/* A name record: events after it (in the ring) get its new name. */
static void tpnames__rename(struct tpnames *t, const struct shark_tprec *h)
{
	const struct shark_tpname *nm = (const void *)(h + 1);
	struct tpname *e = tpnames__get(t, h->pid, h->tid);

	if (!e)
		return;
	if (e->state == TPN_FIRST) {
		/* new, or first seen in this batch: its name so far was the old one */
		memcpy(e->slot, nm->oldcomm, 15);
		e->slot[15] = 0;
	} else if (e->state == TPN_OK) {
		t->touched[t->ntouched++] = (uint32_t)(e - t->e);
	}
	e->state = TPN_RING;
	e->cur = nm->newcomm;
	e->exited = h->pad == SHARK_TPNAME_EXIT;
}

/*
 * Records of bpf/tpring.bpf.c (struct shark_tprec) decoded into @batch as
 * perf samples are: the same typed events whatever the delivery. @names[i]
 * is the name of event i (@nnames of them). In place until consume.
 */
int32_t shark_ringbuf__read_tp(struct shark_ringbuf *r, struct shark_sample *batch, int32_t max,
			       const char *const *names, int32_t nnames)
{
	struct tpname *last = NULL;	/* consecutive records are mostly one thread's */
	uint64_t prod;
	int32_t n = 0;

	shark_ringbuf__ack_wakeup(r);
	tpnames__begin(&r->names);
	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

	while (r->pos < prod && n < max) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (r->pos & r->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		const struct shark_tprec *t = (const void *)((const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;	/* reserved, not yet submitted */
		r->pos += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
		if (!(len & BPF_RINGBUF_DISCARD_BIT) && t->event == SHARK_TP_NAME &&
		    size >= sizeof(*t) + sizeof(struct shark_tpname)) {
			tpnames__rename(&r->names, t);
			last = NULL;	/* the table may have moved */
			continue;
		}
		if ((len & BPF_RINGBUF_DISCARD_BIT) || size < sizeof(*t) || t->event >= (uint32_t)nnames ||
		    sizeof(*t) + t->raw_size > size || t->ips_off + 8u * t->nr_ips > size)
			continue;
		struct shark_sample *s = &batch[n++];

		s->time = (double)t->time;
		s->pid = t->pid;
		s->tid = t->tid;
		s->cpu = t->cpu;
		s->event = t->event;
		s->period = 1;
		s->ip = 0;
		s->id = (uint64_t)t->event + 1;	/* as perf: distinct per event */
		s->name = names[t->event];
		s->raw = t + 1;
		s->raw_size = t->raw_size;
		s->nr_ips = t->nr_ips;
		s->ips = t->nr_ips ? (const uint64_t *)((const uint8_t *)t + t->ips_off) : NULL;
		s->stack_key = t->nr_ips ? shark_stack_key(s->ips, s->nr_ips, s->pid) : 0;
		if (!last || last->tid != t->tid) {
			last = tpnames__get(&r->names, t->pid, t->tid);
			if (last && !last->pid)
				last->pid = t->pid;
		}
		/* NULL (out of memory): e.comm falls back to the name now */
		s->comm_at = last ? last->cur : NULL;
		s->user_regs = NULL;
		s->user_stack = NULL;
		s->user_stack_size = 0;
		s->pad = 0;
	}
	tpnames__settle(r);
	r->records += (uint64_t)n;
	return n;
}

/* The same records again (a replay rewound): threads that exited in them live again. */
void shark_tpnames__rewind(struct tpnames *t)
{
	for (uint32_t i = 0; i < t->cap; i++)
		t->e[i].exited = 0;
	t->nahead = 0;
	t->scanned_to = 0;
}
