// SPDX-License-Identifier: GPL-2.0
/* pprof.c - pprof profiles: struct shark_pprof <-> gzipped profile.proto (protobuf-c, zlib). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "profile.pb-c.h"
#include "shark.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* A decompressed profile larger than this is refused (a gzip bomb). */
#define PPROF_MAX_RAW (256u << 20)

/* ---------------------------------------------------------------- encode */

/* Everything an encoded message points to, freed at once. */
struct enc {
	Profile prof;
	ValueType *types, period_type;
	ValueType **type_ptrs;
	Sample *samples, **sample_ptrs;
	uint64_t *loc_ids;
	Mapping *maps, **map_ptrs;
	Function *funcs, **func_ptrs;
	Location *locs, **loc_ptrs;
	Line *lines, **line_ptrs;
};

static void enc_free(struct enc *e)
{
	free(e->types);
	free(e->type_ptrs);
	free(e->samples);
	free(e->sample_ptrs);
	free(e->loc_ids);
	free(e->maps);
	free(e->map_ptrs);
	free(e->funcs);
	free(e->func_ptrs);
	free(e->locs);
	free(e->loc_ptrs);
	free(e->lines);
	free(e->line_ptrs);
}

static int enc_alloc(struct enc *e, const struct shark_pprof *p)
{
	e->types = calloc(p->ntypes + 1, sizeof(*e->types));
	e->type_ptrs = calloc(p->ntypes + 1, sizeof(*e->type_ptrs));
	e->samples = calloc(p->nsamples + 1, sizeof(*e->samples));
	e->sample_ptrs = calloc(p->nsamples + 1, sizeof(*e->sample_ptrs));
	e->loc_ids = calloc(p->nlocs + 1, sizeof(*e->loc_ids));
	e->maps = calloc(p->nmappings + 1, sizeof(*e->maps));
	e->map_ptrs = calloc(p->nmappings + 1, sizeof(*e->map_ptrs));
	e->funcs = calloc(p->nfunctions + 1, sizeof(*e->funcs));
	e->func_ptrs = calloc(p->nfunctions + 1, sizeof(*e->func_ptrs));
	e->locs = calloc(p->nlocations + 1, sizeof(*e->locs));
	e->loc_ptrs = calloc(p->nlocations + 1, sizeof(*e->loc_ptrs));
	e->lines = calloc(p->nlines + 1, sizeof(*e->lines));
	e->line_ptrs = calloc(p->nlines + 1, sizeof(*e->line_ptrs));
	if (!e->types || !e->type_ptrs || !e->samples || !e->sample_ptrs || !e->loc_ids || !e->maps ||
	    !e->map_ptrs || !e->funcs || !e->func_ptrs || !e->locs || !e->loc_ptrs || !e->lines ||
	    !e->line_ptrs)
		return -ENOMEM;
	return 0;
}

/*
 * Every pointer there and every index in range, every count within an int32:
 * what a reader of the profile relies on (pprof and OTLP profiles encode
 * the same tables).
 */
int shark_pprof_check(const struct shark_pprof *p)
{
	uint64_t nlocs = 0;

	if (!p || !p->nstrings || !p->strings || p->nstrings > INT32_MAX || (p->ntypes && !p->types) ||
	    p->nlocs > INT32_MAX || (p->nmappings && !p->mappings) || (p->nfunctions && !p->functions) ||
	    (p->nlocations && !p->locations) || (p->nlines && !p->lines) ||
	    (p->nsamples && (!p->sample_nlocs || (p->ntypes && !p->values))) || (p->nlocs && !p->locs))
		return -EINVAL;
	for (uint32_t i = 0; i < p->nstrings; i++)
		if (!p->strings[i])
			return -EINVAL;
#define STR_OK(x) ((x) >= 0 && (uint64_t)(x) < p->nstrings)
	for (uint32_t i = 0; i < 2 * p->ntypes; i++)
		if (!STR_OK(p->types[i]))
			return -EINVAL;
	if (!STR_OK(p->period_type) || !STR_OK(p->period_unit))
		return -EINVAL;
	for (uint32_t i = 0; i < p->nmappings; i++)
		if (!STR_OK(p->mappings[i].filename) || !STR_OK(p->mappings[i].build_id))
			return -EINVAL;
	for (uint32_t i = 0; i < p->nfunctions; i++) {
		const struct shark_pprof_function *f = &p->functions[i];

		if (!STR_OK(f->name) || !STR_OK(f->system_name) || !STR_OK(f->filename))
			return -EINVAL;
	}
#undef STR_OK
	for (uint32_t i = 0; i < p->nlocations; i++) {
		const struct shark_pprof_location *l = &p->locations[i];

		if (l->mapping > p->nmappings || (uint64_t)l->line + l->nlines > p->nlines)
			return -EINVAL;
	}
	for (uint32_t i = 0; i < p->nlines; i++)
		if (!p->lines[i] || p->lines[i] > p->nfunctions)
			return -EINVAL;
	for (uint32_t i = 0; i < p->nsamples; i++)
		nlocs += p->sample_nlocs[i];
	if (nlocs != p->nlocs)
		return -EINVAL;
	for (uint32_t i = 0; i < p->nlocs; i++)
		if (!p->locs[i] || p->locs[i] > p->nlocations)
			return -EINVAL;
	return 0;
}

/* pprof's own rule besides: string 0 is "" */
static int enc_check(const struct shark_pprof *p)
{
	int err = shark_pprof_check(p);

	if (err)
		return err;
	return p->strings[0][0] ? -EINVAL : 0;
}

/* Sample types and samples: location ids and values point into p's arrays. */
static void enc_samples(struct enc *e, const struct shark_pprof *p)
{
	Profile *pr = &e->prof;
	uint64_t at = 0;

	for (uint32_t i = 0; i < p->ntypes; i++) {
		perftools__profiles__value_type__init(&e->types[i]);
		e->types[i].type = p->types[2 * i];
		e->types[i].unit = p->types[2 * i + 1];
		e->type_ptrs[i] = &e->types[i];
	}
	pr->n_sample_type = p->ntypes;
	pr->sample_type = e->type_ptrs;
	for (uint32_t i = 0; i < p->nlocs; i++)
		e->loc_ids[i] = p->locs[i];
	for (uint32_t i = 0; i < p->nsamples; i++) {
		Sample *s = &e->samples[i];

		perftools__profiles__sample__init(s);
		s->n_location_id = p->sample_nlocs[i];
		s->location_id = e->loc_ids + at;
		at += p->sample_nlocs[i];
		s->n_value = p->ntypes;
		s->value = (int64_t *)p->values + (uint64_t)i * p->ntypes;
		e->sample_ptrs[i] = s;
	}
	pr->n_sample = p->nsamples;
	pr->sample = e->sample_ptrs;
}

/* Mappings, functions, locations and their lines; ids are 1-based indices. */
static void enc_tables(struct enc *e, const struct shark_pprof *p)
{
	Profile *pr = &e->prof;

	for (uint32_t i = 0; i < p->nmappings; i++) {
		const struct shark_pprof_mapping *m = &p->mappings[i];
		Mapping *pm = &e->maps[i];

		perftools__profiles__mapping__init(pm);
		pm->id = i + 1;
		pm->memory_start = m->start;
		pm->memory_limit = m->limit;
		pm->file_offset = m->offset;
		pm->filename = m->filename;
		pm->build_id = m->build_id;
		pm->has_functions = 1;
		e->map_ptrs[i] = pm;
	}
	pr->n_mapping = p->nmappings;
	pr->mapping = e->map_ptrs;
	for (uint32_t i = 0; i < p->nfunctions; i++) {
		Function *f = &e->funcs[i];

		perftools__profiles__function__init(f);
		f->id = i + 1;
		f->name = p->functions[i].name;
		f->system_name = p->functions[i].system_name;
		f->filename = p->functions[i].filename;
		e->func_ptrs[i] = f;
	}
	pr->n_function = p->nfunctions;
	pr->function = e->func_ptrs;
	for (uint32_t i = 0; i < p->nlines; i++) {
		perftools__profiles__line__init(&e->lines[i]);
		e->lines[i].function_id = p->lines[i];
		e->line_ptrs[i] = &e->lines[i];
	}
	for (uint32_t i = 0; i < p->nlocations; i++) {
		const struct shark_pprof_location *l = &p->locations[i];
		Location *pl = &e->locs[i];

		perftools__profiles__location__init(pl);
		pl->id = i + 1;
		pl->mapping_id = l->mapping;
		pl->address = l->address;
		pl->n_line = l->nlines;
		pl->line = e->line_ptrs + l->line;
		e->loc_ptrs[i] = pl;
	}
	pr->n_location = p->nlocations;
	pr->location = e->loc_ptrs;
}

static void enc_fill(struct enc *e, const struct shark_pprof *p)
{
	Profile *pr = &e->prof;

	perftools__profiles__profile__init(pr);
	enc_samples(e, p);
	enc_tables(e, p);
	pr->n_string_table = p->nstrings;
	pr->string_table = (char **)p->strings;
	perftools__profiles__value_type__init(&e->period_type);
	e->period_type.type = p->period_type;
	e->period_type.unit = p->period_unit;
	if (p->period_type || p->period_unit)
		pr->period_type = &e->period_type;
	pr->period = p->period;
	pr->time_nanos = p->time_nanos;
	pr->duration_nanos = p->duration_nanos;
}

static int gzip_buf(const uint8_t *in, size_t len, void **out, uint64_t *outlen)
{
	z_stream z = { 0 };
	uLong cap;
	uint8_t *buf;
	int ret;

	/* windowBits 15 + 16: a gzip header and trailer, as pprof files have */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len) + 32;
	buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = buf;
	z.avail_out = cap;
	ret = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = z.total_out;
	return 0;
}

/*
 * shark_pprof_encode() - @p as a gzipped profile.proto.
 * @out: receives a malloc'd buffer (shark_free), @len its size
 *
 * Return: 0, -EINVAL when an index of @p is out of range, or -ENOMEM.
 */
int32_t shark_pprof_encode(const struct shark_pprof *p, void **out, uint64_t *len)
{
	struct enc e = { 0 };
	uint8_t *raw = NULL;
	size_t n;
	int err;

	*out = NULL;
	*len = 0;
	err = enc_check(p);
	if (err)
		return err;
	err = enc_alloc(&e, p);
	if (err)
		goto cleanup;
	enc_fill(&e, p);
	n = perftools__profiles__profile__get_packed_size(&e.prof);
	raw = malloc(n ? n : 1);
	if (!raw) {
		err = -ENOMEM;
		goto cleanup;
	}
	perftools__profiles__profile__pack(&e.prof, raw);
	err = gzip_buf(raw, n, out, len);
cleanup:
	free(raw);
	enc_free(&e);
	return err;
}

/* ---------------------------------------------------------------- decode */

struct dec {
	struct shark_pprof p;	/* first: the pointer handed out */
	Profile *msg;
	struct shark_pprof_mapping *maps;
	struct shark_pprof_function *funcs;
	struct shark_pprof_location *locs;
	uint32_t *lines, *sample_nlocs, *loc_ids;
	int64_t *types, *values;
};

struct id_ix {
	uint64_t id;
	uint32_t ix;
};

static int id_cmp(const void *a, const void *b)
{
	const struct id_ix *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* A sorted id -> 1-based index table; 0 or a message in err. */
struct ids {
	struct id_ix *v;
	size_t n;
};

static int ids_build(struct ids *t, size_t n, uint64_t (*get)(const void *, size_t), const void *arr,
		     const char *what, char *err, int32_t errlen)
{
	t->n = n;
	t->v = calloc(n + 1, sizeof(*t->v));
	if (!t->v) {
		snprintf(err, (size_t)errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		t->v[i].id = get(arr, i);
		t->v[i].ix = (uint32_t)i + 1;
		if (!t->v[i].id) {
			snprintf(err, (size_t)errlen, "%s %zu has id 0", what, i + 1);
			return -EINVAL;
		}
	}
	qsort(t->v, n, sizeof(*t->v), id_cmp);
	for (size_t i = 1; i < n; i++)
		if (t->v[i].id == t->v[i - 1].id) {
			snprintf(err, (size_t)errlen, "two %ss have id %llu", what,
				 (unsigned long long)t->v[i].id);
			return -EINVAL;
		}
	return 0;
}

static uint32_t ids_find(const struct ids *t, uint64_t id)
{
	struct id_ix key = { .id = id }, *hit;

	hit = bsearch(&key, t->v, t->n, sizeof(*t->v), id_cmp);
	return hit ? hit->ix : 0;
}

static uint64_t map_id(const void *a, size_t i)
{
	return ((Mapping *const *)a)[i]->id;
}

static uint64_t func_id(const void *a, size_t i)
{
	return ((Function *const *)a)[i]->id;
}

static uint64_t loc_id(const void *a, size_t i)
{
	return ((Location *const *)a)[i]->id;
}

static int gunzip_buf(const uint8_t *in, uint64_t len, uint8_t **out, size_t *outlen, char *err,
		      int32_t errlen)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 4096, n = 0;
	uint8_t *buf = NULL;
	int ret = Z_OK;

	if (inflateInit2(&z, 15 + 32) != Z_OK) {
		snprintf(err, (size_t)errlen, "out of memory");
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	while (ret != Z_STREAM_END) {
		if (n == cap || !buf) {
			uint8_t *nb;

			if (buf)
				cap *= 2;
			if (cap > PPROF_MAX_RAW)
				cap = PPROF_MAX_RAW;
			if (buf && n == cap) {
				snprintf(err, (size_t)errlen, "more than %u MiB once decompressed",
					 PPROF_MAX_RAW >> 20);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, (size_t)errlen, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		z.next_out = buf + n;
		z.avail_out = cap - n;
		ret = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (ret == Z_BUF_ERROR && z.avail_in == 0) {
			snprintf(err, (size_t)errlen, "gzip data truncated at byte %lu", z.total_in);
			goto fail;
		}
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			snprintf(err, (size_t)errlen, "bad gzip data at byte %lu: %s", z.total_in,
				 z.msg ? z.msg : "corrupt");
			goto fail;
		}
	}
	inflateEnd(&z);
	*out = buf;
	*outlen = n;
	return 0;
fail:
	inflateEnd(&z);
	free(buf);
	return -EINVAL;
}

static void dec_free(struct dec *d)
{
	if (!d)
		return;
	if (d->msg)
		perftools__profiles__profile__free_unpacked(d->msg, NULL);
	free(d->maps);
	free(d->funcs);
	free(d->locs);
	free(d->lines);
	free(d->sample_nlocs);
	free(d->loc_ids);
	free(d->types);
	free(d->values);
	free(d);
}

#define BAD(...) do { snprintf(err, (size_t)errlen, __VA_ARGS__); return -EINVAL; } while (0)

static int str_ok(const Profile *m, int64_t i)
{
	return i >= 0 && (uint64_t)i < m->n_string_table;
}

/* Strings, sample types, mappings and functions of m into d. */
static int dec_tables(struct dec *d, const Profile *m, char *err, int32_t errlen)
{
	struct shark_pprof *p = &d->p;

	if (!m->n_string_table || m->string_table[0][0])
		BAD("the string table must start with \"\"");
	p->nstrings = m->n_string_table;
	p->strings = (const char **)m->string_table;
	p->ntypes = m->n_sample_type;
	d->types = calloc(2 * p->ntypes + 1, sizeof(*d->types));
	d->maps = calloc(m->n_mapping + 1, sizeof(*d->maps));
	d->funcs = calloc(m->n_function + 1, sizeof(*d->funcs));
	if (!d->types || !d->maps || !d->funcs)
		BAD("out of memory");
	for (size_t i = 0; i < m->n_sample_type; i++) {
		const ValueType *t = m->sample_type[i];

		if (!str_ok(m, t->type) || !str_ok(m, t->unit))
			BAD("sample type %zu: string index out of range", i + 1);
		d->types[2 * i] = t->type;
		d->types[2 * i + 1] = t->unit;
	}
	p->types = d->types;
	if (m->period_type) {
		if (!str_ok(m, m->period_type->type) || !str_ok(m, m->period_type->unit))
			BAD("period type: string index out of range");
		p->period_type = m->period_type->type;
		p->period_unit = m->period_type->unit;
	}
	for (size_t i = 0; i < m->n_mapping; i++) {
		const Mapping *pm = m->mapping[i];

		if (!str_ok(m, pm->filename) || !str_ok(m, pm->build_id))
			BAD("mapping %zu: string index out of range", i + 1);
		d->maps[i] = (struct shark_pprof_mapping){ pm->memory_start, pm->memory_limit, pm->file_offset,
							   pm->filename, pm->build_id };
	}
	p->nmappings = m->n_mapping;
	p->mappings = d->maps;
	for (size_t i = 0; i < m->n_function; i++) {
		const Function *f = m->function[i];

		if (!str_ok(m, f->name) || !str_ok(m, f->system_name) || !str_ok(m, f->filename))
			BAD("function %zu: string index out of range", i + 1);
		d->funcs[i] = (struct shark_pprof_function){ f->name, f->system_name, f->filename };
	}
	p->nfunctions = m->n_function;
	p->functions = d->funcs;
	p->period = m->period;
	p->time_nanos = m->time_nanos;
	p->duration_nanos = m->duration_nanos;
	return 0;
}

/* Locations (with their lines) and samples, ids made indices. */
static int dec_graph(struct dec *d, const Profile *m, const struct ids *mids, const struct ids *fids,
		     const struct ids *lids, char *err, int32_t errlen)
{
	struct shark_pprof *p = &d->p;
	size_t nlines = 0, nlocs = 0;

	for (size_t i = 0; i < m->n_location; i++)
		nlines += m->location[i]->n_line;
	for (size_t i = 0; i < m->n_sample; i++) {
		nlocs += m->sample[i]->n_location_id;
		if (m->sample[i]->n_value != m->n_sample_type)
			BAD("sample %zu has %zu values for %zu sample types", i + 1, m->sample[i]->n_value,
			    m->n_sample_type);
	}
	if (nlines > UINT32_MAX || nlocs > UINT32_MAX)
		BAD("too many lines or locations");
	d->locs = calloc(m->n_location + 1, sizeof(*d->locs));
	d->lines = calloc(nlines + 1, sizeof(*d->lines));
	d->sample_nlocs = calloc(m->n_sample + 1, sizeof(*d->sample_nlocs));
	d->loc_ids = calloc(nlocs + 1, sizeof(*d->loc_ids));
	d->values = calloc(m->n_sample * m->n_sample_type + 1, sizeof(*d->values));
	if (!d->locs || !d->lines || !d->sample_nlocs || !d->loc_ids || !d->values)
		BAD("out of memory");
	nlines = 0;
	for (size_t i = 0; i < m->n_location; i++) {
		const Location *l = m->location[i];
		struct shark_pprof_location *dl = &d->locs[i];

		dl->address = l->address;
		dl->mapping = l->mapping_id ? ids_find(mids, l->mapping_id) : 0;
		if (l->mapping_id && !dl->mapping)
			BAD("location %zu: no mapping with id %llu", i + 1, (unsigned long long)l->mapping_id);
		dl->line = (uint32_t)nlines;
		dl->nlines = (uint32_t)l->n_line;
		for (size_t j = 0; j < l->n_line; j++) {
			uint32_t f = ids_find(fids, l->line[j]->function_id);

			if (!f)
				BAD("location %zu: no function with id %llu", i + 1,
				    (unsigned long long)l->line[j]->function_id);
			d->lines[nlines++] = f;
		}
	}
	nlocs = 0;
	for (size_t i = 0; i < m->n_sample; i++) {
		const Sample *s = m->sample[i];

		d->sample_nlocs[i] = (uint32_t)s->n_location_id;
		for (size_t j = 0; j < s->n_location_id; j++) {
			uint32_t l = ids_find(lids, s->location_id[j]);

			if (!l)
				BAD("sample %zu: no location with id %llu", i + 1,
				    (unsigned long long)s->location_id[j]);
			d->loc_ids[nlocs++] = l;
		}
		if (s->n_value)	/* a sample with no values has value NULL: memcpy's UB */
			memcpy(d->values + i * m->n_sample_type, s->value, s->n_value * sizeof(int64_t));
	}
	p->nlocations = m->n_location;
	p->locations = d->locs;
	p->nlines = (uint32_t)nlines;
	p->lines = d->lines;
	p->nsamples = m->n_sample;
	p->sample_nlocs = d->sample_nlocs;
	p->nlocs = (uint32_t)nlocs;
	p->locs = d->loc_ids;
	p->values = d->values;
	return 0;
}

#undef BAD

/*
 * shark_pprof_decode() - read a profile.proto, gzipped or not.
 * @err: receives what is wrong with the data, and where, on failure
 *
 * Return: the profile (shark_pprof_free), or NULL.
 */
struct shark_pprof *shark_pprof_decode(const void *buf, uint64_t len, char *err, int32_t errlen)
{
	const uint8_t *in = buf;
	uint8_t *raw = NULL;
	size_t rawlen = len;
	struct ids mids = { 0 }, fids = { 0 }, lids = { 0 };
	struct dec *d;
	Profile *m;
	int ret;

	if (errlen > 0)
		err[0] = 0;
	if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
		if (gunzip_buf(in, len, &raw, &rawlen, err, errlen))
			return NULL;
		in = raw;
	}
	m = perftools__profiles__profile__unpack(NULL, rawlen, in);
	free(raw);
	if (!m) {
		snprintf(err, (size_t)errlen, "not a profile.proto message (%zu bytes%s)", rawlen,
			 raw ? " after gunzip" : "");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		perftools__profiles__profile__free_unpacked(m, NULL);
		snprintf(err, (size_t)errlen, "out of memory");
		return NULL;
	}
	d->msg = m;
	if (m->n_mapping > UINT32_MAX || m->n_function > UINT32_MAX || m->n_location > UINT32_MAX ||
	    m->n_sample > UINT32_MAX || m->n_sample_type > 64) {
		snprintf(err, (size_t)errlen, "too many entries (or more than 64 sample types)");
		goto fail;
	}
	ret = dec_tables(d, m, err, errlen);
	if (!ret)
		ret = ids_build(&mids, m->n_mapping, map_id, m->mapping, "mapping", err, errlen);
	if (!ret)
		ret = ids_build(&fids, m->n_function, func_id, m->function, "function", err, errlen);
	if (!ret)
		ret = ids_build(&lids, m->n_location, loc_id, m->location, "location", err, errlen);
	if (!ret)
		ret = dec_graph(d, m, &mids, &fids, &lids, err, errlen);
	free(mids.v);
	free(fids.v);
	free(lids.v);
	if (!ret)
		return &d->p;
fail:
	dec_free(d);
	return NULL;
}

void shark_pprof_free(struct shark_pprof *p)
{
	dec_free((struct dec *)p);
}
