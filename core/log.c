// SPDX-License-Identifier: GPL-2.0
/* log.c - shark's own messages on stderr, filtered by -v and -q. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "shark.h"

int shark_verbose;
int shark_quiet;

/* level 0: errors (always), 1: information (not with -q), 2+: -v, -vv … */
void shark_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level == 1 && shark_quiet)
		return;
	if (level >= 2 && shark_verbose < level - 1)
		return;
	fflush(stdout);
	fputs("shark: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static char captured[4096];
static size_t ncaptured;
static int capturing;

/* Keep libbpf's warnings of the calls that follow, to put in an error. */
void shark_log__capture(int on)
{
	capturing = on;
	if (on) {
		ncaptured = 0;
		captured[0] = '\0';
	}
}

const char *shark_log__captured(void)
{
	return captured;
}

/* libbpf's own messages: warnings with -v, everything with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (capturing && level != LIBBPF_DEBUG && ncaptured + 1 < sizeof(captured)) {
		va_list copy;
		int n;

		va_copy(copy, ap);
		n = vsnprintf(captured + ncaptured, sizeof(captured) - ncaptured, fmt, copy);
		va_end(copy);
		if (n > 0)
			ncaptured = ncaptured + (size_t)n < sizeof(captured) ? ncaptured + (size_t)n : sizeof(captured) - 1;
	}
	if (shark_verbose < (level == LIBBPF_DEBUG ? 2 : 1))
		return 0;
	fflush(stdout);
	if (strncmp(fmt, "libbpf: ", 8))	/* most of libbpf's messages name it already */
		fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void shark_log__init(int verbose, int quiet)
{
	shark_verbose = verbose;
	shark_quiet = quiet;
	libbpf_set_print(libbpf_print);
}
