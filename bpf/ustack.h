/* SPDX-License-Identifier: GPL-2.0 */
/* ustack.h - records of user stack copies a BPF program hands shark to unwind (DWARF, in user space). */
#ifndef SHARK_USTACK_H
#define SHARK_USTACK_H

enum shark_ustack_const {
	SHARK_USTACK_BYTES = 8192,	/* the top of the user stack copied, as perf's default */
	SHARK_USTACK_CHUNK = 512,	/* copied in pieces: a stack ends somewhere in the last one */
	SHARK_USTACK_NREGS = 20,	/* SHARK_UNWIND_REGS_MASK's registers, in its bit order */
	SHARK_USTACK_BLOCKED = 0,	/* a thread left the CPU: its stacks */
	SHARK_USTACK_BACK = 1,		/* it ran again: how long it was away */
};

/* A SHARK_USTACK_BACK record is only this header. */
struct shark_ustack_head {
	__u32 kind;
	__u32 pid;		/* process (tgid) */
	__u32 tid;
	__u32 pad;
	__s64 kstack;		/* kernel stack id in the object's stacks map (SHARK_STACKS), < 0: none */
	__u64 ns;		/* BACK: time away */
};

struct shark_ustack_rec {
	struct shark_ustack_head h;
	__u32 size;		/* stack bytes copied from sp */
	__u32 pad;
	char comm[16];		/* the task's name then: it may be gone when the record is read */
	__u64 regs[SHARK_USTACK_NREGS];
	__u8 stack[SHARK_USTACK_BYTES];
};

#endif /* SHARK_USTACK_H */
