// SPDX-License-Identifier: GPL-2.0
/* bpf_attach.c - attach a loaded program: tracepoints, raw tracepoints, uprobes, USDT, kprobes,
 * perf events, sockets; each link or fd kept by its shark_bpf until detach. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "shark.h"
#include "bpf_object.h"

/* End an attach begun with shark_log__capture(1): keep the link, or say why not. */
static int keep_link(struct shark_bpf *o, struct bpf_link *l, const char *what)
{
	int err = (int)libbpf_get_error(l);
	struct bpf_link **n;

	shark_log__capture(0);
	if (err) {
		if (!o->err[0])
			shark_bpf__set_err(o, "cannot attach %s: %s", what, shark_bpf_strerror(err));
		shark_bpf__add_libbpf(o);
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

struct bpf_program *shark_bpf__prog_at(struct shark_bpf *o, int32_t i)
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
	struct bpf_program *p = shark_bpf__prog_at(o, i);
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

/* Without a kprobe PMU, say so: libbpf's ENOENT would not. */
static void note_no_kprobes(struct shark_bpf *o, const char *what)
{
	if (!has_pmu("kprobe"))
		shark_bpf__set_err(o, "cannot attach %s: this kernel has no kprobes (built without CONFIG_KPROBES)",
				   what);
}

/* Attach by section name (tracepoint/…, uprobe/…, usdt/…, …). */
int32_t shark_bpf__attach(struct shark_bpf *o, int32_t i)
{
	struct bpf_program *p = shark_bpf__prog_at(o, i);
	const char *sec;
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	sec = bpf_program__section_name(p);
	snprintf(what, sizeof(what), "'%s' (SEC(\"%s\"))", bpf_program__name(p), sec);
	if (!strncmp(sec, "kprobe", 6) || !strncmp(sec, "kretprobe", 9))
		note_no_kprobes(o, what);
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach(p), what);
}

int32_t shark_bpf__attach_tracepoint(struct shark_bpf *o, int32_t i, const char *sys, const char *name)
{
	return shark_bpf__attach_tracepoint_cookie(o, i, sys, name, 0);
}

int32_t shark_bpf__attach_tracepoint_cookie(struct shark_bpf *o, int32_t i, const char *sys, const char *name,
					    uint64_t cookie)
{
	LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = cookie);
	struct bpf_program *p = shark_bpf__prog_at(o, i);
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to tracepoint %s:%s", bpf_program__name(p), sys, name);
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach_tracepoint_opts(p, sys, name, &opts), what);
}

int32_t shark_bpf__attach_raw_tracepoint(struct shark_bpf *o, int32_t i, const char *name)
{
	struct bpf_program *p = shark_bpf__prog_at(o, i);
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
	struct bpf_program *p = shark_bpf__prog_at(o, i);
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
			shark_bpf__set_err(o, "cannot attach %s: %s: %s", what, binary,
					   shark_bpf_strerror(err));
			return err;
		}
	}
	shark_log__capture(1);
	err = keep_link(o, bpf_program__attach_uprobe_opts(p, pid > 0 ? pid : -1, binary, (size_t)offset, &opts),
			what);
	/* libbpf says ENOENT for a function it cannot find: say which way */
	if (err == -ENOENT && func && strchr(binary, '/')) {
		if (shark_elf_has_symtab(binary) == 0)
			shark_bpf__set_err(o, "cannot attach %s: %s is stripped (no symbol table): '%s' "
					   "cannot be found by name; attach by offset "
					   "(attach_uprobe{offset = N}) or use an unstripped build",
					   what, binary, func);
		else
			shark_bpf__set_err(o, "cannot attach %s: no function '%s' in %s", what, func,
					   binary);
	}
	return err;
}

int32_t shark_bpf__attach_usdt(struct shark_bpf *o, int32_t i, int32_t pid, const char *binary,
			       const char *provider, const char *name, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = cookie);
	struct bpf_program *p = shark_bpf__prog_at(o, i);
	char what[512];
	int err;

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to USDT %s:%s in %s", bpf_program__name(p), provider, name, binary);
	if (access(binary, R_OK)) {
		err = -errno;
		shark_bpf__set_err(o, "cannot attach %s: %s", what, strerror(errno));
		return err;
	}
	shark_log__capture(1);
	return keep_link(o, bpf_program__attach_usdt(p, pid > 0 ? pid : -1, binary, provider, name, &opts), what);
}

int32_t shark_bpf__attach_kprobe(struct shark_bpf *o, int32_t i, int32_t retprobe, const char *func)
{
	struct bpf_program *p = shark_bpf__prog_at(o, i);
	char what[256];

	if (!p)
		return -ENOENT;
	o->err[0] = '\0';
	snprintf(what, sizeof(what), "'%s' to %s %s", bpf_program__name(p), retprobe ? "kretprobe" : "kprobe", func);
	note_no_kprobes(o, what);
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
	struct bpf_program *p = shark_bpf__prog_at(o, i);
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
		int fd = shark_perf_event_open(&a, pid > 0 ? pid : -1, cpus[c], -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			err = fd;
			shark_bpf__set_err(o, "cannot open the perf event for '%s' on CPU %d: %s",
					   bpf_program__name(p), cpus[c], strerror(-fd));
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
	struct bpf_program *p = shark_bpf__prog_at(o, i);
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
			shark_bpf__set_err(o, "cannot attach '%s' to interface %s: %s",
					   bpf_program__name(p), ifname, shark_bpf_strerror(err));
			return err;
		}
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		err = -errno;
		shark_bpf__set_err(o, "cannot open a packet socket for '%s': %s",
				   bpf_program__name(p), shark_bpf_strerror(err));
		return err;
	}
	pfd = bpf_program__fd(p);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd))) {
		err = -errno;
		shark_bpf__set_err(o, "cannot attach '%s' to a packet socket on %s: %s",
				   bpf_program__name(p), ifname && *ifname ? ifname : "every interface",
				   shark_bpf_strerror(err));
		close(fd);
		return err;
	}
	err = keep_fd(o, fd);
	return err ? err : fd;
}
