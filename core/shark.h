/* SPDX-License-Identifier: GPL-2.0 */
/* shark.h - the C core's common declarations, and every subsystem's header (not the FFI surface). */
#ifndef SHARK_H
#define SHARK_H

#include <stdio.h>
#include <sys/types.h>
#include "shark_api.h"
#include "shark_api_impl.h"	/* generated: the functions struct shark_api points to */

#define SHARK_VERSION "0.1.0"

/* FNV-1a, the one hash of the core: cache keys (bytes), interned stacks (words) */
#define SHARK_FNV_BASIS 0xcbf29ce484222325ull
static inline uint64_t shark_fnv1a(uint64_t h, uint64_t x)
{
	return (h ^ x) * 0x100000001b3ull;
}

/* api.c and the generated api_table.c */
extern struct shark_state shark_state;
extern const struct shark_api shark_api;

/* one header per file group; vm.h (the Lua state, lib_*.c) needs lua.h: included where used */
#include "cli.h"
#include "log.h"
#include "embed.h"
#include "loop.h"
#include "tracefs.h"
#include "perf.h"
#include "bpf.h"
#include "sym.h"
#include "bundle.h"
#include "watchdog.h"
#include "safefile.h"
#include "httpc.h"
#include "utf8.h"
#include "pprof.h"

#endif /* SHARK_H */
