/* SPDX-License-Identifier: GPL-2.0 */
/* bundle.h - a script and its BPF objects appended to this executable (bundle.c). */
#ifndef SHARK_BUNDLE_H
#define SHARK_BUNDLE_H

#include <stddef.h>

/**
 * shark_bundle__open() - is this executable a bundle? Checks its size and
 * checksum and reads the payload.
 * Return: 1 (a bundle), 0 (plain shark), or -errno with @err filled
 * (a damaged bundle).
 */
int shark_bundle__open(char *err, size_t errlen);
const void *shark_bundle__payload(size_t *len);

#endif /* SHARK_BUNDLE_H */
