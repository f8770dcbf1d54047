/* SPDX-License-Identifier: GPL-2.0 */
/*
 * symtab.h - what the symbol files share (symtab.c, elfsym.c, ksym.c,
 * sym.c): symbol tables, mapped files, and the functions over them.
 */
#ifndef SHARK_SYMTAB_H
#define SHARK_SYMTAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "shark_api.h"

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

/* symtab.c: a table built, sorted, looked up, freed */
int shark_symtab__add(struct symtab *t, uint64_t start, uint64_t size, const char *name);
int shark_symtab__add_ref(struct symtab *t, uint64_t start, uint64_t size, uint32_t name);
const char *shark_symtab__name(const struct symtab *t, const struct sym *s);
size_t shark_symtab__len(const struct symtab *t, const struct sym *s);
void shark_symtab__sort(struct symtab *t);
void shark_symtab__free(struct symtab *t);
size_t shark_symtab__bytes(const struct symtab *t);
const struct sym *shark_symtab__find(const struct symtab *t, uint64_t addr);
/* a name into buf, demangled: its length */
int shark_symtab__put_str(char *buf, int32_t len, const char *str, size_t l);
int shark_symtab__put(char *buf, int32_t len, const struct symtab *t, const struct sym *s);
/* /tmp/perf-PID.map (a JIT's symbols) into t */
void shark_symtab__load_perf_map(struct symtab *t, int pid);

/* elfsym.c: a mapped file's symbols (and segments, build-id) from its ELF file */
void shark_dso__load(struct dso *d, int pid, const struct pmap *m);

/* ksym.c: kernel symbols; @gen is the sweep generation of sym.c */
int32_t shark_ksym__symbolize(uint64_t ip, char *buf, int32_t len, unsigned int gen);
void shark_ksym__sweep(unsigned int gen, unsigned int keep, struct shark_sym_stats *totals);
void shark_ksym__stats(struct shark_sym_stats *st);

#endif /* SHARK_SYMTAB_H */
