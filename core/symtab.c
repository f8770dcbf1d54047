// SPDX-License-Identifier: GPL-2.0
/* symtab.c - symbol tables: sorted addresses and their names, demangled; perf JIT maps. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shark.h"
#include "symtab.h"

char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/* A symbol whose name is at offset @name of the pool or the file's string table. */
int shark_symtab__add_ref(struct symtab *t, uint64_t start, uint64_t size, uint32_t name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct sym *s = realloc(t->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->syms = s;
		t->cap = cap;
	}
	t->syms[t->n].start = start;
	t->syms[t->n].size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	t->syms[t->n].name = name;
	t->n++;
	return 0;
}

/* A symbol whose name is copied into the table's pool. */
int shark_symtab__add(struct symtab *t, uint64_t start, uint64_t size, const char *name)
{
	/* "clock_nanosleep@@GLIBC_2.17": the version is no part of the name */
	size_t len = strcspn(name, "@");
	int err;

	if (t->pool_len + len + 1 > t->pool_cap) {
		size_t cap = t->pool_cap ? t->pool_cap * 2 : 4096;
		char *p;

		while (cap < t->pool_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX || !(p = realloc(t->pool, cap)))
			return -ENOMEM;
		t->pool = p;
		t->pool_cap = cap;
	}
	memcpy(t->pool + t->pool_len, name, len);
	t->pool[t->pool_len + len] = '\0';
	err = shark_symtab__add_ref(t, start, size, (uint32_t)t->pool_len);
	if (!err)
		t->pool_len += len + 1;
	return err;
}

const char *shark_symtab__name(const struct symtab *t, const struct sym *s)
{
	return t->pool ? t->pool + s->name : t->strs + s->name;
}

/* The length of a symbol's name: to its end, its "@VERSION", or the table's end. */
size_t shark_symtab__len(const struct symtab *t, const struct sym *s)
{
	const char *name = shark_symtab__name(t, s);
	size_t max = t->pool ? t->pool_len - s->name : t->strs_len - s->name;

	size_t len = strnlen(name, max);	/* a file's table may lack its final NUL */
	const char *at = memchr(name, '@', len);

	return at ? (size_t)(at - name) : len;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorted, and no bigger than it needs: a table is kept for long. */
void shark_symtab__sort(struct symtab *t)
{
	if (t->n)
		qsort(t->syms, t->n, sizeof(*t->syms), sym_cmp);
	if (t->n && t->n < t->cap) {
		struct sym *s = realloc(t->syms, t->n * sizeof(*s));

		if (s) {
			t->syms = s;
			t->cap = t->n;
		}
	}
	if (t->pool_len && t->pool_len < t->pool_cap) {
		char *p = realloc(t->pool, t->pool_len);

		if (p) {
			t->pool = p;
			t->pool_cap = t->pool_len;
		}
	}
}

void shark_symtab__free(struct symtab *t)
{
	free(t->syms);
	free(t->pool);
	if (t->map)
		munmap(t->map, t->map_len);
	memset(t, 0, sizeof(*t));
}

size_t shark_symtab__bytes(const struct symtab *t)
{
	return t->cap * sizeof(*t->syms) + t->pool_cap;
}

const struct sym *shark_symtab__find(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;
	const struct sym *s;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &t->syms[lo - 1];
	if (s->size && addr >= s->start + s->size) {
		/* inside a gap after a sized symbol: maybe an enclosing one before it */
		for (size_t i = lo - 1; i-- > 0 && lo - i < 8;)
			if (t->syms[i].size && addr < t->syms[i].start + t->syms[i].size)
				return &t->syms[i];
		return NULL;
	}
	return s;
}

/* The name (l bytes at str), demangled, into buf. */
int shark_symtab__put_str(char *buf, int32_t len, const char *str, size_t l)
{
	char name[1024];
	char *dm = NULL;
	int status = -1, n;

	if (l >= sizeof(name))
		l = sizeof(name) - 1;
	memcpy(name, str, l);
	name[l] = '\0';
	if (name[0] == '_' && name[1] == 'Z')
		dm = __cxa_demangle(name, NULL, NULL, &status);
	n = snprintf(buf, (size_t)len, "%s", status == 0 && dm ? dm : name);
	free(dm);
	return n >= len ? len - 1 : n;
}

int shark_symtab__put(char *buf, int32_t len, const struct symtab *t, const struct sym *s)
{
	return shark_symtab__put_str(buf, len, shark_symtab__name(t, s), shark_symtab__len(t, s));
}

static int jit_add(void *ctx, uint64_t start, uint64_t size, const char *name)
{
	return shark_symtab__add(ctx, start, size, name);
}

/*
 * shark_perf_map_parse() - "START SIZE NAME" lines (hex) of a perf map in
 * buf, each handed to add(); malformed lines are skipped, a long name is cut.
 * Return: the number of symbols added.
 */
int shark_perf_map_parse(const char *buf, size_t len,
			 int (*add)(void *ctx, uint64_t start, uint64_t size, const char *name), void *ctx)
{
	const char *p = buf, *end = buf + len;
	int n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t l = (nl ? nl : end) - p;
		unsigned long long start, size;
		char line[1024], name[512];

		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		p = nl ? nl + 1 : end;
		if (sscanf(line, "%llx %llx %511[^\n]", &start, &size, name) == 3 && !add(ctx, start, size, name))
			n++;
	}
	return n;
}

/*
 * /tmp/perf-PID.map is in a world-writable directory: another user could put
 * a FIFO there (an open that never returns) or a file naming our target's
 * code. Like perf: a regular file owned by the process's user or root, opened
 * without blocking or following a symlink, and read up to a bound.
 */
#define PERF_MAP_MAX (32u << 20)

void shark_symtab__load_perf_map(struct symtab *t, int pid)
{
	char path[64];
	struct stat st, pst;
	char *buf;
	ssize_t got = 0, r;
	size_t cap;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &pst))
		return;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", pid);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_uid != pst.st_uid && st.st_uid != 0)) {
		pr_debug("%s: not a regular file owned by the process's user or root, ignored\n", path);
		close(fd);
		return;
	}
	cap = (size_t)st.st_size < PERF_MAP_MAX ? (size_t)st.st_size : PERF_MAP_MAX;
	buf = malloc(cap + 1);
	while (buf && (size_t)got < cap && (r = read(fd, buf + got, cap - got)) > 0)
		got += r;
	close(fd);
	if (buf)
		shark_perf_map_parse(buf, got, jit_add, t);
	free(buf);
	shark_symtab__sort(t);
}
