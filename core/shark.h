/* SPDX-License-Identifier: GPL-2.0 */
/* shark.h - internal declarations of the C core (not part of the FFI surface). */
#ifndef SHARK_H
#define SHARK_H

#include <stdio.h>
#include <sys/types.h>
#include "shark_api.h"

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
	uint64_t mem_limit;	/* --mem-limit MB, SHARK_MEM_LIMIT; 0: none */
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
int32_t shark_pid_valid(double v);
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

/* api.c */
extern struct shark_state shark_state;
extern const struct shark_api shark_api;
uint64_t shark_time_ns(void);
void shark_stop(int32_t reason);

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
int shark_loop__ready(void);
int shark_loop__run(void);
void shark_loop__fini(void);
int shark_target__spawn(const char *cmd);
int shark_target__watch(int pid);
int shark_loop__watch_exit(int pid);
int shark_target__release(void);
int shark_target__kill(int sig);

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
/* PERF_MAX_TRACE_SIZE: the largest record a sample carries */
#define SHARK_TP_MAX_RECORD 8192
int shark_tp__check(const struct tep_event *ev, char *why, size_t len);
const char *shark_tp__bad_format(void);	/* why the last format was refused */
struct tep_handle;
int shark_tp__parse_text(struct tep_handle *t, const char *buf, size_t len, const char *sys);
struct tep_handle *shark_tep(void);
int shark_tp__list(const char *glob, void (*fn)(const char *sys, const char *event, void *arg), void *arg);

/* perf.c: perf_event_open sessions (see struct shark_api for the contract) */
struct shark_perf *shark_perf__new(const struct shark_perf_opts *opts);
void shark_perf__free(struct shark_perf *p);
int32_t shark_perf__add(struct shark_perf *p, const struct shark_perf_event *ev);
int32_t shark_perf__enable(struct shark_perf *p);
int32_t shark_perf__disable(struct shark_perf *p);
const char *shark_perf__error(struct shark_perf *p);
int32_t shark_perf__nrings(struct shark_perf *p);
int32_t shark_perf__ring_fd(struct shark_perf *p, int32_t i);
int32_t shark_perf__read(struct shark_perf *p, struct shark_sample *batch, int32_t max);
void shark_perf__consume(struct shark_perf *p);
void shark_perf__stats(struct shark_perf *p, struct shark_perf_stats *st);
uint64_t shark_perf__count(struct shark_perf *p, int32_t event);
void shark_samples__sort(struct shark_sample *s, int32_t n);
int32_t shark_online_cpus(int32_t *cpus, int32_t max);
int32_t shark_perf_probe(uint32_t type, uint64_t config);
int32_t shark_perf__snapshot(struct shark_perf *p, uint8_t *buf, int32_t len);
int32_t shark_perf__replay(struct shark_perf *p, const uint8_t *buf, int32_t len);
int32_t shark_perf__fd(struct shark_perf *p, int32_t event, int32_t i);

/* sym.c */
int32_t shark_symbolize(int32_t pid, uint64_t ip, char *buf, int32_t len);
int32_t shark_sym_functions(const char *path, const char *glob, char *buf, int32_t len);
int32_t shark_sym_variable(const char *path, const char *name, uint64_t *rel, uint64_t *size);
void shark_sym__note_pid(int pid);
void shark_sym__refresh_pid(int pid);
void shark_sym__mmap(int pid, uint64_t start, uint64_t len, uint64_t pgoff, const char *file);
void shark_sym__exec(int pid);
int shark_sym__open(int pid, const char *path, dev_t dev, ino_t ino);
struct shark_map_info {
	uint64_t start, end, pgoff;
	const char *path;	/* as the process names it */
	dev_t dev;		/* 0 when unknown */
	ino_t ino;
	const void *dso;	/* one per file, kept for the run */
};
int shark_sym__map_at(int pid, uint64_t ip, struct shark_map_info *mi);
int shark_sym__maps(int pid, struct shark_map_info *out, int max);
int32_t shark_sym_frame(int32_t pid, uint64_t ip, struct shark_frame_info *out);

/* pprof.c: profile.proto with protobuf-c, gzip with zlib */
int32_t shark_pprof_encode(const struct shark_pprof *p, void **out, uint64_t *len);
struct shark_pprof *shark_pprof_decode(const void *buf, uint64_t len, char *err, int32_t errlen);
void shark_pprof_free(struct shark_pprof *p);

/* otlp.c: OTLP metrics with protobuf-c */
int32_t shark_otlp_encode(const struct shark_otlp_request *r, void **out, uint64_t *len);

/* bpf.c (see struct shark_api for the contract) */
struct shark_bpf *shark_bpf__open(const void *buf, uint64_t len, const char *name);
void shark_bpf__free(struct shark_bpf *o);
const char *shark_bpf__error(struct shark_bpf *o);
int32_t shark_bpf__load(struct shark_bpf *o);
int32_t shark_bpf__nprogs(struct shark_bpf *o);
int32_t shark_bpf__nmaps(struct shark_bpf *o);
int32_t shark_bpf__prog(struct shark_bpf *o, int32_t i, struct shark_bpf_prog_info *pi);
int32_t shark_bpf__map(struct shark_bpf *o, int32_t i, struct shark_bpf_map_info *mi);
void *shark_bpf__section(struct shark_bpf *o, const char *name, uint64_t *size);
int32_t shark_bpf__section_vars(struct shark_bpf *o, const char *section, struct shark_btf_var *vars, int32_t max);
int32_t shark_bpf__possible_cpus(void);
int32_t shark_bpf__detach(struct shark_bpf *o);
int32_t shark_bpf__attach(struct shark_bpf *o, int32_t i);
int32_t shark_bpf__attach_tracepoint(struct shark_bpf *o, int32_t i, const char *sys, const char *name);
int32_t shark_bpf__attach_raw_tracepoint(struct shark_bpf *o, int32_t i, const char *name);
int32_t shark_bpf__attach_uprobe(struct shark_bpf *o, int32_t i, int32_t retprobe, int32_t pid,
				 const char *binary, const char *func, uint64_t offset,
				 uint64_t cookie);
int32_t shark_bpf__attach_usdt(struct shark_bpf *o, int32_t i, int32_t pid, const char *binary,
			       const char *provider, const char *name, uint64_t cookie);
int32_t shark_bpf__attach_kprobe(struct shark_bpf *o, int32_t i, int32_t retprobe, const char *func);
int32_t shark_bpf__attach_perf(struct shark_bpf *o, int32_t i, uint32_t type, uint64_t config,
			       uint64_t period, uint32_t freq, int32_t pid);
int32_t shark_bpf__attach_socket(struct shark_bpf *o, int32_t i, const char *ifname);
int32_t shark_bpf_map_lookup(int32_t fd, const void *key, void *value);
int32_t shark_bpf_map_update(int32_t fd, const void *key, const void *value, uint64_t flags);
int32_t shark_bpf_map_delete(int32_t fd, const void *key);
int32_t shark_bpf_map_next_key(int32_t fd, const void *key, void *next);
int32_t shark_bpf__btf_type(struct shark_bpf *o, uint32_t id, struct shark_btf_type *out);
char *shark_bpf__btf_c(struct shark_bpf *o, uint32_t id);
int32_t shark_bpf__write_vmlinux_h(const char *path);
void shark_free(void *p);
int32_t shark_bpf__btf_find(struct shark_bpf *o, const char *name, uint32_t kind);
int32_t shark_bpf__map_resize(struct shark_bpf *o, const char *name, uint32_t max);
int32_t shark_bpf__autoload(struct shark_bpf *o, const char *prog, int32_t on);

/* ringbuf.c */
struct shark_ringbuf *shark_ringbuf__new(int32_t map_fd);
void shark_ringbuf__free(struct shark_ringbuf *r);
int32_t shark_ringbuf__read(struct shark_ringbuf *r, struct shark_record *batch, int32_t max);
void shark_ringbuf__consume(struct shark_ringbuf *r);
uint64_t shark_ringbuf__count(struct shark_ringbuf *r);

/* task.c */
const char *shark_comm(int32_t pid);
int32_t shark_read_user_string(int32_t pid, uint64_t addr, char *buf, int32_t len);
int32_t shark_cgroup_open(const char *path);
uint64_t shark_hash64(const void *buf, uint64_t len);

/* bundle.c: a script and its BPF objects appended to this executable */
/**
 * shark_bundle__open() - is this executable a bundle? Checks its size and
 * checksum and reads the payload.
 * Return: 1 (a bundle), 0 (plain shark), or -errno with @err filled
 * (a damaged bundle).
 */
int shark_bundle__open(char *err, size_t errlen);
const void *shark_bundle__payload(size_t *len);
/* Is file the bundle its 64-byte slot describes? NULL, or why not */
const char *shark_bundle__verify(const uint8_t *file, size_t len, const void *slot);
#define SHARK_BUNDLE_SLOT_SIZE 64
int32_t shark_bundle__write(const char *path, const void *data, uint64_t len);
const char *shark_kernel_id(void);

/* db.c: SQLite for the FFI (see struct shark_api) */
struct shark_db *shark_db__open(const char *path, char *err, int32_t errlen);
void shark_db__close(struct shark_db *db);
int32_t shark_db__exec(struct shark_db *db, const char *sql);
const char *shark_db__errmsg(struct shark_db *db);
struct shark_stmt *shark_db__prepare(struct shark_db *db, const char *sql);
int32_t shark_db__bind_text(struct shark_stmt *st, int32_t i, const char *s, int32_t len);
int32_t shark_db__bind_blob(struct shark_stmt *st, int32_t i, const void *p, int64_t len);
int32_t shark_db__bind_int64(struct shark_stmt *st, int32_t i, int64_t v);
int32_t shark_db__bind_double(struct shark_stmt *st, int32_t i, double v);
int32_t shark_db__bind_null(struct shark_stmt *st, int32_t i);
int32_t shark_db__step(struct shark_stmt *st);
int32_t shark_db__reset(struct shark_stmt *st);
void shark_db__finalize(struct shark_stmt *st);
int32_t shark_db__column_count(struct shark_stmt *st);
int32_t shark_db__column_type(struct shark_stmt *st, int32_t i);
const char *shark_db__column_name(struct shark_stmt *st, int32_t i);
int64_t shark_db__column_int64(struct shark_stmt *st, int32_t i);
double shark_db__column_double(struct shark_stmt *st, int32_t i);
const void *shark_db__column_bytes(struct shark_stmt *st, int32_t i, int32_t *len);
int64_t shark_db__last_id(struct shark_db *db);
int32_t shark_db__changes(struct shark_db *db);

/* http.c: the client half (the server is in http.h) */
int32_t shark_http_request(const char *method, const char *url, const char *headers, const void *body,
			   uint64_t len, int32_t timeout_ms, char *resp, int32_t resp_len, int32_t *status);
/* A request with its response's header lines ("Name: value\n"); https:// needs ca_file. */
struct shark_http_call {
	const char *method, *url, *headers, *ca_file;
	const void *body;
	uint64_t len;
	int32_t timeout_ms;
	char *resp;		/* the body, cut to resp_len - 1, NUL-terminated */
	int32_t resp_len;
	char *resp_hdr;		/* may be NULL */
	int32_t hdr_len;
	int32_t status;		/* out */
	char error[192];	/* out: why a TLS request failed */
};
int32_t shark_http_call(struct shark_http_call *call);
/* sym.c: "START SIZE NAME" lines of a /tmp/perf-PID.map; the number added */
int shark_perf_map_parse(const char *buf, size_t len,
			 int (*add)(void *ctx, uint64_t start, uint64_t size, const char *name), void *ctx);

/* bpf.c: errno or a libbpf error code (4000 and up) in words */
const char *shark_bpf_strerror(int err);

/* watchdog.c: ends the run when Lua does not return after a stop */
int shark_watchdog__start(double duration, uint64_t mem_limit_mb);
void shark_watchdog__stopping(void);	/* async-signal-safe */
void shark_watchdog__looping(void);
void shark_watchdog__busy(int delta);	/* +1/-1 around slow C work */
void shark_watchdog__finishing(void);
void shark_watchdog__stop(void);
/* loop.c: end the process now (the -c child too), from any thread */
void shark_loop__abort(int code);

/* sym.c: 1 when the ELF file has a .symtab, 0 when it is stripped, -errno */
int shark_elf_has_symtab(const char *path);

/* safefile.c: what shark writes, in directories no other user controls */
/*
 * shark_safe_dir_open() - an O_PATH fd of directory @path, every component
 * opened with O_NOFOLLOW from its parent's fd and checked: owned by root or
 * us and not writable by others (a root sticky dir on the way is fine), the
 * last one ours. @create: make missing components, mode 0700.
 * Return: the fd, or -errno with shark_safe_error() saying why.
 */
int shark_safe_dir_open(const char *path, int create);
int32_t shark_safe_dir(const char *path, int32_t create);
int shark_safe_create_at(int dirfd, const char *name, const void *buf, uint64_t len, uint32_t mode);
int32_t shark_safe_create(const char *path, const void *buf, uint64_t len, uint32_t mode);
void shark_safe_tmpname(char *out, size_t len, const char *name);
int32_t shark_safe_write(const char *dir, const char *name, const void *buf, uint64_t len);
void *shark_safe_read(const char *dir, const char *name, uint64_t *len);
const char *shark_safe_error(void);

/* lib_shark.c, lib_perf.c */
long shark_selftest_mark(long i);	/* a uprobe target for shark test */
int luaopen_shark_core(struct lua_State *L);
int luaopen_perf_core(struct lua_State *L);
int luaopen_shark_toml(struct lua_State *L);
int luaopen_shark_http(struct lua_State *L);
int luaopen_shark_httpc(struct lua_State *L);

/* journal.c: shark record's journals (docs/journal.md) */
int32_t shark_journal_key_load(const char *path, uint8_t *key);
struct shark_journal *shark_journal__create(const char *path, const uint8_t *key, int32_t level);
int32_t shark_journal__meta(struct shark_journal *j, const char *text, uint32_t len);
int32_t shark_journal__samples(struct shark_journal *j, uint32_t base, const struct shark_sample *s, int32_t n);
int32_t shark_journal__records(struct shark_journal *j, uint32_t ring, const struct shark_record *r, int32_t n,
			       uint64_t time);
int32_t shark_journal__flush(struct shark_journal *j);
void shark_journal__stats(struct shark_journal *j, struct shark_journal_stats *st);
int32_t shark_journal__close(struct shark_journal *j);
void shark_journal__free(struct shark_journal *j);
struct shark_jreader *shark_jreader__open(const char *path, const uint8_t *key, int32_t salvage);
int32_t shark_jreader__check(struct shark_jreader *r);
int32_t shark_jreader__next(struct shark_jreader *r, struct shark_jchunk *c);
int32_t shark_jreader__samples(struct shark_jreader *r, struct shark_sample *batch, int32_t max);
int32_t shark_jreader__records(struct shark_jreader *r, struct shark_record *batch, uint32_t *rings,
			       double *times, int32_t max);
const char *shark_jreader__error(struct shark_jreader *r);
const char *shark_jreader__note(struct shark_jreader *r);
void shark_jreader__stats(struct shark_jreader *r, struct shark_jreader_stats *st);
void shark_jreader__free(struct shark_jreader *r);

/* count.c: shark stat's counters and held children */
int32_t shark_count__open(const struct shark_count_attr *a);
int32_t shark_count__read(int32_t fd, uint64_t *vals);
int32_t shark_count__enable(int32_t fd, int32_t on);
int32_t shark_fd_close(int32_t fd);
int32_t shark_child__spawn(const char *const *argv);
int32_t shark_child__release(int32_t pid);
int32_t shark_child__wait(int32_t pid, int32_t timeout_ms, int32_t *status);

/* sym.c: the file mappings known for pid */
int32_t shark_sym_maps(int32_t pid, char *buf, int32_t len);

/* buildid.c */
int32_t shark_build_id(const char *path, char *buf, int32_t len);

#endif /* SHARK_H */
