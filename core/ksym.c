// SPDX-License-Identifier: GPL-2.0
/* ksym.c - kernel symbols: /proc/kallsyms loaded whole, or read once for a batch of addresses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shark.h"
#include "symtab.h"

static struct symtab kernel;
static int kernel_loaded;
static unsigned int kernel_gen;

static void load_kernel_now(void);

static void load_kernel(void)
{
	shark_watchdog__busy(1);
	load_kernel_now();
	shark_watchdog__busy(-1);
}

static void load_kernel_now(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];

	kernel_loaded = 1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256];

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (!addr || shark_symtab__add(&kernel, addr, 0, name))
			continue;
	}
	fclose(f);
	shark_symtab__sort(&kernel);
	pr_debug("kallsyms: %zu text symbols\n", kernel.n);
}

/*
 * Kernel addresses named in one pass over /proc/kallsyms, without keeping
 * its 120 000 names (5 MB): an always-on profiler names the addresses of a
 * window at once, then sweeps. Kept until the next sweep.
 */
#define KNAME 128

static struct {
	uint64_t *ips;		/* sorted, unique */
	uint64_t *best;		/* the start of the symbol found so far */
	char *names;		/* KNAME bytes each, "" when none */
	size_t n;
} kb;

static void kbatch_free(void)
{
	free(kb.ips);
	free(kb.best);
	free(kb.names);
	memset(&kb, 0, sizeof(kb));
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The first of the batch's addresses >= addr (kb.n: none). */
static size_t kbatch_at(uint64_t addr)
{
	size_t lo = 0, hi = kb.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (kb.ips[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The name of a batch address ("" if none), NULL when not in the batch. */
static const char *kbatch_find(uint64_t ip)
{
	size_t i = kb.n ? kbatch_at(ip) : 0;

	return i < kb.n && kb.ips[i] == ip ? kb.names + i * KNAME : NULL;
}

/* One text symbol of kallsyms: a candidate for the first address above it. */
static void kbatch_offer(uint64_t addr, const char *name, size_t len)
{
	size_t i = kbatch_at(addr);

	if (i == kb.n || addr < kb.best[i] || (addr == kb.best[i] && kb.names[i * KNAME]))
		return;
	kb.best[i] = addr;
	if (len >= KNAME)
		len = KNAME - 1;
	memcpy(kb.names + i * KNAME, name, len);
	kb.names[i * KNAME + len] = '\0';
}

/*
 * shark_sym_kernel_names() - name the kernel addresses @ips in one pass over
 * /proc/kallsyms (any order): symbolize() answers them from here until the
 * next sweep. With the whole table loaded already, nothing to do.
 * Return: the addresses named, or -errno.
 */
int32_t shark_sym_kernel_names(const uint64_t *ips, int32_t n)
{
	char line[640];
	size_t u = 0;
	FILE *f;

	if (kernel_loaded || n <= 0)
		return 0;
	kbatch_free();
	kb.ips = malloc((size_t)n * sizeof(*kb.ips));
	kb.best = calloc((size_t)n, sizeof(*kb.best));
	kb.names = calloc((size_t)n, KNAME);
	if (!kb.ips || !kb.best || !kb.names) {
		kbatch_free();
		return -ENOMEM;
	}
	memcpy(kb.ips, ips, (size_t)n * sizeof(*ips));
	qsort(kb.ips, (size_t)n, sizeof(*kb.ips), u64_cmp);
	for (int32_t i = 0; i < n; i++)
		if (!u || kb.ips[i] != kb.ips[u - 1])
			kb.ips[u++] = kb.ips[i];
	kb.n = u;
	f = fopen("/proc/kallsyms", "re");
	if (!f) {
		kbatch_free();
		return -errno;
	}
	shark_watchdog__busy(1);
	while (fgets(line, sizeof(line), f)) {
		char *e, *name;
		uint64_t addr = strtoull(line, &e, 16);

		if (e == line || e[0] != ' ' || !strchr("tTwW", e[1]) || !e[1] || e[2] != ' ' || !addr)
			continue;
		name = e + 3;
		kbatch_offer(addr, name, strcspn(name, " \t\n"));
	}
	shark_watchdog__busy(-1);
	fclose(f);
	/* an address's symbol is the highest start below it: maybe its neighbour's */
	for (size_t i = 1; i < kb.n; i++)
		if (kb.best[i - 1] > kb.best[i]) {
			kb.best[i] = kb.best[i - 1];
			memcpy(kb.names + i * KNAME, kb.names + (i - 1) * KNAME, KNAME);
		}
	return (int32_t)kb.n;
}

/* The function at kernel address @ip into @buf: its length, 0 when none is known. */
int32_t shark_ksym__symbolize(uint64_t ip, char *buf, int32_t len, unsigned int gen)
{
	const char *name = kbatch_find(ip);
	const struct sym *s;

	if (name)
		return *name ? shark_symtab__put_str(buf, len, name, strlen(name)) : 0;
	if (!kernel_loaded)
		load_kernel();
	kernel_gen = gen;
	s = shark_symtab__find(&kernel, ip);
	return s ? shark_symtab__put(buf, len, &kernel, s) : 0;
}

/* The batch dropped, and the table when not used for @keep sweeps. */
void shark_ksym__sweep(unsigned int gen, unsigned int keep, struct shark_sym_stats *totals)
{
	kbatch_free();
	if (kernel_loaded && gen - kernel_gen >= keep) {
		shark_symtab__free(&kernel);
		kernel_loaded = 0;
		totals->evicted_tables++;
	}
}

/* What the kernel's names hold, added to @st. */
void shark_ksym__stats(struct shark_sym_stats *st)
{
	st->bytes += kb.n * (2 * sizeof(uint64_t) + KNAME);
	if (kernel_loaded) {
		st->tables++;
		st->symbols += kernel.n;
		st->bytes += shark_symtab__bytes(&kernel);
	}
}
