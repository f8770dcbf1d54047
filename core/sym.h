/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sym.h - symbols: kallsyms, ELF files, JIT maps, per-process mappings
 * (sym.c, elfsym.c, ksym.c, symtab.c).
 */
#ifndef SHARK_SYM_H
#define SHARK_SYM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* buildid.c: the bytes of an ELF file's GNU build-id note, inside elf's data: 0 or -ENOENT */
struct Elf;
int shark_elf_build_id(struct Elf *elf, const unsigned char **id, size_t *len);

void shark_sym__note_pid(int pid);
void shark_sym__mmap(int pid, uint64_t start, uint64_t len, uint64_t pgoff, const char *file);
void shark_sym__exec(int pid);
/* task.c: the name a PERF_RECORD_COMM gives, kept for when the process is gone */
void shark_comm__note(int32_t pid, const char *comm);
void shark_comm__at(int32_t tid, uint64_t time, const char *comm);
const char *shark_comm__when(int32_t pid, int32_t tid, uint64_t time);
int shark_comm__seed(int32_t tid, uint64_t time);
int shark_sym__open(int pid, const char *path, dev_t dev, ino_t ino);
struct shark_map_info {
	uint64_t start, end, pgoff;
	const char *path;	/* as the process names it */
	dev_t dev;		/* 0 when unknown */
	ino_t ino;
	uint64_t dso_id;	/* one per file, never reused in a run */
};
int shark_sym__map_at(int pid, uint64_t ip, struct shark_map_info *mi);
int shark_sym__maps(int pid, struct shark_map_info *out, int max);

/* "START SIZE NAME" lines of a /tmp/perf-PID.map; the number added */
int shark_perf_map_parse(const char *buf, size_t len,
			 int (*add)(void *ctx, uint64_t start, uint64_t size, const char *name), void *ctx);

/* 1 when the ELF file has a .symtab, 0 when it is stripped, -errno */
int shark_elf_has_symtab(const char *path);

#endif /* SHARK_SYM_H */
