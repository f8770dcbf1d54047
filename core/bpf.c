// SPDX-License-Identifier: GPL-2.0
/* bpf.c - BPF objects through libbpf: open, configure, load, attach, maps, BTF. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "shark.h"

/*
 * A shark_bpf wraps one bpf_object and every link made from it, so freeing
 * it detaches everything (links are fds: a killed shark leaves nothing).
 * Errors come back as -errno; bpf_error() has them in words, with what
 * libbpf said and, for a verifier rejection, the tail of the verifier log.
 */
struct shark_bpf {
	struct bpf_object *obj;
	struct bpf_program **progs;
	int nprogs;
	struct bpf_map **maps;
	int nmaps;
	struct bpf_link **links;
	int nlinks;
	int *pfds;		/* fds closed on detach: perf events of perf_event programs, sockets */
	int npfds;
	char **logs;		/* per program verifier log */
	void **mmaps;		/* live mappings of .bss/.data/.rodata after load */
	size_t *mmap_sizes;
	char err[4096];
};

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

static void set_err(struct shark_bpf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct shark_bpf *o, const char *fmt, ...)
{
	char *buf = o ? o->err : open_err;
	size_t len = o ? sizeof(o->err) : sizeof(open_err);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Append what libbpf said during the last call (see log.c) to the error. */
static void add_libbpf(struct shark_bpf *o)
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
		set_err(NULL, "cannot open the BPF object %s: %s", name, shark_bpf_strerror(err));
		add_libbpf(NULL);
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
				set_err(o, "the kernel rejected BPF program '%s' (%s): %s\nverifier log (end):\n%s",
					bpf_program__name(o->progs[i]), bpf_program__section_name(o->progs[i]),
					load_strerror(err), log_tail(o->logs[i], 20));
				shark_log__capture(0);
				return err;
			}
		}
		set_err(o, "cannot load the BPF object: %s", load_strerror(err));
		if (err == -EPERM)
			snprintf(o->err + strlen(o->err), sizeof(o->err) - strlen(o->err),
				 " (not root, or a program type this kernel refuses, e.g. fentry/fexit here)");
		add_libbpf(o);
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

/* --------------------------------------------------------------- attach */

/* End an attach begun with shark_log__capture(1): keep the link, or say why not. */
static int keep_link(struct shark_bpf *o, struct bpf_link *l, const char *what)
{
	int err = (int)libbpf_get_error(l);
	struct bpf_link **n;

	shark_log__capture(0);
	if (err) {
		if (!o->err[0])
			set_err(o, "cannot attach %s: %s", what, shark_bpf_strerror(err));
		add_libbpf(o);
		return err;
	}
	n = realloc(o->links, sizeof(*n) * (size_t)(o->nlinks + 1));
	if (!n) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	o->links = n;
	o->links[o->nlinks++] = l;
	return 0;
}

static struct bpf_program *prog_at(struct shark_bpf *o, int32_t i)
{
	return i >= 0 && i < o->nprogs ? o->progs[i] : NULL;
}

/*
 * How many times the kernel skipped program i since load: a tracing program
 * does not run while another BPF program runs on the same CPU (an interrupt's
 * tracepoint during a sched_switch program, a preempted map syscall), and the
 * kernel counts each skip. Return: the count, or -errno.
 */
int64_t shark_bpf__prog_misses(struct shark_bpf *o, int32_t i)
{
	struct bpf_program *p = prog_at(o, i);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = p ? bpf_program__fd(p) : -1;

	if (fd < 0)
		return -ENOENT;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return (int64_t)info.recursion_misses;
}

static int has_pmu(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", name);
	return access(path, R_OK) == 0;
}

/* Attach by section name (tracepoint/…, uprobe/…, usdt/…, …). */
int32_t shark_bpf__attach(struct shark_bpf *o, int32_t i)
{
	struct bpf_program *p = prog_at(o, i);
	const char *sec;
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	sec = bpf_program__section_name(p);
	snprintf(what, sizeof(what), "'%s' (SEC(\"%s\"))", bpf_program__name(p), sec);
	if ((!strncmp(sec, "kprobe", 6) || !strncmp(sec, "kretprobe", 9)) && !has_pmu("kprobe"))
		set_err(o, "cannot attach %s: this kernel has no kprobes (built without CONFIG_KPROBES)", what);
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach(p), what);
}

int32_t shark_bpf__attach_tracepoint(struct shark_bpf *o, int32_t i, const char *sys, const char *name)
{
	struct bpf_program *p = prog_at(o, i);
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to tracepoint %s:%s", bpf_program__name(p), sys, name);
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach_tracepoint(p, sys, name), what);
}

int32_t shark_bpf__attach_raw_tracepoint(struct shark_bpf *o, int32_t i, const char *name)
{
	struct bpf_program *p = prog_at(o, i);
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to raw tracepoint %s", bpf_program__name(p), name);
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach_raw_tracepoint(p, name), what);
}

int32_t shark_bpf__attach_uprobe(struct shark_bpf *o, int32_t i, int32_t retprobe, int32_t pid,
				 const char *binary, const char *func, uint64_t offset, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe != 0, .func_name = func, .bpf_cookie = cookie);
	struct bpf_program *p = prog_at(o, i);
	char what[512], alt[PATH_MAX];
	int err;

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to %s %s:%s%s", bpf_program__name(p), retprobe ? "uretprobe" : "uprobe",
		 binary, func ? func : "", func ? "" : "(offset)");
	/* a name without '/' is libbpf's to find (PATH, library dirs); a path
	 * missing here may be in the traced process's mount namespace */
	if (strchr(binary, '/') && access(binary, R_OK)) {
		err = -errno;
		if (pid > 0 && binary[0] == '/') {
			snprintf(alt, sizeof(alt), "/proc/%d/root%s", pid, binary);
			if (access(alt, R_OK) == 0)
				binary = alt;
		}
		if (binary != alt) {
			set_err(o, "cannot attach %s: %s: %s", what, binary, shark_bpf_strerror(err));
			return err;
		}
	}
	shark_log__capture(1);
	err = keep_link(o, bpf_program__attach_uprobe_opts(p, pid > 0 ? pid : -1, binary, (size_t)offset, &opts),
			what);
	/* libbpf says ENOENT for a function it cannot find: say which way */
	if (err == -ENOENT && func && strchr(binary, '/')) {
		if (shark_elf_has_symtab(binary) == 0)
			set_err(o, "cannot attach %s: %s is stripped (no symbol table): '%s' cannot be found by "
				"name; attach by offset (attach_uprobe{offset = N}) or use an unstripped build",
				what, binary, func);
		else
			set_err(o, "cannot attach %s: no function '%s' in %s", what, func, binary);
	}
	return err;
}

int32_t shark_bpf__attach_usdt(struct shark_bpf *o, int32_t i, int32_t pid, const char *binary,
			       const char *provider, const char *name, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = cookie);
	struct bpf_program *p = prog_at(o, i);
	char what[512];
	int err;

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to USDT %s:%s in %s", bpf_program__name(p), provider, name, binary);
	if (access(binary, R_OK)) {
		err = -errno;
		set_err(o, "cannot attach %s: %s", what, strerror(errno));
		return err;
	}
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach_usdt(p, pid > 0 ? pid : -1, binary, provider, name, &opts), what);
}

int32_t shark_bpf__attach_kprobe(struct shark_bpf *o, int32_t i, int32_t retprobe, const char *func)
{
	struct bpf_program *p = prog_at(o, i);
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to %s %s", bpf_program__name(p), retprobe ? "kretprobe" : "kprobe", func);
	if (!has_pmu("kprobe"))
		set_err(o, "cannot attach %s: this kernel has no kprobes (built without CONFIG_KPROBES)", what);
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach_kprobe(p, retprobe != 0, func), what);
}

/* Own fd until detach; on failure it is closed. */
static int keep_fd(struct shark_bpf *o, int fd)
{
	int *nf = realloc(o->pfds, sizeof(int) * (size_t)(o->npfds + 1));

	if (!nf) {
		close(fd);
		return -ENOMEM;
	}
	o->pfds = nf;
	o->pfds[o->npfds++] = fd;
	return 0;
}

/*
 * A perf_event program on a sampling event on every CPU (or one process):
 * cpu-clock at a frequency for stack sampling, or any perf event.
 */
int32_t shark_bpf__attach_perf(struct shark_bpf *o, int32_t i, uint32_t type, uint64_t config,
			       uint64_t period, uint32_t freq, int32_t pid)
{
	struct bpf_program *p = prog_at(o, i);
	struct perf_event_attr a;
	int32_t cpus[1024];
	int n, err;

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.freq = freq != 0;
	if (freq)
		a.sample_freq = period;
	else
		a.sample_period = period ? period : 1;
	n = shark_online_cpus(cpus, 1024);
	if (n < 0)
		return n;
	for (int c = 0; c < n && c < 1024; c++) {
		int fd = (int)syscall(SYS_perf_event_open, &a, pid > 0 ? pid : -1, cpus[c], -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			set_err(o, "cannot open the perf event for '%s' on CPU %d: %s", bpf_program__name(p), cpus[c],
				strerror(errno));
			return err;
		}
		err = keep_fd(o, fd);
		if (err)
			return err;
		shark_log__capture(1);
		err = keep_link(o, bpf_program__attach_perf_event(p, fd), bpf_program__name(p));
		if (err)
			return err;
	}
	return 0;
}

/*
 * A socket filter program (SEC("socket")) on a raw AF_PACKET socket that sees
 * every packet, both directions, of one interface (ifname NULL or "": all).
 * The program's return value is what the socket keeps of each packet: 0 keeps
 * nothing, so a counting filter costs no receive queue.
 */
int32_t shark_bpf__attach_socket(struct shark_bpf *o, int32_t i, const char *ifname)
{
	struct bpf_program *p = prog_at(o, i);
	struct sockaddr_ll sll;
	int fd, pfd, err;

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	if (ifname && *ifname) {
		sll.sll_ifindex = (int)if_nametoindex(ifname);
		if (!sll.sll_ifindex) {
			err = -errno;
			set_err(o, "cannot attach '%s' to interface %s: %s", bpf_program__name(p), ifname,
				shark_bpf_strerror(err));
			return err;
		}
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		err = -errno;
		set_err(o, "cannot open a packet socket for '%s': %s", bpf_program__name(p),
			shark_bpf_strerror(err));
		return err;
	}
	pfd = bpf_program__fd(p);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd))) {
		err = -errno;
		set_err(o, "cannot attach '%s' to a packet socket on %s: %s", bpf_program__name(p),
			ifname && *ifname ? ifname : "every interface", shark_bpf_strerror(err));
		close(fd);
		return err;
	}
	err = keep_fd(o, fd);
	return err ? err : fd;
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

int32_t shark_bpf_map_next_key(int32_t fd, const void *key, void *next)
{
	return bpf_map_get_next_key(fd, key, next) ? -errno : 0;
}

/* ----------------------------------------------------------------- BTF */

static const struct btf *obj_btf(struct shark_bpf *o)
{
	return o ? bpf_object__btf(o->obj) : NULL;
}

/* What a BTF type is, through typedefs and qualifiers. */
int32_t shark_bpf__btf_type(struct shark_bpf *o, uint32_t id, struct shark_btf_type *out)
{
	const struct btf *btf = obj_btf(o);
	const struct btf_type *t;

	memset(out, 0, sizeof(*out));
	if (!btf)
		return -ENOENT;
	id = (uint32_t)btf__resolve_type(btf, id);
	t = btf__type_by_id(btf, id);
	if (!t)
		return -ENOENT;
	out->id = id;
	out->kind = btf_kind(t);
	out->name = btf__name_by_offset(btf, t->name_off);
	switch (out->kind) {
	case BTF_KIND_INT:
		out->size = t->size;
		out->is_signed = !!(btf_int_encoding(t) & BTF_INT_SIGNED);
		out->is_char = !!(btf_int_encoding(t) & BTF_INT_CHAR) || (t->size == 1 && out->name &&
									     strstr(out->name, "char"));
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		out->size = t->size;
		out->is_signed = btf_kflag(t);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		struct shark_btf_type elem;

		out->elem = a->type;
		out->nelem = a->nelems;
		out->size = (uint32_t)btf__resolve_size(btf, id);
		if (!shark_bpf__btf_type(o, a->type, &elem))
			out->is_char = elem.is_char;
		out->elem = elem.id;
		break;
	}
	case BTF_KIND_PTR:
		out->size = sizeof(void *);
		out->elem = t->type;	/* the pointee */
		break;
	default:
		out->size = (uint32_t)btf__resolve_size(btf, id);
		break;
	}
	return 0;
}

struct dump_buf {
	char *buf;
	size_t len, cap;
};

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	struct dump_buf *d = ctx;
	va_list copy;
	int n;

	va_copy(copy, args);
	n = vsnprintf(d->buf ? d->buf + d->len : NULL, d->buf ? d->cap - d->len : 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	if (d->len + (size_t)n + 1 > d->cap) {
		size_t cap = (d->cap + (size_t)n + 1) * 2;
		char *nb = realloc(d->buf, cap);

		if (!nb)
			return;
		d->buf = nb;
		d->cap = cap;
		vsnprintf(d->buf + d->len, d->cap - d->len, fmt, args);
	}
	d->len += (size_t)n;
}

static void dump_printf_str(struct dump_buf *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dump_printf(d, fmt, ap);
	va_end(ap);
}

/*
 * C declarations of BTF type @id and everything it needs (libbpf's
 * btf_dump), for ffi.cdef. Return: a malloc'd string (free with
 * shark_free) or NULL with errno set.
 */
char *shark_bpf__btf_c(struct shark_bpf *o, uint32_t id)
{
	const struct btf *btf = obj_btf(o);
	struct dump_buf d = { 0 };
	struct btf_dump *dump;
	int err;

	if (!btf) {
		errno = ENOENT;
		return NULL;
	}
	dump = btf_dump__new(btf, dump_printf, &d, NULL);
	err = (int)libbpf_get_error(dump);
	if (err) {
		errno = -err;
		return NULL;
	}
	/* what the type needs, then "typedef <the type> shark_t<id>;": one name
	 * for FFI whether the type is named, anonymous, an array or a scalar */
	err = btf_dump__dump_type(dump, id);
	if (!err) {
		char name[32];
		LIBBPF_OPTS(btf_dump_emit_type_decl_opts, decl, .field_name = name);

		snprintf(name, sizeof(name), "shark_t%u", id);
		dump_printf_str(&d, "typedef ");
		err = btf_dump__emit_type_decl(dump, id, &decl);
		dump_printf_str(&d, ";\n");
	}
	btf_dump__free(dump);
	if (err || !d.buf) {
		free(d.buf);
		errno = err ? -err : ENOENT;
		return NULL;
	}
	return d.buf;
}

/* Before load: resize a map (templates size their maps from Lua). */
int32_t shark_bpf__map_resize(struct shark_bpf *o, const char *name, uint32_t max)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);

	if (!m)
		return -ENOENT;
	return bpf_map__set_max_entries(m, max);
}

int32_t shark_bpf__autoload(struct shark_bpf *o, const char *prog, int32_t on)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, prog);

	if (!p)
		return -ENOENT;
	return bpf_program__set_autoload(p, on != 0);
}

int32_t shark_bpf__btf_find(struct shark_bpf *o, const char *name, uint32_t kind)
{
	const struct btf *btf = obj_btf(o);
	int32_t id;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, name, kind);
	return id > 0 ? id : 0;
}

void shark_free(void *p)
{
	free(p);
}

/*
 * The variables of a data section (".bss", ".data", ".rodata"): call back
 * with each one's name, offset and BTF type. Return: the count or -errno.
 */
int32_t shark_bpf__section_vars(struct shark_bpf *o, const char *section, struct shark_btf_var *vars, int32_t max)
{
	const struct btf *btf = obj_btf(o);
	int n = 0;

	if (!btf)
		return -ENOENT;
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *v;
		const char *name;

		if (!btf_is_datasec(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (!name || strcmp(name, section))
			continue;
		v = btf_var_secinfos(t);
		for (int k = 0; k < btf_vlen(t); k++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);

			if (n < max) {
				vars[n].name = btf__name_by_offset(btf, var->name_off);
				vars[n].offset = v->offset;
				vars[n].size = v->size;
				vars[n].type_id = var->type;
			}
			n++;
		}
		return n;
	}
	return 0;
}

/* ------------------------------------------------------------ vmlinux.h */

/* Write the kernel's types as C (vmlinux.h) to @path, from its BTF. */
int32_t shark_bpf__write_vmlinux_h(const char *path)
{
	struct btf *btf = btf__load_vmlinux_btf();
	struct dump_buf d = { 0 };
	struct btf_dump *dump;
	FILE *f;
	int err;

	err = (int)libbpf_get_error(btf);
	if (err)
		return err;
	dump = btf_dump__new(btf, dump_printf, &d, NULL);
	err = (int)libbpf_get_error(dump);
	if (err) {
		btf__free(btf);
		return err;
	}
	for (uint32_t id = 1; id < btf__type_cnt(btf) && !err; id++)
		err = btf_dump__dump_type(dump, id);
	btf_dump__free(dump);
	btf__free(btf);
	if (err) {
		free(d.buf);
		return err;
	}
	f = fopen(path, "we");
	if (!f) {
		err = -errno;
		free(d.buf);
		return err;
	}
	fputs("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
	      "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
	      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
	      "#endif\n\n", f);
	fwrite(d.buf, 1, d.len, f);
	fputs("\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
	      "#endif /* __VMLINUX_H__ */\n", f);
	free(d.buf);
	if (fclose(f))
		return -errno;
	return 0;
}
