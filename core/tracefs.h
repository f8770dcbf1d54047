/* SPDX-License-Identifier: GPL-2.0 */
/* tracefs.h - tracefs: mounting it, tracepoint ids and formats via libtraceevent (tracefs.c). */
#ifndef SHARK_TRACEFS_H
#define SHARK_TRACEFS_H

struct tep_event;
struct tep_handle;
const char *shark_tracefs(void);
const char *shark_tracefs__why(int err);
int shark_tp__id(const char *sys, const char *name);
struct tep_event *shark_tp__format(const char *sys, const char *name);
struct tep_handle *shark_tep(void);
int shark_tp__list(const char *glob, void (*fn)(const char *sys, const char *event, void *arg), void *arg);

#endif /* SHARK_TRACEFS_H */
