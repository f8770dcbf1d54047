/* SPDX-License-Identifier: GPL-2.0 */
/* journal.h - what the journal writer (journal.c) and reader (jreader.c) share: the format (docs/journal.md). */
#ifndef SHARK_JOURNAL_H
#define SHARK_JOURNAL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zlib.h>
#include "shark.h"

#define JHDR_SIZE 64
#define CHDR_SIZE 32
#define CHUNK_MAGIC 0x4b434a53u	/* "SJCK" */
#define CHUNK_RAW_MAX (1u << 20)	/* records gathered before a chunk is written */
#define CHUNK_STORED_MAX (64u << 20)	/* a reader's sanity bound */
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

static const char journal_magic[8] = { 'S', 'H', 'R', 'K', 'J', 'R', 'N', 'L' };

struct chunk_hdr {
	uint32_t magic;
	uint32_t seq;
	uint32_t type;		/* enum shark_jchunk_type */
	uint32_t stored;	/* payload bytes after this header */
	uint32_t raw;		/* bytes once decompressed */
	uint32_t nrec;		/* records in it */
	uint32_t crc;		/* CRC-32 of the payload */
	uint32_t hcrc;		/* CRC-32 of the 28 bytes before */
};

/*
 * A perf sample is a flags byte, then only what differs from the sample
 * before it in the chunk (varints; time as a zigzag delta), then the raw
 * record and the callchain (8-byte aligned within the chunk). Samples of a
 * run repeat pid, cpu, event and period: most shrink to the raw record and
 * 3-4 bytes, so there is less to decompress when reading.
 */
enum {
	JS_NEW_TASK = 1,	/* pid, tid follow */
	JS_NEW_CPU = 2,
	JS_NEW_EVENT = 4,
	JS_NEW_PERIOD = 8,
	JS_NEW_IP = 16,		/* 8 bytes */
	JS_RAW = 32,		/* varint size, bytes */
	JS_IPS = 64,		/* varint nr, pad to 8, 8 * nr */
};

struct jstate {			/* the previous sample of the chunk */
	uint64_t time, period, ip;
	uint32_t pid, tid, cpu, event;
};

#define JS_MAX_HEAD (1 + 10 + 5 * 5 + 10 + 8 + 5 + 5 + 8)

struct jrecord {		/* one BPF ring record, then data (padded to 8) */
	uint64_t time;
	uint32_t ring;
	uint32_t size;
};

static inline uint32_t crc(const void *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}

static inline int sodium_ready(void)
{
	static int done;

	if (!done)
		done = sodium_init() >= 0 ? 1 : -1;
	return done > 0 ? 0 : -EIO;
}

/* Additional data of an encrypted chunk: the file and the chunk's place in it. */
static inline void chunk_ad(const uint8_t *file_id, const struct chunk_hdr *h, uint8_t ad[32])
{
	memcpy(ad, file_id, 16);
	memcpy(ad + 16, &h->seq, 4);
	memcpy(ad + 20, &h->type, 4);
	memcpy(ad + 24, &h->raw, 4);
	memcpy(ad + 28, &h->nrec, 4);
}

static inline int reserve(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *n;

	if (*cap >= need)
		return 0;
	n = realloc(*p, need);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = need;
	return 0;
}

static inline uint32_t pad8(uint32_t n)
{
	return (n + 7) & ~7u;
}

#endif /* SHARK_JOURNAL_H */
