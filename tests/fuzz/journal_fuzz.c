// SPDX-License-Identifier: GPL-2.0
/*
 * journal_fuzz.c - feed mutated journals to the reader (core/journal.c), built
 * with ASan and UBSan: flipped and overwritten bytes, cuts, copied ranges, and
 * chunk headers/payloads changed with their checksums fixed, so the
 * decompressor and the record decoders see the damage too.
 * usage: journal_fuzz SECONDS SEED.journal... (exit 0: no crash; ASan aborts otherwise)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include "shark.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Chunk headers: magic seq type stored raw nrec crc hcrc (u32 each), from byte 64. */
static void fix_crcs(uint8_t *d, size_t len)
{
	size_t pos = 64;

	while (pos + 32 <= len) {
		uint32_t h[8];

		memcpy(h, d + pos, 32);
		if (h[0] != 0x4b434a53u || pos + 32 + h[3] > len)
			break;
		h[6] = (uint32_t)crc32(0, d + pos + 32, h[3]);
		h[7] = (uint32_t)crc32(0, (const uint8_t *)h, 28);
		memcpy(d + pos, h, 32);
		pos += 32 + h[3];
	}
}

/* Decompress a random chunk, damage its records, compress it back, fix the checksums. */
static uint8_t *mutate_records(const uint8_t *d, size_t len, size_t *outlen)
{
	size_t pos = 64, pick, n = 0;
	uint8_t *out;

	while (pos + 32 <= len) {
		uint32_t h[8];

		memcpy(h, d + pos, 32);
		if (h[0] != 0x4b434a53u || pos + 32 + h[3] > len)
			break;
		n++;
		pos += 32 + h[3];
	}
	if (!n)
		return NULL;
	pick = rnd() % n;
	for (pos = 64; pick--;) {
		uint32_t h[8];

		memcpy(h, d + pos, 32);
		pos += 32 + h[3];
	}
	{
		uint32_t h[8];
		uint8_t *raw, *z;
		size_t got, zl, zb;

		memcpy(h, d + pos, 32);
		raw = malloc(h[4] + 1);
		got = ZSTD_decompress(raw, h[4] + 1, d + pos + 32, h[3]);
		if (ZSTD_isError(got) || !got) {
			free(raw);
			return NULL;
		}
		for (int k = 0, m = 1 + (int)(rnd() % 8); k < m; k++) {
			size_t at = rnd() % got;

			switch (rnd() % 3) {
			case 0:
				raw[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:
				raw[at] = (uint8_t)rnd();
				break;
			default:
				memset(raw + at, 0xff, got - at < 4 ? got - at : 4);
			}
		}
		zb = ZSTD_compressBound(got);
		z = malloc(zb);
		zl = ZSTD_compress(z, zb, raw, got, 1);
		free(raw);
		if (ZSTD_isError(zl)) {
			free(z);
			return NULL;
		}
		out = malloc(len - h[3] + zl);
		memcpy(out, d, pos);
		h[3] = (uint32_t)zl;
		h[4] = (uint32_t)got;
		memcpy(out + pos, h, 32);
		memcpy(out + pos + 32, z, zl);
		{
			uint32_t old[8];

			memcpy(old, d + pos, 32);
			memcpy(out + pos + 32 + zl, d + pos + 32 + old[3], len - pos - 32 - old[3]);
			*outlen = len - old[3] + zl;
		}
		free(z);
		fix_crcs(out, *outlen);
		return out;
	}
}

static uint8_t *mutate(const uint8_t *seed, size_t len, size_t *outlen)
{
	uint8_t *d;
	size_t n = len;
	int kind = (int)(rnd() % 6);

	if (kind == 5) {
		d = mutate_records(seed, len, outlen);
		if (d)
			return d;
		kind = 0;
	}
	d = malloc(len * 2 + 16);
	memcpy(d, seed, len);
	switch (kind) {
	case 0:		/* flip bits */
		for (int k = 0, m = 1 + (int)(rnd() % 4); k < m; k++)
			d[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		break;
	case 1:		/* cut */
		n = rnd() % len;
		break;
	case 2:		/* copy a range elsewhere */
	{
		size_t a = rnd() % len, b = rnd() % len, l = rnd() % 256;

		if (a + l > len)
			l = len - a;
		memmove(d + b, d + a, b + l > len ? len - b : l);
		break;
	}
	case 3:		/* change a chunk header field, fix checksums */
	{
		size_t at = 64 + (rnd() % 8) * 4;

		if (at + 4 <= len)
			memcpy(d + at, &(uint32_t){ (uint32_t)rnd() % (rnd() % 2 ? 64 : 0xffffffffu) }, 4);
		fix_crcs(d, len);
		break;
	}
	default:	/* overwrite bytes, fix checksums */
		for (int k = 0, m = 1 + (int)(rnd() % 16); k < m; k++)
			d[64 + rnd() % (len - 64)] = (uint8_t)rnd();
		fix_crcs(d, len);
	}
	*outlen = n;
	return d;
}

static void read_all(const char *path, int salvage)
{
	struct shark_jreader *r = shark_jreader__open(path, NULL, salvage);
	static struct shark_sample batch[512];
	static struct shark_record recs[512];
	static uint32_t rings[512];
	static double times[512];
	struct shark_jchunk c;
	volatile uint64_t sum = 0;

	if (!r)
		return;
	if (shark_jreader__check(r) == 0) {
		int rc;

		while ((rc = shark_jreader__next(r, &c)) > 0) {
			int n;

			if (rc == 2)
				continue;	/* salvage skipped a chunk: c is not filled */

			for (uint32_t i = 0; c.type == SHARK_JCHUNK_META && i < c.size; i++)
				sum += c.data[i];
			while ((n = shark_jreader__samples(r, batch, 512)) > 0)
				for (int i = 0; i < n; i++) {
					const uint8_t *raw = batch[i].raw;

					sum += batch[i].pid;
					if (raw && batch[i].raw_size)
						sum += raw[batch[i].raw_size - 1];
					if (batch[i].nr_ips)
						sum += batch[i].ips[batch[i].nr_ips - 1];
				}
			while ((n = shark_jreader__records(r, recs, rings, times, 512)) > 0)
				for (int i = 0; i < n; i++)
					if (recs[i].size)
						sum += ((const uint8_t *)recs[i].data)[recs[i].size - 1];
		}
	}
	shark_jreader__free(r);
}

int main(int argc, char **argv)
{
	char path[64];
	uint64_t iters = 0;
	time_t end;

	if (argc < 3) {
		fprintf(stderr, "usage: journal_fuzz SECONDS SEED.journal...\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[1]);
	rng ^= (uint64_t)getpid() << 20 ^ (uint64_t)time(NULL);
	snprintf(path, sizeof(path), "/dev/shm/journal_fuzz.%d", (int)getpid());
	while (time(NULL) < end) {
		for (int s = 2; s < argc; s++) {
			size_t len, n;
			uint8_t *seed = slurp(argv[s], &len), *d;
			FILE *f;

			if (!seed || len < 96) {
				free(seed);
				continue;
			}
			for (int k = 0; k < 50; k++, iters++) {
				d = mutate(seed, len, &n);
				f = fopen(path, "wb");
				if (f) {
					fwrite(d, 1, n, f);
					fclose(f);
					read_all(path, (int)(rnd() % 2));
				}
				free(d);
			}
			free(seed);
		}
	}
	unlink(path);
	printf("journal_fuzz: %llu mutated journals read, 0 crashes\n", (unsigned long long)iters);
	return 0;
}
