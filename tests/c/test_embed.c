// SPDX-License-Identifier: GPL-2.0
/* test_embed.c - the embedded modules, cdef text and layout table. */
#include <string.h>
#include "tap.h"
#include "shark.h"

void test_embed(void)
{
	static const char *const needed[] = { "shark", "shark.boot", "shark.api", "timer" };
	const struct shark_layout *l;
	int found = 0;

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		const struct shark_module *m = shark_module__find(needed[i]);

		ok(m && m->len > 4 && !memcmp(m->code, "\033LJ", 3),
		   "module %s is embedded as LuaJIT bytecode", needed[i]);
	}
	ok(shark_module__find("no.such.module") == NULL, "unknown module not found");
	ok(strstr(shark_cdef, "struct shark_api {") != NULL, "cdef has struct shark_api");
	ok(strstr(shark_cdef, "#include") == NULL, "cdef has no preprocessor lines");
	for (l = shark_layout; l->type; l++)
		if (!strcmp(l->type, "struct shark_api") && !l->field && l->value == sizeof(struct shark_api))
			found = 1;
	ok(found, "layout table records sizeof(struct shark_api)");
	is_int(shark_api.size, sizeof(struct shark_api), "api table knows its size");
}
