// SPDX-License-Identifier: GPL-2.0
/* journal.c - writing shark record's journals: chunked, zstd-compressed, checksummed, optionally encrypted. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <zstd.h>
#include "journal.h"

/*
 * The format is described in docs/journal.md. In short: a 64-byte file
 * header, then chunks. Each chunk is a 32-byte header and a payload written
 * by one write() on an O_APPEND fd, so a journal cut at any byte keeps every
 * chunk before the cut whole. The payload is a zstd frame of records (or,
 * encrypted, nonce + XChaCha20-Poly1305 of that frame); the header carries
 * CRC-32s of itself and of the payload, so damage names its chunk.
 */

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
	memcpy(hdr, journal_magic, 8);
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

		chunk_ad(j->file_id, &h, ad);
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
