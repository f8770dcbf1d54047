// SPDX-License-Identifier: GPL-2.0
/* log.c - shark's own messages on stderr, filtered by -v and -q. */
#include <stdarg.h>
#include <stdio.h>
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
