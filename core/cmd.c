// SPDX-License-Identifier: GPL-2.0
/* cmd.c - turn the -c command string into an argv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "shark.h"

/* Characters that only a shell understands: quoting, globs, pipes, variables. */
static const char shell_chars[] = "|&;<>()$`\\\"'*?[]#~=%{}\n";

void shark_cmd__free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static char **shell_argv(const char *cmd)
{
	char **argv = calloc(4, sizeof(*argv));

	if (!argv)
		return NULL;
	argv[0] = strdup("/bin/sh");
	argv[1] = strdup("-c");
	argv[2] = strdup(cmd);
	if (!argv[0] || !argv[1] || !argv[2]) {
		shark_cmd__free(argv);
		errno = ENOMEM;
		return NULL;
	}
	return argv;
}

char **shark_cmd__argv(const char *cmd)
{
	const char *p = cmd;
	char **argv;
	size_t n = 0;

	if (!cmd) {
		errno = EINVAL;
		return NULL;
	}
	if (strpbrk(cmd, shell_chars))
		return shell_argv(cmd);

	argv = calloc(strlen(cmd) / 2 + 2, sizeof(*argv));
	if (!argv)
		return NULL;
	for (;;) {
		size_t len;

		p += strspn(p, " \t");
		if (!*p)
			break;
		len = strcspn(p, " \t");
		argv[n] = strndup(p, len);
		if (!argv[n++]) {
			shark_cmd__free(argv);
			errno = ENOMEM;
			return NULL;
		}
		p += len;
	}
	if (!n) {
		free(argv);
		errno = EINVAL;
		return NULL;
	}
	return argv;
}
