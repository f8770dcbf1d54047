/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringbuf.h - a BPF ring buffer as its reader keeps it (ringbuf.c), with the
 * thread names of its tpring records (tpring.c).
 */
#ifndef SHARK_RINGBUF_H
#define SHARK_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

struct tpname;

/* The names of the threads of a ring's tpring records, by tid (tpring.c). */
struct tpnames {
	struct tpname *e;
	uint32_t cap;		/* a power of 2, or 0 */
	uint32_t used;
	uint32_t *touched;	/* entries not TPN_OK, their indexes */
	uint32_t ntouched;
	char **retired;		/* slots of exited threads whose tid came back */
	uint32_t nretired;
	uint32_t nahead;
	uint64_t *ahead;	/* positions of name records past the reader, found looking ahead */
	uint64_t scanned_to;	/* where looking ahead ended */
};

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
	struct tpnames names;	/* read_tp's */
};

/* ringbuf.c: take back a pending wake-up of poll_fd before reading what it announced */
void shark_ringbuf__ack_wakeup(struct shark_ringbuf *r);
/* tpring.c: the names table emptied; its threads alive again (a replay read again) */
void shark_tpnames__clear(struct tpnames *t);
void shark_tpnames__rewind(struct tpnames *t);

#endif /* SHARK_RINGBUF_H */
