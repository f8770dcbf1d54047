/* SPDX-License-Identifier: GPL-2.0 */
/* tap.h - a minimal TAP producer for the C unit tests. */
#ifndef SHARK_TAP_H
#define SHARK_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "ok N # SKIP why": a test that cannot run here, and why */
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Under qemu-user (tests/run's arm64 suite sets SHARK_QEMU_USER to the
 * emulator): the syscalls of tracing (perf_event_open, bpf) are not
 * emulated, so a test of the live kernel skips when one fails with ENOSYS.
 * NULL on a real kernel, where such a failure fails the test.
 */
static inline const char *tap_qemu_user(void)
{
	return getenv("SHARK_QEMU_USER");
}

#endif /* SHARK_TAP_H */
