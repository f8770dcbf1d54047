// SPDX-License-Identifier: GPL-2.0
/* jreader.c - reading journals: checks, decryption, decompression, damage and cuts, record decoding. */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "journal.h"

/* Where a chunk is decrypted and decompressed to. */
struct jbuf {
	ZSTD_DCtx *dctx;
	uint8_t *data;
	size_t datacap;
	uint8_t *zbuf;
	size_t zcap;
	char err[256];
};

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
	struct jbuf bufs[2];
	struct jbuf *cur;	/* the chunk being read */
	uint8_t *data;		/* cur->data */
	uint32_t len, off;	/* its size, and where reading it is */
	struct jstate prev;
	uint32_t type;
	struct shark_jreader_stats st;
	char err[256];
	char note[256];
	/*
	 * Read-ahead: while the caller decodes a chunk, a thread of ours
	 * verifies and decompresses the next one into the other buffer.
	 */
	pthread_t thread;
	int has_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int job, done, quit, job_rc;
	size_t job_pos;
	struct chunk_hdr job_h;
	struct jbuf *job_buf;
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
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->bufs[0].dctx = ZSTD_createDCtx();
	r->bufs[1].dctx = ZSTD_createDCtx();
	r->cur = &r->bufs[0];
	if (!r->bufs[0].dctx || !r->bufs[1].dctx || sodium_ready()) {
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

	if (r->size < JHDR_SIZE || memcmp(r->map, journal_magic, 8)) {
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

/* Verify, decrypt and decompress the chunk at pos into b; 0, or -EBADMSG/-EKEYREJECTED with b->err set. */
static int load_chunk(const struct shark_jreader *r, struct jbuf *b, const struct chunk_hdr *h, size_t pos)
{
	const uint8_t *payload = r->map + pos + CHDR_SIZE, *z = payload;
	size_t zlen = h->stored, got;

	if (h->crc != crc(payload, h->stored)) {
		rset(b->err, "chunk %u at byte %zu is damaged (payload checksum mismatch)", h->seq, pos);
		return -EBADMSG;
	}
	if (h->raw > CHUNK_RAW_MAX + 65536 + 64 ||
	    (h->type != SHARK_JCHUNK_META && h->type != SHARK_JCHUNK_SAMPLES && h->type != SHARK_JCHUNK_RECORDS)) {
		rset(b->err, "chunk %u at byte %zu: bad type %u or size %u", h->seq, pos, h->type, h->raw);
		return -EBADMSG;
	}
	if (r->encrypt) {
		uint8_t ad[32];
		unsigned long long plen;

		if (zlen < NONCE_LEN + MAC_LEN || reserve(&b->zbuf, &b->zcap, zlen)) {
			rset(b->err, "chunk %u at byte %zu is too short to be encrypted", h->seq, pos);
			return -EBADMSG;
		}
		chunk_ad(r->file_id, h, ad);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(b->zbuf, &plen, NULL, payload + NONCE_LEN,
							       zlen - NONCE_LEN, ad, sizeof(ad), payload, r->key)) {
			rset(b->err, "chunk %u at byte %zu does not decrypt: wrong key", h->seq, pos);
			return -EKEYREJECTED;
		}
		z = b->zbuf;
		zlen = (size_t)plen;
	}
	if (reserve(&b->data, &b->datacap, h->raw + 8u)) {
		rset(b->err, "out of memory");
		return -ENOMEM;
	}
	got = ZSTD_decompressDCtx(b->dctx, b->data, h->raw + 8u, z, zlen);
	if (ZSTD_isError(got) || got != h->raw) {
		rset(b->err, "chunk %u at byte %zu does not decompress (%s)", h->seq, pos,
		     ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
		return -EBADMSG;
	}
	return 0;
}

static struct jbuf *spare(struct shark_jreader *r)
{
	return r->cur == &r->bufs[0] ? &r->bufs[1] : &r->bufs[0];
}

static void *read_ahead(void *arg)
{
	struct shark_jreader *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!(r->job && !r->done) && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->quit)
			break;
		pthread_mutex_unlock(&r->mu);
		int rc = load_chunk(r, r->job_buf, &r->job_h, r->job_pos);

		pthread_mutex_lock(&r->mu);
		r->job_rc = rc;
		r->done = 1;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* A whole, plausible chunk at pos: start loading it into the spare buffer. */
static void post_ahead(struct shark_jreader *r)
{
	struct chunk_hdr h;

	if (r->st.chunks < 2 || r->pos + CHDR_SIZE > r->size)
		return;	/* small journals: no thread */
	memcpy(&h, r->map + r->pos, CHDR_SIZE);
	if (h.magic != CHUNK_MAGIC || h.hcrc != crc(&h, 28) || h.stored > CHUNK_STORED_MAX ||
	    r->pos + CHDR_SIZE + h.stored > r->size)
		return;
	if (!r->has_thread) {
		if (pthread_create(&r->thread, NULL, read_ahead, r))
			return;
		r->has_thread = 1;
	}
	pthread_mutex_lock(&r->mu);
	r->job_h = h;
	r->job_pos = r->pos;
	r->job_buf = spare(r);
	r->done = 0;
	r->job = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* The chunk at pos into the spare buffer: the read-ahead's result, or now. */
static int take_chunk(struct shark_jreader *r, const struct chunk_hdr *h)
{
	int rc;

	pthread_mutex_lock(&r->mu);
	if (r->job) {
		while (!r->done)
			pthread_cond_wait(&r->cv, &r->mu);
		r->job = 0;
		if (r->job_pos == r->pos) {
			rc = r->job_rc;
			pthread_mutex_unlock(&r->mu);
			return rc;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return load_chunk(r, spare(r), h, r->pos);
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
		err = take_chunk(r, &h);
		if (err) {
			memcpy(r->err, spare(r)->err, sizeof(r->err));
			if (!r->salvage || (err == -EKEYREJECTED && !r->st.chunks))
				return err;
			r->st.damaged++;
			r->pos += CHDR_SIZE + h.stored;
			r->next_seq = h.seq + 1;
			return 2;
		}
		r->cur = spare(r);
		r->data = r->cur->data;
		r->len = h.raw;
		r->off = 0;
		r->type = h.type;
		memset(&r->prev, 0, sizeof(r->prev));
		c->type = h.type;
		c->seq = h.seq;
		c->nrec = h.nrec;
		c->size = h.raw;
		c->data = r->data;
		c->offset = r->pos;
		r->pos += CHDR_SIZE + h.stored;
		r->next_seq = h.seq + 1;
		r->st.chunks++;
		post_ahead(r);
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
	if (r->has_thread) {
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	for (int i = 0; i < 2; i++) {
		ZSTD_freeDCtx(r->bufs[i].dctx);
		free(r->bufs[i].data);
		free(r->bufs[i].zbuf);
	}
	free(r);
}
