/* SPDX-License-Identifier: GPL-2.0 */
/* watchdog.h - ends the run when Lua does not return after a stop (watchdog.c). */
#ifndef SHARK_WATCHDOG_H
#define SHARK_WATCHDOG_H

#include <stdint.h>

int shark_watchdog__start(double duration, uint64_t mem_limit_mb);
void shark_watchdog__stopping(void);	/* async-signal-safe */
void shark_watchdog__looping(void);
void shark_watchdog__busy(int delta);	/* +1/-1 around slow C work */
void shark_watchdog__finishing(void);
void shark_watchdog__stop(void);

#endif /* SHARK_WATCHDOG_H */
