/* SPDX-License-Identifier: GPL-2.0 */
/* pprof.h - the profile tables pprof and OTLP profiles encode (struct shark_pprof in shark_api.h). */
#ifndef SHARK_PPROF_H
#define SHARK_PPROF_H

/*
 * shark_pprof_check() - are p's tables whole: every pointer there, every
 * string and id index in range, every count within an int32?
 *
 * Return: 0, or -EINVAL.
 */
int shark_pprof_check(const struct shark_pprof *p);

#endif /* SHARK_PPROF_H */
