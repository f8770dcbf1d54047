// SPDX-License-Identifier: GPL-2.0
/*
 * unwind_libs.c - the two maintained unwinders Debian ships, on the same
 * copied stack: elfutils libdwfl as shark uses it (shark_unwind__user) and
 * libunwind's remote API over the same copy (UNW_CACHE_NONE and
 * UNW_CACHE_GLOBAL). Prints ns per unwind and the frames each found.
 * usage: bench_unwind [N]
 */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#define UNW_REMOTE_ONLY
#include <libunwind.h>
#include "shark.h"
#include "unwind.h"

extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
					      unw_proc_info_t *pi, int need_unwind_info, void *arg);

struct snap {
	uint64_t r[SHARK_NREGS];	/* by perf register number */
	uint64_t packed[SHARK_NREGS];
	uint8_t stack[8192];
	uint64_t size;
};

static struct snap S;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static void take(void)
{
	struct iovec l = { S.stack, sizeof(S.stack) }, rm;
	int k = 0;

	__asm__ volatile("lea 0(%%rip), %%rax\n\tmov %%rax, %c[ip](%[r])\n\tmov %%rsp, %c[sp](%[r])\n\t"
			 "mov %%rbp, %c[bp](%[r])\n\tmov %%rbx, %c[bx](%[r])\n\tmov %%r12, %c[r12](%[r])\n\t"
			 "mov %%r13, %c[r13](%[r])\n\tmov %%r14, %c[r14](%[r])\n\tmov %%r15, %c[r15](%[r])\n\t"
			 :
			 : [r] "r"(S.r), [ip] "i"(SHARK_REG_IP * 8), [sp] "i"(SHARK_REG_SP * 8),
			   [bp] "i"(SHARK_REG_BP * 8), [bx] "i"(SHARK_REG_BX * 8), [r12] "i"((SHARK_REG_R8 + 4) * 8),
			   [r13] "i"((SHARK_REG_R8 + 5) * 8), [r14] "i"((SHARK_REG_R8 + 6) * 8),
			   [r15] "i"((SHARK_REG_R8 + 7) * 8)
			 : "rax", "memory");
	for (int i = 0; i < SHARK_NREGS; i++)
		if (SHARK_UNWIND_REGS_MASK & (1ull << i))
			S.packed[k++] = S.r[i];
	rm.iov_base = (void *)S.r[SHARK_REG_SP];
	rm.iov_len = sizeof(S.stack);
	S.size = (uint64_t)process_vm_readv(getpid(), &l, 1, &rm, 1, 0);
}

/* a chain of a few frames of different shapes, as in a real program */
__attribute__((noinline)) static int depth(int n)
{
	volatile char pad[48];

	pad[n & 31] = (char)n;
	if (n == 0)
		take();
	else
		depth(n - 1);
	return pad[n & 31];
}

/* ---------------------------------------------------- libunwind remote */

struct mod {
	uint64_t start, end, bias, hdr;
};

static struct mod mods[64];
static int nmods;

static int add_mod(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mod m = { ~0ull, 0, info->dlpi_addr, 0 };

	(void)size, (void)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			if (info->dlpi_addr + ph->p_vaddr < m.start)
				m.start = info->dlpi_addr + ph->p_vaddr;
			if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > m.end)
				m.end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			m.hdr = info->dlpi_addr + ph->p_vaddr;
		}
	}
	if (m.hdr && m.end && nmods < 64)
		mods[nmods++] = m;
	return 0;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
	for (int i = 0; i < nmods; i++) {
		const struct mod *m = &mods[i];
		unw_dyn_info_t di;

		if (ip < m->start || ip >= m->end)
			continue;
		memset(&di, 0, sizeof(di));
		di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
		di.start_ip = m->start;
		di.end_ip = m->end;
		di.u.rti.segbase = m->hdr;
		di.u.rti.table_data = m->hdr + 12;
		di.u.rti.table_len = *(const uint32_t *)(m->hdr + 8) * 8 / sizeof(unw_word_t);
		return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
	}
	return -UNW_ENOINFO;
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)as, (void)pi, (void)arg;
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *a, void *arg)
{
	(void)as, (void)a, (void)arg;
	return -UNW_ENOINFO;
}

/* the stack from the copy; the files' tables are this process's own mappings */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *v, int write, void *arg)
{
	uint64_t sp = S.r[SHARK_REG_SP];

	(void)as, (void)arg;
	if (write)
		return -UNW_EINVAL;
	if (addr >= sp && addr + 8 <= sp + S.size) {
		memcpy(v, S.stack + (addr - sp), 8);
		return 0;
	}
	for (int i = 0; i < nmods; i++)
		if (addr >= mods[i].bias && addr < mods[i].end + (64u << 20)) {
			memcpy(v, (const void *)addr, 8);
			return 0;
		}
	return -UNW_EINVAL;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *v, int write, void *arg)
{
	static const int8_t map[17] = { SHARK_REG_AX, SHARK_REG_DX, SHARK_REG_CX, SHARK_REG_BX, SHARK_REG_SI,
					SHARK_REG_DI, SHARK_REG_BP, SHARK_REG_SP, 16, 17, 18, 19, 20, 21, 22, 23,
					SHARK_REG_IP };

	(void)as, (void)arg;
	if (write || reg < 0 || reg > 16)
		return -UNW_EBADREG;
	*v = S.r[map[reg]];
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t r, unw_fpreg_t *v, int w, void *arg)
{
	(void)as, (void)r, (void)v, (void)w, (void)arg;
	return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as, (void)c, (void)arg;
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t a, char *b, size_t l, unw_word_t *o, void *arg)
{
	(void)as, (void)a, (void)b, (void)l, (void)o, (void)arg;
	return -UNW_EINVAL;
}

static unw_accessors_t acc = { find_proc_info, put_unwind_info, get_dyn_info_list_addr, access_mem,
			       access_reg, access_fpreg, resume, get_proc_name };

static int lu_unwind(unw_addr_space_t as, uint64_t *ips, int max)
{
	unw_cursor_t c;
	int n = 0;

	if (unw_init_remote(&c, as, NULL))
		return 0;
	do {
		unw_word_t ip;

		if (unw_get_reg(&c, UNW_REG_IP, &ip) || !ip)
			break;
		ips[n++] = ip;
	} while (n < max && unw_step(&c) > 0);
	return n;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 20000;
	uint64_t ips[128], t0;
	int n1 = 0, n2 = 0, n3 = 0;
	unw_addr_space_t none, global;

	depth(5);
	dl_iterate_phdr(add_mod, NULL);
	none = unw_create_addr_space(&acc, 0);
	global = unw_create_addr_space(&acc, 0);
	unw_set_caching_policy(none, UNW_CACHE_NONE);
	unw_set_caching_policy(global, UNW_CACHE_GLOBAL);
	/* warm both: files opened, tables found */
	shark_unwind__user(getpid(), S.packed, SHARK_UNWIND_REGS_MASK, S.stack, S.size, ips, 128);
	lu_unwind(none, ips, 128);

	t0 = now_ns();
	for (int i = 0; i < iters; i++)
		n1 = shark_unwind__user(getpid(), S.packed, SHARK_UNWIND_REGS_MASK, S.stack, S.size, ips, 128);
	printf("libdwfl (shark_unwind__user)        %7.0f ns/unwind  %d frames\n",
	       (double)(now_ns() - t0) / iters, n1);
	t0 = now_ns();
	for (int i = 0; i < iters; i++)
		n2 = lu_unwind(none, ips, 128);
	printf("libunwind remote, UNW_CACHE_NONE    %7.0f ns/unwind  %d frames\n",
	       (double)(now_ns() - t0) / iters, n2);
	t0 = now_ns();
	for (int i = 0; i < iters; i++)
		n3 = lu_unwind(global, ips, 128);
	printf("libunwind remote, UNW_CACHE_GLOBAL  %7.0f ns/unwind  %d frames\n",
	       (double)(now_ns() - t0) / iters, n3);
	return 0;
}
