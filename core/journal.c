// SPDX-License-Identifier: GPL-2.0
/* journal.c - shark record's journals: chunked, zstd-compressed, checksummed, optionally encrypted. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <zlib.h>
#include <zstd.h>
#include "shark.h"

/*
 * The format is described in docs/journal.md. In short: a 64-byte file
 * header, then chunks. Each chunk is a 32-byte header and a payload written
 * by one write() on an O_APPEND fd, so a journal cut at any byte keeps every
 * chunk before the cut whole. The payload is a zstd frame of records (or,
 * encrypted, nonce + XChaCha20-Poly1305 of that frame); the header carries
 * CRC-32s of itself and of the payload, so damage names its chunk.
 */

#define JHDR_SIZE 64
#define CHDR_SIZE 32
#define CHUNK_MAGIC 0x4b434a53u	/* "SJCK" */
#define CHUNK_RAW_MAX (1u << 20)	/* records gathered before a chunk is written */
#define CHUNK_STORED_MAX (64u << 20)	/* a reader's sanity bound */
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

static const char file_magic[8] = { 'S', 'H', 'R', 'K', 'J', 'R', 'N', 'L' };

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

struct shark_journal {
	int fd;
	int encrypt;
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t file_id[16];
	uint32_t seq;
	uint32_t type;		/* of the records in buf */
	uint8_t *buf;		/* records not yet written */
	uint32_t len, nrec;
	struct jstate prev;
	uint8_t *out;		/* header + compressed (+ encrypted) chunk */
	size_t outcap;
	uint8_t *zbuf;
	size_t zcap;
	ZSTD_CCtx *cctx;
	int level;
	struct shark_journal_stats st;
	/*
	 * Compression, encryption and write() run on a thread of their own, one
	 * chunk at a time, so the drain that fills buf goes on meanwhile.
	 */
	pthread_t thread;
	int has_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *pending;	/* the chunk being written, swapped with buf */
	struct chunk_hdr ph;
	int busy, quit, werr;
};

static uint32_t crc(const void *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}

static int sodium_ready(void)
{
	static int done;

	if (!done)
		done = sodium_init() >= 0 ? 1 : -1;
	return done > 0 ? 0 : -EIO;
}

/* A key file: 32 raw bytes, or 64 hex digits (and an optional newline). */
int32_t shark_journal_key_load(const char *path, uint8_t *key)
{
	uint8_t buf[130];
	size_t bin_len;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	if (n == 32) {
		memcpy(key, buf, 32);
		return 0;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 64 && !sodium_hex2bin(key, 32, (const char *)buf, 64, NULL, &bin_len, NULL) && bin_len == 32)
		return 0;
	return -EINVAL;
}

/* ------------------------------------------------------------------ writing */

static void write_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *writer(void *arg);

struct shark_journal *shark_journal__create(const char *path, const uint8_t *key, int32_t level)
{
	struct shark_journal *j = calloc(1, sizeof(*j));
	uint8_t hdr[JHDR_SIZE] = { 0 };
	int err;

	if (!j)
		return NULL;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->fd = -1;
	j->level = level ? level : 1;
	if (sodium_ready()) {
		err = EIO;
		goto fail;
	}
	if (key) {
		j->encrypt = 1;
		memcpy(j->key, key, sizeof(j->key));
	}
	randombytes_buf(j->file_id, sizeof(j->file_id));
	j->buf = malloc(CHUNK_RAW_MAX + 65536 + 64);
	j->pending = malloc(CHUNK_RAW_MAX + 65536 + 64);
	j->cctx = ZSTD_createCCtx();
	if (!j->buf || !j->pending || !j->cctx) {
		err = ENOMEM;
		goto fail;
	}
	j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		err = errno;
		goto fail;
	}
	memcpy(hdr, file_magic, 8);
	hdr[8] = SHARK_JOURNAL_MAJOR;
	hdr[9] = SHARK_JOURNAL_MINOR;
	hdr[10] = (uint8_t)j->encrypt;
	hdr[11] = CHDR_SIZE;
	memcpy(hdr + 16, j->file_id, 16);
	write_u32(hdr + 60, crc(hdr, 60));
	err = -write_all(j->fd, hdr, sizeof(hdr));
	if (err)
		goto fail;
	j->st.bytes = JHDR_SIZE;
	/* without a thread, chunks are written inline */
	j->has_thread = !pthread_create(&j->thread, NULL, writer, j);
	return j;
fail:
	if (j->fd >= 0)
		unlink(path);
	shark_journal__free(j);
	errno = err;
	return NULL;
}

/* Additional data of an encrypted chunk: the file and the chunk's place in it. */
static void chunk_ad(const struct shark_journal *j, const struct chunk_hdr *h, uint8_t ad[32])
{
	memcpy(ad, j->file_id, 16);
	memcpy(ad + 16, &h->seq, 4);
	memcpy(ad + 20, &h->type, 4);
	memcpy(ad + 24, &h->raw, 4);
	memcpy(ad + 28, &h->nrec, 4);
}

static int reserve(uint8_t **p, size_t *cap, size_t need)
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

/* Compress (and encrypt) one chunk and write it with one write(). */
static int write_chunk(struct shark_journal *j, struct chunk_hdr h, const uint8_t *raw)
{
	size_t bound = ZSTD_compressBound(h.raw), zlen, stored;
	uint8_t *payload;
	int err;

	err = reserve(&j->out, &j->outcap, CHDR_SIZE + NONCE_LEN + bound + MAC_LEN);
	if (!err && j->encrypt)
		err = reserve(&j->zbuf, &j->zcap, bound);
	if (err)
		return err;
	payload = j->out + CHDR_SIZE;
	zlen = ZSTD_compressCCtx(j->cctx, j->encrypt ? j->zbuf : payload, bound, raw, h.raw, j->level);
	if (ZSTD_isError(zlen))
		return -EIO;
	stored = zlen;
	if (j->encrypt) {
		uint8_t ad[32];
		unsigned long long clen;

		chunk_ad(j, &h, ad);
		randombytes_buf(payload, NONCE_LEN);
		crypto_aead_xchacha20poly1305_ietf_encrypt(payload + NONCE_LEN, &clen, j->zbuf, zlen, ad, sizeof(ad),
							   NULL, payload, j->key);
		stored = NONCE_LEN + (size_t)clen;
	}
	h.stored = (uint32_t)stored;
	h.crc = crc(payload, stored);
	h.hcrc = crc(&h, 28);
	memcpy(j->out, &h, CHDR_SIZE);
	err = write_all(j->fd, j->out, CHDR_SIZE + stored);
	if (err)
		return err;
	pthread_mutex_lock(&j->mu);
	j->st.chunks++;
	j->st.bytes += CHDR_SIZE + stored;
	j->st.raw_bytes += h.raw;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

static void *writer(void *arg)
{
	struct shark_journal *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->busy && !j->quit)
			pthread_cond_wait(&j->cv, &j->mu);
		if (!j->busy)
			break;
		pthread_mutex_unlock(&j->mu);
		int err = write_chunk(j, j->ph, j->pending);

		pthread_mutex_lock(&j->mu);
		if (err && !j->werr)
			j->werr = err;
		j->busy = 0;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Wait until the writer is idle; its first error, if any. */
static int writer_idle(struct shark_journal *j)
{
	int err;

	pthread_mutex_lock(&j->mu);
	while (j->busy)
		pthread_cond_wait(&j->cv, &j->mu);
	err = j->werr;
	pthread_mutex_unlock(&j->mu);
	return err;
}

/* Hand what is gathered to the writer as one chunk. */
static int flush_chunk(struct shark_journal *j)
{
	struct chunk_hdr h = { .magic = CHUNK_MAGIC, .seq = j->seq, .type = j->type, .raw = j->len, .nrec = j->nrec };
	uint8_t *full = j->buf;
	int err;

	if (!j->len && !j->nrec)
		return 0;
	if (!j->has_thread) {
		err = write_chunk(j, h, j->buf);
	} else {
		err = writer_idle(j);
		if (!err) {
			pthread_mutex_lock(&j->mu);
			j->buf = j->pending;
			j->pending = full;
			j->ph = h;
			j->busy = 1;
			pthread_cond_broadcast(&j->cv);
			pthread_mutex_unlock(&j->mu);
		}
	}
	if (err)
		return err;
	j->seq++;
	j->len = j->nrec = 0;
	memset(&j->prev, 0, sizeof(j->prev));
	return 0;
}

static int begin(struct shark_journal *j, uint32_t type, size_t need)
{
	int err = 0;

	if (j->fd < 0)
		return -EBADF;
	if (j->type != type || j->len + need > CHUNK_RAW_MAX)
		err = flush_chunk(j);
	j->type = type;
	return err;
}

/* A metadata record (JSON text): a chunk of its own, after what came before. */
int32_t shark_journal__meta(struct shark_journal *j, const char *text, uint32_t len)
{
	int err;

	if (len > CHUNK_RAW_MAX)
		return -E2BIG;
	err = begin(j, SHARK_JCHUNK_META, CHUNK_RAW_MAX);
	if (err)
		return err;
	memcpy(j->buf, text, len);
	j->len = len;
	j->nrec = 1;
	return flush_chunk(j);
}

static uint32_t pad8(uint32_t n)
{
	return (n + 7) & ~7u;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Perf samples of a batch; event numbers are shifted by base (the session's first). */
int32_t shark_journal__samples(struct shark_journal *j, uint32_t base, const struct shark_sample *s, int32_t n)
{
	for (int32_t i = 0; i < n; i++, s++) {
		uint32_t raw = s->raw ? s->raw_size : 0, nips = s->ips ? s->nr_ips : 0;
		size_t need = JS_MAX_HEAD + raw + 8 + 8 * (size_t)nips;
		struct jstate *pv = &j->prev, cur;
		uint8_t *p, *flags;
		int64_t dt;
		int err;

		if (need > CHUNK_RAW_MAX)
			continue;
		if (j->type != SHARK_JCHUNK_SAMPLES || j->len + need > CHUNK_RAW_MAX) {
			err = begin(j, SHARK_JCHUNK_SAMPLES, need);
			if (err)
				return err;
		}
		cur.time = (uint64_t)s->time;
		cur.pid = s->pid;
		cur.tid = s->tid;
		cur.cpu = s->cpu;
		cur.event = base + s->event;
		cur.period = (uint64_t)s->period;
		cur.ip = s->ip;
		p = j->buf + j->len;
		flags = p++;
		*flags = 0;
		dt = (int64_t)(cur.time - pv->time);
		p = put_varint(p, ((uint64_t)dt << 1) ^ (uint64_t)(dt >> 63));
		if (cur.pid != pv->pid || cur.tid != pv->tid || !j->nrec) {
			*flags |= JS_NEW_TASK;
			p = put_varint(p, cur.pid);
			p = put_varint(p, cur.tid);
		}
		if (cur.cpu != pv->cpu || !j->nrec) {
			*flags |= JS_NEW_CPU;
			p = put_varint(p, cur.cpu);
		}
		if (cur.event != pv->event || !j->nrec) {
			*flags |= JS_NEW_EVENT;
			p = put_varint(p, cur.event);
		}
		if (cur.period != pv->period || !j->nrec) {
			*flags |= JS_NEW_PERIOD;
			p = put_varint(p, cur.period);
		}
		if (cur.ip != pv->ip || !j->nrec) {
			*flags |= JS_NEW_IP;
			memcpy(p, &cur.ip, 8);
			p += 8;
		}
		if (raw) {
			*flags |= JS_RAW;
			p = put_varint(p, raw);
			memcpy(p, s->raw, raw);
			p += raw;
		}
		if (nips) {
			*flags |= JS_IPS;
			p = put_varint(p, nips);
			while ((p - j->buf) & 7)
				*p++ = 0;
			memcpy(p, s->ips, 8 * (size_t)nips);
			p += 8 * nips;
		}
		*pv = cur;
		j->len = (uint32_t)(p - j->buf);
		j->nrec++;
		j->st.samples++;
	}
	return 0;
}

/* Records of a BPF ring buffer, stamped with the time they were drained. */
int32_t shark_journal__records(struct shark_journal *j, uint32_t ring, const struct shark_record *r, int32_t n,
			       uint64_t time)
{
	for (int32_t i = 0; i < n; i++, r++) {
		size_t need = sizeof(struct jrecord) + pad8(r->size);
		struct jrecord *jr;
		int err;

		if (need > CHUNK_RAW_MAX)
			continue;
		if (j->type != SHARK_JCHUNK_RECORDS || j->len + need > CHUNK_RAW_MAX) {
			err = begin(j, SHARK_JCHUNK_RECORDS, need);
			if (err)
				return err;
		}
		jr = (struct jrecord *)(j->buf + j->len);
		jr->time = time;
		jr->ring = ring;
		jr->size = r->size;
		memcpy(jr + 1, r->data, r->size);
		memset((uint8_t *)(jr + 1) + r->size, 0, pad8(r->size) - r->size);
		j->len += (uint32_t)need;
		j->nrec++;
		j->st.records++;
	}
	return 0;
}

int32_t shark_journal__flush(struct shark_journal *j)
{
	return j->fd < 0 ? -EBADF : flush_chunk(j);
}

void shark_journal__stats(struct shark_journal *j, struct shark_journal_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->st;
	pthread_mutex_unlock(&j->mu);
}

static void writer_stop(struct shark_journal *j)
{
	if (!j->has_thread)
		return;
	writer_idle(j);
	pthread_mutex_lock(&j->mu);
	j->quit = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	j->has_thread = 0;
}

/* Write what is left and close; 0 or -errno (the journal is closed either way). */
int32_t shark_journal__close(struct shark_journal *j)
{
	int err = 0;

	if (j->fd < 0)
		return 0;
	err = flush_chunk(j);
	writer_stop(j);
	if (!err)
		err = j->werr;
	if (fsync(j->fd) && !err && errno != EINVAL)
		err = -errno;
	if (close(j->fd) && !err)
		err = -errno;
	j->fd = -1;
	return err;
}

void shark_journal__free(struct shark_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		shark_journal__close(j);
	writer_stop(j);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j->pending);
	sodium_memzero(j->key, sizeof(j->key));
	ZSTD_freeCCtx(j->cctx);
	free(j->buf);
	free(j->out);
	free(j->zbuf);
	free(j);
}

/* ------------------------------------------------------------------ reading */

struct shark_jreader {
	uint8_t *map;
	size_t size;
	size_t pos;		/* next chunk header */
	int encrypt;
	int have_key;
	int salvage;
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t file_id[16];
	uint32_t next_seq;
	ZSTD_DCtx *dctx;
	uint8_t *data;		/* the current chunk, decompressed */
	size_t datacap;
	uint32_t len, off;	/* its size, and where reading it is */
	struct jstate prev;
	uint32_t type;
	uint8_t *zbuf;
	size_t zcap;
	struct shark_jreader_stats st;
	char err[256];
	char note[256];
};

static void rset(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rset(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, 256, fmt, ap);
	va_end(ap);
}

struct shark_jreader *shark_jreader__open(const char *path, const uint8_t *key, int32_t salvage)
{
	struct shark_jreader *r = calloc(1, sizeof(*r));
	struct stat sb;
	int fd, err;

	if (!r)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		err = errno;
		if (fd >= 0)
			close(fd);
		free(r);
		errno = err;
		return NULL;
	}
	r->size = (size_t)sb.st_size;
	r->salvage = salvage;
	if (r->size >= JHDR_SIZE) {
		r->map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r->map == MAP_FAILED) {
			err = errno;
			close(fd);
			free(r);
			errno = err;
			return NULL;
		}
		madvise(r->map, r->size, MADV_SEQUENTIAL);
	}
	close(fd);
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx || sodium_ready()) {
		shark_jreader__free(r);
		errno = ENOMEM;
		return NULL;
	}
	if (key) {
		r->have_key = 1;
		memcpy(r->key, key, sizeof(r->key));
	}
	r->pos = JHDR_SIZE;
	return r;
}

/* Check the file header: 0, or -EINVAL/-ENOKEY with the reason in error(). */
int32_t shark_jreader__check(struct shark_jreader *r)
{
	uint32_t c;

	if (r->size < JHDR_SIZE || memcmp(r->map, file_magic, 8)) {
		rset(r->err, "not a shark journal (no SHRKJRNL header)");
		return -EINVAL;
	}
	memcpy(&c, r->map + 60, 4);
	if (c != crc(r->map, 60)) {
		rset(r->err, "the journal header is damaged (checksum mismatch at byte 0)");
		return -EINVAL;
	}
	if (r->map[8] != SHARK_JOURNAL_MAJOR) {
		rset(r->err, "journal format %u.%u; this shark reads %u.x", r->map[8], r->map[9],
		     SHARK_JOURNAL_MAJOR);
		return -EINVAL;
	}
	r->encrypt = r->map[10] & 1;
	memcpy(r->file_id, r->map + 16, 16);
	if (r->encrypt && !r->have_key) {
		rset(r->err, "the journal is encrypted: give its key (--key KEYFILE)");
		return -ENOKEY;
	}
	return 0;
}

/* The next plausible chunk header at or after pos (salvage). */
static size_t resync(struct shark_jreader *r, size_t pos)
{
	for (; pos + CHDR_SIZE <= r->size; pos++) {
		struct chunk_hdr h;

		memcpy(&h, r->map + pos, CHDR_SIZE);
		if (h.magic == CHUNK_MAGIC && h.hcrc == crc(&h, 28))
			return pos;
	}
	return r->size;
}

/* Verify, decrypt and decompress the chunk at pos; 0, or -EBADMSG/-EKEYREJECTED with error() set. */
static int load_chunk(struct shark_jreader *r, const struct chunk_hdr *h, const uint8_t *payload)
{
	const uint8_t *z = payload;
	size_t zlen = h->stored, got;

	if (h->crc != crc(payload, h->stored)) {
		rset(r->err, "chunk %u at byte %zu is damaged (payload checksum mismatch)", h->seq, r->pos);
		return -EBADMSG;
	}
	if (h->raw > CHUNK_RAW_MAX + 65536 + 64 ||
	    (h->type != SHARK_JCHUNK_META && h->type != SHARK_JCHUNK_SAMPLES && h->type != SHARK_JCHUNK_RECORDS)) {
		rset(r->err, "chunk %u at byte %zu: bad type %u or size %u", h->seq, r->pos, h->type, h->raw);
		return -EBADMSG;
	}
	if (r->encrypt) {
		struct shark_journal fake;
		uint8_t ad[32];
		unsigned long long plen;

		if (zlen < NONCE_LEN + MAC_LEN || reserve(&r->zbuf, &r->zcap, zlen)) {
			rset(r->err, "chunk %u at byte %zu is too short to be encrypted", h->seq, r->pos);
			return -EBADMSG;
		}
		memcpy(fake.file_id, r->file_id, 16);
		chunk_ad(&fake, h, ad);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(r->zbuf, &plen, NULL, payload + NONCE_LEN,
							       zlen - NONCE_LEN, ad, sizeof(ad), payload, r->key)) {
			rset(r->err, "chunk %u at byte %zu does not decrypt: wrong key", h->seq, r->pos);
			return -EKEYREJECTED;
		}
		z = r->zbuf;
		zlen = (size_t)plen;
	}
	if (reserve(&r->data, &r->datacap, h->raw + 8u)) {
		rset(r->err, "out of memory");
		return -ENOMEM;
	}
	got = ZSTD_decompressDCtx(r->dctx, r->data, h->raw + 8u, z, zlen);
	if (ZSTD_isError(got) || got != h->raw) {
		rset(r->err, "chunk %u at byte %zu does not decompress (%s)", h->seq, r->pos,
		     ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
		return -EBADMSG;
	}
	r->len = h->raw;
	r->off = 0;
	r->type = h->type;
	memset(&r->prev, 0, sizeof(r->prev));
	return 0;
}

/*
 * Move to the next chunk. Return 1 (c filled), 0 at the end (a truncated tail
 * is noted in note()), or -errno with error() naming the chunk. With salvage,
 * a damaged chunk is skipped instead: 2, error() naming it, c not filled.
 */
int32_t shark_jreader__next(struct shark_jreader *r, struct shark_jchunk *c)
{
	{
		struct chunk_hdr h;
		int err;

		r->len = r->off = 0;
		if (r->pos >= r->size)
			return 0;
		if (r->pos + CHDR_SIZE > r->size) {
			rset(r->note, "the journal ends inside a chunk header at byte %zu (cut short)", r->pos);
			r->st.truncated = 1;
			r->pos = r->size;
			return 0;
		}
		memcpy(&h, r->map + r->pos, CHDR_SIZE);
		if (h.magic != CHUNK_MAGIC || h.hcrc != crc(&h, 28) || h.stored > CHUNK_STORED_MAX) {
			rset(r->err, "chunk %u at byte %zu has a damaged header", r->next_seq, r->pos);
			err = -EBADMSG;
			if (!r->salvage)
				return err;
			r->st.damaged++;
			r->pos = resync(r, r->pos + 1);
			return 2;
		}
		if (r->pos + CHDR_SIZE + h.stored > r->size) {
			rset(r->note, "the journal ends inside chunk %u at byte %zu (cut short; %zu of %u bytes)",
			     h.seq, r->pos, r->size - r->pos - CHDR_SIZE, h.stored);
			r->st.truncated = 1;
			r->pos = r->size;
			return 0;
		}
		err = load_chunk(r, &h, r->map + r->pos + CHDR_SIZE);
		if (err) {
			if (!r->salvage || (err == -EKEYREJECTED && !r->st.chunks))
				return err;
			r->st.damaged++;
			r->pos += CHDR_SIZE + h.stored;
			r->next_seq = h.seq + 1;
			return 2;
		}
		c->type = h.type;
		c->seq = h.seq;
		c->nrec = h.nrec;
		c->size = h.raw;
		c->data = r->data;
		c->offset = r->pos;
		r->pos += CHDR_SIZE + h.stored;
		r->next_seq = h.seq + 1;
		r->st.chunks++;
		return 1;
	}
}

/* The key perf.c gives a callchain (FNV-1a; user frames within their pid). */
static uint64_t stack_key(const uint64_t *ips, uint32_t n, uint32_t pid)
{
	uint64_t h = 0xcbf29ce484222325ull, v;
	int user = 0;

	for (uint32_t i = 0; i < n; i++) {
		memcpy(&v, &ips[i], 8);
		if (v == (uint64_t)-512)	/* PERF_CONTEXT_USER */
			user = 1;
		h = (h ^ v) * 0x100000001b3ull;
	}
	if (user)
		h = (h ^ pid) * 0x100000001b3ull;
	h &= (1ull << 52) - 1;
	return h ? h : 1;
}

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*p >= end)
			return -1;
		b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int get_u32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint64_t x;

	if (get_varint(p, end, &x) || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* One sample at *p (see shark_journal__samples); -1 if malformed. */
static int decode_one(struct shark_jreader *r, const uint8_t **pp, const uint8_t *end, struct shark_sample *s)
{
	struct jstate *pv = &r->prev;
	const uint8_t *p = *pp;
	uint64_t dt;
	uint32_t raw = 0, nips = 0;
	uint8_t flags;

	if (p >= end)
		return -1;
	flags = *p++;
	if (get_varint(&p, end, &dt))
		return -1;
	pv->time += (dt >> 1) ^ (0 - (dt & 1));
	if (flags & JS_NEW_TASK && (get_u32(&p, end, &pv->pid) || get_u32(&p, end, &pv->tid)))
		return -1;
	if (flags & JS_NEW_CPU && get_u32(&p, end, &pv->cpu))
		return -1;
	if (flags & JS_NEW_EVENT && get_u32(&p, end, &pv->event))
		return -1;
	if (flags & JS_NEW_PERIOD && get_varint(&p, end, &pv->period))
		return -1;
	if (flags & JS_NEW_IP) {
		if (end - p < 8)
			return -1;
		memcpy(&pv->ip, p, 8);
		p += 8;
	}
	s->raw = NULL;
	if (flags & JS_RAW) {
		if (get_u32(&p, end, &raw) || raw > (uint64_t)(end - p))
			return -1;
		s->raw = p;
		p += raw;
	}
	s->ips = NULL;
	if (flags & JS_IPS) {
		if (get_u32(&p, end, &nips))
			return -1;
		while ((p - r->data) & 7)
			p++;
		if (p > end || nips > (uint64_t)(end - p) / 8)
			return -1;
		s->ips = (const uint64_t *)p;
		p += 8 * (size_t)nips;
	}
	s->time = (double)pv->time;
	s->pid = pv->pid;
	s->tid = pv->tid;
	s->cpu = pv->cpu;
	s->event = pv->event;
	s->period = (double)pv->period;
	s->ip = pv->ip;
	s->id = 0;
	s->name = NULL;
	s->raw_size = raw;
	s->nr_ips = nips;
	s->stack_key = nips ? stack_key(s->ips, nips, pv->pid) : 0;
	*pp = p;
	return 0;
}

/*
 * Decode up to max samples of the current chunk into batch (raw and ips
 * point into the chunk, valid until the next call of next()). Return: the
 * number decoded, 0 when the chunk is done, -EBADMSG if it is malformed.
 */
int32_t shark_jreader__samples(struct shark_jreader *r, struct shark_sample *batch, int32_t max)
{
	const uint8_t *p = r->data + r->off, *end = r->data + r->len;
	int32_t n = 0;

	if (r->type != SHARK_JCHUNK_SAMPLES)
		return 0;
	while (n < max && p < end) {
		if (decode_one(r, &p, end, &batch[n])) {
			rset(r->err, "a record at offset %u of the chunk is malformed", r->off);
			r->off = r->len;
			return -EBADMSG;
		}
		r->off = (uint32_t)(p - r->data);
		n++;
	}
	r->st.samples += (uint64_t)n;
	return n;
}

/* The same for BPF ring records: batch[i].data and times[i]. */
int32_t shark_jreader__records(struct shark_jreader *r, struct shark_record *batch, uint32_t *rings,
			       double *times, int32_t max)
{
	int32_t n = 0;

	if (r->type != SHARK_JCHUNK_RECORDS)
		return 0;
	while (n < max && r->off < r->len) {
		const struct jrecord *jr = (const void *)(r->data + r->off);
		uint64_t need;

		if (r->len - r->off < sizeof(*jr))
			goto bad;
		need = sizeof(*jr) + pad8(jr->size);
		if (jr->size > CHUNK_RAW_MAX || need > r->len - r->off)
			goto bad;
		batch[n].data = jr + 1;
		batch[n].size = jr->size;
		batch[n].pad = 0;
		rings[n] = jr->ring;
		times[n] = (double)jr->time;
		r->off += (uint32_t)need;
		n++;
	}
	r->st.records += (uint64_t)n;
	return n;
bad:
	rset(r->err, "a record at offset %u of the chunk is malformed", r->off);
	r->off = r->len;
	return -EBADMSG;
}

const char *shark_jreader__error(struct shark_jreader *r)
{
	return r ? r->err : "";
}

const char *shark_jreader__note(struct shark_jreader *r)
{
	return r ? r->note : "";
}

void shark_jreader__stats(struct shark_jreader *r, struct shark_jreader_stats *st)
{
	*st = r->st;
	st->bytes = r->size;
}

void shark_jreader__free(struct shark_jreader *r)
{
	if (!r)
		return;
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->size);
	sodium_memzero(r->key, sizeof(r->key));
	ZSTD_freeDCtx(r->dctx);
	free(r->data);
	free(r->zbuf);
	free(r);
}
