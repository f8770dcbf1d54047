/* SPDX-License-Identifier: GPL-2.0 */
/* tracefs.h - tracefs: mounting it, tracepoint ids and formats via libtraceevent (tracefs.c). */
#ifndef SHARK_TRACEFS_H
#define SHARK_TRACEFS_H

#include <stddef.h>

struct tep_event;
struct tep_handle;
const char *shark_tracefs(void);
const char *shark_tracefs__why(int err);
int shark_tp__id(const char *sys, const char *name);
struct tep_event *shark_tp__format(const char *sys, const char *name);
/* PERF_MAX_TRACE_SIZE: the largest record a sample carries */
#define SHARK_TP_MAX_RECORD 8192
int shark_tp__check(const struct tep_event *ev, char *why, size_t len);
const char *shark_tp__bad_format(void);	/* why the last format was refused */
struct tep_handle;
int shark_tp__parse_text(struct tep_handle *t, const char *buf, size_t len, const char *sys);
struct tep_handle *shark_tep(void);
int shark_tp__list(const char *glob, void (*fn)(const char *sys, const char *event, void *arg), void *arg);

#endif /* SHARK_TRACEFS_H */
