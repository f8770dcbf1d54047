/* SPDX-License-Identifier: GPL-2.0 */
/* loop.h - the libuv loop that owns the process, and the -c/-p target (loop.c). */
#ifndef SHARK_LOOP_H
#define SHARK_LOOP_H

struct shark_opts;
struct uv_loop_s;
int shark_loop__init(const struct shark_opts *opts);
struct uv_loop_s *shark_loop(void);
int shark_loop__ready(void);
int shark_loop__run(void);
void shark_loop__fini(void);
int shark_target__spawn(const char *cmd);
int shark_target__watch(int pid);
int shark_loop__watch_exit(int pid);
int shark_target__release(void);

/* end the process now (the -c child too), from any thread */
void shark_loop__abort(int code);

#endif /* SHARK_LOOP_H */
