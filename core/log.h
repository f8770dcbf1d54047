/* SPDX-License-Identifier: GPL-2.0 */
/* log.h - messages on stderr by -v level, and libbpf's through them (log.c). */
#ifndef SHARK_LOG_H
#define SHARK_LOG_H

extern int shark_verbose;
extern int shark_quiet;
void shark_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set -v/-q and route libbpf's messages through them. */
void shark_log__init(int verbose, int quiet);
void shark_log__capture(int on);
const char *shark_log__captured(void);
#define pr_err(...)	shark_log(0, __VA_ARGS__)
#define pr_info(...)	shark_log(1, __VA_ARGS__)
#define pr_debug(...)	shark_log(2, __VA_ARGS__)

#endif /* SHARK_LOG_H */
