// SPDX-License-Identifier: GPL-2.0
/* bundle.c - shark bundles: this executable with a script and its BPF objects appended. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shark.h"

/*
 * A bundle is a copy of the shark executable with the payload (an archive
 * the Lua side builds: script, modules, compiled BPF objects) appended. The
 * slot below, a variable in a section of its own, is filled in the copy: at
 * run time it tells where the payload is and how long the file must be, so
 * a modified or extended bundle is refused before anything runs.
 *
 * A truncated executable would be mapped anyway and crash on its first
 * touch of a missing page, before any code of ours runs. So the program
 * headers move to the very end of the bundle (with a PT_LOAD mapping them,
 * as the dynamic loader reads them from memory): the kernel reads them at
 * exec, and any truncation makes exec fail cleanly instead. That PT_LOAD
 * keeps the file's own address - offset: kernels before 5.18 and qemu-user
 * tell the loader the headers are at the first segment's address plus
 * e_phoff (AT_PHDR), not at PT_PHDR's address.
 */
#define SLOT_PLAIN	"shark-plain"
#define SLOT_BUNDLE	"shark-bundle-3"
#define PAGE		4096
/* arm64 kernels may use 64 KB pages: a PT_LOAD's offset and address agree modulo that */
#define PAGE_ARM64	65536

struct slot {
	char magic[16];
	uint64_t payload_off;
	uint64_t payload_len;
	uint64_t payload_hash;
	uint64_t file_size;
	uint64_t slot_off;	/* where this slot is in the file */
	uint64_t file_hash;	/* of every byte of the file but these 8, read as zeros */
};

_Static_assert(sizeof(struct slot) == SHARK_BUNDLE_SLOT_SIZE, "the slot's size is part of the format");

__attribute__((section(".shark_bundle"), used, aligned(16)))
volatile struct slot shark_bundle_slot = { .magic = SLOT_PLAIN };

static char *payload;
static size_t payload_len;

/* ------------------------------------------------ whole-file check, first */

/*
 * A 64-bit hash of the file, 8 bytes a step (a 3 MB bundle in well under a
 * millisecond), with the slot's file_hash taken as zeros: it holds the
 * result. Not cryptographic: it finds damage, not forgery.
 */
static uint64_t file_hash(const uint8_t *p, size_t len, uint64_t slot_off)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, skip = slot_off + offsetof(struct slot, file_hash);

	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		size_t n = len - i < 8 ? len - i : 8;

		if (i + 8 > skip && i < skip + 8) {
			for (size_t j = 0; j < n; j++)
				if (i + j < skip || i + j >= skip + 8)
					w |= (uint64_t)p[i + j] << (8 * j);
		} else {
			memcpy(&w, p + i, n);
		}
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

/*
 * shark_bundle__verify() - is @file (@len bytes) the bundle slot @s says?
 * Return: NULL, or why not (a static string).
 */
const char *shark_bundle__verify(const uint8_t *file, size_t len, const void *slot)
{
	struct slot s;

	memcpy(&s, slot, sizeof(s));
	if (!memcmp(s.magic, SLOT_PLAIN, sizeof(SLOT_PLAIN)))
		return NULL;
	if (memcmp(s.magic, SLOT_BUNDLE, sizeof(SLOT_BUNDLE)))
		return "its header is not shark's";
	if ((uint64_t)len != s.file_size || s.slot_off > s.file_size || s.file_size - s.slot_off < sizeof(s))
		return "it is not the size it was written with (truncated or appended to)";
	if (s.payload_off > s.file_size || s.payload_len > s.file_size - s.payload_off)
		return "its header is inconsistent";
	if (file_hash(file, len, s.slot_off) != s.file_hash)
		return "its bytes do not match its checksum (the file was modified)";
	return NULL;
}

static void damaged(const char *why)
{
	static const char head[] = "this bundle is damaged: ";
	static const char tail[] = "; copy it again or build it again with 'shark bundle'\n";

	if (write(2, head, sizeof(head) - 1) < 0 || write(2, why, strlen(why)) < 0 ||
	    write(2, tail, sizeof(tail) - 1) < 0)
		_exit(1);
	_exit(1);
}

/*
 * The first code of ours to run (.preinit_array: before any constructor and
 * main): a bundle whose bytes are not those written is refused before any
 * other code of this file runs. A plain shark only looks at the magic.
 */
static void check_file(int argc, char **argv, char **envp)
{
	struct slot s;
	struct stat st;
	const char *why;
	void *map;
	int fd;

	(void)argc;
	(void)argv;
	(void)envp;
	memcpy(&s, (const void *)&shark_bundle_slot, sizeof(s));
	if (!memcmp(s.magic, SLOT_PLAIN, sizeof(SLOT_PLAIN)))
		return;
	if (memcmp(s.magic, SLOT_BUNDLE, sizeof(SLOT_BUNDLE)))
		damaged("its header is not shark's");
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		static const char msg[] = "this bundle cannot read itself: /proc/self/exe cannot be opened "
					   "(is /proc mounted?)\n";

		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(1);
		_exit(1);
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size != s.file_size)
		damaged("it is not the size it was written with (truncated or appended to)");
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		damaged("it cannot be read");
	why = shark_bundle__verify(map, (size_t)st.st_size, &s);
	if (why)
		damaged(why);
	munmap(map, (size_t)st.st_size);
}

__attribute__((section(".preinit_array"), used))
static void (*const shark_bundle_check)(int, char **, char **) = check_file;

const void *shark_bundle__payload(size_t *len)
{
	*len = payload_len;
	return payload;
}

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int shark_bundle__open(char *err, size_t errlen)
{
	struct slot s;
	struct stat st;
	int fd, rc = 0;

	memcpy(&s, (const void *)&shark_bundle_slot, sizeof(s));
	if (strncmp(s.magic, SLOT_BUNDLE, sizeof(s.magic)))
		return 0;	/* plain shark: nothing to read */
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open /proc/self/exe to read the bundled script: %s"
			 " (is /proc mounted?)", strerror(errno));
		return -EIO;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat /proc/self/exe: %s", strerror(-rc));
		goto out;
	}
	if ((uint64_t)st.st_size != s.file_size) {
		snprintf(err, errlen, "this bundle is damaged: it is %lld bytes, it was written as %llu"
			 " (truncated or appended to); copy it again or build it again with 'shark bundle'",
			 (long long)st.st_size, (unsigned long long)s.file_size);
		rc = -EINVAL;
		goto out;
	}
	if (s.payload_off + s.payload_len > s.file_size) {
		snprintf(err, errlen, "this bundle is damaged: its header is inconsistent");
		rc = -EINVAL;
		goto out;
	}
	payload = malloc(s.payload_len + 1);
	if (!payload) {
		rc = -ENOMEM;
		snprintf(err, errlen, "cannot read the bundled script: out of memory");
		goto out;
	}
	rc = read_at(fd, payload, s.payload_len, (off_t)s.payload_off);
	if (rc) {
		snprintf(err, errlen, "cannot read the bundled script: %s", strerror(-rc));
		goto out;
	}
	if (shark_hash64(payload, s.payload_len) != s.payload_hash) {
		snprintf(err, errlen, "this bundle is damaged: its script and objects do not match their"
			 " checksum (the file was modified); build it again with 'shark bundle'");
		rc = -EINVAL;
		goto out;
	}
	payload_len = s.payload_len;
	rc = 1;
out:
	if (rc <= 0) {
		free(payload);
		payload = NULL;
	}
	close(fd);
	return rc;
}

/* The file offset of the slot in an ELF image of shark, or -1. */
static int64_t slot_offset(char *image, size_t len)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int64_t off = -1;

	elf_version(EV_CURRENT);
	elf = elf_memory(image, len);
	if (!elf)
		return -1;
	if (elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".shark_bundle") && sh.sh_type == SHT_PROGBITS &&
		    sh.sh_size >= sizeof(struct slot) && sh.sh_offset + sh.sh_size <= len)
			off = (int64_t)sh.sh_offset;
	}
out:
	elf_end(elf);
	return off;
}

/*
 * Move the program headers of @image to *@phoff (at least the given one,
 * page-aligned past everything else, in the file and in memory) with one
 * more PT_LOAD that maps them; fill @ph.
 * Return: the size of the new table, or -errno.
 */
static int64_t move_phdrs(char *image, size_t len, uint64_t *phoff, uint64_t page, char **ph)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Phdr *old, *tab, *p;
	uint64_t vend = 0, vaddr, base = 0;
	size_t n, size;
	int last = -1;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*old) > len)
		return -ENOEXEC;
	old = (Elf64_Phdr *)(image + eh->e_phoff);
	n = eh->e_phnum;
	for (size_t i = 0; i < n; i++) {
		if (old[i].p_type != PT_LOAD)
			continue;
		if (last < 0)
			base = old[i].p_vaddr - old[i].p_offset;
		last = (int)i;
		if (old[i].p_vaddr + old[i].p_memsz > vend)
			vend = old[i].p_vaddr + old[i].p_memsz;
	}
	if (last < 0)
		return -ENOEXEC;
	size = (n + 1) * sizeof(*tab);
	tab = calloc(n + 1, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	/* address - offset as the first PT_LOAD's: AT_PHDR = its address + e_phoff */
	if (vend - base > *phoff)
		*phoff = (vend - base + page - 1) / page * page;
	vaddr = base + *phoff;
	/* the new PT_LOAD goes right after the last one: loads stay sorted by address */
	memcpy(tab, old, (size_t)(last + 1) * sizeof(*tab));
	p = &tab[last + 1];
	p->p_type = PT_LOAD;
	p->p_flags = PF_R;
	p->p_offset = *phoff;
	p->p_vaddr = p->p_paddr = vaddr;
	p->p_filesz = p->p_memsz = size;
	p->p_align = page;
	memcpy(tab + last + 2, old + last + 1, (n - (size_t)last - 1) * sizeof(*tab));
	for (size_t i = 0; i <= n; i++) {
		if (tab[i].p_type != PT_PHDR)
			continue;
		tab[i].p_offset = *phoff;
		tab[i].p_vaddr = tab[i].p_paddr = vaddr;
		tab[i].p_filesz = tab[i].p_memsz = size;
	}
	eh->e_phoff = *phoff;
	eh->e_phnum = (Elf64_Half)(n + 1);
	*ph = (char *)tab;
	return (int64_t)size;
}

static int write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* The whole file's hash into s: the parts laid end to end, hashed once. */
static int seal(struct slot *s, const char *image, size_t size, const void *data, uint64_t len, size_t pad,
		const char *ph, size_t phsize)
{
	char *all = malloc(s->file_size);

	if (!all)
		return -ENOMEM;
	memcpy(all, image, size);
	memcpy(all + size, data, len);
	memset(all + size + len, 0, pad);
	memcpy(all + size + len + pad, ph, phsize);
	s->file_hash = file_hash((const uint8_t *)all, s->file_size, s->slot_off);
	free(all);
	return 0;
}

/*
 * shark_bundle__write() - write @runtime (NULL: this executable) with the
 * payload @data (@len bytes) appended, as an executable bundle at @path.
 * @runtime is another architecture's shark for shark bundle --arch: it must
 * be a plain shark (a bundle's program headers have moved).
 * Return: 0 or -errno (-ENOEXEC: @runtime is not an ELF shark; -EINVAL: it is a bundle).
 */
int32_t shark_bundle__write(const char *runtime, const char *path, const void *data, uint64_t len)
{
	static const char zeros[PAGE];
	struct slot s;
	struct stat st;
	char *image = NULL, *ph = NULL, tmp[4096];
	size_t size, pad;
	int64_t off, phsize;
	uint64_t page, phoff;
	int fd, out = -1, rc;

	fd = open(runtime ? runtime : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto cleanup;
	}
	/* a bundle's program headers have moved: bundles are made by shark only */
	if (!runtime && payload) {
		rc = -EINVAL;
		goto cleanup;
	}
	size = (size_t)st.st_size;
	image = malloc(size);
	if (!image) {
		rc = -ENOMEM;
		goto cleanup;
	}
	rc = read_at(fd, image, size, 0);
	if (rc)
		goto cleanup;
	off = slot_offset(image, size);
	if (off < 0) {
		rc = -ENOEXEC;
		goto cleanup;
	}
	if (memcmp(image + off, SLOT_PLAIN, sizeof(SLOT_PLAIN))) {
		rc = -EINVAL;
		goto cleanup;
	}
	page = ((Elf64_Ehdr *)image)->e_machine == EM_AARCH64 ? PAGE_ARM64 : PAGE;
	phoff = (size + len + page - 1) / page * page;
	phsize = move_phdrs(image, size, &phoff, page, &ph);
	if (phsize < 0) {
		rc = (int)phsize;
		goto cleanup;
	}
	pad = phoff - size - len;
	memset(&s, 0, sizeof(s));
	strncpy(s.magic, SLOT_BUNDLE, sizeof(s.magic));
	s.payload_off = size;
	s.payload_len = len;
	s.payload_hash = shark_hash64(data, len);
	s.file_size = size + len + pad + (uint64_t)phsize;
	s.slot_off = (uint64_t)off;
	memcpy(image + off, &s, sizeof(s));
	rc = seal(&s, image, size, data, len, pad, ph, (size_t)phsize);
	if (rc)
		goto cleanup;
	memcpy(image + off, &s, sizeof(s));

	if (strlen(path) + 32 >= sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		goto cleanup;
	}
	/* a new file, never one planted (or a symlink) by another user */
	shark_safe_tmpname(tmp, sizeof(tmp), path);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
	if (out < 0) {
		rc = -errno;
		goto cleanup;
	}
	rc = write_all(out, image, size);
	if (!rc)
		rc = write_all(out, data, len);
	for (size_t done = 0; !rc && done < pad; done += PAGE)
		rc = write_all(out, zeros, pad - done < PAGE ? pad - done : PAGE);
	if (!rc)
		rc = write_all(out, ph, (size_t)phsize);
	if (!rc && fchmod(out, 0755))
		rc = -errno;
	if (close(out) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
cleanup:
	free(ph);
	free(image);
	close(fd);
	return rc;
}
