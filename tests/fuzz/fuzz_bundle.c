// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_bundle.c - libFuzzer: the bundle check that runs before anything else
 * in a bundle. Input: a slot (its 64 bytes) then the file it describes.
 */
#include <stdint.h>
#include <string.h>
#include "shark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t slot[SHARK_BUNDLE_SLOT_SIZE];

	if (size < sizeof(slot))
		return 0;
	memcpy(slot, data, sizeof(slot));
	/* the fuzzer would never guess the magic: give it half the time */
	if (data[0] & 1)
		memcpy(slot, "shark-bundle-3", 15);
	shark_bundle__verify(data + sizeof(slot), size - sizeof(slot), slot);
	return 0;
}
