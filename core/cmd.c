// SPDX-License-Identifier: GPL-2.0
/* cmd.c - turn the -c command string into an argv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shark.h"

/* Characters that only a shell understands: quoting, globs, pipes, variables. */
static const char shell_chars[] = "|&;<>()$`\\\"'*?[]#~%{}\n";
/* What makes a command more than one program run (lists, pipes, groups). */
static const char list_chars[] = "|&;(){}\n";
/* Words a shell runs itself: "exec WORD" would not. */
static const char *const shell_words[] = {
	"if", "for", "while", "until", "case", "!", "cd", "export", "set", "unset", "exit", ".", "source",
	"eval", "exec", "alias", "read", "wait", "trap", "return", "shift", "ulimit", "umask", "local", NULL,
};

/* The first word of cmd: does it assign (A=1 cmd) or is it the shell's own? */
static int first_word_is_shell(const char *cmd)
{
	size_t skip = strspn(cmd, " \t"), len = strcspn(cmd + skip, " \t");

	if (memchr(cmd + skip, '=', len))
		return 1;
	for (const char *const *w = shell_words; *w; w++)
		if (strlen(*w) == len && !strncmp(cmd + skip, *w, len))
			return 1;
	return 0;
}

void shark_cmd__free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/*
 * One program with shell syntax in its words runs as "exec CMD": a shell
 * that forks for its last command (dash does) would leave the traced pid
 * on the shell rather than the program.
 */
static char **shell_argv(const char *cmd)
{
	char **argv = calloc(4, sizeof(*argv));
	int simple = !strpbrk(cmd, list_chars) && !first_word_is_shell(cmd);

	if (!argv)
		return NULL;
	argv[0] = strdup("/bin/sh");
	argv[1] = strdup("-c");
	if (simple && asprintf(&argv[2], "exec %s", cmd) < 0)
		argv[2] = NULL;
	else if (!simple)
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
	if (strpbrk(cmd, shell_chars) || first_word_is_shell(cmd))
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
