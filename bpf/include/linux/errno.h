/* SPDX-License-Identifier: GPL-2.0 */
/* linux/errno.h - the error numbers BPF programs use, for builds with vmlinux.h and no kernel headers. */
#ifndef SHARK_LINUX_ERRNO_H
#define SHARK_LINUX_ERRNO_H

#define EPERM	1
#define ENOENT	2
#define ESRCH	3
#define EINTR	4
#define EIO	5
#define E2BIG	7
#define ENOEXEC	8
#define EBADF	9
#define EAGAIN	11
#define ENOMEM	12
#define EFAULT	14
#define EBUSY	16
#define EEXIST	17
#define EINVAL	22
#define ENOSPC	28
#define ERANGE	34
#define ENOTSUP	95
#define EOPNOTSUPP 95

#endif
