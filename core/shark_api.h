/* SPDX-License-Identifier: GPL-2.0 */
/* shark_api.h - the FFI surface: every C type and function Lua may use. */
#ifndef SHARK_API_H
#define SHARK_API_H

/*
 * This header is the single source of truth for the C<->Lua boundary.
 * The build runs it through the C preprocessor with SHARK_CDEF defined and
 * embeds the result as the text given to ffi.cdef, so it must stay plain C
 * declarations: no system includes, no inline code, constants as enums.
 *
 * Lua never resolves a C symbol by name: it receives one pointer to
 * struct shark_api and calls through its members, so a static binary behaves
 * exactly like a dynamic one.
 */
#ifndef SHARK_CDEF
#include <stdint.h>
#include <stddef.h>
#endif

/* Why the loop stopped; the first reason recorded wins. */
enum shark_stop {
	SHARK_STOP_NONE = 0,
	SHARK_STOP_IDLE = 1,		/* nothing left to wait for */
	SHARK_STOP_EXIT = 2,		/* the script called shark.exit() */
	SHARK_STOP_ERROR = 3,		/* a Lua error */
	SHARK_STOP_SIGNAL = 4,		/* SIGINT or SIGTERM */
	SHARK_STOP_DURATION = 5,	/* -d SECONDS elapsed */
	SHARK_STOP_TARGET = 6,		/* the -c child or the -p process exited */
	SHARK_STOP_STDOUT = 7,		/* stdout was closed (EPIPE) */
};

/* Process-wide run state, shared by C and Lua without calls. */
struct shark_state {
	int32_t stop_reason;	/* enum shark_stop */
	int32_t exit_code;	/* from shark.exit(), -1 when unset */
	int32_t signo;		/* the signal that stopped us, 0 if none */
	int32_t verbose;	/* -v count */
	int32_t quiet;		/* -q */
	int32_t target_pid;	/* -p PID or the -c child, 0 if none */
	int32_t target_status;	/* wait status of the -c child once it exited, -1 before */
	int32_t target_running;	/* 1 while the target is alive */
	int32_t errors;		/* Lua errors reported so far */
};

/* The function table handed to Lua. Members are added at the end only. */
struct shark_api {
	uint32_t size;				/* sizeof(struct shark_api) as built */
	struct shark_state *state;
	uint64_t (*time_ns)(void);		/* CLOCK_MONOTONIC, ns */
	uint64_t (*realtime_ns)(void);		/* CLOCK_REALTIME, ns */
	void (*stop)(int32_t reason);		/* record a stop reason, end the loop */
	int32_t (*release_target)(void);	/* let the held -c child exec */
	int32_t (*kill_target)(int32_t sig);	/* signal the -c child, 0 or -errno */
};

#endif /* SHARK_API_H */
