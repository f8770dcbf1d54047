// SPDX-License-Identifier: GPL-2.0
/* ringbuf.c - BPF ring buffers read in batches, in place, like perf rings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "shark.h"
#include "tpring.h"

/*
 * The kernel's layout: one read-write page holding the consumer position,
 * then a read-only page holding the producer position followed by the data
 * area mapped twice in a row, so a record that wraps is contiguous. Reading
 * hands out pointers into that mapping; the consumer position moves (and the
 * space goes back to BPF programs) only at consume, after Lua is done.
 */
struct shark_ringbuf {
	int fd;
	int replay;		/* memory of ours, not a kernel ring (benchmarks) */
	uint64_t *consumer;
	uint64_t *producer;
	uint8_t *data;
	uint64_t mask;
	uint64_t pos;
	size_t page;
	uint64_t records;
	int efd;		/* edge-triggered epoll of fd, or -1 (poll_fd) */
};

struct shark_ringbuf *shark_ringbuf__new(int32_t map_fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	struct shark_ringbuf *r;
	void *m;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return NULL;
	if (info.type != BPF_MAP_TYPE_RINGBUF) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = map_fd;
	r->efd = -1;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->mask = info.max_entries - 1;
	m = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	r->consumer = m;
	m = mmap(NULL, r->page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (m == MAP_FAILED)
		goto fail;
	r->producer = m;
	r->data = (uint8_t *)m + r->page;
	r->pos = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	return r;
fail:
	err = errno;
	shark_ringbuf__free(r);
	errno = err;
	return NULL;
}

void shark_ringbuf__free(struct shark_ringbuf *r)
{
	if (!r)
		return;
	if (r->efd >= 0)
		close(r->efd);
	if (r->replay) {
		free(r->consumer);
		free(r);
		return;
	}
	if (r->consumer)
		munmap(r->consumer, r->page);
	if (r->producer)
		munmap(r->producer, r->page + 2 * (size_t)(r->mask + 1));
	free(r);
}

/*
 * An fd that is readable once per wake-up of the ring, not while it holds
 * data: an epoll instance watching the ring edge-triggered. A ring's own fd
 * polls readable as long as anything is unread, so a reader that polls it
 * while producers keep writing spins on a few records per drain; through
 * this one it wakes only when a program asks (BPF_RB_FORCE_WAKEUP, or a
 * record into an empty ring), and the timed drain does the rest. The
 * wake-up is taken back at each read. Return: the fd (the ring's to close)
 * or -errno.
 */
int32_t shark_ringbuf__poll_fd(struct shark_ringbuf *r)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

	if (r->efd >= 0)
		return r->efd;
	if (r->replay)
		return -EINVAL;
	r->efd = epoll_create1(EPOLL_CLOEXEC);
	if (r->efd < 0)
		return -errno;
	if (epoll_ctl(r->efd, EPOLL_CTL_ADD, r->fd, &ev)) {
		int err = -errno;

		close(r->efd);
		r->efd = -1;
		return err;
	}
	return r->efd;
}

/* Take back a pending wake-up of poll_fd before reading what it announced. */
static void ack_wakeup(struct shark_ringbuf *r)
{
	struct epoll_event ev;

	if (r->efd >= 0)
		while (epoll_wait(r->efd, &ev, 1, 0) > 0)
			;
}

/* Up to @max committed records into @batch, without consuming them. */
int32_t shark_ringbuf__read(struct shark_ringbuf *r, struct shark_record *batch, int32_t max)
{
	uint64_t prod;
	int32_t n = 0;

	ack_wakeup(r);
	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

	while (r->pos < prod && n < max) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (r->pos & r->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;	/* reserved, not yet submitted */
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			batch[n].data = (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ;
			batch[n].size = len;
			n++;
		}
		len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		r->pos += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	}
	r->records += (uint64_t)n;
	return n;
}

void shark_ringbuf__consume(struct shark_ringbuf *r)
{
	__atomic_store_n(r->consumer, r->pos, __ATOMIC_RELEASE);
}

uint64_t shark_ringbuf__count(struct shark_ringbuf *r)
{
	return r->records;
}

/*
 * Records of bpf/tpring.bpf.c (struct shark_tprec) decoded into @batch as
 * perf samples are: the same typed events whatever the delivery. @names[i]
 * is the name of event i (@nnames of them). In place until consume.
 */
int32_t shark_ringbuf__read_tp(struct shark_ringbuf *r, struct shark_sample *batch, int32_t max,
			       const char *const *names, int32_t nnames)
{
	uint64_t prod;
	int32_t n = 0;

	ack_wakeup(r);
	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

	while (r->pos < prod && n < max) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (r->pos & r->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		const struct shark_tprec *t = (const void *)((const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;	/* reserved, not yet submitted */
		r->pos += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
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
		s->comm_at = NULL;	/* e.comm of a process gone: tpring's `gone` map */
		s->user_regs = NULL;
		s->user_stack = NULL;
		s->user_stack_size = 0;
		s->pad = 0;
	}
	r->records += (uint64_t)n;
	return n;
}

/* ---------------------------------------------------- replay (benchmarks) */

/*
 * Copy the unread records of @r (headers included, at most @len bytes) into
 * @buf without consuming them. Return: the bytes copied.
 */
int32_t shark_ringbuf__snapshot(struct shark_ringbuf *r, uint8_t *buf, int32_t len)
{
	uint64_t prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE), pos = r->pos;
	int32_t n = 0;

	while (pos < prod) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (pos & r->mask));
		uint32_t size = (*hdr & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) + BPF_RINGBUF_HDR_SZ;

		size = (size + 7) & ~7u;
		if ((*hdr & BPF_RINGBUF_BUSY_BIT) || n + (int64_t)size > len)
			break;
		memcpy(buf + n, hdr, size);	/* the data area is mapped twice: no wrap */
		n += (int32_t)size;
		pos += size;
	}
	return n;
}

/*
 * A ring over @len bytes of records from snapshot(), read from the start
 * again at each call of replay_rewind(): the user-space cost of decoding and
 * dispatch, without the kernel. NULL with errno on failure.
 */
struct shark_ringbuf *shark_ringbuf__replay(const uint8_t *buf, int32_t len)
{
	struct shark_ringbuf *r;
	uint64_t size = 4096;
	uint8_t *m;

	if (len <= 0) {
		errno = EINVAL;
		return NULL;
	}
	while (size < (uint64_t)len)
		size *= 2;
	r = calloc(1, sizeof(*r));
	m = calloc(1, 16 + size);
	if (!r || !m) {
		free(r);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	r->replay = 1;
	r->fd = -1;
	r->efd = -1;
	r->consumer = (uint64_t *)m;
	r->producer = (uint64_t *)(m + 8);
	r->data = m + 16;
	r->mask = size - 1;
	memcpy(r->data, buf, (size_t)len);
	*r->producer = (uint64_t)len;
	return r;
}

void shark_ringbuf__rewind(struct shark_ringbuf *r)
{
	r->pos = 0;
	*r->consumer = 0;
}
