// SPDX-License-Identifier: GPL-2.0
/* bpf.c - BPF objects through libbpf: open, configure, load, free, their sections and maps.
 * Attaching is in bpf_attach.c, BTF (types for Lua, vmlinux.h) in bpf_btf.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "shark.h"
#include "bpf_object.h"

#define VERIFIER_LOG 65536

static __thread char open_err[1024];

/* errno or libbpf's own codes (4000 and up, "Unknown error 4001" to strerror) in words */
const char *shark_bpf_strerror(int err)
{
	static __thread char buf[128];

	if (err < 0)
		err = -err;
	if (err < 4000)
		return strerror(err);
	libbpf_strerror(-err, buf, sizeof(buf));
	return buf;
}

/* Why the kernel refused to load a program, for the sizes the verifier gives up on. */
static const char *load_strerror(int err)
{
	if (err == -ENOSPC)
		return "the program is too large or too complex for the verifier, which gave up "
		       "(1,000,000 instructions walked at most; its log shows where it stopped)";
	if (err == -E2BIG)
		return "the program is too large for the verifier (1,000,000 instructions walked at most)";
	return shark_bpf_strerror(err);
}

void shark_bpf__set_err(struct shark_bpf *o, const char *fmt, ...)
{
	char *buf = o ? o->err : open_err;
	size_t len = o ? sizeof(o->err) : sizeof(open_err);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void shark_bpf__add_libbpf(struct shark_bpf *o)
{
	char *buf = o ? o->err : open_err;
	size_t len = o ? sizeof(o->err) : sizeof(open_err);
	const char *said = shark_log__captured();
	size_t n = strlen(buf);

	if (said && *said && n + 16 < len)
		snprintf(buf + n, len - n, "\n%s", said);
}

const char *shark_bpf__error(struct shark_bpf *o)
{
	return o ? o->err : open_err;
}

/* ------------------------------------------------------------ lifecycle */

struct shark_bpf *shark_bpf__open(const void *buf, uint64_t len, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct shark_bpf *o;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	open_err[0] = '\0';
	o = calloc(1, sizeof(*o));
	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	shark_log__capture(1);
	o->obj = bpf_object__open_mem(buf, (size_t)len, &opts);
	err = libbpf_get_error(o->obj);
	if (err) {
		o->obj = NULL;
		shark_bpf__set_err(NULL, "cannot open the BPF object %s: %s", name,
				   shark_bpf_strerror(err));
		shark_bpf__add_libbpf(NULL);
		shark_log__capture(0);
		free(o);
		errno = -err;
		return NULL;
	}
	shark_log__capture(0);
	bpf_object__for_each_program(prog, o->obj)
		o->nprogs++;
	bpf_object__for_each_map(map, o->obj)
		o->nmaps++;
	o->progs = calloc((size_t)o->nprogs + 1, sizeof(*o->progs));
	o->maps = calloc((size_t)o->nmaps + 1, sizeof(*o->maps));
	o->logs = calloc((size_t)o->nprogs + 1, sizeof(*o->logs));
	o->mmaps = calloc((size_t)o->nmaps + 1, sizeof(*o->mmaps));
	o->mmap_sizes = calloc((size_t)o->nmaps + 1, sizeof(*o->mmap_sizes));
	if (!o->progs || !o->maps || !o->logs || !o->mmaps || !o->mmap_sizes) {
		shark_bpf__free(o);
		errno = ENOMEM;
		return NULL;
	}
	o->nprogs = o->nmaps = 0;
	bpf_object__for_each_program(prog, o->obj) {
		o->logs[o->nprogs] = malloc(VERIFIER_LOG);
		if (o->logs[o->nprogs]) {
			o->logs[o->nprogs][0] = '\0';
			bpf_program__set_log_buf(prog, o->logs[o->nprogs], VERIFIER_LOG);
		}
		o->progs[o->nprogs++] = prog;
	}
	bpf_object__for_each_map(map, o->obj)
		o->maps[o->nmaps++] = map;
	return o;
}

void shark_bpf__free(struct shark_bpf *o)
{
	if (!o)
		return;
	shark_bpf__detach(o);
	bpf_object__close(o->obj);
	for (int i = 0; o->logs && i < o->nprogs; i++)
		free(o->logs[i]);
	free(o->logs);
	for (int i = 0; o->mmaps && i < o->nmaps; i++)
		if (o->mmaps[i])
			munmap(o->mmaps[i], o->mmap_sizes[i]);
	free(o->mmaps);
	free(o->mmap_sizes);
	free(o->links);
	free(o->pfds);
	free(o->progs);
	free(o->maps);
	free(o);
}

int32_t shark_bpf__detach(struct shark_bpf *o)
{
	for (int i = 0; i < o->nlinks; i++)
		bpf_link__destroy(o->links[i]);
	o->nlinks = 0;
	for (int i = 0; i < o->npfds; i++)
		close(o->pfds[i]);
	o->npfds = 0;
	return 0;
}

/* The useful end of a verifier log: its last lines. */
static const char *log_tail(const char *log, int lines)
{
	const char *p = log + strlen(log);

	while (p > log && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	while (p > log && lines > 0) {
		p--;
		if (*p == '\n' && --lines == 0)
			return p + 1;
	}
	return log;
}

/*
 * After load, global data lives in the kernel's maps: map them (libbpf 1.1
 * only does so for skeletons), so Lua reads and writes the live values.
 */
static void map_sections(struct shark_bpf *o)
{
	long page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < o->nmaps; i++) {
		struct bpf_map *m = o->maps[i];
		const char *n = bpf_map__name(m);
		size_t sz;
		void *mem;
		int prot;

		if (!strchr(n, '.') || !(bpf_map__map_flags(m) & BPF_F_MMAPABLE))
			continue;
		sz = ((size_t)bpf_map__value_size(m) + (size_t)page - 1) & ~((size_t)page - 1);
		prot = (bpf_map__map_flags(m) & BPF_F_RDONLY_PROG) ? PROT_READ : PROT_READ | PROT_WRITE;
		mem = mmap(NULL, sz, prot, MAP_SHARED, bpf_map__fd(m), 0);
		if (mem == MAP_FAILED)
			continue;
		o->mmaps[i] = mem;
		o->mmap_sizes[i] = sz;
	}
}

int32_t shark_bpf__load(struct shark_bpf *o)
{
	int err;

	o->err[0] = '\0';
	shark_log__capture(1);
	err = bpf_object__load(o->obj);
	if (err) {
		for (int i = 0; i < o->nprogs; i++) {
			if (o->logs[i] && o->logs[i][0]) {
				shark_bpf__set_err(o, "the kernel rejected BPF program '%s' (%s): %s\n"
						   "verifier log (end):\n%s", bpf_program__name(o->progs[i]),
						   bpf_program__section_name(o->progs[i]), load_strerror(err),
						   log_tail(o->logs[i], 20));
				shark_log__capture(0);
				return err;
			}
		}
		shark_bpf__set_err(o, "cannot load the BPF object: %s", load_strerror(err));
		if (err == -EPERM)
			snprintf(o->err + strlen(o->err), sizeof(o->err) - strlen(o->err),
				 " (not root, or a program type this kernel refuses, e.g. fentry/fexit here)");
		shark_bpf__add_libbpf(o);
		shark_log__capture(0);
		return err;
	}
	shark_log__capture(0);
	map_sections(o);
	return 0;
}

/* ---------------------------------------------------------------- info */

int32_t shark_bpf__nprogs(struct shark_bpf *o)
{
	return o->nprogs;
}

int32_t shark_bpf__nmaps(struct shark_bpf *o)
{
	return o->nmaps;
}

int32_t shark_bpf__prog(struct shark_bpf *o, int32_t i, struct shark_bpf_prog_info *pi)
{
	struct bpf_program *p;

	if (i < 0 || i >= o->nprogs)
		return -ENOENT;
	p = o->progs[i];
	pi->name = bpf_program__name(p);
	pi->section = bpf_program__section_name(p);
	pi->type = (uint32_t)bpf_program__type(p);
	pi->fd = bpf_program__fd(p);
	return 0;
}

int32_t shark_bpf__map(struct shark_bpf *o, int32_t i, struct shark_bpf_map_info *mi)
{
	struct bpf_map *m;

	if (i < 0 || i >= o->nmaps)
		return -ENOENT;
	m = o->maps[i];
	mi->name = bpf_map__name(m);
	mi->fd = bpf_map__fd(m);
	mi->type = (uint32_t)bpf_map__type(m);
	mi->key_size = bpf_map__key_size(m);
	mi->value_size = bpf_map__value_size(m);
	mi->max_entries = bpf_map__max_entries(m);
	mi->btf_key_id = bpf_map__btf_key_type_id(m);
	mi->btf_value_id = bpf_map__btf_value_type_id(m);
	mi->flags = bpf_map__map_flags(m);
	return 0;
}

/*
 * The memory of a global data section (.bss, .data, .rodata, .data.*): the
 * initial image before load (write cfg_* knobs there), the live mmap after.
 */
void *shark_bpf__section(struct shark_bpf *o, const char *name, uint64_t *size)
{
	for (int i = 0; i < o->nmaps; i++) {
		const char *n = bpf_map__name(o->maps[i]);
		const char *dot = strchr(n, '.');
		size_t sz = 0;
		void *mem;

		/* libbpf names them "<obj>.bss" (object name cut to fit) */
		if (!dot || strcmp(dot, name))
			continue;
		if (o->mmaps[i]) {
			*size = bpf_map__value_size(o->maps[i]);
			return o->mmaps[i];
		}
		mem = (void *)bpf_map__initial_value(o->maps[i], &sz);
		*size = sz;
		return mem;
	}
	*size = 0;
	return NULL;
}

int32_t shark_bpf__possible_cpus(void)
{
	return libbpf_num_possible_cpus();
}

/* Before load: resize a map (templates size their maps from Lua). */
int32_t shark_bpf__map_resize(struct shark_bpf *o, const char *name, uint32_t max)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);

	if (!m)
		return -ENOENT;
	return bpf_map__set_max_entries(m, max);
}

int32_t shark_bpf__map_reuse(struct shark_bpf *o, const char *name, int32_t fd)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);

	if (!m)
		return -ENOENT;
	return bpf_map__reuse_fd(m, fd);
}

int32_t shark_bpf__autoload(struct shark_bpf *o, const char *prog, int32_t on)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, prog);

	if (!p)
		return -ENOENT;
	return bpf_program__set_autoload(p, on != 0);
}

void shark_free(void *p)
{
	free(p);
}

void *shark_calloc(uint64_t n, uint64_t size)
{
	return calloc((size_t)n, (size_t)size);
}

/* ---------------------------------------------------------------- maps */

int32_t shark_bpf_map_lookup(int32_t fd, const void *key, void *value)
{
	return bpf_map_lookup_elem(fd, key, value) ? -errno : 0;
}

int32_t shark_bpf_map_update(int32_t fd, const void *key, const void *value, uint64_t flags)
{
	return bpf_map_update_elem(fd, key, value, flags) ? -errno : 0;
}

int32_t shark_bpf_map_delete(int32_t fd, const void *key)
{
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

int32_t shark_bpf_map_take(int32_t fd, const void *key, void *value)
{
	return bpf_map_lookup_and_delete_elem(fd, key, value) ? -errno : 0;
}

int32_t shark_bpf_switch(uint32_t *window, uint64_t *busy)
{
	uint32_t idle = __atomic_load_n(window, __ATOMIC_RELAXED) & 1;
	uint64_t start = 0;

	/* seq_cst: the flip is seen before busy is read (an xchg on x86) */
	__atomic_exchange_n(window, !idle, __ATOMIC_SEQ_CST);
	for (unsigned long spins = 0; __atomic_load_n(&busy[idle], __ATOMIC_SEQ_CST); spins++) {
		if (spins < 1000)
			continue;
		/* a program adds in microseconds: only a preempted one is slower */
		if (!start)
			start = shark_time_ns();
		else if (shark_time_ns() - start > 1000000000ull)
			return -EBUSY;
		sched_yield();
	}
	return (int32_t)idle;
}

int32_t shark_bpf_map_next_key(int32_t fd, const void *key, void *next)
{
	return bpf_map_get_next_key(fd, key, next) ? -errno : 0;
}
