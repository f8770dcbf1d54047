// SPDX-License-Identifier: GPL-2.0
/*
 * otlp_profiles.c - libFuzzer target: any bytes the pprof decoder takes, then
 * encoded as an OTLP profiles request (shark_otlp_profiles_encode), under
 * ASan/UBSan: symbols and comms of any bytes, any table sizes. The request
 * must come out, read back, and every string in it be well-formed UTF-8.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_profiles.pb-c.h"
#include "shark.h"

static void well_formed(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		int k = shark_utf8_seq(u);

		if (!k)
			abort();
		u += k;
	}
}

static void check(const void *buf, uint64_t len)
{
	Shark__Otlpprof__ExportProfilesServiceRequest *req =
		shark__otlpprof__export_profiles_service_request__unpack(NULL, len, buf);

	if (!req || req->n_resource_profiles != 1)
		abort();
	for (size_t i = 0; i < req->resource_profiles[0]->resource->n_attributes; i++) {
		const Shark__Otlp__KeyValue *kv = req->resource_profiles[0]->resource->attributes[i];

		well_formed(kv->key);
		if (kv->value->value_case == SHARK__OTLP__ANY_VALUE__VALUE_STRING_VALUE)
			well_formed(kv->value->string_value);
	}
	for (size_t i = 0; i < req->resource_profiles[0]->scope_profiles[0]->profiles[0]->n_string_table; i++)
		well_formed(req->resource_profiles[0]->scope_profiles[0]->profiles[0]->string_table[i]);
	shark__otlpprof__export_profiles_service_request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], comm[17] = { 0 };
	struct shark_pprof *p = shark_pprof_decode(data, size, err, sizeof(err));
	struct shark_otlp_attr res[2] = { { "service.name", comm }, { "host.name", "h" } };
	struct shark_otlp_profile one = { .resource = res, .nresource = 2, .pid = 1 };
	struct shark_otlp_profiles r = { .profiles = &one, .nprofiles = 1 };
	void *out = NULL;
	uint64_t len = 0;
	int rc;

	if (!p)
		return 0;
	/* the comm: the input's first bytes, whatever they are */
	memcpy(comm, data, size < 16 ? size : 16);
	one.pprof = p;
	rc = shark_otlp_profiles_encode(&r, &out, &len);
	/* a profile the decoder took is encoded, unless it has no sample type */
	if (rc && !(rc == -EINVAL && !p->ntypes) && rc != -ENOMEM)
		abort();
	if (!rc)
		check(out, len);
	free(out);
	shark_pprof_free(p);
	return 0;
}
