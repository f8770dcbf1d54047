/* SPDX-License-Identifier: GPL-2.0 */
/* shark_cross.bpf.h - arm64 types a vmlinux.h made from another architecture's BTF lacks. */
#ifndef SHARK_CROSS_BPF_H
#define SHARK_CROSS_BPF_H

/*
 * Included first (clang -include) when BPF C is compiled for arm64 against
 * the vmlinux.h of this machine's x86 kernel: a cross build (make ARCH=arm64,
 * shark bundle --arch arm64). CO-RE relocates kernel structs by name on the
 * target's BTF, but it cannot invent a type the source's BTF does not have:
 * bpf_tracing.h's arm64 PT_REGS_*() read struct user_pt_regs, which x86's
 * BTF lacks. It is uapi (arch/arm64/include/uapi/asm/ptrace.h), the head of
 * the kernel's struct pt_regs on every arm64 kernel: declared here, plain
 * (no preserve_access_index): its offsets are ABI.
 */
#if defined(__TARGET_ARCH_arm64) && defined(SHARK_FOREIGN_BTF)
struct user_pt_regs {
	unsigned long long regs[31];
	unsigned long long sp;
	unsigned long long pc;
	unsigned long long pstate;
};
#endif

#endif /* SHARK_CROSS_BPF_H */
