// SPDX-License-Identifier: GPL-2.0
/* utf8.c - well-formed UTF-8 (RFC 3629) for protobuf strings: a comm or a symbol is anyone's bytes. */
#include <stdlib.h>
#include <string.h>
#include "shark.h"

int shark_utf8_seq(const unsigned char *s)
{
	unsigned int c = s[0], lo, hi;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* no overlong forms, no surrogates (ED A0..BF) */
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* no overlong forms, nothing past U+10FFFF */
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

char *shark_utf8_fix(const char *s, char **copy)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = 0, bad = 0, o = 0;
	char *out;

	*copy = NULL;
	while (u[n]) {
		int k = shark_utf8_seq(u + n);

		bad += !k;
		n += k ? (size_t)k : 1;
	}
	if (!bad)
		return (char *)u;
	out = malloc(n + 2 * bad + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		int k = shark_utf8_seq(u + i);

		if (k) {
			memcpy(out + o, u + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = 0;
	*copy = out;
	return out;
}
