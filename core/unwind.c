// SPDX-License-Identifier: GPL-2.0
/* unwind.c - DWARF (.eh_frame) unwinding of copied user stacks with elfutils' libdwfl. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>
#include "shark.h"
#include "unwind.h"

/*
 * A sample brings the user registers and a copy of the top of the user stack
 * (PERF_SAMPLE_REGS_USER + PERF_SAMPLE_STACK_USER, as perf record
 * --call-graph dwarf). elfutils' libdwfl unwinds it as a process whose
 * memory is that copy: each traced process gets a Dwfl with its mapped files
 * reported as modules, and libdwfl's own CFI interpreter (with the x86-64
 * backend's frame-pointer fallback) walks the frames.
 *
 * The files are opened and mapped once per build-id (struct image): every
 * Dwfl that reports one gets a reference to the same Elf, so a library
 * mapped by 50 processes is read once; only the .eh_frame_hdr and the FDEs
 * an unwind touches are paged in.
 */

enum { MAX_SEGS = 8, ID_MAX = 40, MAX_MAPS = 256, MAX_PROCS = 1024 };

struct seg {
	uint64_t offset, vaddr, filesz;
};

/* A file's ELF, one per build-id, shared by every process that maps it. */
struct image {
	uint8_t id[ID_MAX];
	uint32_t id_len;	/* 0: no build-id, shared only by the same file */
	Elf *elf;		/* ELF_C_READ_MMAP: the page cache's pages */
	int fd;
	int is_exec;		/* ET_EXEC: fixed addresses */
	struct seg segs[MAX_SEGS];
	int nsegs;
	uint64_t vaddr0;	/* the first PT_LOAD, page aligned: where a module starts */
	struct image *next;
};

/* A file of sym.c (one per path and inode) -> its image */
struct link {
	uint64_t dso_id;
	struct image *img;	/* NULL: could not be read */
	struct link *next;
};

/* A traced process: its Dwfl and the sample being unwound. */
struct proc {
	int pid;
	Dwfl *dwfl;
	uint64_t sig;		/* of the mappings reported */
	uint64_t used;		/* unwinds so far, at its last one: evict the oldest */
	uint64_t regs[SHARK_NREGS];
	uint32_t have;		/* bits: regs[] present */
	const uint8_t *stack;
	uint64_t sp, size;
	int short_read;		/* this walk wanted stack beyond the copy */
	struct proc *next;
};

enum { LINK_SLOTS = 512, PROC_SLOTS = 256 };

static struct image *images;
static struct link *links[LINK_SLOTS];
static struct proc *procs[PROC_SLOTS];
static int nprocs;
static uint64_t clock_used;
static struct shark_unwind_stats stats;

/* -------------------------------------------------------------- images */

static int read_build_id(Elf *elf, uint8_t *id, uint32_t *len)
{
	const unsigned char *p;
	size_t n;

	if (shark_elf_build_id(elf, &p, &n) || n > ID_MAX)
		return -ENOENT;
	memcpy(id, p, n);
	*len = (uint32_t)n;
	return 0;
}

/* The PT_LOAD segments of a file. */
static int read_layout(Elf *elf, struct image *img)
{
	GElf_Ehdr eh;
	size_t nph;
	int first = 1;

	if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	img->is_exec = eh.e_type == ET_EXEC;
	for (size_t i = 0; i < nph && img->nsegs < MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (first)
			img->vaddr0 = ph.p_vaddr & ~(ph.p_align ? ph.p_align - 1 : 0);
		first = 0;
		img->segs[img->nsegs++] = (struct seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	return img->nsegs ? 0 : -ENOEXEC;
}

static struct image *image_load(int pid, const struct shark_map_info *mi)
{
	struct image *img, *o;
	size_t size = 0;
	int fd;

	fd = shark_sym__open(pid, mi->path, mi->dev, mi->ino);
	if (fd < 0)
		return NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		goto fail;
	elf_version(EV_CURRENT);
	img->fd = fd;
	img->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!img->elf || elf_kind(img->elf) != ELF_K_ELF || read_layout(img->elf, img))
		goto fail;
	if (read_build_id(img->elf, img->id, &img->id_len) == 0) {
		for (o = images; o; o = o->next)
			if (o->id_len == img->id_len && !memcmp(o->id, img->id, img->id_len))
				break;
		if (o) {	/* the same file seen through another path or namespace */
			elf_end(img->elf);
			close(fd);
			free(img);
			return o;
		}
	}
	img->next = images;
	images = img;
	stats.images++;
	elf_rawfile(img->elf, &size);
	stats.image_bytes += size;
	return img;
fail:
	if (img && img->elf)
		elf_end(img->elf);
	close(fd);
	free(img);
	return NULL;
}

static struct image *image_of(int pid, const struct shark_map_info *mi)
{
	struct link **slot = &links[mi->dso_id % LINK_SLOTS], *l;

	for (l = *slot; l; l = l->next)
		if (l->dso_id == mi->dso_id)
			return l->img;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->dso_id = mi->dso_id;
	l->img = image_load(pid, mi);
	l->next = *slot;
	*slot = l;
	return l->img;
}

/* The load bias of the file mapped by @mi: runtime address - file address. */
static uint64_t map_bias(const struct image *img, const struct shark_map_info *mi)
{
	if (img->is_exec)
		return 0;
	for (int i = 0; i < img->nsegs; i++) {
		const struct seg *s = &img->segs[i];

		if (mi->pgoff >= (s->offset & ~4095ull) && mi->pgoff < s->offset + s->filesz)
			return mi->start - mi->pgoff + s->offset - s->vaddr;
	}
	return mi->start - mi->pgoff;
}

/* ------------------------------------------------------- libdwfl callbacks */

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct image *img = *userdata;

	(void)mod, (void)modname, (void)base, (void)file_name;
	/* another reference to the shared descriptor: dwfl_end() drops it */
	*elfp = img ? elf_begin(-1, ELF_C_READ_MMAP, img->elf) : NULL;
	return -1;
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
	return -1;	/* .eh_frame is in the file itself */
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct proc *p = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = p;
	return p->pid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl, (void)tid;
	*thread_argp = arg;
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct proc *p = arg;
	Dwfl_Module *mod;

	if (addr >= p->sp && addr + 8 <= p->sp + p->size) {
		memcpy(result, p->stack + (addr - p->sp), 8);
		return true;
	}
	/* read-only data of a mapped file (rare: expressions that load constants) */
	mod = dwfl_addrmodule(dwfl, addr);
	if (mod) {
		void **ud;
		Dwarf_Addr start;
		struct image *img;

		dwfl_module_info(mod, &ud, &start, NULL, NULL, NULL, NULL, NULL);
		img = ud ? *ud : NULL;
		for (int i = 0; img && i < img->nsegs; i++) {
			const struct seg *s = &img->segs[i];
			uint64_t v = addr - (start - img->vaddr0);
			size_t size;
			const char *raw;

			if (v < s->vaddr || v + 8 > s->vaddr + s->filesz)
				continue;
			raw = elf_rawfile(img->elf, &size);
			if (raw && v - s->vaddr + s->offset + 8 <= size) {
				memcpy(result, raw + (v - s->vaddr + s->offset), 8);
				return true;
			}
		}
	}
	if (addr >= p->sp && addr < p->sp + (8u << 20))
		p->short_read = 1;
	return false;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	/* DWARF x86-64 numbering: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
	static const int8_t perf_reg[17] = {
		SHARK_REG_AX, SHARK_REG_DX, SHARK_REG_CX, SHARK_REG_BX, SHARK_REG_SI, SHARK_REG_DI,
		SHARK_REG_BP, SHARK_REG_SP, SHARK_REG_R8, SHARK_REG_R8 + 1, SHARK_REG_R8 + 2,
		SHARK_REG_R8 + 3, SHARK_REG_R8 + 4, SHARK_REG_R8 + 5, SHARK_REG_R8 + 6, SHARK_REG_R8 + 7,
		SHARK_REG_IP,
	};
	struct proc *p = arg;
	Dwarf_Word r[17];

	for (int i = 0; i < 17; i++)
		r[i] = p->regs[perf_reg[i]];
	return dwfl_thread_state_registers(thread, 0, 17, r);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* ------------------------------------------------------------- processes */

static struct proc *get_proc(int pid)
{
	struct proc **slot = &procs[(unsigned)pid % PROC_SLOTS], *p;

	for (p = *slot; p; p = p->next)
		if (p->pid == pid)
			return p;
	if (nprocs >= MAX_PROCS) {
		/* bounded: the Dwfl of the process unwound least recently goes */
		struct proc *old = NULL;

		for (int i = 0; i < PROC_SLOTS; i++)
			for (struct proc *q = procs[i]; q; q = q->next)
				if (q->dwfl && (!old || q->used < old->used))
					old = q;
		if (old) {
			dwfl_end(old->dwfl);
			old->dwfl = NULL;
			old->sig = 0;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->next = *slot;
	*slot = p;
	nprocs++;
	return p;
}

/*
 * Report the process's mapped files to its Dwfl, again whenever they
 * changed (dlopen, exec): a new Dwfl then, as libdwfl attaches once.
 */
static int sync_modules(struct proc *p)
{
	static struct shark_map_info maps[MAX_MAPS];
	uint64_t sig = 0xcbf29ce484222325ull;
	int n = shark_sym__maps(p->pid, maps, MAX_MAPS);

	for (int i = 0; i < n; i++)
		sig = (sig ^ (maps[i].start + maps[i].dso_id)) * 0x100000001b3ull;
	if (p->dwfl && sig == p->sig)
		return 0;
	if (p->dwfl)
		dwfl_end(p->dwfl);
	p->sig = sig;
	p->dwfl = dwfl_begin(&dwfl_callbacks);
	if (!p->dwfl)
		return -ENOMEM;
	dwfl_report_begin(p->dwfl);
	for (int i = 0; i < n; i++) {
		struct image *img = image_of(p->pid, &maps[i]);
		uint64_t end = maps[i].end, low;
		Dwfl_Module *mod;
		void **ud;

		/* the executable mappings of one file are reported as one module */
		while (i + 1 < n && maps[i + 1].dso_id == maps[i].dso_id)
			end = maps[++i].end;
		if (!img)
			continue;
		low = map_bias(img, &maps[i]) + img->vaddr0;
		mod = dwfl_report_module(p->dwfl, maps[i].path, low, end);
		if (mod && dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
			*ud = img;
	}
	dwfl_report_end(p->dwfl, NULL, NULL);
	if (!dwfl_attach_state(p->dwfl, NULL, p->pid, &thread_callbacks, p)) {
		dwfl_end(p->dwfl);
		p->dwfl = NULL;
		return -ENOENT;
	}
	return 0;
}

/* ------------------------------------------------------------------ API */

struct walk {
	uint64_t *ips;
	int32_t n, max;
};

static int frame_cb(Dwfl_Frame *f, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(f, &pc, NULL) || !pc)
		return DWARF_CB_ABORT;
	w->ips[w->n++] = pc;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int32_t unwind(int32_t pid, const uint64_t *regs, uint64_t mask, const void *stack, uint64_t size,
		      uint64_t *ips, int32_t max)
{
	struct walk w = { ips, 0, max };
	struct proc *p;
	int k = 0;

	if (max <= 0 || pid <= 0)
		return -EINVAL;
	p = get_proc(pid);
	if (!p)
		return -ENOMEM;
	p->have = 0;
	for (int r = 0; r < SHARK_NREGS; r++) {
		p->regs[r] = 0;
		if (mask & (1ull << r)) {
			p->regs[r] = regs[k++];
			p->have |= 1u << r;
		}
	}
	if (!(p->have & (1u << SHARK_REG_IP)) || !(p->have & (1u << SHARK_REG_SP)))
		return 0;
	p->stack = stack;
	p->sp = p->regs[SHARK_REG_SP];
	p->size = stack ? size : 0;
	p->used = ++clock_used;
	stats.stacks++;
	if (sync_modules(p)) {
		/* nothing to unwind with: the sampled ip at least */
		ips[0] = p->regs[SHARK_REG_IP];
		stats.frames++;
		return 1;
	}
	p->short_read = 0;
	dwfl_getthread_frames(p->dwfl, pid, frame_cb, &w);
	stats.short_stack += (uint64_t)p->short_read;
	if (w.n && w.n < max && !dwfl_addrmodule(p->dwfl, ips[w.n - 1]))
		stats.no_info++;
	if (!w.n)
		ips[w.n++] = p->regs[SHARK_REG_IP];
	stats.frames += (uint64_t)w.n;
	return w.n;
}

int32_t shark_unwind__user(int32_t pid, const uint64_t *regs, uint64_t mask, const void *stack, uint64_t size,
			   uint64_t *ips, int32_t max)
{
	uint64_t t0 = shark_time_ns();
	int32_t n;

	/* the register numbers above and set_initial_registers() are x86-64's
	 * (lua/shark/arch.lua's dwarf_unwind says so to the Lua side) */
	if (!SHARK_UNWIND_ARCH)
		return -EOPNOTSUPP;
	n = unwind(pid, regs, mask, stack, size, ips, max);

	stats.ns += shark_time_ns() - t0;
	return n;
}

void shark_unwind__stats(struct shark_unwind_stats *st)
{
	*st = stats;
	st->procs = (uint64_t)nprocs;
}
