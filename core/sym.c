// SPDX-License-Identifier: GPL-2.0
/*
 * sym.c - symbols by process: each one's mappings (/proc/PID/maps, MMAP2
 * records), the files they map (loaded once, elfsym.c), its JIT map; kernel
 * addresses by ksym.c. Cached, and swept of what is no longer used.
 */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "shark.h"
#include "pyframes.h"
#include "symtab.h"

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

static struct dso *dsos;
static struct proc *procs[PROC_SLOTS];
static unsigned int sweep_gen;	/* shark_sym_sweep() calls so far */
static uint64_t dso_ids;
static struct shark_sym_stats totals;	/* the evicted counts */

/* A file's symbols, loaded now: used in this sweep generation. */
static void load_dso(struct dso *d, int pid, const struct pmap *m)
{
	d->gen = sweep_gen;
	shark_dso__load(d, pid, m);
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
		shark_symtab__free(&p->jit);
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
		size_t l = shark_symtab__len(&d->tab, s);
		char line[600], name[512];
		int n;

		if (l >= sizeof(name))
			continue;
		memcpy(name, shark_symtab__name(&d->tab, s), l);
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
	if (pid < 0)
		return shark_ksym__symbolize(ip, buf, len, sweep_gen);
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
		s = shark_symtab__find(&m->dso->tab, file_vaddr(m->dso, m, ip));
		if (s)
			return shark_symtab__put(buf, len, &m->dso->tab, s);
		/* the module at least */
		const char *base = strrchr(m->dso->path, '/');
		int n = snprintf(buf, (size_t)len, "[%s]", base ? base + 1 : m->dso->path);

		return n >= len ? len - 1 : n;
	}
	if (!p->jit_tried) {
		p->jit_tried = 1;
		shark_symtab__load_perf_map(&p->jit, p->pid);
	}
	s = shark_symtab__find(&p->jit, ip);
	return s ? shark_symtab__put(buf, len, &p->jit, s) : 0;
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
	shark_symtab__free(&p->jit);
	free(p);
}

static int proc_gone(int pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

static void dso_unload(struct dso *d)
{
	shark_symtab__free(&d->tab);
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
	shark_ksym__sweep(sweep_gen, k, &totals);
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
			st->bytes += sizeof(*p) + (uint64_t)p->n * sizeof(*p->maps) + shark_symtab__bytes(&p->jit);
			st->symbols += p->jit.n;
		}
	for (struct dso *d = dsos; d; d = d->next) {
		st->dsos++;
		st->bytes += sizeof(*d) + strlen(d->path) + 1 + (uint64_t)d->nsegs * sizeof(*d->segs);
		if (d->loaded) {
			st->tables++;
			st->symbols += d->tab.n;
			st->bytes += shark_symtab__bytes(&d->tab);
		}
	}
	shark_ksym__stats(st);
}
