// SPDX-License-Identifier: GPL-2.0
/* unit.c - C unit tests of the core, one binary, TAP output. */
#include <stdarg.h>
#include <stdlib.h>
#include "tap.h"

int tap_n, tap_failed;

static int report(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass) {
		printf("#   at %s:%d\n", file, line);
		tap_failed++;
	}
	return pass;
}

int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

int tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got %lld, want %lld\n", got, want);
	return r;
}

int tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int pass = (got && want) ? !strcmp(got, want) : got == want;
	int r;

	va_start(ap, fmt);
	r = report(pass, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got '%s', want '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return r;
}

void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d # SKIP ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void test_cli(void);
void test_cmd(void);
void test_embed(void);
void test_perf(void);
void test_perf_event(void);
void test_replay(void);
void test_pprof(void);
void test_unwind(void);
void test_journal(void);
void test_tpnames(void);

int main(void)
{
	test_cli();
	test_cmd();
	test_embed();
	test_perf();
	test_perf_event();
	test_replay();
	test_pprof();
	test_unwind();
	test_journal();
	test_tpnames();
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
