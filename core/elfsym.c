// SPDX-License-Identifier: GPL-2.0
/* elfsym.c - symbols, segments and build-ids of ELF files, as their processes see them. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shark.h"
#include "symtab.h"

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

/* Map the string table [off, off + len) of file fd into t: 0 or -errno. */
static int tab_map_strs(struct symtab *t, int fd, uint64_t off, uint64_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off & ~(uint64_t)(page - 1);
	void *m;

	if (!len)
		return -ENOENT;
	m = mmap(NULL, len + (off - start), PROT_READ, MAP_PRIVATE, fd, (off_t)start);
	if (m == MAP_FAILED)
		return -errno;
	t->map = m;
	t->map_len = len + (off - start);
	t->strs = (const char *)m + (off - start);
	t->strs_len = len;
	return 0;
}

static int elf_symbols(struct dso *d, Elf *elf, int fd, int want_segs)
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
		GElf_Shdr strh;
		Elf_Data *data;
		size_t n;

		if (!s || !gelf_getshdr(s, &sh) || !(data = elf_getdata(s, NULL)) || !sh.sh_entsize ||
		    !gelf_getshdr(elf_getscn(elf, sh.sh_link), &strh) || strh.sh_type != SHT_STRTAB)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		/* names are read where they are, in the file: not even touched here */
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !sym.st_value ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_name || sym.st_name >= strh.sh_size)
				continue;
			shark_symtab__add_ref(&d->tab, sym.st_value, sym.st_size, sym.st_name);
		}
		/* .symtab is a superset of .dynsym: one is enough */
		if (d->tab.n) {
			if (tab_map_strs(&d->tab, fd, strh.sh_offset, strh.sh_size))
				shark_symtab__free(&d->tab);
			break;
		}
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

void shark_dso__load(struct dso *d, int pid, const struct pmap *m)
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
		elf_symbols(d, elf, fd, 1);
		/* stripped (Debian's libc): a -dbgsym package may have the rest */
		if (debug_path(elf, dbg, sizeof(dbg)) == 0) {
			int dfd = open(dbg, O_RDONLY | O_CLOEXEC);

			note_build_id(d, dbg);

			if (dfd >= 0) {
				Elf *de = elf_begin(dfd, ELF_C_READ_MMAP, NULL);

				if (de) {
					shark_symtab__free(&d->tab);
					elf_symbols(d, de, dfd, 0);
					elf_end(de);
				}
				close(dfd);
			}
		}
		shark_symtab__sort(&d->tab);
	}
	if (elf)
		elf_end(elf);
	close(fd);
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
