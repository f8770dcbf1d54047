/* SPDX-License-Identifier: GPL-2.0 */
/* sym.h - symbols: kallsyms, ELF files, JIT maps, per-process mappings (sym.c). */
#ifndef SHARK_SYM_H
#define SHARK_SYM_H

#include <stdint.h>

void shark_sym__note_pid(int pid);
void shark_sym__mmap(int pid, uint64_t start, uint64_t len, uint64_t pgoff, const char *file);
void shark_sym__exec(int pid);

#endif /* SHARK_SYM_H */
