// SPDX-License-Identifier: GPL-2.0
/* sym.c - symbols: kernel (kallsyms), user (ELF of mapped files, perf JIT maps), cached. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "shark.h"
#include "pyframes.h"

char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/*
 * A symbol table is one sorted array of 16-byte entries, and its names: a
 * pool (kallsyms, perf maps), or the ELF file's own string table, mapped
 * read-only from the page cache and never copied. libLLVM's 35 000 C++ names
 * are 3 MB: read in place, only the pages of names looked up are touched,
 * and a sweep gives even those back (shark_sym_sweep).
 */
struct sym {
	uint64_t start;
	uint32_t size;		/* 0: up to the next symbol */
	uint32_t name;		/* offset in pool or strs */
};

struct symtab {
	struct sym *syms;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	const char *strs;	/* the file's string table (no pool) */
	size_t strs_len;
	void *map;		/* mapped from the file: strs is inside */
	size_t map_len;
};

struct seg {
	uint64_t offset, vaddr, filesz;
};

/*
 * A mapped file, loaded once for every process that maps it. The struct
 * lives while a process's maps name it; its symbol table only while it is
 * used (shark_sym_sweep() drops the others, a later lookup loads it again).
 */
struct dso {
	char *path;
	dev_t dev;
	ino_t ino;
	uint64_t id;		/* unique for the run: what the unwinder's cache keys on */
	unsigned int gen;	/* the sweep generation its symbols were last used in */
	unsigned int ref_gen;	/* ... it was last looked up or mapped in */
	int loaded;
	int is_exec;		/* ET_EXEC: addresses are absolute */
	char build_id[65];	/* hex, "" if none */
	struct seg *segs;
	int nsegs;
	struct symtab tab;
	struct dso *next;
};

struct pmap {
	uint64_t start, end, pgoff;
	struct dso *dso;	/* NULL for anonymous executable memory */
};

struct proc {
	int pid;
	unsigned int gen;	/* the sweep generation it was last used in */
	struct pmap *maps;
	int n;
	uint64_t loaded_at;
	int jit_tried;
	struct symtab jit;	/* /tmp/perf-PID.map */
	struct proc *next;
};

#define PROC_SLOTS 256

static struct symtab kernel;
static int kernel_loaded;
static unsigned int kernel_gen;
static struct dso *dsos;
static struct proc *procs[PROC_SLOTS];
static unsigned int sweep_gen;	/* shark_sym_sweep() calls so far */
static uint64_t dso_ids;
static struct shark_sym_stats totals;	/* the evicted counts */

/* ---------------------------------------------------------------- tables */

static int tab_add(struct symtab *t, uint64_t start, uint64_t size, const char *name)
{
	/* "clock_nanosleep@@GLIBC_2.17": the version is no part of the name */
	size_t len = strcspn(name, "@");

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct sym *s = realloc(t->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->syms = s;
		t->cap = cap;
	}
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
	t->syms[t->n].start = start;
	t->syms[t->n].size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	t->syms[t->n].name = (uint32_t)t->pool_len;
	t->pool_len += len + 1;
	t->n++;
	return 0;
}

static int tab_add_ref(struct symtab *t, uint64_t start, uint64_t size, uint32_t name)
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

static const char *sym_name(const struct symtab *t, const struct sym *s)
{
	return t->pool ? t->pool + s->name : t->strs + s->name;
}

/* The length of a symbol's name: to its end, its "@VERSION", or the table's end. */
static size_t sym_len(const struct symtab *t, const struct sym *s)
{
	const char *name = sym_name(t, s);
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
static void tab_sort(struct symtab *t)
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

static void tab_free(struct symtab *t)
{
	free(t->syms);
	free(t->pool);
	if (t->map)
		munmap(t->map, t->map_len);
	memset(t, 0, sizeof(*t));
}

static size_t tab_bytes(const struct symtab *t)
{
	return t->cap * sizeof(*t->syms) + t->pool_cap;
}

static const struct sym *tab_find(const struct symtab *t, uint64_t addr)
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

/* ---------------------------------------------------------------- kernel */

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
		if (!addr || tab_add(&kernel, addr, 0, name))
			continue;
	}
	fclose(f);
	tab_sort(&kernel);
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

/* ------------------------------------------------------------------- ELF */

/* 1 when the ELF file at path has a .symtab, 0 when stripped, -errno. */
int shark_elf_has_symtab(const char *path)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int fd, found = 0;
	Elf *elf;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn)))
		found = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB;
	if (!elf)
		found = -ENOEXEC;
	elf_end(elf);
	close(fd);
	return found;
}

/* Map the string table [off, off + len) of file fd into t: 0 or -errno. */
static int tab_map_strs(struct symtab *t, int fd, uint64_t off, uint64_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off & ~(uint64_t)(page - 1);
	void *m;

	if (!len)
		return -ENOENT;
	m = mmap(NULL, len + (off - start), PROT_READ, MAP_PRIVATE, fd, (off_t)start);
	if (m == MAP_FAILED)
		return -errno;
	t->map = m;
	t->map_len = len + (off - start);
	t->strs = (const char *)m + (off - start);
	t->strs_len = len;
	return 0;
}

static int elf_symbols(struct dso *d, Elf *elf, int fd, int want_segs)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh;
	size_t nph;

	if (want_segs && elf_getphdrnum(elf, &nph) == 0) {
		d->segs = calloc(nph ? nph : 1, sizeof(*d->segs));
		for (size_t i = 0; d->segs && i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				d->segs[d->nsegs].offset = ph.p_offset;
				d->segs[d->nsegs].vaddr = ph.p_vaddr;
				d->segs[d->nsegs].filesz = ph.p_filesz;
				d->nsegs++;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
	}
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *s = pass ? dynsym : symtab;
		GElf_Shdr strh;
		Elf_Data *data;
		size_t n;

		if (!s || !gelf_getshdr(s, &sh) || !(data = elf_getdata(s, NULL)) || !sh.sh_entsize ||
		    !gelf_getshdr(elf_getscn(elf, sh.sh_link), &strh) || strh.sh_type != SHT_STRTAB)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		/* names are read where they are, in the file: not even touched here */
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !sym.st_value ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_name || sym.st_name >= strh.sh_size)
				continue;
			tab_add_ref(&d->tab, sym.st_value, sym.st_size, sym.st_name);
		}
		/* .symtab is a superset of .dynsym: one is enough */
		if (d->tab.n) {
			if (tab_map_strs(&d->tab, fd, strh.sh_offset, strh.sh_size))
				tab_free(&d->tab);
			break;
		}
	}
	return 0;
}

/* The build-id of a file, as the hex path under /usr/lib/debug/.build-id. */
static int debug_path(Elf *elf, char *out, size_t len)
{
	const unsigned char *id;
	size_t n;
	char *p;

	if (shark_elf_build_id(elf, &id, &n) || n < 2)
		return -ENOENT;
	p = out + snprintf(out, len, "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (size_t i = 1; i < n && (size_t)(p - out) + 3 < len; i++)
		p += sprintf(p, "%02x", id[i]);
	snprintf(p, len - (size_t)(p - out), ".debug");
	return 0;
}

/*
 * Open @path as process @pid sees it. A process in another mount namespace
 * (a container, a chroot) may have its own file at a path the host also has,
 * or one the host lacks: /proc/PID/root names its own; the host's path is the
 * fallback once the process is gone. With @dev/@ino known (from its maps), a
 * file that is not that one is refused while the other path may have it.
 */
int shark_sym__open(int pid, const char *path, dev_t dev, ino_t ino)
{
	char alt[600];
	int fds[2] = { -1, -1 }, pick = -1;

	if (pid > 0) {
		snprintf(alt, sizeof(alt), "/proc/%d/root%s", pid, path);
		fds[0] = open(alt, O_RDONLY | O_CLOEXEC);
	}
	for (int i = 0; i < 2 && pick < 0; i++) {
		struct stat st;

		if (i == 1)
			fds[1] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] >= 0 && (!ino || (!fstat(fds[i], &st) && st.st_dev == dev && st.st_ino == ino)))
			pick = i;
	}
	if (pick < 0)	/* neither is the very file (replaced since): the process's view */
		pick = fds[0] >= 0 ? 0 : 1;
	if (fds[!pick] >= 0)
		close(fds[!pick]);
	return fds[pick] >= 0 ? fds[pick] : -ENOENT;
}

/* The hex build-id back from its debug path ".build-id/xx/yyyy.debug". */
static void note_build_id(struct dso *d, const char *dbg)
{
	const char *p = strstr(dbg, ".build-id/");
	size_t n = 0;

	if (!p)
		return;
	for (p += 10; *p && *p != '.' && n + 1 < sizeof(d->build_id); p++)
		if (*p != '/')
			d->build_id[n++] = *p;
	d->build_id[n] = 0;
}

/*
 * The file mapped at m in process pid, when the one at its path is another
 * (`mv new app` while the old app runs: its symbols would name the old code
 * after the new file's functions). The kernel keeps the mapped file reachable
 * through /proc/PID/map_files (root only). Return: an fd, or -1.
 */
static int open_mapped(int fd, const struct dso *d, int pid, const struct pmap *m)
{
	struct stat st;
	char path[96];

	if (fd >= 0 && (!d->ino || (fstat(fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino)))
		return fd;
	if (fd >= 0)
		close(fd);
	if (pid <= 0 || !m)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)m->start,
		 (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) || st.st_ino != d->ino)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		pr_debug("%s was replaced since process %d mapped it: reading the mapped one\n", d->path, pid);
	return fd;
}

static void load_dso_now(struct dso *d, int pid, const struct pmap *m);

static void load_dso(struct dso *d, int pid, const struct pmap *m)
{
	shark_watchdog__busy(1);
	load_dso_now(d, pid, m);
	shark_watchdog__busy(-1);
}

static void load_dso_now(struct dso *d, int pid, const struct pmap *m)
{
	char dbg[512];
	GElf_Ehdr eh;
	Elf *elf;
	int fd;

	d->loaded = 1;
	d->gen = sweep_gen;
	fd = shark_sym__open(pid, d->path, d->dev, d->ino);
	fd = open_mapped(fd, d, pid, m);
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && gelf_getehdr(elf, &eh)) {
		d->is_exec = eh.e_type == ET_EXEC;
		elf_symbols(d, elf, fd, 1);
		/* stripped (Debian's libc): a -dbgsym package may have the rest */
		if (debug_path(elf, dbg, sizeof(dbg)) == 0) {
			int dfd = open(dbg, O_RDONLY | O_CLOEXEC);

			note_build_id(d, dbg);

			if (dfd >= 0) {
				Elf *de = elf_begin(dfd, ELF_C_READ_MMAP, NULL);

				if (de) {
					tab_free(&d->tab);
					elf_symbols(d, de, dfd, 0);
					elf_end(de);
				}
				close(dfd);
			}
		}
		tab_sort(&d->tab);
	}
	if (elf)
		elf_end(elf);
	close(fd);
}

static struct dso *find_dso(const char *path, dev_t dev, ino_t ino)
{
	struct dso *d;

	for (d = dsos; d; d = d->next)
		if (!strcmp(d->path, path) && (!ino || !d->ino || (d->dev == dev && d->ino == ino))) {
			d->ref_gen = sweep_gen;
			return d;
		}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->path = strdup(path);
	if (!d->path) {
		free(d);
		return NULL;
	}
	d->dev = dev;
	d->ino = ino;
	d->id = ++dso_ids;
	d->gen = d->ref_gen = sweep_gen;
	d->next = dsos;
	dsos = d;
	return d;
}

/* ------------------------------------------------------------- processes */

static int pmap_cmp(const void *a, const void *b)
{
	const struct pmap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int add_map(struct proc *p, uint64_t start, uint64_t end, uint64_t pgoff, struct dso *d)
{
	struct pmap *m;

	for (int i = 0; i < p->n; i++) {
		if (p->maps[i].start == start) {
			p->maps[i].end = end;
			p->maps[i].pgoff = pgoff;
			p->maps[i].dso = d;
			return 0;
		}
	}
	m = realloc(p->maps, sizeof(*m) * (size_t)(p->n + 1));
	if (!m)
		return -ENOMEM;
	p->maps = m;
	m[p->n].start = start;
	m[p->n].end = end;
	m[p->n].pgoff = pgoff;
	m[p->n].dso = d;
	p->n++;
	qsort(p->maps, (size_t)p->n, sizeof(*p->maps), pmap_cmp);
	return 0;
}

static void read_maps(struct proc *p)
{
	char path[64], line[1024];
	FILE *f;

	/* the attempt counts even when it fails: a process gone since would
	 * otherwise be looked for again at every address it does not map */
	p->loaded_at = shark_time_ns();
	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		unsigned int maj, min;
		char perm[8], file[512] = "";
		struct dso *d = NULL;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %511[^\n]", &start, &end, perm, &off, &maj,
			   &min, &ino, file) < 7 || perm[2] != 'x')
			continue;
		if (file[0] == '/') {
			char *del = strstr(file, " (deleted)");

			if (del)
				*del = '\0';
			d = find_dso(file, makedev(maj, min), (ino_t)ino);
		}
		add_map(p, start, end, off, d);
	}
	fclose(f);
}

static struct proc *get_proc(int pid, int create)
{
	struct proc **slot = &procs[(unsigned)pid % PROC_SLOTS], *p;

	for (p = *slot; p; p = p->next)
		if (p->pid == pid) {
			/* a lookup is a use; a look at what is kept (sym_maps) is not */
			if (create)
				p->gen = sweep_gen;
			return p;
		}
	if (!create)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->gen = sweep_gen;
	p->next = *slot;
	*slot = p;
	read_maps(p);
	return p;
}

/* Called while decoding samples: capture a process's maps at first sight. */
void shark_sym__note_pid(int pid)
{
	if (pid > 0)
		get_proc(pid, 1);
}

/* Read a process's maps again (new libraries since), if not done lately. */
void shark_sym__refresh_pid(int pid)
{
	struct proc *p = pid > 0 ? get_proc(pid, 0) : NULL;

	if (!p)
		get_proc(pid, 1);
	else if (shark_time_ns() - p->loaded_at > 500000000ull)
		read_maps(p);
}

/* A PERF_RECORD_MMAP2 of executable memory. */
void shark_sym__mmap(int pid, uint64_t start, uint64_t len, uint64_t pgoff, const char *file)
{
	struct proc *p = get_proc(pid, 1);

	/* "//anon" is anonymous executable memory: JIT code, see the perf map */
	if (p)
		add_map(p, start, start + len, pgoff,
			file[0] == '/' && file[1] != '/' ? find_dso(file, 0, 0) : NULL);
}

/* A PERF_RECORD_COMM with the exec flag: the old image is gone. */
void shark_sym__exec(int pid)
{
	struct proc *p = get_proc(pid, 0);

	if (p) {
		free(p->maps);
		p->maps = NULL;
		p->n = 0;
		tab_free(&p->jit);
		p->jit_tried = 0;
	}
}

static const struct pmap *find_map(struct proc *p, uint64_t ip)
{
	for (int i = 0; i < p->n; i++)
		if (ip >= p->maps[i].start && ip < p->maps[i].end)
			return &p->maps[i];
	return NULL;
}

static int jit_add(void *ctx, uint64_t start, uint64_t size, const char *name)
{
	return tab_add(ctx, start, size, name);
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
 * shark_sym__map_at() - the file mapped executable at @ip in @pid, for the
 * unwinder: its mapping, the file's path and an id stable for its life.
 * Return: 0, or -ENOENT for anonymous memory or an unknown address.
 */
int shark_sym__map_at(int pid, uint64_t ip, struct shark_map_info *mi)
{
	struct proc *p = pid > 0 ? get_proc(pid, 1) : NULL;
	const struct pmap *m;

	if (!p)
		return -ENOENT;
	m = find_map(p, ip);
	if (!m && shark_time_ns() - p->loaded_at > 100000000ull) {
		read_maps(p);
		m = find_map(p, ip);
	}
	if (!m || !m->dso)
		return -ENOENT;
	mi->start = m->start;
	mi->end = m->end;
	mi->pgoff = m->pgoff;
	mi->path = m->dso->path;
	mi->dev = m->dso->dev;
	mi->ino = m->dso->ino;
	mi->dso_id = m->dso->id;
	return 0;
}

/* The file mappings of @pid (as map_at gives them), up to @max; the count. */
int shark_sym__maps(int pid, struct shark_map_info *out, int max)
{
	struct proc *p = pid > 0 ? get_proc(pid, 1) : NULL;
	int n = 0;

	for (int i = 0; p && i < p->n && n < max; i++) {
		const struct pmap *m = &p->maps[i];

		if (!m->dso)
			continue;
		out[n] = (struct shark_map_info){ m->start, m->end, m->pgoff, m->dso->path, m->dso->dev,
						  m->dso->ino, m->dso->id };
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

static void load_jit_map(struct proc *p)
{
	char path[64];
	struct stat st, pst;
	char *buf;
	ssize_t got = 0, r;
	size_t cap;
	int fd;

	p->jit_tried = 1;
	snprintf(path, sizeof(path), "/proc/%d", p->pid);
	if (stat(path, &pst))
		return;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", p->pid);
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
		shark_perf_map_parse(buf, got, jit_add, &p->jit);
	free(buf);
	tab_sort(&p->jit);
}

/* The address inside the file's own numbering (what its symbol table uses). */
static uint64_t file_vaddr(const struct dso *d, const struct pmap *m, uint64_t ip)
{
	uint64_t off = ip - m->start + m->pgoff;

	if (d->is_exec)
		return ip;
	for (int i = 0; i < d->nsegs; i++)
		if (off >= d->segs[i].offset && off < d->segs[i].offset + d->segs[i].filesz)
			return off - d->segs[i].offset + d->segs[i].vaddr;
	return off;
}

/* The name (l bytes at str), demangled, into buf. */
static int put_str(char *buf, int32_t len, const char *str, size_t l)
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

static int put_name(char *buf, int32_t len, const struct symtab *t, const struct sym *s)
{
	return put_str(buf, len, sym_name(t, s), sym_len(t, s));
}

/*
 * shark_sym_functions() - the functions of an ELF file whose names match a glob.
 * @path: the file (an executable or a library)
 * @glob: fnmatch(3) pattern, NULL for all
 *
 * Writes "OFFSET NAME\n" lines to @buf, OFFSET the file offset in hex (what a
 * uprobe attaches to), in address order, one name per address (aliases such
 * as malloc and __libc_malloc would fire the same probe twice).
 *
 * Return: the bytes the whole list needs (more than @len: call again with a
 * larger @buf), or -errno.
 */
int32_t shark_sym_functions(const char *path, const char *glob, char *buf, int32_t len)
{
	struct dso *d;
	struct stat st;
	uint64_t last = 0;
	int32_t need = 0;

	if (stat(path, &st))
		return -errno;
	d = find_dso(path, st.st_dev, st.st_ino);
	if (!d)
		return -ENOMEM;
	if (!d->loaded)
		load_dso(d, 0, NULL);
	if (!d->nsegs)
		return -ENOEXEC;
	for (size_t i = 0; i < d->tab.n; i++) {
		const struct sym *s = &d->tab.syms[i];
		uint64_t off = s->start;
		size_t l = sym_len(&d->tab, s);
		char line[600], name[512];
		int n;

		if (l >= sizeof(name))
			continue;
		memcpy(name, sym_name(&d->tab, s), l);
		name[l] = '\0';
		if ((i && s->start == last) || (glob && fnmatch(glob, name, 0)))
			continue;
		last = s->start;
		for (int j = 0; j < d->nsegs; j++)
			if (off >= d->segs[j].vaddr && off < d->segs[j].vaddr + d->segs[j].filesz) {
				off = off - d->segs[j].vaddr + d->segs[j].offset;
				break;
			}
		n = snprintf(line, sizeof(line), "%llx %s\n", (unsigned long long)off, name);
		if (n >= (int)sizeof(line))
			continue;
		if (need + n < len)
			memcpy(buf + need, line, (size_t)n + 1);
		need += n;
	}
	return need;
}

/* The variable @name in @elf's symbol tables: its value and size, or -ENOENT. */
static int find_variable(Elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name)) {
				*value = sym.st_value;
				*size = sym.st_size;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/*
 * shark_sym_variable() - where the global variable @name of the ELF file
 * @path is, relative to where the file is loaded: its address is the start
 * of the file's mapping at offset 0 plus @rel (0 for a non-PIE executable's
 * own addresses, whose first segment is mapped at its link address).
 * Return: 0, or -errno (-ENOENT: no such variable, -ENOEXEC: not ELF).
 */
int32_t shark_sym_variable(const char *path, const char *name, uint64_t *rel, uint64_t *size)
{
	uint64_t lowest = UINT64_MAX, value = 0;
	Elf *elf;
	size_t nph;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		err = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr - ph.p_offset < lowest)
			lowest = ph.p_vaddr - ph.p_offset;
	}
	err = find_variable(elf, name, &value, size);
	if (!err)
		*rel = value - (lowest == UINT64_MAX ? 0 : lowest);
out:
	elf_end(elf);
	close(fd);
	return err;
}

/*
 * shark_symbolize() - name the function at @ip.
 * @pid: the process for user addresses, -1 for a kernel address
 *
 * Return: the length written to @buf, 0 when nothing is known.
 */
int32_t shark_symbolize(int32_t pid, uint64_t ip, char *buf, int32_t len)
{
	const struct sym *s;
	const struct pmap *m;
	struct proc *p;

	if (len < 2)
		return 0;
	if (shark_py__is_frame(ip))
		return shark_py__name(ip, buf, len);
	if (pid < 0) {
		const char *name = kbatch_find(ip);

		if (name)
			return *name ? put_str(buf, len, name, strlen(name)) : 0;
		if (!kernel_loaded)
			load_kernel();
		kernel_gen = sweep_gen;
		s = tab_find(&kernel, ip);
		return s ? put_name(buf, len, &kernel, s) : 0;
	}
	p = get_proc(pid, 1);
	if (!p)
		return 0;
	m = find_map(p, ip);
	if (!m && shark_time_ns() - p->loaded_at > 100000000ull) {
		read_maps(p);	/* new mappings since (dlopen, exec) */
		m = find_map(p, ip);
	}
	if (m && m->dso) {
		if (!m->dso->loaded)
			load_dso(m->dso, pid, m);
		m->dso->gen = sweep_gen;
		s = tab_find(&m->dso->tab, file_vaddr(m->dso, m, ip));
		if (s)
			return put_name(buf, len, &m->dso->tab, s);
		/* the module at least */
		const char *base = strrchr(m->dso->path, '/');
		int n = snprintf(buf, (size_t)len, "[%s]", base ? base + 1 : m->dso->path);

		return n >= len ? len - 1 : n;
	}
	if (!p->jit_tried)
		load_jit_map(p);
	s = tab_find(&p->jit, ip);
	return s ? put_name(buf, len, &p->jit, s) : 0;
}

/*
 * shark_sym_frame() - the mapping, module and build-id of @ip.
 * @pid: the process for user addresses, -1 for a kernel address
 *
 * Return: 0, or -ENOENT when no mapping holds @ip.
 */
int32_t shark_sym_frame(int32_t pid, uint64_t ip, struct shark_frame_info *out)
{
	static char kernel_build_id[65];
	const struct pmap *m;
	struct proc *p;

	memset(out, 0, sizeof(*out));
	out->build_id = "";
	if (pid < 0) {
		const char *id = shark_kernel_id(), *slash = strchr(id, '/');

		if (slash && !kernel_build_id[0])
			snprintf(kernel_build_id, sizeof(kernel_build_id), "%s", slash + 1);
		out->module = "[kernel.kallsyms]";
		out->build_id = kernel_build_id;
		out->start = 0xffffffff80000000ull;
		out->limit = UINT64_MAX;
		return 0;
	}
	p = get_proc(pid, 1);
	if (!p)
		return -ENOENT;
	m = find_map(p, ip);
	if (!m || !m->dso)
		return -ENOENT;
	if (!m->dso->loaded)
		load_dso(m->dso, pid, m);
	m->dso->gen = sweep_gen;
	out->start = m->start;
	out->limit = m->end;
	out->offset = m->pgoff;
	out->module = m->dso->path;
	out->build_id = m->dso->build_id;
	return 0;
}

/* "START END PGOFF PATH\n" per file mapping known for pid (even after it exited): bytes needed. */
int32_t shark_sym_maps(int32_t pid, char *buf, int32_t len)
{
	struct proc *p = pid > 0 ? get_proc(pid, 0) : NULL;
	int32_t n = 0;

	for (int i = 0; p && i < p->n; i++) {
		const struct pmap *m = &p->maps[i];
		int k;

		if (!m->dso)
			continue;
		k = snprintf(n < len ? buf + n : NULL, n < len ? (size_t)(len - n) : 0, "%llx %llx %llx %s\n",
			     (unsigned long long)m->start, (unsigned long long)m->end,
			     (unsigned long long)m->pgoff, m->dso->path);
		if (k > 0)
			n += k;
	}
	return n;
}

/* ------------------------------------------------------------ the sweep */

static void proc_free(struct proc *p)
{
	free(p->maps);
	tab_free(&p->jit);
	free(p);
}

static int proc_gone(int pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

static void dso_unload(struct dso *d)
{
	tab_free(&d->tab);
	free(d->segs);
	d->segs = NULL;
	d->nsegs = 0;
	d->build_id[0] = '\0';
	d->loaded = 0;
}

/* Processes not used for @keep sweeps, or for one when they are gone. */
static void sweep_procs(unsigned int keep)
{
	for (int i = 0; i < PROC_SLOTS; i++) {
		struct proc **pp = &procs[i];

		while (*pp) {
			struct proc *p = *pp;
			unsigned int age = sweep_gen - p->gen;

			if (age >= keep || (age >= 1 && proc_gone(p->pid))) {
				*pp = p->next;
				proc_free(p);
				totals.evicted_procs++;
			} else {
				pp = &p->next;
			}
		}
	}
}

/* Tables not used for @keep sweeps; files no kept process maps, not used either. */
static void sweep_dsos(unsigned int keep)
{
	struct dso **dp = &dsos;

	/* after sweep_procs: the processes kept hold on to the files they map */
	for (int i = 0; i < PROC_SLOTS; i++)
		for (struct proc *p = procs[i]; p; p = p->next)
			for (int j = 0; j < p->n; j++)
				if (p->maps[j].dso)
					p->maps[j].dso->ref_gen = sweep_gen;
	while (*dp) {
		struct dso *d = *dp;

		if (d->loaded && sweep_gen - d->gen >= keep) {
			dso_unload(d);
			totals.evicted_tables++;
		} else if (d->tab.map) {
			/* the names read stay in the page cache, not in our memory */
			madvise(d->tab.map, d->tab.map_len, MADV_DONTNEED);
		}
		if (!d->loaded && sweep_gen - d->ref_gen >= keep) {
			*dp = d->next;
			free(d->path);
			free(d);
			totals.evicted_dsos++;
		} else {
			dp = &d->next;
		}
	}
}

/*
 * shark_sym_sweep() - forget what was not used lately: an always-on profiler
 * calls it after each window it symbolized, so its memory follows what runs,
 * not everything that ever ran. Processes unused for @keep sweeps (or gone
 * and unused since the last one), symbol tables and files unused for @keep
 * sweeps. A later lookup reads them again. Names and build-ids handed out
 * (sym_frame) are valid until the next sweep.
 */
void shark_sym_sweep(int32_t keep)
{
	unsigned int k = keep < 1 ? 1 : (unsigned int)keep;

	sweep_procs(k);
	/* a process used in this window keeps the files it maps */
	sweep_dsos(k);
	kbatch_free();
	if (kernel_loaded && sweep_gen - kernel_gen >= k) {
		tab_free(&kernel);
		kernel_loaded = 0;
		totals.evicted_tables++;
	}
	totals.sweeps++;
	sweep_gen++;
}

/* What the symbol caches hold now, and what sweeps dropped so far. */
void shark_sym_stats(struct shark_sym_stats *st)
{
	*st = totals;
	st->procs = st->dsos = st->tables = st->symbols = st->bytes = 0;
	for (int i = 0; i < PROC_SLOTS; i++)
		for (struct proc *p = procs[i]; p; p = p->next) {
			st->procs++;
			st->bytes += sizeof(*p) + (uint64_t)p->n * sizeof(*p->maps) + tab_bytes(&p->jit);
			st->symbols += p->jit.n;
		}
	for (struct dso *d = dsos; d; d = d->next) {
		st->dsos++;
		st->bytes += sizeof(*d) + strlen(d->path) + 1 + (uint64_t)d->nsegs * sizeof(*d->segs);
		if (d->loaded) {
			st->tables++;
			st->symbols += d->tab.n;
			st->bytes += tab_bytes(&d->tab);
		}
	}
	st->bytes += kb.n * (2 * sizeof(uint64_t) + KNAME);
	if (kernel_loaded) {
		st->tables++;
		st->symbols += kernel.n;
		st->bytes += tab_bytes(&kernel);
	}
}
