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
#include "ringbuf.h"

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
	shark_tpnames__clear(&r->names);
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
void shark_ringbuf__ack_wakeup(struct shark_ringbuf *r)
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

	shark_ringbuf__ack_wakeup(r);
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
	/* the same records again: threads that exited in them live again */
	shark_tpnames__rewind(&r->names);
	r->pos = 0;
	*r->consumer = 0;
}
