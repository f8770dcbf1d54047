// SPDX-License-Identifier: GPL-2.0
/* sym.c - symbols: kernel (kallsyms), user (ELF of mapped files, perf JIT maps), cached. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "shark.h"
#include "pyframes.h"

char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

struct sym {
	uint64_t start;
	uint64_t size;		/* 0: up to the next symbol */
	char *name;
};

struct symtab {
	struct sym *syms;
	size_t n, cap;
};

struct seg {
	uint64_t offset, vaddr, filesz;
};

/* A mapped file, loaded once for every process that maps it. */
struct dso {
	char *path;
	dev_t dev;
	ino_t ino;
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
static struct dso *dsos;
static struct proc *procs[PROC_SLOTS];

/* ---------------------------------------------------------------- tables */

static int tab_add(struct symtab *t, uint64_t start, uint64_t size, const char *name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct sym *s = realloc(t->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->syms = s;
		t->cap = cap;
	}
	/* "clock_nanosleep@@GLIBC_2.17": the version is no part of the name */
	t->syms[t->n].name = strndup(name, strcspn(name, "@"));
	if (!t->syms[t->n].name)
		return -ENOMEM;
	t->syms[t->n].start = start;
	t->syms[t->n].size = size;
	t->n++;
	return 0;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void tab_sort(struct symtab *t)
{
	if (t->n)
		qsort(t->syms, t->n, sizeof(*t->syms), sym_cmp);
}

static void tab_free(struct symtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->syms[i].name);
	free(t->syms);
	memset(t, 0, sizeof(*t));
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

static int elf_symbols(struct dso *d, Elf *elf, int want_segs)
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
		Elf_Data *data;
		size_t n;

		if (!s || !gelf_getshdr(s, &sh) || !(data = elf_getdata(s, NULL)) || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !sym.st_value ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && *name)
				tab_add(&d->tab, sym.st_value, sym.st_size, name);
		}
		/* .symtab is a superset of .dynsym: one is enough */
		if (d->tab.n)
			break;
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
	fd = shark_sym__open(pid, d->path, d->dev, d->ino);
	fd = open_mapped(fd, d, pid, m);
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && gelf_getehdr(elf, &eh)) {
		d->is_exec = eh.e_type == ET_EXEC;
		elf_symbols(d, elf, 1);
		/* stripped (Debian's libc): a -dbgsym package may have the rest */
		if (debug_path(elf, dbg, sizeof(dbg)) == 0) {
			int dfd = open(dbg, O_RDONLY | O_CLOEXEC);

			note_build_id(d, dbg);

			if (dfd >= 0) {
				Elf *de = elf_begin(dfd, ELF_C_READ_MMAP, NULL);

				if (de) {
					tab_free(&d->tab);
					elf_symbols(d, de, 0);
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
		if (!strcmp(d->path, path) && (!ino || !d->ino || (d->dev == dev && d->ino == ino)))
			return d;
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
		if (p->pid == pid)
			return p;
	if (!create)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
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
	mi->dso = m->dso;
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
						  m->dso->ino, m->dso };
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

static int put_name(char *buf, int32_t len, const char *name)
{
	char *dm = NULL;
	int status = -1, n;

	if (name[0] == '_' && name[1] == 'Z')
		dm = __cxa_demangle(name, NULL, NULL, &status);
	n = snprintf(buf, (size_t)len, "%s", status == 0 && dm ? dm : name);
	free(dm);
	return n >= len ? len - 1 : n;
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
		char line[600];
		int n;

		if ((i && s->start == last) || (glob && fnmatch(glob, s->name, 0)))
			continue;
		last = s->start;
		for (int j = 0; j < d->nsegs; j++)
			if (off >= d->segs[j].vaddr && off < d->segs[j].vaddr + d->segs[j].filesz) {
				off = off - d->segs[j].vaddr + d->segs[j].offset;
				break;
			}
		n = snprintf(line, sizeof(line), "%llx %s\n", (unsigned long long)off, s->name);
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
		if (!kernel_loaded)
			load_kernel();
		s = tab_find(&kernel, ip);
		return s ? put_name(buf, len, s->name) : 0;
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
		s = tab_find(&m->dso->tab, file_vaddr(m->dso, m, ip));
		if (s)
			return put_name(buf, len, s->name);
		/* the module at least */
		const char *base = strrchr(m->dso->path, '/');
		int n = snprintf(buf, (size_t)len, "[%s]", base ? base + 1 : m->dso->path);

		return n >= len ? len - 1 : n;
	}
	if (!p->jit_tried)
		load_jit_map(p);
	s = tab_find(&p->jit, ip);
	return s ? put_name(buf, len, s->name) : 0;
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
