// SPDX-License-Identifier: GPL-2.0
/* test_pprof.c - pprof encode/decode: a profile through gzip and profile.proto and back, bad input refused. */
#include <errno.h>
#include <stdlib.h>
#include "shark.h"
#include "tap.h"

static const char *strs[] = { "", "samples", "count", "cpu", "nanoseconds", "main", "leaf", "/bin/app", "ab12" };

/* main -> leaf (7 samples), main (3): leaf first in pprof */
static const struct shark_pprof_mapping maps[] = { { 0x400000, 0x500000, 0, 7, 8 } };
static const struct shark_pprof_function funcs[] = { { 5, 5, 7 }, { 6, 6, 7 } };
static const struct shark_pprof_location locs[] = { { 0x401000, 1, 1, 0, 0 }, { 0x402000, 1, 1, 1, 0 } };
static const uint32_t lines[] = { 1, 2 };
static const uint32_t sample_nlocs[] = { 2, 1 };
static const uint32_t loc_ids[] = { 2, 1, 1 };
static const int64_t values[] = { 7, 70, 3, 30 };
static const int64_t types[] = { 1, 2, 3, 4 };

static void fill(struct shark_pprof *p)
{
	memset(p, 0, sizeof(*p));
	p->nstrings = sizeof(strs) / sizeof(strs[0]);
	p->strings = strs;
	p->ntypes = 2;
	p->types = types;
	p->nmappings = 1;
	p->mappings = maps;
	p->nfunctions = 2;
	p->functions = funcs;
	p->nlocations = 2;
	p->locations = locs;
	p->nlines = 2;
	p->lines = lines;
	p->nsamples = 2;
	p->sample_nlocs = sample_nlocs;
	p->nlocs = 3;
	p->locs = loc_ids;
	p->values = values;
	p->period_type = 3;
	p->period_unit = 4;
	p->period = 10;
}

void test_pprof(void)
{
	struct shark_pprof in, *out;
	uint8_t *bytes = NULL;
	void *buf = NULL;
	uint64_t len = 0;
	char err[256];

	fill(&in);
	is_int(shark_pprof_encode(&in, &buf, &len), 0, "pprof: encoded");
	bytes = buf;
	ok(len > 20 && bytes[0] == 0x1f && bytes[1] == 0x8b, "pprof: gzipped (%llu bytes)", (unsigned long long)len);
	out = shark_pprof_decode(buf, len, err, sizeof(err));
	ok(out != NULL, "pprof: decoded back (%s)", out ? "" : err);
	if (out) {
		is_int(out->nsamples, 2, "pprof: 2 samples");
		is_int(out->nlocs, 3, "pprof: 3 location ids");
		is_int(out->locs[0], 2, "pprof: sample 1 leaf first: location 2");
		is_int(out->values[1], 70, "pprof: values per sample type");
		is_int(out->locations[1].address, 0x402000, "pprof: the location's address");
		is_int(out->locations[1].mapping, 1, "pprof: its mapping");
		is_str(out->strings[out->functions[out->lines[out->locations[1].line] - 1].name], "leaf",
		       "pprof: the location's function name");
		is_str(out->strings[out->mappings[0].build_id], "ab12", "pprof: the mapping's build-id");
		is_int(out->mappings[0].start, 0x400000, "pprof: the mapping's start");
		is_int(out->period, 10, "pprof: the period");
		is_str(out->strings[out->period_type], "cpu", "pprof: the period type");
		shark_pprof_free(out);
	}
	shark_free(buf);

	fill(&in);
	in.nlocs = 2;
	is_int(shark_pprof_encode(&in, &buf, &len), -EINVAL, "pprof encode: nlocs not the sum of sample_nlocs refused");
	fill(&in);
	in.lines = (const uint32_t[]){ 1, 3 };
	is_int(shark_pprof_encode(&in, &buf, &len), -EINVAL, "pprof encode: a function id out of range refused");
	fill(&in);
	in.types = (const int64_t[]){ 1, 2, 3, 99 };
	is_int(shark_pprof_encode(&in, &buf, &len), -EINVAL, "pprof encode: a string index out of range refused");

	out = shark_pprof_decode("\x1f\x8b\x08\x00", 4, err, sizeof(err));
	ok(!out && strstr(err, "gzip data truncated"), "pprof decode: a truncated gzip header: %s", err);
	out = shark_pprof_decode("\x0a\x05", 2, err, sizeof(err));
	ok(!out && strstr(err, "not a profile.proto message"), "pprof decode: a cut message: %s", err);
	/* a location (field 4) with id 0 */
	out = shark_pprof_decode("\x32\x00\x22\x02\x08\x00", 6, err, sizeof(err));
	ok(!out && !strcmp(err, "location 1 has id 0"), "pprof decode: a location with id 0: %s", err);
}
