// SPDX-License-Identifier: GPL-2.0
/*
 * ringprep.c - a BPF ring buffer made on a thread of its own, off the
 * start-up path. The kernel allocates, zeroes and maps every page of a ring
 * at once: ~2 ms for the 8 MiB perf.on gives syscalls, as long as the rest
 * of its start-up. While Lua builds the event types and libbpf opens the
 * object, the thread creates the map (the object then reuses it), and maps
 * it while the programs are verified.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "shark.h"

struct shark_ringprep {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t bytes;
	int made;			/* fd is set */
	int fd;				/* the map: an fd or -errno */
	int err;			/* mapping it: 0 or errno */
	struct shark_ringbuf *ring;	/* mapped, until taken */
	int joined;
};

static void *make(void *arg)
{
	struct shark_ringprep *p = arg;
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, p->bytes, NULL);

	pthread_mutex_lock(&p->mu);
	p->fd = fd < 0 ? -errno : fd;
	p->made = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (fd >= 0) {
		p->ring = shark_ringbuf__new(fd);
		p->err = p->ring ? 0 : errno;
	}
	return NULL;
}

/* Start making a ring of @bytes (a power of 2 pages). Return: NULL, errno set. */
struct shark_ringprep *shark_ringprep__start(uint32_t bytes)
{
	struct shark_ringprep *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	p->bytes = bytes;
	p->fd = -EINVAL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	err = pthread_create(&p->thread, NULL, make, p);
	if (err) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		errno = err;
		return NULL;
	}
	return p;
}

/* The map, once made (waits for it): an fd (@p's to close) or -errno. */
int32_t shark_ringprep__fd(struct shark_ringprep *p)
{
	int fd;

	pthread_mutex_lock(&p->mu);
	while (!p->made)
		pthread_cond_wait(&p->cv, &p->mu);
	fd = p->fd;
	pthread_mutex_unlock(&p->mu);
	return fd;
}

static void join(struct shark_ringprep *p)
{
	if (!p->joined) {
		pthread_join(p->thread, NULL);
		p->joined = 1;
	}
}

/*
 * The ring mapped (waits for it), now the caller's to free, before @p: its fd
 * is @p's. NULL with errno set.
 */
struct shark_ringbuf *shark_ringprep__ring(struct shark_ringprep *p)
{
	struct shark_ringbuf *r;

	join(p);
	r = p->ring;
	p->ring = NULL;
	if (!r)
		errno = p->fd < 0 ? -p->fd : p->err ? p->err : EINVAL;
	return r;
}

/* Wait for the thread, close the map's fd (an object reusing it holds its own). */
void shark_ringprep__free(struct shark_ringprep *p)
{
	if (!p)
		return;
	join(p);
	shark_ringbuf__free(p->ring);
	if (p->fd >= 0)
		close(p->fd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
