/* SPDX-License-Identifier: GPL-2.0 */
/* bpf.h - libbpf objects, beyond the entry points Lua calls (bpf.c). */
#ifndef SHARK_BPF_H
#define SHARK_BPF_H

/* errno or a libbpf error code (4000 and up) in words */
const char *shark_bpf_strerror(int err);

#endif /* SHARK_BPF_H */
