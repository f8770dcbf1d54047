/* SPDX-License-Identifier: GPL-2.0 */
/* bpf_object.h - the inside of struct shark_bpf, for bpf.c, bpf_attach.c and bpf_btf.c only. */
#ifndef SHARK_BPF_OBJECT_H
#define SHARK_BPF_OBJECT_H

#include <stddef.h>
#include <stdint.h>

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_link;

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

/* Set @o's error in words (@o NULL: the error of the last shark_bpf__open). */
void shark_bpf__set_err(struct shark_bpf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append what libbpf said during the last call (see log.c) to the error. */
void shark_bpf__add_libbpf(struct shark_bpf *o);
/* Program @i of @o, or NULL. */
struct bpf_program *shark_bpf__prog_at(struct shark_bpf *o, int32_t i);

#endif /* SHARK_BPF_OBJECT_H */
