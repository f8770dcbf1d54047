// SPDX-License-Identifier: GPL-2.0
/* safefile.c - files shark writes as root: verified directories, no symlinks, no races. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/random.h>

#include "shark.h"

static __thread char safe_why[4096 + 256];

const char *shark_safe_error(void)
{
	return safe_why;
}

static int fail(int err, const char *fmt, const char *path)
{
	snprintf(safe_why, sizeof(safe_why), fmt, path);
	return -err;
}

/*
 * A directory on the way to a cache is safe when no other user can replace
 * what it holds: owned by root or by us, and not writable by group or others
 * (a root-owned sticky directory, /tmp, is fine on the way: other users
 * cannot rename or remove what we own inside it). The last one must be ours.
 */
static int check_dir(const struct stat *st, const char *path, int last)
{
	uid_t me = geteuid();

	if (!S_ISDIR(st->st_mode))
		return fail(ENOTDIR, "%s is not a directory", path);
	if (last && st->st_uid != me)
		return fail(EPERM, "%s is owned by another user: refusing to use it", path);
	if (st->st_uid != me && st->st_uid != 0)
		return fail(EPERM, "%s is owned by another user: refusing to use it", path);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(!last && st->st_uid == 0 && (st->st_mode & S_ISVTX)))
		return fail(EPERM, "%s is writable by other users: refusing to use it (chmod go-w)", path);
	return 0;
}

int shark_safe_dir_open(const char *path, int create)
{
	char buf[4096], cur[4096] = "", *p, *next;
	int fd, nfd, err;
	size_t used = 0;
	struct stat st;

	if (!path || path[0] != '/')
		return fail(EINVAL, "%s: a cache directory must be an absolute path", path ? path : "(null)");
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return fail(ENAMETOOLONG, "%s: path too long", path);
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "cannot open /", path);
	for (p = buf + 1; p && *p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		if (!*p || !strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			close(fd);
			return fail(EINVAL, "%s: '..' is not allowed in a cache path", path);
		}
		used += snprintf(cur + used, sizeof(cur) - used, "/%s", p);
		nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, p, 0700) && errno != EEXIST) {
				err = errno;
				close(fd);
				return fail(err, "cannot create %s", cur);
			}
			nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		err = errno;
		close(fd);
		if (nfd < 0) {
			if (err == ENOTDIR || err == ELOOP)
				return fail(err, "%s is a symbolic link or not a directory: refusing to use it", cur);
			return fail(err, "cannot open %s", cur);
		}
		fd = nfd;
		if (fstat(fd, &st)) {
			err = errno;
			close(fd);
			return fail(err, "cannot stat %s", cur);
		}
		err = check_dir(&st, cur, !next || !*next);
		if (err) {
			close(fd);
			return err;
		}
	}
	return fd;
}

int32_t shark_safe_dir(const char *path, int32_t create)
{
	int fd = shark_safe_dir_open(path, create);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int write_all(int fd, const void *buf, uint64_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* A file created new (O_EXCL, no symlink followed) with buf in it. */
int shark_safe_create_at(int dirfd, const char *name, const void *buf, uint64_t len, uint32_t mode)
{
	int fd, err;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (close(fd) && !err)
		err = -errno;
	if (err)
		unlinkat(dirfd, name, 0);
	return err;
}

int32_t shark_safe_create(const char *path, const void *buf, uint64_t len, uint32_t mode)
{
	int err = shark_safe_create_at(AT_FDCWD, path, buf, len, mode);

	if (err)
		fail(-err, "cannot create %s", path);
	return err;
}

/* An unpredictable temporary name next to name. */
void shark_safe_tmpname(char *out, size_t len, const char *name)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&r;
	snprintf(out, len, "%s.%016llx.tmp", name, (unsigned long long)r);
}

/* Write dir/name atomically: a new temporary file, then a rename over name. */
int32_t shark_safe_write(const char *dir, const char *name, const void *buf, uint64_t len)
{
	char tmp[512];
	int dfd, err;

	if (strchr(name, '/'))
		return fail(EINVAL, "%s: a name, not a path, expected", name);
	dfd = shark_safe_dir_open(dir, 1);
	if (dfd < 0)
		return dfd;
	shark_safe_tmpname(tmp, sizeof(tmp), name);
	err = shark_safe_create_at(dfd, tmp, buf, len, 0600);
	if (!err && renameat(dfd, tmp, dfd, name)) {
		err = -errno;
		unlinkat(dfd, tmp, 0);
	}
	close(dfd);
	if (err)
		fail(-err, "cannot write a file in %s", dir);
	return err;
}

/*
 * The bytes of dir/name, when it is a regular file of ours, read without
 * following a symlink; NULL (errno set) otherwise. free() it with free_mem.
 */
void *shark_safe_read(const char *dir, const char *name, uint64_t *len)
{
	int dfd, fd, err = 0;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	dfd = shark_safe_dir_open(dir, 0);
	if (dfd < 0) {
		errno = -dfd;
		return NULL;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	err = errno;
	close(dfd);
	if (fd < 0) {
		errno = err;
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size > (1 << 30)) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	*len = got;
	return buf;
}
