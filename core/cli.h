/* SPDX-License-Identifier: GPL-2.0 */
/* cli.h - the command line: options (cli.c) and -c commands (cmd.c). */
#ifndef SHARK_CLI_H
#define SHARK_CLI_H

#include <stdint.h>
#include <stdio.h>

enum shark_exit {
	SHARK_EXIT_OK = 0,
	SHARK_EXIT_ERROR = 1,	/* runtime error, including a Lua error */
	SHARK_EXIT_USAGE = 2,	/* bad command line */
};

enum shark_script_kind {
	SHARK_SCRIPT_NONE = 0,
	SHARK_SCRIPT_FILE,	/* shark script.lua */
	SHARK_SCRIPT_CODE,	/* shark -e 'code' */
	SHARK_SCRIPT_STDIN,	/* shark - */
	SHARK_SCRIPT_MODULE,	/* a built-in command: shark -l, shark test */
	SHARK_SCRIPT_BUNDLE,	/* the script inside this executable (shark bundle) */
};

/* What the command line asked for; filled by shark_cli__parse(). */
struct shark_opts {
	enum shark_script_kind kind;
	const char *script;	/* path, code text, or "-" */
	char **args;		/* script arguments (argv tail, not copied) */
	int nargs;
	int verbose;
	int quiet;
	double duration;	/* -d, seconds; 0 when unset */
	const char *output;	/* -o */
	int pid;		/* -p */
	const char *command;	/* -c */
	const char *module;	/* the Lua module of a built-in command */
	int help;
	int version;
	uint64_t mem_limit;	/* --mem-limit MB, SHARK_MEM_LIMIT; 0: none */
	int rt_prio;		/* -r PRIO; -1 when not given */
};

/* cli.c */
/**
 * shark_cli__parse() - parse argv into @opts.
 * @err: receives a one-line message on failure
 *
 * Return: 0, or SHARK_EXIT_USAGE with @err filled.
 */
int shark_cli__parse(int argc, char **argv, struct shark_opts *opts, char *err, size_t errlen);
void shark_cli__usage(FILE *f);
void shark_cli__version(FILE *f);
/* Parse "1.5" style seconds; 0 or -EINVAL. */
int shark_parse_seconds(const char *s, double *out);
/* Parse a positive pid; 0 or -EINVAL. */
int shark_parse_pid(const char *s, int *out);

/* cmd.c: turn a -c string into an argv (no shell when it needs none) */

/**
 * shark_cmd__argv() - build the argv that runs @cmd.
 *
 * A command made only of words is split on blanks and run directly, so the
 * traced pid is the command itself; anything with shell syntax runs under
 * "/bin/sh -c". Return: a NULL-terminated array to free with
 * shark_cmd__free(), or NULL with errno set.
 */
char **shark_cmd__argv(const char *cmd);
/* fork argv held before exec until a byte on *go; exec's errno on *ready (cmd.c) */
int shark_spawn_held(char *const *argv, int *go, int *ready);
void shark_cmd__free(char **argv);

#endif /* SHARK_CLI_H */
