// SPDX-License-Identifier: GPL-2.0
/* fuzz_tp_format.c - libFuzzer: a tracepoint format file, parsed and checked as shark does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include "shark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tep_handle *tep = tep_alloc();
	struct tep_event **evs;
	char why[256];

	if (!tep)
		return 0;
	tep_set_long_size(tep, 8);
	tep_set_page_size(tep, 4096);
	shark_tp__parse_text(tep, (const char *)data, size, "fuzz");
	evs = tep_list_events(tep, TEP_EVENT_SORT_ID);
	for (int i = 0; evs && evs[i]; i++)
		shark_tp__check(evs[i], why, sizeof(why));
	tep_free(tep);
	return 0;
}
