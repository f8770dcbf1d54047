/* SPDX-License-Identifier: GPL-2.0 */
/* shark_api.h - the FFI surface: every C type and function Lua may use. */
#ifndef SHARK_API_H
#define SHARK_API_H

/*
 * This header is the single source of truth for the C<->Lua boundary.
 * The build runs it through the C preprocessor with SHARK_CDEF defined and
 * embeds the result as the text given to ffi.cdef, so it must stay plain C
 * declarations: no system includes, no inline code, constants as enums.
 *
 * Lua never resolves a C symbol by name: it receives one pointer to
 * struct shark_api and calls through its members, so a static binary behaves
 * exactly like a dynamic one.
 */
#ifndef SHARK_CDEF
#include <stdint.h>
#include <stddef.h>
#else
/* the kernel's names, for the BPF-side headers that follow in the cdef */
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int32_t __s32;
typedef int64_t __s64;
#endif

/* PID_MAX_LIMIT: no pid is larger on any Linux */
enum { SHARK_PID_MAX = 4194304 };

/* Why the loop stopped; the first reason recorded wins. */
enum shark_stop {
	SHARK_STOP_NONE = 0,
	SHARK_STOP_IDLE = 1,		/* nothing left to wait for */
	SHARK_STOP_EXIT = 2,		/* the script called shark.exit() */
	SHARK_STOP_ERROR = 3,		/* a Lua error */
	SHARK_STOP_SIGNAL = 4,		/* SIGINT or SIGTERM */
	SHARK_STOP_DURATION = 5,	/* -d SECONDS elapsed */
	SHARK_STOP_TARGET = 6,		/* the -c child or the -p process exited */
	SHARK_STOP_STDOUT = 7,		/* stdout was closed (EPIPE) */
};

/* Process-wide run state, shared by C and Lua without calls. */
struct shark_state {
	int32_t stop_reason;	/* enum shark_stop */
	int32_t exit_code;	/* from shark.exit(), -1 when unset */
	int32_t signo;		/* the signal that stopped us, 0 if none */
	int32_t verbose;	/* -v count */
	int32_t quiet;		/* -q */
	int32_t target_pid;	/* -p PID or the -c child, 0 if none */
	int32_t target_status;	/* wait status of the -c child once it exited, -1 before */
	int32_t target_running;	/* 1 while the target is alive */
	int32_t errors;		/* Lua errors reported so far */
	int32_t target_held;	/* 1 while the -c child waits to exec */
	double start_time;	/* CLOCK_MONOTONIC ns when main() began */
};

/* ------------------------------------------------------------------ perf */

/* Options of one perf session (one perf.on call). */
struct shark_perf_opts {
	int32_t pid;		/* -1: every process; else all threads of this one */
	int32_t tid;		/* > 0: this one thread only (pid is ignored) */
	int32_t cgroup_fd;	/* -1: none; else a cgroup directory fd, the session's to close */
	const int32_t *cpus;	/* NULL: every online CPU */
	int32_t ncpus;
	uint32_t inherit;	/* follow children and new threads of pid */
	uint32_t enable_on_exec; /* start counting when the held -c child execs */
	uint32_t callchain_k;	/* kernel frames in callchains */
	uint32_t callchain_u;	/* user frames in callchains */
	uint32_t max_stack;	/* 0: the kernel's default */
	uint32_t mmap_pages;	/* data pages per ring, a power of 2 */
	uint32_t watermark;	/* wake-up after this many bytes; 0: a quarter ring */
	uint32_t ordered;	/* sort each batch by time */
	uint32_t track_tasks;	/* mmap/comm/exit records, for user symbols */
	/*
	 * > 0: callchain_u = "dwarf": copy this many bytes of user stack and the
	 * user registers with each sample and unwind them with the files'
	 * .eh_frame; the chain then holds kernel frames, then user frames.
	 */
	uint32_t stack_user;
	/* with stack_user: Python function names between the interpreter's frames (CPython 3.11) */
	uint32_t lang_frames;
	/* comm records: e.comm is the thread's name at the sample's time (execs, renames) */
	uint32_t track_comm;
};

/* One event of a session, as perf.on resolved it. */
struct shark_perf_event {
	const char *name;	/* "sched:sched_switch", "cpu-clock" */
	uint32_t type;		/* PERF_TYPE_* */
	uint32_t raw;		/* a tracepoint: samples carry its record */
	uint64_t config;
	uint64_t period;	/* a frequency in Hz when freq is set */
	uint32_t freq;
	uint32_t exclude_kernel;
	uint32_t exclude_user;
	const char *filter;	/* tracepoint filter, or NULL */
	/*
	 * routed: open nothing; samples of event `via` (raw_syscalls:sys_enter or
	 * sys_exit) whose syscall number is `nr` are delivered as this event. The
	 * record layouts agree, and two tracepoints cost the kernel far less to
	 * set up and tear down than hundreds of syscalls:* ones.
	 */
	uint32_t routed;
	int32_t via;
	int32_t nr;
	/* PERF_TYPE_BREAKPOINT ("mem:ADDR/LEN:rwx"): a hardware watchpoint */
	uint32_t bp_type;	/* HW_BREAKPOINT_R 1 | W 2, or X 4 */
	uint32_t bp_len;	/* 1, 2, 4 or 8 bytes */
	uint64_t bp_addr;
};

/*
 * One decoded sample in a batch. raw and ips point into the ring (or a copy
 * of a record that wrapped) and stay valid until perf_consume().
 */
struct shark_sample {
	double time;		/* CLOCK_MONOTONIC ns, as shark.time(): a plain Lua number */
	uint32_t pid;
	uint32_t tid;
	uint32_t cpu;
	uint32_t event;		/* index of the event in its session */
	double period;
	uint64_t ip;
	uint64_t id;		/* the kernel's sample id */
	const char *name;
	const void *raw;
	uint32_t raw_size;
	uint32_t nr_ips;
	const uint64_t *ips;	/* callchain, with PERF_CONTEXT_* markers */
	uint64_t stack_key;	/* 52-bit hash of ips (and pid for user frames); 0: none */
	const char *comm_at;	/* the task's name at event time, if the source knows it; else NULL */
	double seq;		/* Lua's: which handler call the event belongs to (0: a copy) */
	/*
	 * callchain_u = "dwarf": what the user frames were unwound from, for a
	 * journal to keep and unwind_user() to redo: the registers of
	 * SHARK_UNWIND_REGS_MASK in bit order, and the stack from sp. NULL: none.
	 */
	const uint64_t *user_regs;
	const void *user_stack;
	uint32_t user_stack_size;
	uint32_t pad;
};

/*
 * The user registers a DWARF sample takes (PERF_SAMPLE_REGS_USER, x86-64
 * perf numbering): every general register, ip, sp and flags; not the segment
 * registers the kernel refuses in 64-bit mode (ds, es, fs, gs).
 */
enum shark_unwind_limits {
	SHARK_UNWIND_REGS_MASK = 0xff0fff,
	SHARK_UNWIND_STACK_BYTES = 8192,	/* perf record's default copy */
	SHARK_UNWIND_MAX_STACK_BYTES = 65528,	/* the kernel's limit: a record is < 64 KiB */
};

/* Counters of the DWARF unwinder since start. */
struct shark_unwind_stats {
	uint64_t stacks;	/* stacks unwound */
	uint64_t frames;	/* frames found */
	uint64_t no_info;	/* walks ending in code of no file (JIT, anonymous memory) */
	uint64_t short_stack;	/* walks that wanted stack beyond the copy: stack_bytes too small for them */
	uint64_t images;	/* files opened for their unwind tables, one per build-id */
	uint64_t image_bytes;	/* their size (mapped from the page cache, not copied) */
	uint64_t ns;		/* time spent unwinding (CLOCK_MONOTONIC) */
	uint64_t procs;		/* processes with unwind state now */
};

/* What the symbol caches hold (sym_stats), and what sweeps dropped. */
struct shark_sym_stats {
	uint64_t procs;		/* processes whose mappings are kept */
	uint64_t dsos;		/* files known */
	uint64_t tables;	/* symbol tables in memory (the kernel's is one) */
	uint64_t symbols;	/* symbols in them */
	uint64_t bytes;		/* memory of all this */
	uint64_t sweeps;	/* sym_sweep calls */
	uint64_t evicted_procs;	/* processes dropped by sweeps */
	uint64_t evicted_tables;	/* symbol tables dropped */
	uint64_t evicted_dsos;	/* files dropped */
};

/* Counters of a session. */
struct shark_perf_stats {
	uint64_t samples;	/* decoded sample records */
	uint64_t lost;		/* samples the kernel dropped (ring full) */
	uint64_t lost_records;	/* PERF_RECORD_LOST records */
	uint64_t throttled;	/* PERF_RECORD_THROTTLE records */
	uint64_t wraps;		/* records copied because they wrapped */
};

struct shark_perf;

/* ------------------------------------------------------------------- bpf */

struct shark_bpf_prog_info {
	const char *name;
	const char *section;	/* SEC("...") */
	uint32_t type;		/* enum bpf_prog_type */
	int32_t fd;		/* after load */
};

struct shark_bpf_map_info {
	const char *name;
	int32_t fd;		/* after load */
	uint32_t type;		/* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t btf_key_id;	/* 0: no BTF */
	uint32_t btf_value_id;
	uint32_t flags;
};

/* A BTF type, through typedefs and qualifiers. kind: BTF_KIND_* */
struct shark_btf_type {
	uint32_t id;		/* the resolved type */
	uint32_t kind;
	uint32_t size;
	int32_t is_signed;
	int32_t is_char;	/* char, or an array of char */
	uint32_t elem;		/* arrays: element type and count */
	uint32_t nelem;
	const char *name;
};

/* A global variable of a data section. */
struct shark_btf_var {
	const char *name;
	uint32_t offset;
	uint32_t size;
	uint32_t type_id;
};

struct shark_bpf;

/* A record of a BPF ring buffer, in place until ringbuf_consume(). */
struct shark_record {
	const void *data;
	uint32_t size;
	uint32_t pad;
};

struct shark_ringbuf;
struct shark_ringprep;

/* ----------------------------------------------------------------- pprof */

/*
 * A pprof profile (profile.proto) as flat arrays. Strings are indices into
 * strings (strings[0] is ""); mapping, function and location ids are
 * 1-based indices into their arrays, 0 meaning none.
 */
struct shark_pprof_mapping {
	uint64_t start;
	uint64_t limit;
	uint64_t offset;	/* file offset of start */
	int64_t filename;
	int64_t build_id;
};

struct shark_pprof_function {
	int64_t name;
	int64_t system_name;
	int64_t filename;
};

struct shark_pprof_location {
	uint64_t address;
	uint32_t mapping;
	uint32_t nlines;	/* functions at this address: inlined first, the outer last */
	uint32_t line;		/* index in lines of the first */
	uint32_t pad;
};

struct shark_pprof {
	uint32_t nstrings;
	uint32_t ntypes;	/* sample types: values per sample */
	uint32_t nmappings;
	uint32_t nfunctions;
	uint32_t nlocations;
	uint32_t nlines;
	uint32_t nsamples;
	uint32_t nlocs;		/* sum of sample_nlocs */
	const char **strings;
	const int64_t *types;	/* (type, unit) string pairs, ntypes of them */
	const struct shark_pprof_mapping *mappings;
	const struct shark_pprof_function *functions;
	const struct shark_pprof_location *locations;
	const uint32_t *lines;	/* function ids */
	const uint32_t *sample_nlocs;	/* locations of each sample */
	const uint32_t *locs;	/* every sample's location ids, leaf first */
	const int64_t *values;	/* nsamples * ntypes */
	int64_t period_type;	/* strings */
	int64_t period_unit;
	int64_t period;
	int64_t time_nanos;
	int64_t duration_nanos;
};

/* Where a user or kernel address lives, for exports that keep it. */
struct shark_frame_info {
	uint64_t start;		/* the mapping holding the address: [start, limit) */
	uint64_t limit;
	uint64_t offset;	/* file offset of start */
	const char *module;	/* path, "[kernel.kallsyms]", or NULL if unknown */
	const char *build_id;	/* hex, "" if none; both valid until exit or sym_sweep */
};

/*
 * OTLP metrics as flat arrays Lua fills: metrics own runs of points, points
 * own runs of attributes, bounds and bucket counts (index + count into the
 * request's arrays, checked before use).
 */
enum shark_otlp_kind {
	SHARK_OTLP_GAUGE = 1,
	SHARK_OTLP_SUM = 2,
	SHARK_OTLP_HISTOGRAM = 3,
	SHARK_OTLP_EXPHISTOGRAM = 4,
};

struct shark_otlp_attr {
	const char *key;
	const char *value;
};

struct shark_otlp_point {
	uint64_t start_ns;
	uint64_t time_ns;
	double value;		/* gauge, sum */
	uint64_t count;		/* histograms */
	double sum;
	uint64_t zero_count;	/* exponential: values of 0 */
	int32_t scale;		/* exponential: base 2^(2^-scale) */
	int32_t offset;		/* exponential: index of the first bucket */
	uint32_t attr_first, nattrs;
	uint32_t bound_first, nbounds;		/* explicit bounds */
	uint32_t bucket_first, nbuckets;	/* bucket counts */
};

struct shark_otlp_metric {
	const char *name;
	const char *description;
	const char *unit;
	int32_t kind;		/* enum shark_otlp_kind */
	int32_t monotonic;	/* sums */
	int32_t as_int;		/* numbers as integers */
	int32_t delta;		/* temporality: delta, else cumulative */
	uint32_t point_first, npoints;
};

struct shark_otlp_request {
	const struct shark_otlp_attr *resource;
	uint32_t nresource;
	uint32_t nmetrics;
	const char *scope_name;
	const char *scope_version;
	const struct shark_otlp_metric *metrics;
	const struct shark_otlp_point *points;
	uint32_t npoints, nattrs;
	uint32_t nbounds, nbuckets;
	const struct shark_otlp_attr *attrs;
	const double *bounds;
	const uint64_t *buckets;
};

/*
 * OTLP profiles (opentelemetry-proto v1.5.0, a development signal): one
 * ExportProfilesServiceRequest of n processes' profiles, each a pprof (as
 * shark_pprof_decode gives it) with the resource it belongs to.
 */
struct shark_otlp_profile {
	const struct shark_pprof *pprof;
	const struct shark_otlp_attr *resource;	/* string attributes */
	uint32_t nresource;
	int32_t pid;		/* process.pid, an integer attribute; 0: none */
	uint8_t id[16];		/* profile_id; all zero: a random one */
};

struct shark_otlp_profiles {
	const struct shark_otlp_profile *profiles;
	uint32_t nprofiles;
	uint32_t pad;
	const char *scope_name;
	const char *scope_version;
};

/* ------------------------------------------------------- sqlite, http */

struct shark_db;
struct shark_stmt;

/* sqlite3_step() and sqlite3_column_type() results */
enum shark_db_code {
	SHARK_DB_OK = 0,
	SHARK_DB_ROW = 100,
	SHARK_DB_DONE = 101,
	SHARK_DB_INTEGER = 1,
	SHARK_DB_FLOAT = 2,
	SHARK_DB_TEXT = 3,
	SHARK_DB_BLOB = 4,
	SHARK_DB_NULL = 5,
};

/* ---------------------------------------------------------------- journals */

enum shark_journal_version {
	SHARK_JOURNAL_MAJOR = 1,
	SHARK_JOURNAL_MINOR = 0,
};

enum shark_jchunk_type {
	SHARK_JCHUNK_META = 1,		/* one JSON object */
	SHARK_JCHUNK_SAMPLES = 2,	/* perf samples */
	SHARK_JCHUNK_RECORDS = 3,	/* BPF ring buffer records */
};

struct shark_journal_stats {
	uint64_t samples;
	uint64_t records;
	uint64_t chunks;
	uint64_t bytes;		/* written, headers included */
	uint64_t raw_bytes;	/* before compression */
};

/* A chunk as the reader hands it out: data valid until the next one. */
struct shark_jchunk {
	uint32_t type;		/* enum shark_jchunk_type */
	uint32_t seq;
	uint32_t nrec;
	uint32_t size;
	const uint8_t *data;
	uint64_t offset;	/* of its header in the file */
};

struct shark_jreader_stats {
	uint64_t chunks;
	uint64_t samples;
	uint64_t records;
	uint64_t damaged;	/* chunks skipped by salvage */
	uint64_t truncated;	/* 1: the file ends inside a chunk */
	uint64_t bytes;
};

struct shark_journal;
struct shark_jreader;

/* One counting event of shark stat (no sampling, no ring). */
struct shark_count_attr {
	uint32_t type;
	uint32_t inherit;
	uint64_t config;
	int32_t pid;		/* -1: every process (cpu >= 0) */
	int32_t cpu;		/* -1: wherever pid runs */
	uint32_t enable_on_exec;
	uint32_t exclude_kernel;
	uint32_t exclude_user;
	uint32_t pad;
	const char *filter;	/* tracepoint filter, or NULL */
};

/*
 * SHARK_IMPL(fn) names what a member points to: tools/api.lua generates the
 * table (api_table.c) and the prototypes of the implementations from this
 * struct, so each entry point is declared here once. Members are added at the
 * end only.
 */
#define SHARK_IMPL(fn)

/* The function table handed to Lua. */
struct shark_api {
	uint32_t size;				/* sizeof(struct shark_api) as built */
	struct shark_state *state SHARK_IMPL(&shark_state);
	uint64_t (*time_ns)(void) SHARK_IMPL(shark_time_ns);		/* CLOCK_MONOTONIC, ns */
	/* CLOCK_REALTIME, ns */
	uint64_t (*realtime_ns)(void) SHARK_IMPL(shark_realtime_ns);
	/* record a stop reason, end the loop */
	void (*stop)(int32_t reason) SHARK_IMPL(shark_stop);
	/* let the held -c child exec */
	int32_t (*release_target)(void) SHARK_IMPL(shark_target__release);
	const char *(*strerror)(int32_t err) SHARK_IMPL(shark_strerror);	/* err > 0 */

	/* perf sessions: every call returns 0 (or a count) or -errno */
	struct shark_perf *(*perf_new)(const struct shark_perf_opts *opts)
		SHARK_IMPL(shark_perf__new);
	int32_t (*perf_add)(struct shark_perf *p, const struct shark_perf_event *ev)
		SHARK_IMPL(shark_perf__add);
	int32_t (*perf_enable)(struct shark_perf *p) SHARK_IMPL(shark_perf__enable);
	int32_t (*perf_disable)(struct shark_perf *p) SHARK_IMPL(shark_perf__disable);
	void (*perf_free)(struct shark_perf *p) SHARK_IMPL(shark_perf__free);
	/* last error, in words */
	const char *(*perf_error)(struct shark_perf *p) SHARK_IMPL(shark_perf__error);
	int32_t (*perf_nrings)(struct shark_perf *p) SHARK_IMPL(shark_perf__nrings);
	int32_t (*perf_ring_fd)(struct shark_perf *p, int32_t i) SHARK_IMPL(shark_perf__ring_fd);
	int32_t (*perf_read)(struct shark_perf *p, struct shark_sample *batch, int32_t max)
		SHARK_IMPL(shark_perf__read);
	void (*perf_consume)(struct shark_perf *p) SHARK_IMPL(shark_perf__consume);
	/* a sample's thread name at its time, from name records; NULL: unknown */
	const char *(*perf_comm)(struct shark_perf *p, int32_t pid, int32_t tid, double time)
		SHARK_IMPL(shark_perf__comm);
	void (*perf_stats)(struct shark_perf *p, struct shark_perf_stats *st)
		SHARK_IMPL(shark_perf__stats);
	int32_t (*online_cpus)(int32_t *cpus, int32_t max) SHARK_IMPL(shark_online_cpus);
	/* an fd for perf's cgroup mode */
	int32_t (*cgroup_open)(const char *path) SHARK_IMPL(shark_cgroup_open);
	/* command name, "<...>" if gone */
	const char *(*comm)(int32_t pid) SHARK_IMPL(shark_comm);
	/* copy a NUL-terminated string from process memory; its length or -errno */
	int32_t (*read_user_string)(int32_t pid, uint64_t addr, char *buf, int32_t len)
		SHARK_IMPL(shark_read_user_string);
	/* the function at ip (pid -1: kernel); length written, 0 if unknown */
	int32_t (*symbolize)(int32_t pid, uint64_t ip, char *buf, int32_t len)
		SHARK_IMPL(shark_symbolize);
	/* can this machine open the event? 0 or -errno */
	int32_t (*perf_probe)(uint32_t type, uint64_t config) SHARK_IMPL(shark_perf_probe);
	/* benchmarks: copy unread ring records; read them back from memory */
	int32_t (*perf_snapshot)(struct shark_perf *p, uint8_t *buf, int32_t len)
		SHARK_IMPL(shark_perf__snapshot);
	int32_t (*perf_replay)(struct shark_perf *p, const uint8_t *buf, int32_t len)
		SHARK_IMPL(shark_perf__replay);

	/* bpf objects: 0 or -errno, bpf_error() says why in words */
	struct shark_bpf *(*bpf_open)(const void *buf, uint64_t len, const char *name)
		SHARK_IMPL(shark_bpf__open);
	void (*bpf_free)(struct shark_bpf *o) SHARK_IMPL(shark_bpf__free);
	/* o NULL: the last failed open */
	const char *(*bpf_error)(struct shark_bpf *o) SHARK_IMPL(shark_bpf__error);
	int32_t (*bpf_load)(struct shark_bpf *o) SHARK_IMPL(shark_bpf__load);
	int32_t (*bpf_nprogs)(struct shark_bpf *o) SHARK_IMPL(shark_bpf__nprogs);
	int32_t (*bpf_nmaps)(struct shark_bpf *o) SHARK_IMPL(shark_bpf__nmaps);
	int32_t (*bpf_prog)(struct shark_bpf *o, int32_t i, struct shark_bpf_prog_info *info)
		SHARK_IMPL(shark_bpf__prog);
	int32_t (*bpf_map)(struct shark_bpf *o, int32_t i, struct shark_bpf_map_info *info)
		SHARK_IMPL(shark_bpf__map);
	void *(*bpf_section)(struct shark_bpf *o, const char *name, uint64_t *size)
		SHARK_IMPL(shark_bpf__section);
	int32_t (*bpf_section_vars)(struct shark_bpf *o, const char *section, struct shark_btf_var *vars,
				    int32_t max) SHARK_IMPL(shark_bpf__section_vars);
	int32_t (*bpf_possible_cpus)(void) SHARK_IMPL(shark_bpf__possible_cpus);
	int32_t (*bpf_detach)(struct shark_bpf *o) SHARK_IMPL(shark_bpf__detach);
	int32_t (*bpf_attach)(struct shark_bpf *o, int32_t prog) SHARK_IMPL(shark_bpf__attach);
	int32_t (*bpf_attach_tracepoint)(struct shark_bpf *o, int32_t prog, const char *sys, const char *name)
		SHARK_IMPL(shark_bpf__attach_tracepoint);
	int32_t (*bpf_attach_raw_tracepoint)(struct shark_bpf *o, int32_t prog, const char *name)
		SHARK_IMPL(shark_bpf__attach_raw_tracepoint);
	int32_t (*bpf_attach_uprobe)(struct shark_bpf *o, int32_t prog, int32_t retprobe, int32_t pid,
				     const char *binary, const char *func, uint64_t offset,
				     uint64_t cookie) SHARK_IMPL(shark_bpf__attach_uprobe);
	int32_t (*bpf_attach_usdt)(struct shark_bpf *o, int32_t prog, int32_t pid, const char *binary,
				   const char *provider, const char *name, uint64_t cookie)
		SHARK_IMPL(shark_bpf__attach_usdt);
	int32_t (*bpf_attach_kprobe)(struct shark_bpf *o, int32_t prog, int32_t retprobe, const char *func)
		SHARK_IMPL(shark_bpf__attach_kprobe);
	int32_t (*bpf_attach_perf)(struct shark_bpf *o, int32_t prog, uint32_t type, uint64_t config,
				   uint64_t period, uint32_t freq, int32_t pid)
		SHARK_IMPL(shark_bpf__attach_perf);
	int32_t (*bpf_map_lookup)(int32_t fd, const void *key, void *value)
		SHARK_IMPL(shark_bpf_map_lookup);
	int32_t (*bpf_map_update)(int32_t fd, const void *key, const void *value, uint64_t flags)
		SHARK_IMPL(shark_bpf_map_update);
	int32_t (*bpf_map_delete)(int32_t fd, const void *key) SHARK_IMPL(shark_bpf_map_delete);
	/* key NULL: first */
	int32_t (*bpf_map_next_key)(int32_t fd, const void *key, void *next)
		SHARK_IMPL(shark_bpf_map_next_key);
	int32_t (*bpf_btf_type)(struct shark_bpf *o, uint32_t id, struct shark_btf_type *out)
		SHARK_IMPL(shark_bpf__btf_type);
	/* free() with free_mem */
	char *(*bpf_btf_c)(struct shark_bpf *o, uint32_t id) SHARK_IMPL(shark_bpf__btf_c);
	int32_t (*bpf_write_vmlinux_h)(const char *path) SHARK_IMPL(shark_bpf__write_vmlinux_h);
	void (*free_mem)(void *p) SHARK_IMPL(shark_free);
	/* calloc(): a big block's pages are zero without being touched (free_mem) */
	void *(*calloc_mem)(uint64_t n, uint64_t size) SHARK_IMPL(shark_calloc);
	/* FNV-1a, for cache keys */
	uint64_t (*hash64)(const void *buf, uint64_t len) SHARK_IMPL(shark_hash64);
	/* release and build-id: what BTF a cache entry fits */
	const char *(*kernel_id)(void) SHARK_IMPL(shark_kernel_id);
	/* write a runtime (NULL: this executable; shark bundle --arch: another architecture's
	 * shark) + payload as an executable bundle at path: 0 or -errno */
	int32_t (*bundle_write)(const char *runtime, const char *path, const void *payload, uint64_t len)
		SHARK_IMPL(shark_bundle__write);
	/* remember a process's mappings now, to name its frames after it exits */
	void (*sym_note_pid)(int32_t pid) SHARK_IMPL(shark_sym__refresh_pid);

	/* BPF ring buffers, drained in batches without a wake-up per record */
	struct shark_ringbuf *(*ringbuf_new)(int32_t map_fd) SHARK_IMPL(shark_ringbuf__new);
	void (*ringbuf_free)(struct shark_ringbuf *r) SHARK_IMPL(shark_ringbuf__free);
	int32_t (*ringbuf_read)(struct shark_ringbuf *r, struct shark_record *batch, int32_t max)
		SHARK_IMPL(shark_ringbuf__read);
	void (*ringbuf_consume)(struct shark_ringbuf *r) SHARK_IMPL(shark_ringbuf__consume);
	uint64_t (*ringbuf_count)(struct shark_ringbuf *r) SHARK_IMPL(shark_ringbuf__count);
	/* a BTF type of the object by name and kind (BTF_KIND_*), 0 if none */
	int32_t (*bpf_btf_find)(struct shark_bpf *o, const char *name, uint32_t kind)
		SHARK_IMPL(shark_bpf__btf_find);
	/* the fd of event `event` on the i-th CPU of a perf session */
	int32_t (*perf_fd)(struct shark_perf *p, int32_t event, int32_t i)
		SHARK_IMPL(shark_perf__fd);
	/* before load: the number of entries of a map */
	int32_t (*bpf_map_resize)(struct shark_bpf *o, const char *name, uint32_t max)
		SHARK_IMPL(shark_bpf__map_resize);
	/* a socket filter on a raw packet socket of ifname (NULL: all); its fd, closed on detach */
	int32_t (*bpf_attach_socket)(struct shark_bpf *o, int32_t prog, const char *ifname)
		SHARK_IMPL(shark_bpf__attach_socket);
	/* "OFFSET NAME\n" lines of an ELF file's functions matching glob: bytes needed or -errno */
	int32_t (*sym_functions)(const char *path, const char *glob, char *buf, int32_t len)
		SHARK_IMPL(shark_sym_functions);
	/* a global variable of an ELF file: its address minus the file's load base, its size */
	int32_t (*sym_variable)(const char *path, const char *name, uint64_t *rel, uint64_t *size)
		SHARK_IMPL(shark_sym_variable);
	/* before load: whether program prog is loaded (all are by default) */
	int32_t (*bpf_autoload)(struct shark_bpf *o, const char *prog, int32_t on)
		SHARK_IMPL(shark_bpf__autoload);
	/* pprof: a gzipped profile.proto of p in *out (free with free_mem): 0 or -errno */
	int32_t (*pprof_encode)(const struct shark_pprof *p, void **out, uint64_t *len)
		SHARK_IMPL(shark_pprof_encode);
	/* gzipped or plain profile.proto -> p (pprof_free), or NULL and why in err */
	struct shark_pprof *(*pprof_decode)(const void *buf, uint64_t len, char *err, int32_t errlen)
		SHARK_IMPL(shark_pprof_decode);
	void (*pprof_free)(struct shark_pprof *p) SHARK_IMPL(shark_pprof_free);
	/* the mapping, module and build-id of ip (pid -1: kernel): 0 or -ENOENT */
	int32_t (*sym_frame)(int32_t pid, uint64_t ip, struct shark_frame_info *out)
		SHARK_IMPL(shark_sym_frame);
	/* setrlimit(2) of this process (an agent job's limits): 0 or -errno */
	int32_t (*set_rlimit)(int32_t resource, uint64_t soft, uint64_t hard)
		SHARK_IMPL(shark_set_rlimit);
	/* an OTLP ExportMetricsServiceRequest of r in *out (free with free_mem): 0 or -errno */
	int32_t (*otlp_encode)(const struct shark_otlp_request *r, void **out, uint64_t *len)
		SHARK_IMPL(shark_otlp_encode);
	/* an OTLP v1.5.0 ExportProfilesServiceRequest of r in *out (free_mem): 0 or -errno */
	int32_t (*otlp_profiles_encode)(const struct shark_otlp_profiles *r, void **out, uint64_t *len)
		SHARK_IMPL(shark_otlp_profiles_encode);

	/* SQLite: a thin layer over its C API (codes are SQLite's) */
	struct shark_db *(*db_open)(const char *path, char *err, int32_t errlen)
		SHARK_IMPL(shark_db__open);
	void (*db_close)(struct shark_db *db) SHARK_IMPL(shark_db__close);
	int32_t (*db_exec)(struct shark_db *db, const char *sql) SHARK_IMPL(shark_db__exec);
	const char *(*db_errmsg)(struct shark_db *db) SHARK_IMPL(shark_db__errmsg);
	/* NULL: see errmsg */
	struct shark_stmt *(*db_prepare)(struct shark_db *db, const char *sql)
		SHARK_IMPL(shark_db__prepare);
	int32_t (*db_bind_text)(struct shark_stmt *st, int32_t i, const char *s, int32_t len)
		SHARK_IMPL(shark_db__bind_text);
	int32_t (*db_bind_blob)(struct shark_stmt *st, int32_t i, const void *p, int64_t len)
		SHARK_IMPL(shark_db__bind_blob);
	int32_t (*db_bind_int64)(struct shark_stmt *st, int32_t i, int64_t v)
		SHARK_IMPL(shark_db__bind_int64);
	int32_t (*db_bind_double)(struct shark_stmt *st, int32_t i, double v)
		SHARK_IMPL(shark_db__bind_double);
	int32_t (*db_bind_null)(struct shark_stmt *st, int32_t i) SHARK_IMPL(shark_db__bind_null);
	int32_t (*db_step)(struct shark_stmt *st) SHARK_IMPL(shark_db__step);
	/* also clears the bindings */
	int32_t (*db_reset)(struct shark_stmt *st) SHARK_IMPL(shark_db__reset);
	void (*db_finalize)(struct shark_stmt *st) SHARK_IMPL(shark_db__finalize);
	int32_t (*db_column_count)(struct shark_stmt *st) SHARK_IMPL(shark_db__column_count);
	int32_t (*db_column_type)(struct shark_stmt *st, int32_t i)
		SHARK_IMPL(shark_db__column_type);
	const char *(*db_column_name)(struct shark_stmt *st, int32_t i)
		SHARK_IMPL(shark_db__column_name);
	int64_t (*db_column_int64)(struct shark_stmt *st, int32_t i)
		SHARK_IMPL(shark_db__column_int64);
	double (*db_column_double)(struct shark_stmt *st, int32_t i)
		SHARK_IMPL(shark_db__column_double);
	const void *(*db_column_bytes)(struct shark_stmt *st, int32_t i, int32_t *len)
		SHARK_IMPL(shark_db__column_bytes);
	int64_t (*db_last_id)(struct shark_db *db) SHARK_IMPL(shark_db__last_id);
	int32_t (*db_changes)(struct shark_db *db) SHARK_IMPL(shark_db__changes);
	/*
	 * A blocking HTTP request (http:// only) with a deadline: the response
	 * body's length (cut to resp_len - 1, NUL-terminated) and *status, or -errno
	 */
	int32_t (*http_request)(const char *method, const char *url, const char *headers, const void *body,
				uint64_t len, int32_t timeout_ms, char *resp, int32_t resp_len, int32_t *status)
		SHARK_IMPL(shark_http_request);
	/* give freed heap back to the system (a long-running server after a big request) */
	void (*trim_memory)(void) SHARK_IMPL(shark_trim_memory);
	/*
	 * Files shark writes: in a directory verified along its whole path (owned
	 * by root or us, not writable by others, no symlink), created O_EXCL.
	 * 0 or -errno; safe_error() says why in words.
	 */
	int32_t (*safe_dir)(const char *path, int32_t create) SHARK_IMPL(shark_safe_dir);
	int32_t (*safe_write)(const char *dir, const char *name, const void *buf, uint64_t len)
		SHARK_IMPL(shark_safe_write);
	/* free_mem() it */
	void *(*safe_read)(const char *dir, const char *name, uint64_t *len)
		SHARK_IMPL(shark_safe_read);
	int32_t (*safe_create)(const char *path, const void *buf, uint64_t len, uint32_t mode)
		SHARK_IMPL(shark_safe_create);
	const char *(*safe_error)(void) SHARK_IMPL(shark_safe_error);
	/* 1 when v is a process id (a whole number, 1 to SHARK_PID_MAX), else 0 */
	int32_t (*pid_valid)(double v) SHARK_IMPL(shark_pid_valid);
	/*
	 * the user call chain of a copied stack (PERF_SAMPLE_REGS_USER registers
	 * packed by mask, PERF_SAMPLE_STACK_USER bytes from sp), leaf first, into
	 * ips: the frame count or -errno. What a recorded sample needs offline.
	 */
	int32_t (*unwind_user)(int32_t pid, const uint64_t *regs, uint64_t mask, const void *stack,
			       uint64_t size, uint64_t *ips, int32_t max)
		SHARK_IMPL(shark_unwind__user);
	void (*unwind_stats)(struct shark_unwind_stats *st) SHARK_IMPL(shark_unwind__stats);
	/* put a CPython 3.11 thread's Python frames into its unwound chain: the new count */
	int32_t (*lang_frames)(int32_t pid, int32_t tid, uint64_t *ips, int32_t n, int32_t max)
		SHARK_IMPL(shark_py__splice);
	/* journals (shark record / report / replay): 0 or -errno unless said */
	/* 32 bytes */
	int32_t (*journal_key_load)(const char *path, uint8_t *key)
		SHARK_IMPL(shark_journal_key_load);
	struct shark_journal *(*journal_create)(const char *path, const uint8_t *key, int32_t level)
		SHARK_IMPL(shark_journal__create);
	int32_t (*journal_meta)(struct shark_journal *j, const char *text, uint32_t len)
		SHARK_IMPL(shark_journal__meta);
	int32_t (*journal_samples)(struct shark_journal *j, uint32_t base, const struct shark_sample *s,
				   int32_t n) SHARK_IMPL(shark_journal__samples);
	int32_t (*journal_records)(struct shark_journal *j, uint32_t ring, const struct shark_record *r,
				   int32_t n, uint64_t time) SHARK_IMPL(shark_journal__records);
	void (*journal_stats)(struct shark_journal *j, struct shark_journal_stats *st)
		SHARK_IMPL(shark_journal__stats);
	int32_t (*journal_close)(struct shark_journal *j) SHARK_IMPL(shark_journal__close);
	void (*journal_free)(struct shark_journal *j) SHARK_IMPL(shark_journal__free);
	struct shark_jreader *(*jreader_open)(const char *path, const uint8_t *key, int32_t salvage)
		SHARK_IMPL(shark_jreader__open);
	int32_t (*jreader_check)(struct shark_jreader *r) SHARK_IMPL(shark_jreader__check);
	/* 1, 0 (end), 2 (skipped), -errno */
	int32_t (*jreader_next)(struct shark_jreader *r, struct shark_jchunk *c)
		SHARK_IMPL(shark_jreader__next);
	int32_t (*jreader_samples)(struct shark_jreader *r, struct shark_sample *batch, int32_t max)
		SHARK_IMPL(shark_jreader__samples);
	int32_t (*jreader_records)(struct shark_jreader *r, struct shark_record *batch, uint32_t *rings,
				   double *times, int32_t max) SHARK_IMPL(shark_jreader__records);
	const char *(*jreader_error)(struct shark_jreader *r) SHARK_IMPL(shark_jreader__error);
	/* where a cut journal ended */
	const char *(*jreader_note)(struct shark_jreader *r) SHARK_IMPL(shark_jreader__note);
	void (*jreader_stats)(struct shark_jreader *r, struct shark_jreader_stats *st)
		SHARK_IMPL(shark_jreader__stats);
	void (*jreader_free)(struct shark_jreader *r) SHARK_IMPL(shark_jreader__free);
	/* shark stat: counting events, a held child */
	/* an fd or -errno */
	int32_t (*count_open)(const struct shark_count_attr *a) SHARK_IMPL(shark_count__open);
	/* value, time enabled, time running */
	int32_t (*count_read)(int32_t fd, uint64_t *vals) SHARK_IMPL(shark_count__read);
	int32_t (*count_enable)(int32_t fd, int32_t on) SHARK_IMPL(shark_count__enable);
	int32_t (*fd_close)(int32_t fd) SHARK_IMPL(shark_fd_close);
	/* a held child's pid or -errno */
	int32_t (*child_spawn)(const char *const *argv) SHARK_IMPL(shark_child__spawn);
	/* let it exec: 0 or -errno (why exec failed) */
	int32_t (*child_release)(int32_t pid) SHARK_IMPL(shark_child__release);
	/* 1 and *status when it exited, 0 after timeout_ms (-1: wait), -errno (-EINTR on a signal) */
	int32_t (*child_wait)(int32_t pid, int32_t timeout_ms, int32_t *status)
		SHARK_IMPL(shark_child__wait);
	/* -c CMD / -p PID of a subcommand, as shark's own -c and -p */
	int32_t (*target_spawn)(const char *cmd) SHARK_IMPL(shark_target__spawn);
	int32_t (*target_watch)(int32_t pid) SHARK_IMPL(shark_target__watch);
	/* the GNU build-id of an ELF file, as hex into buf: its length or -errno */
	int32_t (*build_id)(const char *path, char *buf, int32_t len) SHARK_IMPL(shark_build_id);
	/* "START END PGOFF PATH\n" (hex) per file mapping known for pid, also after it exited: bytes needed */
	int32_t (*sym_maps)(int32_t pid, char *buf, int32_t len) SHARK_IMPL(shark_sym_maps);
	/*
	 * drop the processes, files and symbol tables not used in the last keep
	 * sweeps (an always-on profiler, after each window); sym_frame's strings
	 * are valid until the next sweep
	 */
	void (*sym_sweep)(int32_t keep) SHARK_IMPL(shark_sym_sweep);
	void (*sym_stats)(struct shark_sym_stats *st) SHARK_IMPL(shark_sym_stats);
	/*
	 * name the kernel addresses ips in one pass over /proc/kallsyms (not
	 * keeping it), for symbolize until the next sym_sweep: the count, -errno
	 */
	int32_t (*sym_kernel_names)(const uint64_t *ips, int32_t n) SHARK_IMPL(shark_sym_kernel_names);
	/* read and delete one entry of a hash map at once: 0, -ENOENT or -errno */
	int32_t (*bpf_map_take)(int32_t fd, const void *key, void *value)
		SHARK_IMPL(shark_bpf_map_take);
	/* runs of program prog the kernel skipped (a BPF program ran on the CPU), or -errno */
	int64_t (*bpf_prog_misses)(struct shark_bpf *o, int32_t prog)
		SHARK_IMPL(shark_bpf__prog_misses);
	/* tracepoint records of bpf/tpring.bpf.c as samples (names[event] their names) */
	int32_t (*ringbuf_read_tp)(struct shark_ringbuf *r, struct shark_sample *batch, int32_t max,
				   const char *const *names, int32_t nnames) SHARK_IMPL(shark_ringbuf__read_tp);
	/* attach prog to tracepoint sys:name with a BPF cookie */
	int32_t (*bpf_attach_tracepoint_cookie)(struct shark_bpf *o, int32_t prog, const char *sys,
						const char *name, uint64_t cookie)
		SHARK_IMPL(shark_bpf__attach_tracepoint_cookie);
	/* benchmarks: the unread records of a ring; a ring over such a copy, rewound at will */
	int32_t (*ringbuf_snapshot)(struct shark_ringbuf *r, uint8_t *buf, int32_t len)
		SHARK_IMPL(shark_ringbuf__snapshot);
	struct shark_ringbuf *(*ringbuf_replay)(const uint8_t *buf, int32_t len) SHARK_IMPL(shark_ringbuf__replay);
	void (*ringbuf_rewind)(struct shark_ringbuf *r) SHARK_IMPL(shark_ringbuf__rewind);
	/* an fd readable once per wake-up of the ring (edge-triggered), or -errno */
	int32_t (*ringbuf_poll_fd)(struct shark_ringbuf *r) SHARK_IMPL(shark_ringbuf__poll_fd);
	/*
	 * a ring buffer map of @bytes made and mapped on a thread (start-up):
	 * start (NULL, errno set), its fd once made (waits; -errno), the ring
	 * once mapped (waits; the caller's, freed before the prep; NULL, errno
	 * set), free (joins the thread, closes the fd)
	 */
	struct shark_ringprep *(*ringprep_start)(uint32_t bytes) SHARK_IMPL(shark_ringprep__start);
	int32_t (*ringprep_fd)(struct shark_ringprep *p) SHARK_IMPL(shark_ringprep__fd);
	struct shark_ringbuf *(*ringprep_ring)(struct shark_ringprep *p) SHARK_IMPL(shark_ringprep__ring);
	void (*ringprep_free)(struct shark_ringprep *p) SHARK_IMPL(shark_ringprep__free);
	/* make map @name of the object (not loaded yet) the map of @fd: 0 or -errno */
	int32_t (*bpf_map_reuse)(struct shark_bpf *o, const char *name, int32_t fd)
		SHARK_IMPL(shark_bpf__map_reuse);
	/*
	 * double-buffered counts (bpf/template.bpf.h): flip *window, wait until
	 * no program adds to the other map (busy[other] == 0): that index, now
	 * idle, or -EBUSY (a program held it for a second)
	 */
	int32_t (*bpf_switch)(uint32_t *window, uint64_t *busy) SHARK_IMPL(shark_bpf_switch);
};

#endif /* SHARK_API_H */
