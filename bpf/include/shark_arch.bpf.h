/* SPDX-License-Identifier: GPL-2.0 */
/* shark_arch.bpf.h - what differs by CPU architecture on the BPF side, in one place. */
#ifndef SHARK_ARCH_BPF_H
#define SHARK_ARCH_BPF_H

/*
 * The Makefile's BPF_ARCH (prebuilt programs) and lua/shark/arch.lua (BPF C
 * compiled at run time) define __TARGET_ARCH_<arch>, which bpf_tracing.h's
 * PT_REGS_PARM*() also need. A new architecture adds a case here and a line
 * in each of those two.
 *
 * shark_arg_offset(i): the offset in struct pt_regs of argument i (0..4) of a
 * probed function, and of its return value for i >= 5. An offset, not a read
 * through ctx: the verifier refuses a variable offset into ctx, so callers
 * read a copy with bpf_probe_read_kernel(). No CO-RE: pt_regs is ABI.
 */
/*
 * shark_syscall_arg_offset(i): the offset in struct pt_regs of argument i
 * (0..5) of a system call at sys_enter; shark_syscall_nr_offset(): of its
 * number (an int), still there at sys_exit; SHARK_SYSCALL_REGS: the bytes of
 * pt_regs that hold them (raw_syscalls through raw tracepoints). arm64's are
 * given from struct user_pt_regs, the uapi head of its pt_regs, so that a
 * cross build against another architecture's vmlinux.h compiles them.
 */
#if defined(__TARGET_ARCH_x86)
static __always_inline unsigned long shark_syscall_arg_offset(__u32 i)
{
	switch (i) {
	case 0: return __builtin_offsetof(struct pt_regs, di);
	case 1: return __builtin_offsetof(struct pt_regs, si);
	case 2: return __builtin_offsetof(struct pt_regs, dx);
	case 3: return __builtin_offsetof(struct pt_regs, r10);
	case 4: return __builtin_offsetof(struct pt_regs, r8);
	default: return __builtin_offsetof(struct pt_regs, r9);
	}
}

static __always_inline unsigned long shark_syscall_nr_offset(void)
{
	return __builtin_offsetof(struct pt_regs, orig_ax);
}

#define SHARK_SYSCALL_REGS sizeof(struct pt_regs)

static __always_inline unsigned long shark_arg_offset(__u32 i)
{
	switch (i) {
	case 0: return __builtin_offsetof(struct pt_regs, di);
	case 1: return __builtin_offsetof(struct pt_regs, si);
	case 2: return __builtin_offsetof(struct pt_regs, dx);
	case 3: return __builtin_offsetof(struct pt_regs, cx);
	case 4: return __builtin_offsetof(struct pt_regs, r8);
	default: return __builtin_offsetof(struct pt_regs, ax);
	}
}
#elif defined(__TARGET_ARCH_arm64)
/* pt_regs: user_pt_regs, then u64 orig_x0 (argument 0 as the call began), then s32 syscallno */
static __always_inline unsigned long shark_syscall_arg_offset(__u32 i)
{
	return i == 0 ? sizeof(struct user_pt_regs) :
	       __builtin_offsetof(struct user_pt_regs, regs[0]) + (i < 6 ? i : 5) * sizeof(__u64);
}

static __always_inline unsigned long shark_syscall_nr_offset(void)
{
	return sizeof(struct user_pt_regs) + sizeof(__u64);
}

#define SHARK_SYSCALL_REGS (sizeof(struct user_pt_regs) + 2 * sizeof(__u64))

/* x0..x4, the return value in x0; struct user_pt_regs heads arm64's pt_regs (shark_cross.bpf.h) */
static __always_inline unsigned long shark_arg_offset(__u32 i)
{
	return __builtin_offsetof(struct user_pt_regs, regs[0]) + (i < 5 ? i : 0) * sizeof(__u64);
}
#else
#error "shark: no pt_regs argument offsets for this architecture (bpf/include/shark_arch.bpf.h)"
#endif

#endif /* SHARK_ARCH_BPF_H */
