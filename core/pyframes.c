// SPDX-License-Identifier: GPL-2.0
/* pyframes.c - Python function names in user stacks, read from a CPython 3.11 interpreter's frames at sample time. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "shark.h"
#include "pyframes.h"

/*
 * CPython runs Python functions inside _PyEval_EvalFrameDefault: the native
 * stack shows that one C function, not which Python code it runs. The
 * interpreter keeps its own chain: _PyRuntime -> interpreter -> thread states
 * (one per thread, matched by native thread id) -> _PyCFrame ->
 * _PyInterpreterFrame -> previous ..., each frame naming its code object.
 * That chain is read from the process with process_vm_readv while the sample
 * is decoded (the thread may have moved on by then: names can lag by a call,
 * as with py-spy), and spliced into the native chain where
 * _PyEval_EvalFrameDefault runs them: frames up to an "entry" frame belong to
 * one C-level call of it.
 *
 * The layout is 3.11's (Include/internal/pycore_*.h), checked on every
 * process before use: the code objects must point at PyCode_Type and their
 * names at PyUnicode_Type, or the process gets native frames only, with a
 * notice saying why.
 */

/* CPython 3.11 x86-64 offsets */
enum {
	RT_INTERP_HEAD = 40,	/* _PyRuntimeState.interpreters.head */
	IS_THREADS_HEAD = 16,	/* PyInterpreterState.threads.head */
	TS_NEXT = 8,		/* PyThreadState.next */
	TS_CFRAME = 56,		/* PyThreadState.cframe */
	TS_NATIVE_ID = 160,	/* PyThreadState.native_thread_id */
	TS_SIZE = 168,
	CF_CURRENT = 8,		/* _PyCFrame.current_frame */
	FR_CODE = 32,		/* _PyInterpreterFrame.f_code */
	FR_PREVIOUS = 48,	/* .previous */
	FR_IS_ENTRY = 68,	/* .is_entry */
	FR_SIZE = 72,
	OB_TYPE = 8,		/* PyObject.ob_type */
	CO_FILENAME = 112,	/* PyCodeObject.co_filename */
	CO_QUALNAME = 128,	/* PyCodeObject.co_qualname */
	STR_LENGTH = 16,	/* PyASCIIObject.length */
	STR_STATE = 32,		/* .state: bit 5 compact, bit 6 ascii */
	STR_DATA = 48,		/* a compact ASCII string's bytes */
	MAX_THREADS = 256,
	NAME_MAX_LEN = 200,
};

enum { PY_UNKNOWN, PY_OK, PY_NONE, PY_BROKEN };

struct pyproc {
	int pid;
	int state;
	uint32_t gen;		/* this image of the process (exec starts another) */
	uint32_t good;		/* walks that named frames: its layout is the one we know */
	uint32_t bad;		/* walks whose first frame was no code object */
	uint64_t runtime, unicode_type, code_type;
	uint64_t eval_lo, eval_hi;	/* _PyEval_EvalFrameDefault */
	struct pyproc *next;
};

/* (process image, code object) -> name id */
struct codename {
	uint32_t gen;
	uint64_t code;
	uint64_t qualname;	/* its name object then: a code object freed and another at its address differ */
	uint32_t id;
	struct codename *next;
};

enum { PROC_SLOTS = 256, CODE_SLOTS = 4096, NAME_SLOTS = 4096 };

static struct pyproc *procs[PROC_SLOTS];
static struct codename *codes[CODE_SLOTS];
static char **names;		/* id -> "qualname (file.py)" */
static uint32_t nnames, names_cap;
static uint32_t *name_slots;	/* open addressing over names, by content */
static uint32_t generation;

/* ------------------------------------------------------------ memory */

static int peek(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };

	return addr && process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static uint64_t peek64(int pid, uint64_t addr)
{
	uint64_t v = 0;

	return peek(pid, addr, &v, 8) ? 0 : v;
}

/* A str object's text if it is compact ASCII (names and file names are). */
static int read_str(const struct pyproc *pp, uint64_t obj, char *buf, size_t len)
{
	uint8_t head[STR_DATA];
	uint64_t n, type;
	uint32_t state;

	if (peek(pp->pid, obj, head, sizeof(head)))
		return -EFAULT;
	memcpy(&type, head + OB_TYPE, 8);
	memcpy(&n, head + STR_LENGTH, 8);
	memcpy(&state, head + STR_STATE, 4);
	if (type != pp->unicode_type || !(state & (1u << 5)) || !(state & (1u << 6)))
		return -EINVAL;
	if (n >= len)
		n = len - 1;
	if (peek(pp->pid, obj + STR_DATA, buf, n))
		return -EFAULT;
	buf[n] = '\0';
	return (int)n;
}

/* --------------------------------------------------------------- names */

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int64_t name_id(const char *s)
{
	uint32_t h;

	if (!name_slots && !(name_slots = calloc(NAME_SLOTS, sizeof(*name_slots))))
		return -ENOMEM;
	h = str_hash(s);
	for (uint32_t i = 0; i < NAME_SLOTS; i++) {
		uint32_t *slot = &name_slots[(h + i) & (NAME_SLOTS - 1)];

		if (!*slot) {
			if (nnames == names_cap) {
				uint32_t cap = names_cap ? names_cap * 2 : 256;
				char **n = realloc(names, sizeof(*n) * cap);

				if (!n)
					return -ENOMEM;
				names = n;
				names_cap = cap;
			}
			if (nnames + 1 >= NAME_SLOTS / 2 || !(names[nnames] = strdup(s)))
				return -ENOSPC;	/* bounded: the rest show as their C frames */
			*slot = ++nnames;
			return *slot - 1;
		}
		if (!strcmp(names[*slot - 1], s))
			return *slot - 1;
	}
	return -ENOSPC;
}

/*
 * The name id of a code object, read once per (process, code object, name
 * object): one read of the object per frame, the strings only when new.
 */
static int64_t code_name(const struct pyproc *pp, uint64_t code)
{
	struct codename **slot = &codes[(code >> 4 ^ pp->gen) % CODE_SLOTS], *c;
	char qual[NAME_MAX_LEN], file[NAME_MAX_LEN], full[2 * NAME_MAX_LEN + 4];
	uint64_t co[CO_QUALNAME / 8 + 1];
	const char *base;
	int64_t id;

	if (peek(pp->pid, code, co, sizeof(co)) || co[OB_TYPE / 8] != pp->code_type)
		return -EINVAL;
	for (c = *slot; c; c = c->next)
		if (c->code == code && c->gen == pp->gen && c->qualname == co[CO_QUALNAME / 8])
			return c->id;
	if (read_str(pp, co[CO_QUALNAME / 8], qual, sizeof(qual)) < 0)
		return -EINVAL;
	if (read_str(pp, co[CO_FILENAME / 8], file, sizeof(file)) < 0)
		strcpy(file, "?");
	base = strrchr(file, '/');
	snprintf(full, sizeof(full), "%s (%s)", qual, base ? base + 1 : file);
	id = name_id(full);
	if (id < 0)
		return id;
	c = malloc(sizeof(*c));
	if (c) {
		*c = (struct codename){ pp->gen, code, co[CO_QUALNAME / 8], (uint32_t)id, *slot };
		*slot = c;
	}
	return id;
}

int32_t shark_py__name(uint64_t ip, char *buf, int32_t len)
{
	uint64_t id = ip - SHARK_PY_FRAME_BASE;
	int n;

	if (!shark_py__is_frame(ip) || id >= nnames || len < 2)
		return 0;
	n = snprintf(buf, (size_t)len, "%s", names[id]);
	return n >= len ? len - 1 : n;
}

/* --------------------------------------------------------- processes */

/* The symbols the walk needs, from the file's dynamic symbol table. */
static int find_symbols(struct pyproc *pp, const struct shark_map_info *mi)
{
	static const char *const want[] = { "_PyRuntime", "PyUnicode_Type", "PyCode_Type",
					    "_PyEval_EvalFrameDefault" };
	uint64_t val[4] = { 0 }, size = 0, bias = mi->start - mi->pgoff;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t nph;
	Elf *elf;
	int fd, found = 0;

	fd = shark_sym__open(pp->pid, mi->path, mi->dev, mi->ino);
	if (fd < 0)
		return fd;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && !elf_getphdrnum(elf, &nph)) {
		/* the load bias, from the segment this executable mapping starts in */
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    mi->pgoff >= (ph.p_offset & ~4095ull) && mi->pgoff < ph.p_offset + ph.p_filesz) {
				bias = mi->start - mi->pgoff + ph.p_offset - ph.p_vaddr;
				break;
			}
		}
	}
	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)))
				continue;
			for (int k = 0; k < 4; k++) {
				if (!val[k] && !strcmp(name, want[k])) {
					val[k] = sym.st_value + bias;
					if (k == 3)
						size = sym.st_size;
					found++;
				}
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (found < 4)
		return -ENOENT;
	pp->runtime = val[0];
	pp->unicode_type = val[1];
	pp->code_type = val[2];
	pp->eval_lo = val[3];
	pp->eval_hi = val[3] + (size ? size : 1);
	return 0;
}

/* Is @pid a CPython we can read? Decided once, said once when not. */
static struct pyproc *get_proc(int pid)
{
	struct pyproc **slot = &procs[(unsigned)pid % PROC_SLOTS], *pp;
	static struct shark_map_info maps[256];
	char why[160] = "";
	int n;

	for (pp = *slot; pp; pp = pp->next)
		if (pp->pid == pid)
			break;
	if (pp && pp->state != PY_UNKNOWN)
		return pp;
	if (!pp) {
		pp = calloc(1, sizeof(*pp));
		if (!pp)
			return NULL;
		pp->pid = pid;
		pp->next = *slot;
		*slot = pp;
	}
	pp->gen = ++generation;
	pp->good = pp->bad = 0;
	pp->state = PY_NONE;
	n = shark_sym__maps(pid, maps, 256);
	/* the executable, or libpython when the executable links it */
	for (int i = 0; i < n && pp->state != PY_OK; i++) {
		const char *base = strrchr(maps[i].path, '/');
		int major = 0, minor = 0;

		base = base ? base + 1 : maps[i].path;
		if (sscanf(base, "python%d.%d", &major, &minor) != 2 &&
		    sscanf(base, "libpython%d.%d", &major, &minor) != 2)
			continue;
		if (major != 3 || minor != 11) {
			snprintf(why, sizeof(why), "runs %s: only CPython 3.11's frame layout is known", base);
			pp->state = PY_BROKEN;
		} else if (find_symbols(pp, &maps[i])) {
			snprintf(why, sizeof(why), "%s has no _PyRuntime/_PyEval_EvalFrameDefault symbols", base);
			pp->state = PY_BROKEN;
		} else {
			pp->state = PY_OK;
		}
	}
	if (pp->state == PY_BROKEN)
		pr_info("python frames: pid %d %s: its stacks show the interpreter's C frames only\n", pid, why);
	return pp;
}

/* The thread state of @tid, or 0 (not a Python thread, or not running Python yet). */
static uint64_t thread_state(const struct pyproc *pp, int tid)
{
	uint64_t interp = peek64(pp->pid, pp->runtime + RT_INTERP_HEAD);
	uint64_t ts = interp ? peek64(pp->pid, interp + IS_THREADS_HEAD) : 0;

	for (int i = 0; ts && i < MAX_THREADS; i++) {
		uint64_t t[TS_SIZE / 8];

		if (peek(pp->pid, ts, t, sizeof(t)))
			return 0;
		if (t[TS_NATIVE_ID / 8] == (uint64_t)tid)
			return ts;
		ts = t[TS_NEXT / 8];
	}
	return 0;
}

/*
 * The Python frames of thread @tid, innermost first: name ids in @ids and,
 * in @entry, whether each ends a run of _PyEval_EvalFrameDefault. Count, or
 * -errno when the layout turned out wrong.
 */
static int py_frames(struct pyproc *pp, int tid, uint64_t *ids, uint8_t *entry, int max)
{
	uint64_t ts = thread_state(pp, tid), cf, fr;
	int n = 0;

	if (!ts)
		return 0;
	cf = peek64(pp->pid, ts + TS_CFRAME);
	fr = cf ? peek64(pp->pid, cf + CF_CURRENT) : 0;
	while (fr && n < max) {
		uint8_t f[FR_SIZE];
		uint64_t code, prev;
		int64_t id;

		if (peek(pp->pid, fr, f, sizeof(f)))
			break;
		memcpy(&code, f + FR_CODE, 8);
		memcpy(&prev, f + FR_PREVIOUS, 8);
		id = code_name(pp, code);
		if (id == -EINVAL && n == 0 && !pp->good && ++pp->bad >= 3) {
			/*
			 * the first code object is not one, three walks in a row and
			 * never a good one: this is not the layout we know. A frame
			 * read while the thread changes it is only skipped.
			 */
			pp->state = PY_BROKEN;
			pr_info("python frames: pid %d: its frames do not match CPython 3.11's layout, "
				"its stacks show the interpreter's C frames only\n", pp->pid);
			return -EINVAL;
		}
		if (id >= 0) {
			ids[n] = SHARK_PY_FRAME_BASE + (uint64_t)id;
			entry[n] = f[FR_IS_ENTRY];
			n++;
		} else if (id == -EINVAL) {
			break;	/* a frame torn by the running thread: what came before is right */
		}
		fr = prev;
	}
	pp->good += n > 0;
	return n;
}

int32_t shark_py__splice(int32_t pid, int32_t tid, uint64_t *ips, int32_t n, int32_t max)
{
	uint64_t py[128], out[256];
	uint8_t entry[128] = { 0 };
	struct pyproc *pp = pid > 0 ? get_proc(pid) : NULL;
	int np, k = 0, m = 0;

	if (!pp || pp->state != PY_OK || n <= 0)
		return n;
	np = py_frames(pp, tid, py, entry, 128);
	if (np <= 0)
		return n;
	for (int i = 0; i < n && m < 256; i++) {
		if (ips[i] >= pp->eval_lo && ips[i] < pp->eval_hi) {
			/* this C call of the interpreter runs frames up to an entry frame */
			while (k < np && m < 256) {
				out[m++] = py[k];
				if (entry[k++])
					break;
			}
		}
		out[m++] = ips[i];
	}
	if (m > max)
		m = max;
	memcpy(ips, out, sizeof(*ips) * (size_t)m);
	return m;
}

void shark_py__forget(int32_t pid)
{
	struct pyproc *pp = pid > 0 ? procs[(unsigned)pid % PROC_SLOTS] : NULL;

	for (; pp; pp = pp->next)
		if (pp->pid == pid)
			pp->state = PY_UNKNOWN;	/* looked at again, with names of its own */
}
