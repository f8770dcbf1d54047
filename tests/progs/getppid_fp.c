// SPDX-License-Identifier: GPL-2.0
/*
 * getppid_fp.c - call getppid exactly N times from ask_parent(), called by
 * main(), with the syscall instruction inline: no libc frame (Debian's libc
 * has no frame pointers), so a user stack at the syscall reads
 * ask_parent <- main. usage: getppid_fp N
 */
#include <stdlib.h>
#include <sys/syscall.h>

__attribute__((noinline)) long answer(long ret)
{
	__asm__ volatile("" ::: "memory");
	return ret;
}

/* not a leaf (it calls answer), so gcc keeps its frame pointer */
__attribute__((noinline)) long ask_parent(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
	return answer(ret);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;

	for (long i = 0; i < n; i++)
		ask_parent();
	return 0;
}
