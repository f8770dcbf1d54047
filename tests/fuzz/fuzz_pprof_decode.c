// SPDX-License-Identifier: GPL-2.0
/* pprof_decode.c - libFuzzer target: shark_pprof_decode() on any bytes, under ASan (make fuzz; linked with the whole core like the other targets). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "shark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct shark_pprof *p = shark_pprof_decode(data, size, err, sizeof(err));
	volatile uint64_t sink = 0;

	if (!p)
		return 0;
	/* every index the decoder vouched for must be safe to follow */
	for (uint32_t i = 0; i < p->nlocs; i++) {
		const struct shark_pprof_location *l = &p->locations[p->locs[i] - 1];

		sink += l->address;
		for (uint32_t j = 0; j < l->nlines; j++)
			sink += (uint64_t)p->strings[p->functions[p->lines[l->line + j] - 1].name][0];
		if (l->mapping)
			sink += (uint64_t)p->strings[p->mappings[l->mapping - 1].filename][0];
	}
	for (uint64_t i = 0; i < (uint64_t)p->nsamples * p->ntypes; i++)
		sink += (uint64_t)p->values[i];
	shark_pprof_free(p);
	return 0;
}
