/* SPDX-License-Identifier: GPL-2.0 */
/* template.h - what shark's prebuilt BPF programs share with Lua: keys, knobs. */
#ifndef SHARK_TEMPLATE_H
#define SHARK_TEMPLATE_H

/* What a count or histogram is keyed by (cfg_key). */
enum shark_key_kind {
	SHARK_KEY_NONE = 0,
	SHARK_KEY_PID = 1,	/* process (tgid) */
	SHARK_KEY_TID = 2,	/* thread */
	SHARK_KEY_COMM = 3,	/* command name */
	SHARK_KEY_CPU = 4,
	SHARK_KEY_FIELD = 5,	/* an integer field of the tracepoint record, or a probe argument */
	SHARK_KEY_KSTACK = 6,	/* kernel stack */
	SHARK_KEY_USTACK = 7,	/* user stack */
	SHARK_KEY_STACKS = 8,	/* kernel and user stack */
};

/* A filter on an integer field of the record: `field OP value` (cfg_where). */
enum shark_where_op {
	SHARK_WHERE_NONE = 0,
	SHARK_WHERE_EQ = 1,
	SHARK_WHERE_NE = 2,
	SHARK_WHERE_LT = 3,
	SHARK_WHERE_LE = 4,
	SHARK_WHERE_GT = 5,
	SHARK_WHERE_GE = 6,
};

/* The key of every template map: one layout whatever the key kind. */
struct shark_key {
	__u64 num;		/* pid, tid, cpu or field value */
	__s64 kstack;		/* stack ids (shark_stack_id), -1 when none, < -1: see SHARK_STACKS */
	__s64 ustack;
	__u32 pid;		/* the process of a stack (user symbols); a heat map's interval */
	__u32 slot;		/* histogram bucket */
	char comm[16];
};

#endif /* SHARK_TEMPLATE_H */
