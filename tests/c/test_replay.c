// SPDX-License-Identifier: GPL-2.0
/*
 * test_replay.c - the ring decoder on records written here, read through
 * shark_perf__replay: a routed syscall, a record that wraps the ring's end,
 * LOST and MMAP2. The session is a real one (raw_syscalls:sys_enter on this
 * process, never enabled), so the decoder sees the kernel's ids and layout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "shark.h"

/* a record buffer, filled in 8-byte words like the kernel's */
struct rec {
	uint64_t w[128];
	int n;
};

static void put(struct rec *r, uint64_t v)
{
	r->w[r->n++] = v;
}

static void put2(struct rec *r, uint32_t lo, uint32_t hi)
{
	put(r, (uint64_t)hi << 32 | lo);
}

/* the header of the record begun at word @at, once its words are in */
static void close_rec(struct rec *r, int at, uint32_t type)
{
	struct perf_event_header h = { .type = type, .misc = 0, .size = (uint16_t)((r->n - at) * 8) };

	memcpy(&r->w[at], &h, sizeof(h));
}

/*
 * A sample of the carrier as perf.c asks for it (IDENTIFIER, IP, TID, TIME,
 * CPU, PERIOD, RAW) whose raw_syscalls:sys_enter record has syscall @nr.
 */
static void add_sample(struct rec *r, uint64_t id, uint32_t pid, uint64_t time, long nr)
{
	int at = r->n;
	uint8_t raw[68] = { 0 };	/* common fields, long id, long args[6]; 4 + 68 is 8-aligned */

	put(r, 0);		/* header */
	put(r, id);
	put(r, 0x401000);	/* ip */
	put2(r, pid, pid + 1);	/* pid, tid */
	put(r, time);
	put2(r, 1, 0);		/* cpu */
	put(r, 1);		/* period */
	memcpy(raw + 8, &nr, sizeof(nr));
	memcpy(raw + 16, &time, sizeof(time));	/* args[0]: something to find again */
	r->w[r->n] = sizeof(raw);		/* the u32 size, then the record */
	memcpy((uint8_t *)&r->w[r->n] + 4, raw, sizeof(raw));
	r->n += (4 + (int)sizeof(raw)) / 8;
	close_rec(r, at, PERF_RECORD_SAMPLE);
}

static void add_lost(struct rec *r, uint64_t id, uint64_t lost)
{
	int at = r->n;

	put(r, 0);
	put(r, id);
	put(r, lost);
	close_rec(r, at, PERF_RECORD_LOST);
}

/* PERF_RECORD_MMAP2 of @len bytes of @file at @start, executable */
static void add_mmap2(struct rec *r, uint32_t pid, uint64_t start, uint64_t len, const char *file)
{
	int at = r->n;
	char name[64] = { 0 };

	put(r, 0);
	put2(r, pid, pid);
	put(r, start);
	put(r, len);
	put(r, 0);		/* pgoff */
	put2(r, 0, 0);		/* maj, min */
	put(r, 0);		/* ino */
	put(r, 0);		/* ino_generation */
	put2(r, 5, 2);		/* prot: PROT_READ | PROT_EXEC, flags: MAP_PRIVATE */
	memcpy(name, file, strnlen(file, sizeof(name) - 1));	/* the caller keeps it short */
	memcpy(&r->w[r->n], name, sizeof(name));
	r->n += (int)sizeof(name) / 8;
	close_rec(r, at, PERF_RECORD_MMAP2);
}

/* PERF_RECORD_COMM of @tid (of @pid) named @comm at @time, with sample_id_all's trailer */
static void add_comm(struct rec *r, uint64_t id, uint32_t pid, uint32_t tid, uint64_t time, const char *comm)
{
	int at = r->n;
	char name[16] = { 0 };

	put(r, 0);
	put2(r, pid, tid);
	memcpy(name, comm, strnlen(comm, sizeof(name) - 1));
	memcpy(&r->w[r->n], name, sizeof(name));
	r->n += (int)sizeof(name) / 8;
	put2(r, pid, tid);	/* sample_id: tid, time, cpu, identifier */
	put(r, time);
	put2(r, 1, 0);
	put(r, id);
	close_rec(r, at, PERF_RECORD_COMM);
}

static struct shark_perf *session(uint64_t *id)
{
	struct shark_perf_opts o = { .pid = getpid(), .cgroup_fd = -1, .mmap_pages = 1, .track_comm = 1 };
	struct shark_perf_event carrier = { .name = "raw_syscalls:sys_enter", .type = PERF_TYPE_TRACEPOINT, .raw = 1 };
	struct shark_perf_event routed = { .name = "syscalls:sys_enter_getppid", .routed = 1, .via = 0,
					   .nr = SYS_getppid };
	struct shark_perf *p;
	int tp = shark_tp__id("raw_syscalls", "sys_enter");

	if (tp < 0)
		return NULL;
	carrier.config = (uint64_t)tp;
	p = shark_perf__new(&o);
	if (!p)
		return NULL;
	if (shark_perf__add(p, &carrier) != 0 || shark_perf__add(p, &routed) != 1 ||
	    ioctl(shark_perf__fd(p, 0, 0), PERF_EVENT_IOC_ID, id)) {
		printf("# %s\n", shark_perf__error(p));
		shark_perf__free(p);
		return NULL;
	}
	return p;
}

static void test_routed(struct shark_perf *p, uint64_t id)
{
	struct shark_sample s[8];
	struct rec r = { .n = 0 };
	uint64_t arg = 0;
	int32_t n;

	add_sample(&r, id, 4242, 1000, SYS_getppid);
	add_sample(&r, id, 4242, 2000, SYS_getpid);	/* not asked for: dropped */
	add_sample(&r, id, 4243, 3000, SYS_getppid);
	ok(!shark_perf__replay_at(p, (const uint8_t *)r.w, r.n * 8, 0), "replay of three samples");
	n = shark_perf__read(p, s, 8);
	shark_perf__consume(p);
	is_int(n, 2, "the routed syscall's two samples, the other syscall dropped");
	is_str(n > 0 ? s[0].name : NULL, "syscalls:sys_enter_getppid", "delivered as the routed event");
	is_int(n > 0 ? (int)s[0].event : -1, 1, "with the routed event's index");
	ok(n == 2 && s[0].pid == 4242 && s[0].tid == 4243 && s[1].pid == 4243 && s[0].time == 1000 &&
	   s[1].time == 3000 && s[0].cpu == 1, "pid, tid, time and cpu decoded");
	/* raw is 4 bytes past an 8-aligned size: its u64s are read unaligned (UBSan) */
	if (n > 0)
		memcpy(&arg, (const uint8_t *)s[0].raw + 16, sizeof(arg));
	ok(n > 0 && s[0].raw_size == 68 && arg == 1000, "raw points at the tracepoint record");
}

static void test_wrap(struct shark_perf *p, uint64_t id)
{
	struct shark_sample s[8];
	struct shark_perf_stats before, after;
	struct rec r = { .n = 0 };
	uint64_t arg = 0;
	int32_t n, m;

	add_sample(&r, id, 7, 10, SYS_getppid);
	add_sample(&r, id, 7, 20, SYS_getppid);
	shark_perf__stats(p, &before);
	/* the first record starts 40 bytes before the end of the 4 KiB ring */
	ok(!shark_perf__replay_at(p, (const uint8_t *)r.w, r.n * 8, 4096 - 40), "replay across the ring's end");
	n = shark_perf__read(p, s, 8);
	if (n > 0)
		memcpy(&arg, (const uint8_t *)s[0].raw + 16, sizeof(arg));
	ok(n == 1 && s[0].time == 10 && s[0].pid == 7 && s[0].raw_size == 68 && arg == 10,
	   "the wrapped record decodes whole, and ends the batch");
	shark_perf__consume(p);
	m = shark_perf__read(p, s, 8);
	shark_perf__consume(p);
	ok(m == 1 && s[0].time == 20, "the next read goes on after it");
	shark_perf__stats(p, &after);
	is_int(after.wraps - before.wraps, 1, "one wrapped record counted");
}

static void test_lost(struct shark_perf *p, uint64_t id)
{
	struct shark_sample s[8];
	struct shark_perf_stats before, after;
	struct rec r = { .n = 0 };

	add_lost(&r, id, 7);
	add_sample(&r, id, 9, 30, SYS_getppid);
	add_lost(&r, id, 5);
	shark_perf__stats(p, &before);
	shark_perf__replay_at(p, (const uint8_t *)r.w, r.n * 8, 0);
	is_int(shark_perf__read(p, s, 8), 1, "LOST records are not samples");
	shark_perf__consume(p);
	shark_perf__stats(p, &after);
	is_int(after.lost - before.lost, 12, "LOST records add up what the kernel dropped");
	is_int(after.lost_records - before.lost_records, 2, "and are counted themselves");
}

/*
 * MMAP2 of the C library into a sleeping child, at an address where nothing
 * is mapped: getppid's frame there is named from the file (a shared object,
 * so file offsets become addresses through its segments).
 */
static void test_mmap2(struct shark_perf *p)
{
	struct shark_sample s[8];
	struct rec r = { .n = 0 };
	char name[128] = "";
	uint64_t start = 0x10000000;
	Dl_info di;
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	if (child < 0 || !dladdr((void *)getppid, &di) || !di.dli_fname || strlen(di.dli_fname) > 60) {
		ok(0, "MMAP2 set-up: fork, dladdr of getppid");
		if (child > 0)
			kill(child, SIGKILL);
		return;
	}
	add_mmap2(&r, (uint32_t)child, start, 64 << 20, di.dli_fname);
	shark_perf__replay_at(p, (const uint8_t *)r.w, r.n * 8, 0);
	is_int(shark_perf__read(p, s, 8), 0, "an MMAP2 record is no sample");
	shark_perf__consume(p);
	shark_symbolize(child, start + (uint64_t)((uintptr_t)getppid - (uintptr_t)di.dli_fbase), name,
			sizeof(name));
	ok(strstr(name, "getppid") != NULL, "MMAP2: the child's frame in the mapped %s is named after it (%s)",
	   di.dli_fname, name);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/*
 * Name records (renames, execs) arrive in ring order, which is not time
 * order across CPUs: each sample is named by the record timed last before it.
 */
static void test_comm(struct shark_perf *p, uint64_t id)
{
	struct shark_sample s[8];
	struct rec r = { .n = 0 };
	int32_t n;

	add_sample(&r, id, 5000, 150, SYS_getppid);	/* tid 5001 */
	add_comm(&r, id, 5000, 5001, 200, "late");	/* a later name read first */
	add_comm(&r, id, 5000, 5001, 100, "early");
	add_sample(&r, id, 5000, 250, SYS_getppid);
	add_sample(&r, id, 5000, 50, SYS_getppid);
	add_comm(&r, id, 6000, 6000, 100, "proc");
	add_sample(&r, id, 6000, 150, SYS_getppid);	/* tid 6001: never renamed itself */
	shark_perf__replay_at(p, (const uint8_t *)r.w, r.n * 8, 0);
	/* a batch of one: the records after it are not read yet, but applied when asked */
	n = shark_perf__read(p, s, 1);
	is_str(n == 1 ? shark_perf__comm(p, 5000, 5001, s[0].time) : NULL, "early",
	       "a sample before the name records, a later name first: the name then");
	shark_perf__consume(p);
	n = shark_perf__read(p, s, 8);
	shark_perf__consume(p);
	if (!is_int(n, 3, "three more samples among the name records"))
		return;
	is_str(shark_perf__comm(p, 5000, 5001, s[0].time), "late", "after both: the later name");
	ok(shark_perf__comm(p, 5000, 5001, s[1].time) == NULL,
	   "before any name record: unknown (the process's name is looked up)");
	is_str(shark_perf__comm(p, 6000, 6001, s[2].time), "proc",
	       "a thread without records of its own: its process's name then");
}

void test_replay(void)
{
	uint64_t id = 0;
	struct shark_perf *p = session(&id);

	/* tracepoints work on every machine shark targets (MACHINE.md): no SKIP but under qemu-user */
	if (!p && errno == ENOSYS && tap_qemu_user()) {
		tap_skip("test_replay (routed syscalls, wrap, lost, MMAP2): %s implements no perf_event_open; "
			 "it needs an arm64 kernel", tap_qemu_user());
		return;
	}
	if (!ok(p != NULL, "a session on raw_syscalls:sys_enter with a routed syscall (%s)", strerror(errno)))
		return;
	test_routed(p, id);
	test_wrap(p, id);
	test_lost(p, id);
	test_mmap2(p);
	test_comm(p, id);
	shark_perf__free(p);
}
