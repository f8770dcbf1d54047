/* SPDX-License-Identifier: GPL-2.0 */
/* utf8.h - well-formed UTF-8 for protobuf strings (OTLP): a collector refuses a request with one that is not. */
#ifndef SHARK_UTF8_H
#define SHARK_UTF8_H

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0. */
int shark_utf8_seq(const unsigned char *s);

/*
 * shark_utf8_fix() - s as well-formed UTF-8.
 * @copy: receives a malloc'd copy where each byte that is not UTF-8 became
 *        U+FFFD (the caller frees it), or NULL when s was already well formed
 *
 * Return: s or *copy; NULL when the copy could not be made (ENOMEM).
 */
char *shark_utf8_fix(const char *s, char **copy);

#endif /* SHARK_UTF8_H */
