// SPDX-License-Identifier: GPL-2.0
/*
 * otlp_profiles.c - OTLP profiles at the pinned opentelemetry-proto v1.5.0:
 * pprofs (struct shark_pprof) -> one ExportProfilesServiceRequest
 * (protobuf-c, core/proto/otlp_profiles.proto). pprof's 1-based ids become
 * 0-based indices; mapping_table[0] is a placeholder so that a location's
 * mapping_index is never 0 (see the .proto); a mapping's build id is an
 * attribute (process.executable.build_id.gnu). Every string is checked as
 * UTF-8 and bytes that are not become U+FFFD: a collector refuses a whole
 * request with one bad string, and comm or a symbol is anyone's bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "otlp_profiles.pb-c.h"
#include "shark.h"

typedef Shark__Otlp__KeyValue KeyValue;
typedef Shark__Otlp__AnyValue AnyValue;
typedef Shark__Otlpprof__Profile Profile;
typedef Shark__Otlpprof__ValueType ValueType;
typedef Shark__Otlpprof__Sample Sample;
typedef Shark__Otlpprof__Mapping Mapping;
typedef Shark__Otlpprof__Location Location;
typedef Shark__Otlpprof__Line Line;
typedef Shark__Otlpprof__Function Function;
typedef Shark__Otlpprof__ResourceProfiles ResourceProfiles;
typedef Shark__Otlpprof__ScopeProfiles ScopeProfiles;

#define BUILD_ID_KEY "process.executable.build_id.gnu"
#define PID_KEY "process.pid"

/* Everything one profile's message points to. */
struct penc {
	Profile prof;
	ValueType *types, **type_ptrs, period_type;
	Sample *samples, **sample_ptrs;
	int32_t *loc_ix;	/* location_indices */
	Mapping *maps, **map_ptrs;
	int32_t *map_attr;	/* a mapping's attribute: its build id */
	Function *funcs, **func_ptrs;
	Location *locs, **loc_ptrs;
	Line *lines, **line_ptrs;
	KeyValue *kvs, **kv_ptrs;	/* attribute_table */
	AnyValue *anys;
	char **strings;
	/* the resource */
	Shark__Otlp__Resource res;
	KeyValue *rkvs, **rkv_ptrs;
	AnyValue *ranys;
	ResourceProfiles rp;
	ScopeProfiles sp;
	Profile *prof_ptr;
	ScopeProfiles *sp_ptr;
	uint8_t id[16];
};

struct enc {
	struct penc *p;
	ResourceProfiles **rp_ptrs;
	Shark__Otlp__InstrumentationScope scope;
	char **owned;		/* strings made valid UTF-8 */
	size_t nowned, capowned;
};

/* s as well-formed UTF-8 (a copy kept in e when it was not); NULL: ENOMEM. */
static char *utf8(struct enc *e, const char *s)
{
	char *copy, *r;

	if (e->nowned == e->capowned) {
		size_t cap = e->capowned ? 2 * e->capowned : 16;
		char **nb = realloc(e->owned, cap * sizeof(*nb));

		if (!nb)
			return NULL;
		e->owned = nb;
		e->capowned = cap;
	}
	r = shark_utf8_fix(s, &copy);
	if (copy)
		e->owned[e->nowned++] = copy;
	return r;
}

/* --------------------------------------------------------------- checks */

/* The pprof tables (shark_pprof_check), with at least one sample type. */
static int check_pprof(const struct shark_pprof *p)
{
	if (!p || !p->ntypes)
		return -EINVAL;
	return shark_pprof_check(p);
}

/* ---------------------------------------------------------------- memory */

static void penc_free(struct penc *pe)
{
	free(pe->types);
	free(pe->type_ptrs);
	free(pe->samples);
	free(pe->sample_ptrs);
	free(pe->loc_ix);
	free(pe->maps);
	free(pe->map_ptrs);
	free(pe->map_attr);
	free(pe->funcs);
	free(pe->func_ptrs);
	free(pe->locs);
	free(pe->loc_ptrs);
	free(pe->lines);
	free(pe->line_ptrs);
	free(pe->kvs);
	free(pe->kv_ptrs);
	free(pe->anys);
	free(pe->strings);
	free(pe->rkvs);
	free(pe->rkv_ptrs);
	free(pe->ranys);
}

static int penc_alloc(struct penc *pe, const struct shark_pprof *p, uint32_t nres)
{
	size_t nm = (size_t)p->nmappings + 1, nr = (size_t)nres + 2;

	pe->types = calloc(p->ntypes, sizeof(*pe->types));
	pe->type_ptrs = calloc(p->ntypes, sizeof(*pe->type_ptrs));
	pe->samples = calloc(p->nsamples + 1, sizeof(*pe->samples));
	pe->sample_ptrs = calloc(p->nsamples + 1, sizeof(*pe->sample_ptrs));
	pe->loc_ix = calloc(p->nlocs + 1, sizeof(*pe->loc_ix));
	pe->maps = calloc(nm, sizeof(*pe->maps));
	pe->map_ptrs = calloc(nm, sizeof(*pe->map_ptrs));
	pe->map_attr = calloc(nm, sizeof(*pe->map_attr));
	pe->funcs = calloc(p->nfunctions + 1, sizeof(*pe->funcs));
	pe->func_ptrs = calloc(p->nfunctions + 1, sizeof(*pe->func_ptrs));
	pe->locs = calloc(p->nlocations + 1, sizeof(*pe->locs));
	pe->loc_ptrs = calloc(p->nlocations + 1, sizeof(*pe->loc_ptrs));
	pe->lines = calloc(p->nlines + 1, sizeof(*pe->lines));
	pe->line_ptrs = calloc(p->nlines + 1, sizeof(*pe->line_ptrs));
	pe->kvs = calloc(nm, sizeof(*pe->kvs));
	pe->kv_ptrs = calloc(nm, sizeof(*pe->kv_ptrs));
	pe->anys = calloc(nm, sizeof(*pe->anys));
	pe->strings = calloc(p->nstrings, sizeof(*pe->strings));
	pe->rkvs = calloc(nr, sizeof(*pe->rkvs));
	pe->rkv_ptrs = calloc(nr, sizeof(*pe->rkv_ptrs));
	pe->ranys = calloc(nr, sizeof(*pe->ranys));
	if (!pe->types || !pe->type_ptrs || !pe->samples || !pe->sample_ptrs || !pe->loc_ix || !pe->maps ||
	    !pe->map_ptrs || !pe->map_attr || !pe->funcs || !pe->func_ptrs || !pe->locs || !pe->loc_ptrs ||
	    !pe->lines || !pe->line_ptrs || !pe->kvs || !pe->kv_ptrs || !pe->anys || !pe->strings ||
	    !pe->rkvs || !pe->rkv_ptrs || !pe->ranys)
		return -ENOMEM;
	return 0;
}

/* ---------------------------------------------------------------- fill */

static KeyValue *kv_string(KeyValue *kv, AnyValue *any, char *key, char *value)
{
	shark__otlp__key_value__init(kv);
	shark__otlp__any_value__init(any);
	kv->key = key;
	any->value_case = SHARK__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	any->string_value = value;
	kv->value = any;
	return kv;
}

/* The string table (valid UTF-8) and the sample and period types. */
static int fill_strings(struct enc *e, struct penc *pe, const struct shark_pprof *p)
{
	Profile *pr = &pe->prof;

	for (uint32_t i = 0; i < p->nstrings; i++)
		if (!(pe->strings[i] = utf8(e, p->strings[i])))
			return -ENOMEM;
	pr->n_string_table = p->nstrings;
	pr->string_table = pe->strings;
	for (uint32_t i = 0; i < p->ntypes; i++) {
		shark__otlpprof__value_type__init(&pe->types[i]);
		pe->types[i].type_strindex = (int32_t)p->types[2 * i];
		pe->types[i].unit_strindex = (int32_t)p->types[2 * i + 1];
		/* each interval's profile counts that interval alone */
		pe->types[i].aggregation_temporality =
			SHARK__OTLPPROF__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
		pe->type_ptrs[i] = &pe->types[i];
	}
	pr->n_sample_type = p->ntypes;
	pr->sample_type = pe->type_ptrs;
	/* the last sample type is the one to show (cpu nanoseconds, when there) */
	pr->default_sample_type_strindex = (int32_t)p->types[2 * (p->ntypes - 1)];
	shark__otlpprof__value_type__init(&pe->period_type);
	pe->period_type.type_strindex = (int32_t)p->period_type;
	pe->period_type.unit_strindex = (int32_t)p->period_unit;
	if (p->period_type || p->period_unit)
		pr->period_type = &pe->period_type;
	pr->period = p->period;
	pr->time_nanos = p->time_nanos;
	pr->duration_nanos = p->duration_nanos;
	return 0;
}

/* Mappings (after the placeholder at 0), their build ids as attributes. */
static void fill_mappings(struct penc *pe, const struct shark_pprof *p)
{
	Profile *pr = &pe->prof;
	size_t nattr = 0;

	shark__otlpprof__mapping__init(&pe->maps[0]);
	pe->map_ptrs[0] = &pe->maps[0];
	for (uint32_t i = 0; i < p->nmappings; i++) {
		const struct shark_pprof_mapping *m = &p->mappings[i];
		Mapping *om = &pe->maps[i + 1];

		shark__otlpprof__mapping__init(om);
		om->memory_start = m->start;
		om->memory_limit = m->limit;
		om->file_offset = m->offset;
		om->filename_strindex = (int32_t)m->filename;
		om->has_functions = 1;
		if (pe->strings[m->build_id][0]) {
			kv_string(&pe->kvs[nattr], &pe->anys[nattr], BUILD_ID_KEY, pe->strings[m->build_id]);
			pe->kv_ptrs[nattr] = &pe->kvs[nattr];
			pe->map_attr[i + 1] = (int32_t)nattr++;
			om->n_attribute_indices = 1;
			om->attribute_indices = &pe->map_attr[i + 1];
		}
		pe->map_ptrs[i + 1] = om;
	}
	pr->n_mapping_table = (size_t)p->nmappings + 1;
	pr->mapping_table = pe->map_ptrs;
	pr->n_attribute_table = nattr;
	pr->attribute_table = pe->kv_ptrs;
}

/* Functions, locations and their lines: pprof ids - 1. */
static void fill_tables(struct penc *pe, const struct shark_pprof *p)
{
	Profile *pr = &pe->prof;

	fill_mappings(pe, p);
	for (uint32_t i = 0; i < p->nfunctions; i++) {
		Function *f = &pe->funcs[i];

		shark__otlpprof__function__init(f);
		f->name_strindex = (int32_t)p->functions[i].name;
		f->system_name_strindex = (int32_t)p->functions[i].system_name;
		f->filename_strindex = (int32_t)p->functions[i].filename;
		pe->func_ptrs[i] = f;
	}
	pr->n_function_table = p->nfunctions;
	pr->function_table = pe->func_ptrs;
	for (uint32_t i = 0; i < p->nlines; i++) {
		shark__otlpprof__line__init(&pe->lines[i]);
		pe->lines[i].function_index = (int32_t)p->lines[i] - 1;
		pe->line_ptrs[i] = &pe->lines[i];
	}
	for (uint32_t i = 0; i < p->nlocations; i++) {
		const struct shark_pprof_location *l = &p->locations[i];
		Location *ol = &pe->locs[i];

		shark__otlpprof__location__init(ol);
		/* pprof's mapping id is our index: the placeholder takes 0 */
		ol->mapping_index = (int32_t)l->mapping;
		ol->address = l->address;
		ol->n_line = l->nlines;
		ol->line = pe->line_ptrs + l->line;
		pe->loc_ptrs[i] = ol;
	}
	pr->n_location_table = p->nlocations;
	pr->location_table = pe->loc_ptrs;
}

/* Samples: runs of location_indices (leaf first), one value per type. */
static void fill_samples(struct penc *pe, const struct shark_pprof *p)
{
	Profile *pr = &pe->prof;
	uint32_t at = 0;

	for (uint32_t i = 0; i < p->nlocs; i++)
		pe->loc_ix[i] = (int32_t)p->locs[i] - 1;
	pr->n_location_indices = p->nlocs;
	pr->location_indices = pe->loc_ix;
	for (uint32_t i = 0; i < p->nsamples; i++) {
		Sample *s = &pe->samples[i];

		shark__otlpprof__sample__init(s);
		s->locations_start_index = (int32_t)at;
		s->locations_length = (int32_t)p->sample_nlocs[i];
		at += p->sample_nlocs[i];
		s->n_value = p->ntypes;
		s->value = (int64_t *)p->values + (uint64_t)i * p->ntypes;
		pe->sample_ptrs[i] = s;
	}
	pr->n_sample = p->nsamples;
	pr->sample = pe->sample_ptrs;
}

/* The resource: its string attributes (valid UTF-8) and process.pid. */
static int fill_resource(struct enc *e, struct penc *pe, const struct shark_otlp_profile *in)
{
	size_t n = 0;

	shark__otlp__resource__init(&pe->res);
	for (uint32_t i = 0; i < in->nresource; i++) {
		char *k = utf8(e, in->resource[i].key), *v = utf8(e, in->resource[i].value);

		if (!k || !v)
			return -ENOMEM;
		pe->rkv_ptrs[n] = kv_string(&pe->rkvs[n], &pe->ranys[n], k, v);
		n++;
	}
	if (in->pid > 0) {
		kv_string(&pe->rkvs[n], &pe->ranys[n], PID_KEY, NULL);
		pe->ranys[n].value_case = SHARK__OTLP__ANY_VALUE__VALUE_INT_VALUE;
		pe->ranys[n].int_value = in->pid;
		pe->rkv_ptrs[n] = &pe->rkvs[n];
		n++;
	}
	pe->res.n_attributes = n;
	pe->res.attributes = pe->rkv_ptrs;
	return 0;
}

/* One process: its ResourceProfiles with one scope and one profile. */
static int fill_one(struct enc *e, uint32_t i, const struct shark_otlp_profile *in)
{
	struct penc *pe = &e->p[i];
	Profile *pr = &pe->prof;
	static const uint8_t zero[16];
	int err;

	if (in->nresource && !in->resource)
		return -EINVAL;
	err = check_pprof(in->pprof);
	if (!err)
		err = penc_alloc(pe, in->pprof, in->nresource);
	shark__otlpprof__profile__init(pr);
	if (!err)
		err = fill_strings(e, pe, in->pprof);
	if (!err)
		err = fill_resource(e, pe, in);
	if (err)
		return err;
	fill_tables(pe, in->pprof);
	fill_samples(pe, in->pprof);
	memcpy(pe->id, in->id, sizeof(pe->id));
	if (!memcmp(pe->id, zero, sizeof(zero)) && getrandom(pe->id, sizeof(pe->id), 0) != sizeof(pe->id))
		return -EIO;
	pr->profile_id.data = pe->id;
	pr->profile_id.len = sizeof(pe->id);
	pe->prof_ptr = pr;
	shark__otlpprof__scope_profiles__init(&pe->sp);
	pe->sp.scope = &e->scope;
	pe->sp.n_profiles = 1;
	pe->sp.profiles = &pe->prof_ptr;
	pe->sp_ptr = &pe->sp;
	shark__otlpprof__resource_profiles__init(&pe->rp);
	pe->rp.resource = &pe->res;
	pe->rp.n_scope_profiles = 1;
	pe->rp.scope_profiles = &pe->sp_ptr;
	e->rp_ptrs[i] = &pe->rp;
	return 0;
}

/*
 * shark_otlp_profiles_encode() - r as an OTLP v1.5.0 ExportProfilesServiceRequest.
 * @out: receives a malloc'd buffer (shark_free), @len its size
 *
 * Return: 0, -EINVAL when an index of a pprof is out of range, -ENOMEM, -EIO.
 */
int32_t shark_otlp_profiles_encode(const struct shark_otlp_profiles *r, void **out, uint64_t *len)
{
	Shark__Otlpprof__ExportProfilesServiceRequest req = SHARK__OTLPPROF__EXPORT_PROFILES_SERVICE_REQUEST__INIT;
	struct enc e = { 0 };
	uint32_t done = 0;
	size_t size;
	uint8_t *buf;
	int err = 0;

	*out = NULL;
	*len = 0;
	if (!r || (r->nprofiles && !r->profiles))
		return -EINVAL;
	e.p = calloc((size_t)r->nprofiles + 1, sizeof(*e.p));
	e.rp_ptrs = calloc((size_t)r->nprofiles + 1, sizeof(*e.rp_ptrs));
	if (!e.p || !e.rp_ptrs)
		err = -ENOMEM;
	shark__otlp__instrumentation_scope__init(&e.scope);
	e.scope.name = (char *)(r->scope_name ? r->scope_name : "shark");
	e.scope.version = (char *)(r->scope_version ? r->scope_version : "");
	for (; !err && done < r->nprofiles; done++)
		err = fill_one(&e, done, &r->profiles[done]);
	if (!err) {
		req.n_resource_profiles = r->nprofiles;
		req.resource_profiles = e.rp_ptrs;
		size = shark__otlpprof__export_profiles_service_request__get_packed_size(&req);
		buf = malloc(size ? size : 1);
		if (buf) {
			shark__otlpprof__export_profiles_service_request__pack(&req, buf);
			*out = buf;
			*len = size;
		} else {
			err = -ENOMEM;
		}
	}
	for (uint32_t i = 0; e.p && i < r->nprofiles; i++)
		penc_free(&e.p[i]);
	for (size_t i = 0; i < e.nowned; i++)
		free(e.owned[i]);
	free(e.owned);
	free(e.p);
	free(e.rp_ptrs);
	return err;
}
