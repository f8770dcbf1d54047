/* SPDX-License-Identifier: GPL-2.0 */
/* safefile.h - what shark writes, in directories no other user controls (safefile.c). */
#ifndef SHARK_SAFEFILE_H
#define SHARK_SAFEFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * shark_safe_dir_open() - an O_PATH fd of directory @path, every component
 * opened with O_NOFOLLOW from its parent's fd and checked: owned by root or
 * us and not writable by others (a root sticky dir on the way is fine), the
 * last one ours. @create: make missing components, mode 0700.
 * Return: the fd, or -errno with shark_safe_error() saying why.
 */
int shark_safe_dir_open(const char *path, int create);
int shark_safe_create_at(int dirfd, const char *name, const void *buf, uint64_t len, uint32_t mode);
void shark_safe_tmpname(char *out, size_t len, const char *name);

#endif /* SHARK_SAFEFILE_H */
