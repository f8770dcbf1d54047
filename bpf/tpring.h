/* SPDX-License-Identifier: GPL-2.0 */
/* tpring.h - tracepoint records copied into a BPF ring buffer at event time (bpf/tpring.bpf.c). */
#ifndef SHARK_TPRING_H
#define SHARK_TPRING_H

enum shark_tpring_limits {
	SHARK_TP_RAW_MAX = 2048,	/* bytes of a record's fixed part and __data_loc data */
	SHARK_TP_STR_MAX = 1024,	/* bytes of one user string, its NUL included */
	SHARK_TP_NSTR = 4,		/* user-string fields read per record */
	SHARK_TP_NLOC = 2,		/* __data_loc fields whose data is copied */
	SHARK_TP_MAX_FRAMES = 127,	/* per side (kernel, user) */
	SHARK_TP_ROUTED = 2048,		/* with routes, conf keys below are raw_syscalls' (enter 0.., exit 1024..) */
	SHARK_TP_CONF = 4096,		/* entries of the conf map */
	SHARK_TP_SMALL = 64,		/* records of at most this size go in place (deliver_small) */
	SHARK_TP_NCPU = 256,
	SHARK_TP_NONE = 0x7fffffff,	/* no conf key */		/* CPUs with a byte count of their own (more share them) */
	SHARK_TP_NAME = 0xffffffff,	/* shark_tprec.event of a name record (struct shark_tpname) */
};

/* What the program does for one tracepoint (conf map, keyed by the attach cookie). */
struct shark_tpconf {
	__u32 event;		/* index of the event in its perf.on handle, plus 1; 0: not traced */
	__u16 size;		/* bytes of the record's fixed part */
	__u16 type;		/* the tracepoint's id (common_type) */
	__u16 str_off[4];	/* offsets of `const char *` user-string fields */
	__u16 loc_off[2];	/* offsets of __data_loc fields */
	__u8 nstr;
	__u8 nloc;
	__u8 pad[6];
};

/*
 * One record in the ring: this header (no task name: reading it costs a
 * tenth of the record; names of exited processes are kept in `gone`), the tracepoint record (raw_size bytes,
 * user strings appended; each string field then holds (len << 32) | offset
 * from the start of raw), then nr_ips callchain words at ips_off.
 */
struct shark_tprec {
	__u64 time;		/* CLOCK_MONOTONIC ns */
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u32 event;
	__u32 raw_size;
	__u16 nr_ips;
	__u16 ips_off;		/* from the start of this header */
	__u32 pad;
};

/*
 * A traced thread renamed itself (prctl, pthread_setname_np), exec'd or
 * exits: the raw part of a record whose event is SHARK_TP_NAME, pid/tid its. The
 * ring orders it among the thread's events, so the reader knows each
 * event's name without a copy of it per event.
 */
enum shark_tpname_flags {
	SHARK_TPNAME_EXIT = 1,		/* shark_tprec.pad of a name record: the thread exits (its last name) */
};

struct shark_tpname {
	char oldcomm[16];
	char newcomm[16];
};

/* The name of a traced process that exited (the `gone` map, keyed by pid). */
struct shark_tpgone {
	char comm[16];
};

#endif /* SHARK_TPRING_H */
