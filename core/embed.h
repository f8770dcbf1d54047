/* SPDX-License-Identifier: GPL-2.0 */
/* embed.h - the tables the build generates: Lua modules, files, cdef text, syscalls, layout. */
#ifndef SHARK_EMBED_H
#define SHARK_EMBED_H

#include <stddef.h>

/* embed (generated): Lua modules as bytecode and the cdef text */
struct shark_module {
	const char *name;
	const unsigned char *code;
	size_t len;
};
extern const struct shark_module shark_modules[];
extern const struct shark_module shark_files[];	/* files written out at run time */
extern const char shark_cdef[];
const struct shark_module *shark_module__find(const char *name);

/* syscalls (generated): names and numbers of this architecture */
struct shark_syscall {
	const char *name;
	int nr;
};
extern const struct shark_syscall shark_syscalls[];

/* layout (generated): sizes and offsets of the FFI structs as C sees them */
struct shark_layout {
	const char *type;	/* "struct shark_state" */
	const char *field;	/* NULL for the struct's own size */
	size_t value;		/* sizeof or offsetof */
};
extern const struct shark_layout shark_layout[];

#endif /* SHARK_EMBED_H */
