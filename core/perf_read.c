// SPDX-License-Identifier: GPL-2.0
/* perf_read.c - perf rings read in batches: records decoded in place into samples, consumed after Lua. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "perf_session.h"
#include "unwind.h"
#include "pyframes.h"

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
		ev = shark_perf__id_find(p, *q);
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
		/* sample_id_all: ..., time, cpu, identifier end the record */
		if (h->size >= sizeof(*h) + 8 + 8 + 32)
			shark_comm__at((int32_t)w[1], *(const uint64_t *)((const uint8_t *)h + h->size - 24),
				       (const char *)(w + 2));
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

					/* not scratch: the batch's last sample may be there */
					if (!r->task_scratch && !(r->task_scratch = malloc(65536)))
						break;
					memcpy(r->task_scratch, h, first);
					memcpy(r->task_scratch + first, r->data, size - first);
					h = (const void *)r->task_scratch;
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

	p->names_applied = 0;
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

/*
 * The name of @tid (of @pid) at @time, a sample of the last read, from the
 * name records (NULL: none known; the caller falls back to the process's
 * current name). Asked only when a script reads e.comm: the first asking in
 * a batch applies the task records of every ring up to its head now, after
 * the batch's samples were read. A name record timed before a sample was
 * written before that sample was, so before this: it is applied whatever
 * CPU's ring holds it, and the names are kept in time order, not ring order.
 */
const char *shark_perf__comm(struct shark_perf *p, int32_t pid, int32_t tid, double time)
{
	if (!p->opts.track_comm && !p->opts.track_tasks)
		return NULL;
	if (!p->names_applied) {
		tasks_first(p);
		p->names_applied = 1;
	}
	return shark_comm__when(pid, tid, (uint64_t)time);
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

