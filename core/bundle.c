// SPDX-License-Identifier: GPL-2.0
/* bundle.c - shark bundles: this executable with a script and its BPF objects appended. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shark.h"

/*
 * A bundle is a copy of the shark executable, with the payload (an archive
 * the Lua side builds: script, modules, compiled BPF objects) appended and
 * a trailer after it. The slot below, a variable in a section of its own,
 * is filled in the copy: at run time it tells where the payload is and how
 * long the file must be, so a truncated or modified bundle is caught before
 * anything runs. The trailer marks a bundle whose slot was damaged.
 */
#define SLOT_PLAIN	"shark-plain"
#define SLOT_BUNDLE	"shark-bundle-1"
#define TRAILER_MAGIC	"SHARKBDL"

struct slot {
	char magic[16];
	uint64_t payload_off;
	uint64_t payload_len;
	uint64_t payload_hash;
	uint64_t file_size;
};

struct trailer {
	char magic[8];
	uint64_t payload_off;
};

__attribute__((section(".shark_bundle"), used, aligned(16)))
volatile struct slot shark_bundle_slot = { .magic = SLOT_PLAIN };

static char *payload;
static size_t payload_len;

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
	struct trailer t;
	struct stat st;
	int fd, rc = 0, bundle;

	memcpy(&s, (const void *)&shark_bundle_slot, sizeof(s));
	bundle = !strncmp(s.magic, SLOT_BUNDLE, sizeof(s.magic));
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!bundle)
			return 0;	/* no /proc: a plain shark still runs */
		snprintf(err, errlen, "cannot open /proc/self/exe to read the bundled script: %s"
			 " (is /proc mounted?)", strerror(errno));
		return -EIO;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat /proc/self/exe: %s", strerror(-rc));
		goto out;
	}
	if (!bundle) {
		if ((size_t)st.st_size > sizeof(t) && !read_at(fd, &t, sizeof(t), st.st_size - (off_t)sizeof(t)) &&
		    !memcmp(t.magic, TRAILER_MAGIC, sizeof(t.magic))) {
			snprintf(err, errlen, "this bundle is damaged: its header was modified; build it again"
				 " with 'shark bundle'");
			rc = -EINVAL;
		}
		goto out;
	}
	if ((uint64_t)st.st_size != s.file_size) {
		snprintf(err, errlen, "this bundle is damaged: it is %lld bytes, it was written as %llu"
			 " (truncated or appended to); copy it again or build it again with 'shark bundle'",
			 (long long)st.st_size, (unsigned long long)s.file_size);
		rc = -EINVAL;
		goto out;
	}
	if (s.payload_off + s.payload_len + sizeof(t) != s.file_size) {
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

int32_t shark_bundle__write(const char *path, const void *data, uint64_t len)
{
	struct slot s;
	struct trailer t;
	struct stat st;
	char *image = NULL, tmp[4096];
	size_t size;
	int64_t off;
	int fd, out = -1, rc;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto cleanup;
	}
	/* a bundle making a bundle: only its runtime part */
	size = (size_t)st.st_size;
	if (payload)
		size = (size_t)shark_bundle_slot.payload_off;
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
	memset(&s, 0, sizeof(s));
	strncpy(s.magic, SLOT_BUNDLE, sizeof(s.magic));
	s.payload_off = size;
	s.payload_len = len;
	s.payload_hash = shark_hash64(data, len);
	s.file_size = size + len + sizeof(t);
	memcpy(image + off, &s, sizeof(s));
	memcpy(t.magic, TRAILER_MAGIC, sizeof(t.magic));
	t.payload_off = size;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		goto cleanup;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		rc = -errno;
		goto cleanup;
	}
	rc = write_all(out, image, size);
	if (!rc)
		rc = write_all(out, data, len);
	if (!rc)
		rc = write_all(out, &t, sizeof(t));
	if (!rc && fchmod(out, 0755))
		rc = -errno;
	if (close(out) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
cleanup:
	free(image);
	close(fd);
	return rc;
}
