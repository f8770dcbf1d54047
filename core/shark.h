/* SPDX-License-Identifier: GPL-2.0 */
/* shark.h - internal declarations of the C core (not part of the FFI surface). */
#ifndef SHARK_H
#define SHARK_H

#include <stdio.h>
#include <sys/types.h>
#include "shark_api.h"
#include "shark_api_impl.h"	/* generated: the functions struct shark_api points to */

#define SHARK_VERSION "0.1.0"

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
void shark_cmd__free(char **argv);

/* log.c */
extern int shark_verbose;
extern int shark_quiet;
void shark_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set -v/-q and route libbpf's messages through them. */
void shark_log__init(int verbose, int quiet);
void shark_log__capture(int on);
const char *shark_log__captured(void);
#define pr_err(...)	shark_log(0, __VA_ARGS__)
#define pr_info(...)	shark_log(1, __VA_ARGS__)
#define pr_debug(...)	shark_log(2, __VA_ARGS__)

/* FNV-1a, the one hash of the core: cache keys (bytes), interned stacks (words) */
#define SHARK_FNV_BASIS 0xcbf29ce484222325ull
static inline uint64_t shark_fnv1a(uint64_t h, uint64_t x)
{
	return (h ^ x) * 0x100000001b3ull;
}

/* api.c and the generated api_table.c */
extern struct shark_state shark_state;
extern const struct shark_api shark_api;

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

/* loop.c: the libuv loop that owns the process */
struct uv_loop_s;
int shark_loop__init(const struct shark_opts *opts);
struct uv_loop_s *shark_loop(void);
int shark_loop__run(void);
void shark_loop__fini(void);
int shark_target__spawn(const char *cmd);
int shark_target__watch(int pid);
int shark_target__release(void);

/* vm.c: the Lua state */
struct lua_State;
struct lua_State *shark_vm__new(const struct shark_opts *opts);
int shark_vm__run(struct lua_State *L, const struct shark_opts *opts);
void shark_vm__interrupt(void);

/* tracefs.c */
struct tep_event;
struct tep_handle;
const char *shark_tracefs(void);
const char *shark_tracefs__why(int err);
int shark_tp__id(const char *sys, const char *name);
struct tep_event *shark_tp__format(const char *sys, const char *name);
struct tep_handle *shark_tep(void);
int shark_tp__list(const char *glob, void (*fn)(const char *sys, const char *event, void *arg), void *arg);

/* perf.c: perf_event_open sessions (the entry points Lua calls are in struct shark_api) */
uint64_t shark_perf__count(struct shark_perf *p, int32_t event);
void shark_samples__sort(struct shark_sample *s, int32_t n);
int32_t shark_perf__replay_at(struct shark_perf *p, const uint8_t *buf, int32_t len, uint64_t start);

/* sym.c */
void shark_sym__note_pid(int pid);
void shark_sym__mmap(int pid, uint64_t start, uint64_t len, uint64_t pgoff, const char *file);
void shark_sym__exec(int pid);

/* bundle.c: a script and its BPF objects appended to this executable */
/**
 * shark_bundle__open() - is this executable a bundle? Checks its size and
 * checksum and reads the payload.
 * Return: 1 (a bundle), 0 (plain shark), or -errno with @err filled
 * (a damaged bundle).
 */
int shark_bundle__open(char *err, size_t errlen);
const void *shark_bundle__payload(size_t *len);

/* lib_shark.c, lib_perf.c */
int luaopen_shark_core(struct lua_State *L);
int luaopen_perf_core(struct lua_State *L);

#endif /* SHARK_H */
