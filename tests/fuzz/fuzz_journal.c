// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_journal.c - libFuzzer: the journal reader on inputs wrapped as valid
 * chunks (compressed, checksummed), so the record decoders see arbitrary
 * bytes, then on the input appended raw after them (headers, cuts, resync).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include "shark.h"

static char path[64];

static void cleanup(void)
{
	unlink(path);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A journal: a valid header, one chunk of type t holding data, then data raw. */
static size_t wrap(const uint8_t *data, size_t size, uint32_t t, uint8_t **out)
{
	size_t bound = ZSTD_compressBound(size), z;
	uint8_t *j = calloc(1, 64 + 32 + bound + size);

	memcpy(j, "SHRKJRNL", 8);
	j[8] = SHARK_JOURNAL_MAJOR;
	j[11] = 32;
	put32(j + 60, (uint32_t)crc32(0, j, 60));
	z = ZSTD_compress(j + 96, bound, data, size, 1);
	if (ZSTD_isError(z))
		z = 0;
	put32(j + 64, 0x4b434a53u);
	put32(j + 68, 0);
	put32(j + 72, t);
	put32(j + 76, (uint32_t)z);
	put32(j + 80, (uint32_t)size);
	put32(j + 84, 1);
	put32(j + 88, (uint32_t)crc32(0, j + 96, (uInt)z));
	put32(j + 92, (uint32_t)crc32(0, j + 64, 28));
	memcpy(j + 96 + z, data, size);
	*out = j;
	return 96 + z + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shark_sample batch[256];
	static struct shark_record recs[256];
	static uint32_t rings[256];
	static double times[256];
	struct shark_jreader *r;
	struct shark_jchunk c;
	uint8_t *j;
	size_t len;
	FILE *f;
	int rc, n;

	if (!size)
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof(path), "/dev/shm/fuzz_journal.%d", (int)getpid());
		atexit(cleanup);
	}
	len = wrap(data + 1, size - 1, 1 + data[0] % 3, &j);
	f = fopen(path, "wb");
	if (!f) {
		free(j);
		return 0;
	}
	fwrite(j, 1, len, f);
	fclose(f);
	free(j);
	r = shark_jreader__open(path, NULL, data[0] & 0x80);
	if (r && !shark_jreader__check(r)) {
		while ((rc = shark_jreader__next(r, &c)) > 0) {
			if (rc == 2)
				continue;
			while ((n = shark_jreader__samples(r, batch, 256)) > 0)
				for (int i = 0; i < n; i++)
					if (batch[i].raw_size)
						((volatile const uint8_t *)batch[i].raw)[batch[i].raw_size - 1];
			while ((n = shark_jreader__records(r, recs, rings, times, 256)) > 0)
				for (int i = 0; i < n; i++)
					if (recs[i].size)
						((volatile const uint8_t *)recs[i].data)[recs[i].size - 1];
		}
	}
	shark_jreader__free(r);
	return 0;
}
