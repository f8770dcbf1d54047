// SPDX-License-Identifier: GPL-2.0
/* test_journal.c - journals written and read back: samples, records, encryption, cuts at every byte. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "shark.h"

#define NS 3000

static struct shark_sample in[NS];
static uint8_t raws[NS][24];
static uint64_t ips[4] = { 0xffffffffffffff80ull, 0xffffffff81000010ull, 0xfffffffffffffe00ull, 0x401234 };

static void make_samples(void)
{
	for (int i = 0; i < NS; i++) {
		struct shark_sample *s = &in[i];

		memset(s, 0, sizeof(*s));
		s->time = 1e12 + i * 1000.0 - (i % 7) * 3;	/* not always increasing */
		s->pid = 100 + i / 500;
		s->tid = s->pid + i % 2;
		s->cpu = i % 3;
		s->event = i % 2;
		s->period = i % 5 ? 1 : 4000;
		s->ip = 0x400000 + (uint64_t)(i % 11);
		if (i % 3) {
			for (int k = 0; k < 24; k++)
				raws[i][k] = (uint8_t)(i + k);
			s->raw = raws[i];
			s->raw_size = 1 + i % 24;
		}
		if (i % 4 == 0) {
			s->ips = ips;
			s->nr_ips = 4;
		}
	}
}

static int write_journal(const char *path, const uint8_t *key)
{
	struct shark_journal *j = shark_journal__create(path, key, 1);
	struct shark_record recs[2] = { { "ring-one", 8, 0 }, { "x", 1, 0 } };
	int err = 0;

	if (!j)
		return -errno;
	err |= shark_journal__meta(j, "{\"kind\":\"start\"}", 16);
	err |= shark_journal__samples(j, 10, in, NS / 2);
	err |= shark_journal__records(j, 3, recs, 2, 77);
	err |= shark_journal__samples(j, 10, in + NS / 2, NS - NS / 2);
	err |= shark_journal__close(j);
	shark_journal__free(j);
	return err;
}

/* Read everything; counts of samples that match in[], records, chunks; rc of the end. */
static int read_journal(const char *path, const uint8_t *key, int *samples, int *records, int *chunks)
{
	static struct shark_sample out[512];
	struct shark_record recs[8];
	uint32_t rings[8];
	double times[8];
	struct shark_jreader *r = shark_jreader__open(path, key, 0);
	struct shark_jchunk c;
	int rc, n, k = 0;

	*samples = *records = *chunks = 0;
	if (!r)
		return -errno;
	rc = shark_jreader__check(r);
	while (!rc && (rc = shark_jreader__next(r, &c)) > 0) {
		(*chunks)++;
		while ((n = shark_jreader__samples(r, out, 512)) > 0) {
			for (int i = 0; i < n; i++, k++) {
				const struct shark_sample *a = &out[i], *b = &in[k % NS];

				if (a->time == (double)(uint64_t)b->time && a->pid == b->pid && a->tid == b->tid &&
				    a->cpu == b->cpu && a->event == b->event + 10 && a->period == b->period &&
				    a->ip == b->ip && a->raw_size == (b->raw ? b->raw_size : 0) &&
				    (!a->raw_size || !memcmp(a->raw, b->raw, a->raw_size)) && a->nr_ips == b->nr_ips &&
				    (!a->nr_ips || !memcmp(a->ips, b->ips, 32)) && (!a->nr_ips || a->stack_key))
					(*samples)++;
			}
		}
		while ((n = shark_jreader__records(r, recs, rings, times, 8)) > 0)
			for (int i = 0; i < n; i++)
				*records += rings[i] == 3 && times[i] == 77 && recs[i].size == (i ? 1u : 8u);
		rc = 0;
	}
	shark_jreader__free(r);
	return rc;
}

static void diag_cut(long at, int rc, int s)
{
	printf("#   cut at %ld: rc %d, %d samples\n", at, rc, s);
}

void test_journal(void)
{
	char path[] = "/tmp/shark-unit-journal.XXXXXX", cut[64];
	uint8_t key[32], other[32];
	int fd = mkstemp(path), s, rcs, ch, rc, all_ok = 1;
	FILE *f;
	long size;
	uint8_t *buf;
	long step;

	make_samples();
	close(fd);
	is_int(write_journal(path, NULL), 0, "journal: written");
	rc = read_journal(path, NULL, &s, &rcs, &ch);
	is_int(rc, 0, "journal: read to the end");
	is_int(s, NS, "journal: every sample back as written (time, ids, period, ip, raw, callchain)");
	is_int(rcs, 2, "journal: ring records back with their ring and time");

	/* a cut at any byte: every chunk before it reads, the rest is a clean end */
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size);
	ok(buf && fread(buf, 1, (size_t)size, f) == (size_t)size, "journal: read back raw");
	fclose(f);
	snprintf(cut, sizeof(cut), "%s.cut", path);
	/* under qemu-user each cut costs ~100x (emulated syscalls): every 7th byte there, every byte natively */
	step = tap_qemu_user() ? 7 : 1;
	for (long at = 64, last = 0, lastch = 0; buf && at < size; at += step) {
		f = fopen(cut, "wb");
		fwrite(buf, 1, (size_t)at, f);
		fclose(f);
		rc = read_journal(cut, NULL, &s, &rcs, &ch);
		/* more of the file never reads fewer samples or chunks */
		if (rc != 0 || s > NS || s < last || ch < lastch) {
			all_ok = 0;
			diag_cut(at, rc, s);
		}
		last = s;
		lastch = ch;
	}
	ok(all_ok, "journal: cut at each of %ld bytes (every %ld), the complete chunks read and the end is clean",
	   size - 64, step);
	unlink(cut);
	free(buf);

	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)(i * 7 + 1);
		other[i] = (uint8_t)(i * 5 + 2);
	}
	is_int(write_journal(path, key), 0, "journal: written encrypted");
	rc = read_journal(path, key, &s, &rcs, &ch);
	ok(rc == 0 && s == NS && rcs == 2, "journal: encrypted, read with its key");
	is_int(read_journal(path, NULL, &s, &rcs, &ch), -ENOKEY, "journal: encrypted, no key: -ENOKEY");
	is_int(read_journal(path, other, &s, &rcs, &ch), -EKEYREJECTED, "journal: encrypted, wrong key: -EKEYREJECTED");
	unlink(path);
}
