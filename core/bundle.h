/* SPDX-License-Identifier: GPL-2.0 */
/* bundle.h - a script and its BPF objects appended to this executable (bundle.c). */
#ifndef SHARK_BUNDLE_H
#define SHARK_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

/**
 * shark_bundle__open() - is this executable a bundle? Checks its size and
 * checksum and reads the payload.
 * Return: 1 (a bundle), 0 (plain shark), or -errno with @err filled
 * (a damaged bundle).
 */
int shark_bundle__open(char *err, size_t errlen);
const void *shark_bundle__payload(size_t *len);
/* Is file the bundle its 64-byte slot describes? NULL, or why not */
const char *shark_bundle__verify(const uint8_t *file, size_t len, const void *slot);
#define SHARK_BUNDLE_SLOT_SIZE 64

#endif /* SHARK_BUNDLE_H */
