// SPDX-License-Identifier: GPL-2.0
/* cmd.c - turn the -c command string into an argv. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "shark.h"

/* Characters that only a shell understands: quoting, globs, pipes, variables. */
static const char shell_chars[] = "|&;<>()$`\\\"'*?[]#~%{}\n";

void shark_cmd__free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/*
 * One simple command (quotes, variables, redirections, but no unquoted
 * ; & | ( ) ` newline and no leading keyword or '!'): sh can exec it, so the
 * traced pid is the command's. dash forks even the last command of -c, and
 * then -c 'python3 -c "..."' would trace the shell.
 */
/* Does cmd start with a keyword, or a builtin that "exec WORD" could not run? */
static int shell_word(const char *cmd)
{
	static const char *const words[] = { "if", "for", "while", "until", "case", "{", "!", "exec", "cd", "export",
		"set", "unset", "exit", ".", "source", "eval", "alias", "read", "wait", "trap", "return", "shift",
		"ulimit", "umask", "local", NULL };

	cmd += strspn(cmd, " \t");
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);

		if (!strncmp(cmd, words[i], n) && (!cmd[n] || strchr(" \t", cmd[n])))
			return 1;
	}
	return 0;
}

static int simple_command(const char *cmd)
{
	char q = 0;

	if (shell_word(cmd))
		return 0;
	cmd += strspn(cmd, " \t");
	for (const char *p = cmd; *p; p++) {
		if (q == '\'') {
			if (*p == '\'')
				q = 0;
		} else if (*p == '\\') {
			if (!*++p)
				break;
		} else if (q == '"') {
			if (*p == '"')
				q = 0;
			else if (*p == '`' || (*p == '$' && p[1] == '('))
				return 0;
		} else if (*p == '\'' || *p == '"') {
			q = *p;
		} else if (strchr(";&|()`\n", *p) || (*p == '$' && p[1] == '(')) {
			return 0;
		}
	}
	return 1;
}

/* Past the leading NAME=value words with plain values (exec goes after them: `A=1 exec cmd`). */
static size_t assignments_len(const char *cmd)
{
	size_t at = 0;

	for (;;) {
		size_t i = at + strspn(cmd + at, " \t"), n = i;

		if (!(cmd[n] == '_' || ((cmd[n] | 0x20) >= 'a' && (cmd[n] | 0x20) <= 'z')))
			return at;
		n += strspn(cmd + n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
		if (cmd[n] != '=')
			return at;
		n++;
		n += strcspn(cmd + n, " \t'\"\\$`");
		if (cmd[n] && !strchr(" \t", cmd[n]))
			return SIZE_MAX;   /* a quoted or expanded value: leave it to sh */
		at = n;
	}
}

static char **shell_argv(const char *cmd)
{
	char **argv = calloc(4, sizeof(*argv));
	size_t at = simple_command(cmd) ? assignments_len(cmd) : SIZE_MAX;

	if (!argv)
		return NULL;
	argv[0] = strdup("/bin/sh");
	argv[1] = strdup("-c");
	argv[2] = malloc(strlen(cmd) + 7);
	if (argv[2] && at == SIZE_MAX)
		strcpy(argv[2], cmd);
	else if (argv[2])
		sprintf(argv[2], "%.*s%sexec %s", (int)at, cmd, at ? " " : "", cmd + at + strspn(cmd + at, " \t"));
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
	/* '=' needs the shell only in leading words (A=1 cmd), not in dd if=x */
	if (strpbrk(cmd, shell_chars) || assignments_len(cmd) || shell_word(cmd))
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

/*
 * Fork a child that waits, before exec, until shark writes a byte to *go
 * (everything attached); EOF on it (shark failed or died first) makes it
 * leave without running argv. It dies with shark (PR_SET_PDEATHSIG), as a
 * SIGKILLed shark cannot reap it. If exec fails, its errno comes on *ready.
 * Return: the pid, or -errno.
 */
int shark_spawn_held(char *const *argv, int *go, int *ready)
{
	int g[2], r[2], err;
	pid_t pid;

	if (pipe2(g, O_CLOEXEC))
		return -errno;
	if (pipe2(r, O_CLOEXEC)) {
		err = -errno;
		close(g[0]);
		close(g[1]);
		return err;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(g[0]);
		close(g[1]);
		close(r[0]);
		close(r[1]);
		return err;
	}
	if (pid == 0) {
		struct sigaction sa;
		sigset_t none;
		char c;
		int e;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/*
		 * No getppid() check after the prctl: this is the traced pid
		 * already, and a late-scheduled child's call landed in exact
		 * getppid counts. A shark gone before the prctl closed go: EOF.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL))
			_exit(127);
		close(g[1]);
		close(r[0]);
		if (read(g[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(r[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(g[0]);
	close(r[1]);
	*go = g[1];
	*ready = r[0];
	return pid;
}
