// SPDX-License-Identifier: GPL-2.0
/* buildid.c - the GNU build-id of an ELF file, for journals' mappings. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <unistd.h>
#include "shark.h"

static int note_id(Elf *elf, char *buf, int32_t len)
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
			const unsigned char *id = (const unsigned char *)data->d_buf + desc_off;
			int32_t n = 0;

			if (nh.n_type != NT_GNU_BUILD_ID || !nh.n_descsz)
				continue;
			for (size_t i = 0; i < nh.n_descsz && n + 3 <= len; i++)
				n += snprintf(buf + n, (size_t)(len - n), "%02x", id[i]);
			return n;
		}
	}
	return -ENOENT;
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
