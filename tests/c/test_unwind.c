// SPDX-License-Identifier: GPL-2.0
/* test_unwind.c - the DWARF unwinder on this process's own stack: registers and a copy, as a sample has them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "tap.h"
#include "shark.h"
#include "unwind.h"
#include "pyframes.h"

struct snap {
	uint64_t regs[SHARK_NREGS];	/* packed in mask order */
	uint8_t stack[8192];
	uint64_t size;
};

/*
 * Take what PERF_SAMPLE_REGS_USER and PERF_SAMPLE_STACK_USER would: the
 * registers at one instruction of this function and the stack above sp,
 * copied with process_vm_readv so a short stack cannot fault.
 */
#if SHARK_UNWIND_ARCH
__attribute__((noinline)) static int unwind_snap(struct snap *s)
{
	uint64_t r[SHARK_NREGS] = { 0 };
	struct iovec local, remote;
	ssize_t got;
	int k = 0;

	__asm__ volatile("lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, %c[ip](%[r])\n\t"
			 "mov %%rsp, %c[sp](%[r])\n\t"
			 "mov %%rbp, %c[bp](%[r])\n\t"
			 "mov %%rbx, %c[bx](%[r])\n\t"
			 "mov %%r12, %c[r12](%[r])\n\t"
			 "mov %%r13, %c[r13](%[r])\n\t"
			 "mov %%r14, %c[r14](%[r])\n\t"
			 "mov %%r15, %c[r15](%[r])\n\t"
			 :
			 : [r] "r"(r), [ip] "i"(SHARK_REG_IP * 8), [sp] "i"(SHARK_REG_SP * 8),
			   [bp] "i"(SHARK_REG_BP * 8), [bx] "i"(SHARK_REG_BX * 8),
			   [r12] "i"((SHARK_REG_R8 + 4) * 8), [r13] "i"((SHARK_REG_R8 + 5) * 8),
			   [r14] "i"((SHARK_REG_R8 + 6) * 8), [r15] "i"((SHARK_REG_R8 + 7) * 8)
			 : "rax", "memory");
	for (int i = 0; i < SHARK_NREGS; i++)
		if (SHARK_UNWIND_REGS_MASK & (1ull << i))
			s->regs[k++] = r[i];
	local.iov_base = s->stack;
	local.iov_len = sizeof(s->stack);
	remote.iov_base = (void *)r[SHARK_REG_SP];
	remote.iov_len = sizeof(s->stack);
	got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	s->size = got > 0 ? (uint64_t)got : 0;
	return k;
}

__attribute__((noinline)) static int unwind_mid(struct snap *s, int depth)
{
	volatile int pad[16];
	int k;

	pad[depth & 15] = depth;
	k = unwind_snap(s);
	return k + pad[depth & 15] - depth;
}

__attribute__((noinline)) static int unwind_outer(struct snap *s, int depth)
{
	volatile long pad[4];

	pad[depth & 3] = depth;
	return unwind_mid(s, depth + 1) + (int)(pad[depth & 3] - depth);
}

static int find(char (*names)[128], int n, const char *want)
{
	for (int i = 0; i < n; i++)
		if (strstr(names[i], want))
			return i;
	return -1;
}

void test_unwind(void)
{
	struct snap *s = calloc(1, sizeof(*s));
	struct shark_unwind_stats st;
	uint64_t ips[64];
	char (*names)[128] = calloc(64, 128);
	int n, a, b, c, d;

	unwind_outer(s, 3);
	ok(s->size >= 1024, "copied %llu bytes of our own stack", (unsigned long long)s->size);
	n = shark_unwind__user(getpid(), s->regs, SHARK_UNWIND_REGS_MASK, s->stack, s->size, ips, 64);
	ok(n >= 4, "unwound %d frames", n);
	for (int i = 0; i < n && i < 64; i++)
		if (shark_symbolize(getpid(), ips[i], names[i], sizeof(names[i])) <= 0)
			strcpy(names[i], "?");
	a = find(names, n, "unwind_snap");
	b = find(names, n, "unwind_mid");
	c = find(names, n, "unwind_outer");
	d = find(names, n, "test_unwind");
	is_int(a, 0, "leaf first: unwind_snap");
	is_int(b, 1, "then unwind_mid");
	is_int(c, 2, "then unwind_outer");
	is_int(d, 3, "then test_unwind");
	ok(find(names, n, "main") > d, "main further up");

	/* a second walk finds the same frames from the cached modules */
	n = shark_unwind__user(getpid(), s->regs, SHARK_UNWIND_REGS_MASK, s->stack, s->size, ips, 2);
	is_int(n, 2, "max bounds the frames");
	shark_unwind__stats(&st);
	ok(st.images >= 1 && st.stacks == 2, "stats: %llu images, %llu stacks", (unsigned long long)st.images,
	   (unsigned long long)st.stacks);

	/* a stack copy too short for the chain: what it holds, counted, no crash */
	n = shark_unwind__user(getpid(), s->regs, SHARK_UNWIND_REGS_MASK, s->stack, 16, ips, 64);
	ok(n >= 1 && n < 4, "16 bytes of stack: %d frames, no crash", n);
	b = (int)st.short_stack;
	shark_unwind__stats(&st);
	ok((int)st.short_stack > b, "the short copy is counted");
	/* no sp: nothing */
	is_int(shark_unwind__user(getpid(), s->regs, 1ull << SHARK_REG_IP, s->stack, s->size, ips, 64), 0,
	       "without sp: no frames");
	is_int(shark_unwind__user(-1, s->regs, SHARK_UNWIND_REGS_MASK, s->stack, s->size, ips, 64), -EINVAL,
	       "a bad pid is refused");
	/* not a Python process: the chain as it was */
	n = shark_unwind__user(getpid(), s->regs, SHARK_UNWIND_REGS_MASK, s->stack, s->size, ips, 64);
	is_int(shark_py__splice(getpid(), getpid(), ips, n, 64), n, "python frames: none in a C program");
	is_int(shark_py__name(ips[0], names[0], 128), 0, "a native address is no Python frame");
	ok(shark_py__is_frame(SHARK_PY_FRAME_BASE + 3) && !shark_py__is_frame(0x7fffffff0000ull) &&
	   !shark_py__is_frame(0xffffffff81000000ull), "Python frame addresses: neither user nor kernel ones");

	/* garbage registers: a frame or a few, never a crash */
	memset(s->regs, 0x41, sizeof(s->regs));
	n = shark_unwind__user(getpid(), s->regs, SHARK_UNWIND_REGS_MASK, s->stack, s->size, ips, 64);
	ok(n >= 0 && n <= 64, "garbage registers: %d frames, no crash", n);
	free(names);
	free(s);
}
#else
/* the unwinder's register numbers are x86-64's: elsewhere it refuses, never guesses */
void test_unwind(void)
{
	uint64_t regs[SHARK_NREGS] = { 0 }, ips[4];
	uint8_t stack[64] = { 0 };

	is_int(shark_unwind__user(getpid(), regs, SHARK_UNWIND_REGS_MASK, stack, sizeof(stack), ips, 4),
	       -EOPNOTSUPP, "DWARF unwinding refuses on this architecture (x86-64 only)");
}
#endif
