/* SPDX-License-Identifier: GPL-2.0 */
/* unwind.h - user stacks from a copy of the stack and registers, unwound with the files' .eh_frame. */
#ifndef SHARK_UNWIND_H
#define SHARK_UNWIND_H

#include <stdint.h>
#include "shark_api.h"

/*
 * perf's x86-64 register numbers (arch/x86/include/uapi/asm/perf_regs.h):
 * unwinding is x86-64's only; elsewhere shark_unwind__user() gives -EOPNOTSUPP.
 */
#if defined(__x86_64__)
#define SHARK_UNWIND_ARCH 1
#else
#define SHARK_UNWIND_ARCH 0
#endif

enum shark_unwind_reg {
	SHARK_REG_AX, SHARK_REG_BX, SHARK_REG_CX, SHARK_REG_DX, SHARK_REG_SI, SHARK_REG_DI,
	SHARK_REG_BP, SHARK_REG_SP, SHARK_REG_IP, SHARK_REG_FLAGS, SHARK_REG_CS, SHARK_REG_SS,
	SHARK_REG_R8 = 16, SHARK_REG_R15 = 23, SHARK_NREGS = 24,
};

/**
 * shark_unwind__user() - the user call chain of a sample, leaf first.
 * @pid: the process, for its mappings (and files through /proc/PID/root)
 * @regs: the sampled registers, packed as the kernel writes them (bits of @mask)
 * @mask: PERF_SAMPLE_REGS_USER bits @regs holds
 * @stack: the copy of the user stack from the sampled sp
 * @size: its bytes
 * @ips: out: return addresses, the sampled ip first
 * @max: room in @ips
 *
 * Unwind tables are read from each file's .eh_frame_hdr/.eh_frame, loaded
 * once per build-id and shared by every process that maps the file.
 * Return: the number of frames (0 when ip or sp are missing), or -errno.
 */
int32_t shark_unwind__user(int32_t pid, const uint64_t *regs, uint64_t mask, const void *stack, uint64_t size,
			   uint64_t *ips, int32_t max);

void shark_unwind__stats(struct shark_unwind_stats *st);

#endif /* SHARK_UNWIND_H */
