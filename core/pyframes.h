/* SPDX-License-Identifier: GPL-2.0 */
/* pyframes.h - Python function names spliced into user stacks (CPython 3.11). */
#ifndef SHARK_PYFRAMES_H
#define SHARK_PYFRAMES_H

#include <stdint.h>

/*
 * A Python frame in a callchain is an address no process can have: the
 * non-canonical hole of x86-64, plus the id of its name. sym.c names it.
 */
#define SHARK_PY_FRAME_BASE 0x4000000000000000ull

static inline int shark_py__is_frame(uint64_t ip)
{
	return ip >= SHARK_PY_FRAME_BASE && ip < SHARK_PY_FRAME_BASE + (1ull << 32);
}

/**
 * shark_py__splice() - put a CPython thread's Python frames into its native chain.
 * @pid, @tid: the sampled thread, still running (its memory is read now)
 * @ips: the native user chain, leaf first; rewritten in place
 * @n: its frames
 * @max: room in @ips
 *
 * Each run of Python frames goes before the _PyEval_EvalFrameDefault frame
 * that executes it. A process that is not CPython 3.11, or whose memory does
 * not have 3.11's layout, keeps its chain (and gets one notice).
 * Return: the frames in @ips now.
 */
int32_t shark_py__splice(int32_t pid, int32_t tid, uint64_t *ips, int32_t n, int32_t max);

/* The name of a Python frame ("qualname (file.py)"): its length, 0 if not one. */
int32_t shark_py__name(uint64_t ip, char *buf, int32_t len);

/* The process exec'd: what was learnt about its interpreter is void. */
void shark_py__forget(int32_t pid);

#endif /* SHARK_PYFRAMES_H */
