// SPDX-License-Identifier: GPL-2.0
/* otlp.c - OTLP metrics: the flat struct shark_otlp_request -> ExportMetricsServiceRequest (protobuf-c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "otlp.pb-c.h"
#include "shark.h"

typedef Shark__Otlp__KeyValue KeyValue;
typedef Shark__Otlp__AnyValue AnyValue;
typedef Shark__Otlp__Metric Metric;
typedef Shark__Otlp__NumberDataPoint NumberPoint;
typedef Shark__Otlp__HistogramDataPoint HistPoint;
typedef Shark__Otlp__ExponentialHistogramDataPoint ExpPoint;
typedef Shark__Otlp__ExponentialHistogramDataPoint__Buckets ExpBuckets;

/* Everything the message points to, freed at once. */
struct enc {
	KeyValue *kvs, **kv_ptrs;
	AnyValue *anys;
	Metric *metrics, **metric_ptrs;
	NumberPoint *nums, **num_ptrs;
	HistPoint *hists, **hist_ptrs;
	ExpPoint *exps, **exp_ptrs;
	ExpBuckets *buckets;
	Shark__Otlp__Gauge *gauges;
	Shark__Otlp__Sum *sums;
	Shark__Otlp__Histogram *histograms;
	Shark__Otlp__ExponentialHistogram *exphists;
	char **owned;		/* attributes made well-formed UTF-8 */
	size_t nowned;
	int nomem;
};

static void enc_free(struct enc *e)
{
	free(e->kvs);
	free(e->kv_ptrs);
	free(e->anys);
	free(e->metrics);
	free(e->metric_ptrs);
	free(e->nums);
	free(e->num_ptrs);
	free(e->hists);
	free(e->hist_ptrs);
	free(e->exps);
	free(e->exp_ptrs);
	free(e->buckets);
	free(e->gauges);
	free(e->sums);
	free(e->histograms);
	free(e->exphists);
	for (size_t i = 0; e->owned && i < e->nowned; i++)
		free(e->owned[i]);
	free(e->owned);
}

static int enc_alloc(struct enc *e, const struct shark_otlp_request *r)
{
	size_t nkv = (size_t)r->nresource + 1, np = (size_t)r->npoints + 1, nm = (size_t)r->nmetrics + 1;

	/* points may share attribute runs: one KeyValue slot per use */
	for (uint32_t i = 0; i < r->npoints; i++)
		nkv += r->points[i].nattrs;

	e->kvs = calloc(nkv, sizeof(*e->kvs));
	e->kv_ptrs = calloc(nkv, sizeof(*e->kv_ptrs));
	e->anys = calloc(nkv, sizeof(*e->anys));
	e->metrics = calloc(nm, sizeof(*e->metrics));
	e->metric_ptrs = calloc(nm, sizeof(*e->metric_ptrs));
	e->nums = calloc(np, sizeof(*e->nums));
	e->num_ptrs = calloc(np, sizeof(*e->num_ptrs));
	e->hists = calloc(np, sizeof(*e->hists));
	e->hist_ptrs = calloc(np, sizeof(*e->hist_ptrs));
	e->exps = calloc(np, sizeof(*e->exps));
	e->exp_ptrs = calloc(np, sizeof(*e->exp_ptrs));
	e->buckets = calloc(np, sizeof(*e->buckets));
	e->gauges = calloc(nm, sizeof(*e->gauges));
	e->sums = calloc(nm, sizeof(*e->sums));
	e->histograms = calloc(nm, sizeof(*e->histograms));
	e->exphists = calloc(nm, sizeof(*e->exphists));
	e->owned = calloc(2 * nkv, sizeof(*e->owned));
	if (!e->owned || !e->kvs || !e->kv_ptrs || !e->anys || !e->metrics || !e->metric_ptrs || !e->nums || !e->num_ptrs ||
	    !e->hists || !e->hist_ptrs || !e->exps || !e->exp_ptrs || !e->buckets || !e->gauges || !e->sums ||
	    !e->histograms || !e->exphists)
		return -ENOMEM;
	return 0;
}

static int in_range(uint32_t first, uint32_t n, uint32_t total)
{
	return (uint64_t)first + n <= total;
}

/* s as well-formed UTF-8; "" and e->nomem set when a copy could not be made. */
static char *utf8(struct enc *e, const char *s)
{
	char *copy, *r = shark_utf8_fix(s, &copy);

	if (copy)
		e->owned[e->nowned++] = copy;
	if (!r)
		e->nomem = 1;
	return r ? r : (char *)"";
}

/* Attributes [first, first + n) of attrs as KeyValues from slot *next on. */
static KeyValue **attrs(struct enc *e, size_t *next, const struct shark_otlp_attr *a, uint32_t first, uint32_t n)
{
	KeyValue **out = e->kv_ptrs + *next;

	for (uint32_t i = 0; i < n; i++) {
		size_t k = *next + i;

		shark__otlp__key_value__init(&e->kvs[k]);
		shark__otlp__any_value__init(&e->anys[k]);
		/* a label is anyone's bytes; a collector refuses a request with a string that is not UTF-8 */
		e->kvs[k].key = utf8(e, a[first + i].key);
		e->anys[k].value_case = SHARK__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
		e->anys[k].string_value = utf8(e, a[first + i].value);
		e->kvs[k].value = &e->anys[k];
		e->kv_ptrs[k] = &e->kvs[k];
	}
	*next += n;
	return out;
}

static int check_point(const struct shark_otlp_request *r, const struct shark_otlp_point *p, int kind)
{
	if (!in_range(p->attr_first, p->nattrs, r->nattrs))
		return -EINVAL;
	if (kind == SHARK_OTLP_HISTOGRAM && (!in_range(p->bound_first, p->nbounds, r->nbounds) ||
					     p->nbuckets != p->nbounds + 1))
		return -EINVAL;
	if ((kind == SHARK_OTLP_HISTOGRAM || kind == SHARK_OTLP_EXPHISTOGRAM) &&
	    !in_range(p->bucket_first, p->nbuckets, r->nbuckets))
		return -EINVAL;
	return 0;
}

/* Fill the data points of one metric; its points use slots [first, first + n). */
static int fill_points(struct enc *e, const struct shark_otlp_request *r, const struct shark_otlp_metric *m,
		       size_t *kv)
{
	for (uint32_t i = 0; i < m->npoints; i++) {
		uint32_t j = m->point_first + i;
		const struct shark_otlp_point *p = &r->points[j];
		int err = check_point(r, p, m->kind);

		if (err)
			return err;
		if (m->kind == SHARK_OTLP_GAUGE || m->kind == SHARK_OTLP_SUM) {
			NumberPoint *n = &e->nums[j];

			shark__otlp__number_data_point__init(n);
			n->n_attributes = p->nattrs;
			n->attributes = attrs(e, kv, r->attrs, p->attr_first, p->nattrs);
			n->start_time_unix_nano = p->start_ns;
			n->time_unix_nano = p->time_ns;
			if (m->as_int) {
				n->value_case = SHARK__OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
				n->as_int = (int64_t)p->value;
			} else {
				n->value_case = SHARK__OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
				n->as_double = p->value;
			}
			e->num_ptrs[j] = n;
		} else if (m->kind == SHARK_OTLP_HISTOGRAM) {
			HistPoint *h = &e->hists[j];

			shark__otlp__histogram_data_point__init(h);
			h->n_attributes = p->nattrs;
			h->attributes = attrs(e, kv, r->attrs, p->attr_first, p->nattrs);
			h->start_time_unix_nano = p->start_ns;
			h->time_unix_nano = p->time_ns;
			h->count = p->count;
			h->sum = p->sum;
			h->n_explicit_bounds = p->nbounds;
			h->explicit_bounds = (double *)(r->bounds + p->bound_first);
			h->n_bucket_counts = p->nbuckets;
			h->bucket_counts = (uint64_t *)(r->buckets + p->bucket_first);
			e->hist_ptrs[j] = h;
		} else {
			ExpPoint *x = &e->exps[j];

			shark__otlp__exponential_histogram_data_point__init(x);
			shark__otlp__exponential_histogram_data_point__buckets__init(&e->buckets[j]);
			x->n_attributes = p->nattrs;
			x->attributes = attrs(e, kv, r->attrs, p->attr_first, p->nattrs);
			x->start_time_unix_nano = p->start_ns;
			x->time_unix_nano = p->time_ns;
			x->count = p->count;
			x->sum = p->sum;
			x->scale = p->scale;
			x->zero_count = p->zero_count;
			e->buckets[j].offset = p->offset;
			e->buckets[j].n_bucket_counts = p->nbuckets;
			e->buckets[j].bucket_counts = (uint64_t *)(r->buckets + p->bucket_first);
			x->positive = &e->buckets[j];
			e->exp_ptrs[j] = x;
		}
	}
	return 0;
}

static int fill_metric(struct enc *e, const struct shark_otlp_request *r, uint32_t i, size_t *kv)
{
	const struct shark_otlp_metric *m = &r->metrics[i];
	Metric *out = &e->metrics[i];
	int temporality = m->delta ? SHARK__OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
				   : SHARK__OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	int err;

	if (!m->name || !in_range(m->point_first, m->npoints, r->npoints))
		return -EINVAL;
	shark__otlp__metric__init(out);
	out->name = (char *)m->name;
	out->description = (char *)(m->description ? m->description : "");
	out->unit = (char *)(m->unit ? m->unit : "");
	err = fill_points(e, r, m, kv);
	if (err)
		return err;
	switch (m->kind) {
	case SHARK_OTLP_GAUGE:
		shark__otlp__gauge__init(&e->gauges[i]);
		e->gauges[i].n_data_points = m->npoints;
		e->gauges[i].data_points = e->num_ptrs + m->point_first;
		out->data_case = SHARK__OTLP__METRIC__DATA_GAUGE;
		out->gauge = &e->gauges[i];
		break;
	case SHARK_OTLP_SUM:
		shark__otlp__sum__init(&e->sums[i]);
		e->sums[i].n_data_points = m->npoints;
		e->sums[i].data_points = e->num_ptrs + m->point_first;
		e->sums[i].aggregation_temporality = temporality;
		e->sums[i].is_monotonic = !!m->monotonic;
		out->data_case = SHARK__OTLP__METRIC__DATA_SUM;
		out->sum = &e->sums[i];
		break;
	case SHARK_OTLP_HISTOGRAM:
		shark__otlp__histogram__init(&e->histograms[i]);
		e->histograms[i].n_data_points = m->npoints;
		e->histograms[i].data_points = e->hist_ptrs + m->point_first;
		e->histograms[i].aggregation_temporality = temporality;
		out->data_case = SHARK__OTLP__METRIC__DATA_HISTOGRAM;
		out->histogram = &e->histograms[i];
		break;
	case SHARK_OTLP_EXPHISTOGRAM:
		shark__otlp__exponential_histogram__init(&e->exphists[i]);
		e->exphists[i].n_data_points = m->npoints;
		e->exphists[i].data_points = e->exp_ptrs + m->point_first;
		e->exphists[i].aggregation_temporality = temporality;
		out->data_case = SHARK__OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
		out->exponential_histogram = &e->exphists[i];
		break;
	default:
		return -EINVAL;
	}
	e->metric_ptrs[i] = out;
	return 0;
}

int32_t shark_otlp_encode(const struct shark_otlp_request *r, void **out, uint64_t *len)
{
	Shark__Otlp__ExportMetricsServiceRequest req = SHARK__OTLP__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	Shark__Otlp__ResourceMetrics rm = SHARK__OTLP__RESOURCE_METRICS__INIT, *rmp = &rm;
	Shark__Otlp__Resource res = SHARK__OTLP__RESOURCE__INIT;
	Shark__Otlp__ScopeMetrics sm = SHARK__OTLP__SCOPE_METRICS__INIT, *smp = &sm;
	Shark__Otlp__InstrumentationScope scope = SHARK__OTLP__INSTRUMENTATION_SCOPE__INIT;
	struct enc e = { 0 };
	size_t kv = 0, size;
	uint8_t *buf;
	int err;

	*out = NULL;
	*len = 0;
	if ((r->nmetrics && !r->metrics) || (r->npoints && !r->points) || (r->nattrs && !r->attrs) ||
	    (r->nbounds && !r->bounds) || (r->nbuckets && !r->buckets) || (r->nresource && !r->resource))
		return -EINVAL;
	err = enc_alloc(&e, r);
	if (err)
		goto cleanup;
	res.n_attributes = r->nresource;
	res.attributes = attrs(&e, &kv, r->resource, 0, r->nresource);
	for (uint32_t i = 0; i < r->nmetrics && !err; i++)
		err = fill_metric(&e, r, i, &kv);
	if (!err && e.nomem)
		err = -ENOMEM;
	if (err)
		goto cleanup;
	scope.name = (char *)(r->scope_name ? r->scope_name : "shark");
	scope.version = (char *)(r->scope_version ? r->scope_version : "");
	sm.scope = &scope;
	sm.n_metrics = r->nmetrics;
	sm.metrics = e.metric_ptrs;
	rm.resource = &res;
	rm.n_scope_metrics = 1;
	rm.scope_metrics = &smp;
	req.n_resource_metrics = 1;
	req.resource_metrics = &rmp;
	size = shark__otlp__export_metrics_service_request__get_packed_size(&req);
	buf = malloc(size ? size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	shark__otlp__export_metrics_service_request__pack(&req, buf);
	*out = buf;
	*len = size;
cleanup:
	enc_free(&e);
	return err;
}
