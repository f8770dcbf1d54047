// SPDX-License-Identifier: GPL-2.0
/* buildid.c - the GNU build-id of an ELF file, for journals' mappings. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <unistd.h>
#include "shark.h"

/* The bytes of an ELF file's GNU build-id note (inside elf's data): 0 or -ENOENT. */
int shark_elf_build_id(Elf *elf, const unsigned char **id, size_t *len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || !nh.n_descsz)
				continue;
			*id = (const unsigned char *)data->d_buf + desc_off;
			*len = nh.n_descsz;
			return 0;
		}
	}
	return -ENOENT;
}

static int note_id(Elf *elf, char *buf, int32_t len)
{
	const unsigned char *id;
	size_t n;
	int32_t out = 0;

	if (shark_elf_build_id(elf, &id, &n))
		return -ENOENT;
	for (size_t i = 0; i < n && out + 3 <= len; i++)
		out += snprintf(buf + out, (size_t)(len - out), "%02x", id[i]);
	return out;
}

int32_t shark_build_id(const char *path, char *buf, int32_t len)
{
	Elf *elf;
	int fd, n;

	if (len < 3)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	n = elf ? note_id(elf, buf, len) : -EINVAL;
	elf_end(elf);
	close(fd);
	return n;
}
