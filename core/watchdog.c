// SPDX-License-Identifier: GPL-2.0
/*
 * watchdog.c - a thread that ends the run when Lua does not return.
 *
 * Signals and -d stop the loop and set a Lua hook, but a loop in code the JIT
 * compiled never looks at hooks, and while Lua runs the loop cannot notice -d.
 * This thread keeps the deadline itself; once a stop was asked for (a signal,
 * -d, the memory limit) the script gets a grace period to unwind and run its
 * on_end handlers, then the process ends: every probe, perf event and BPF link
 * of shark is an fd, so the kernel detaches them as it goes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include "shark.h"
#include "vm.h"

/*
 * -d N: the loop's own timer stops the run at N, between batches. A loop that
 * has not noticed by N + LATE (a handler that does not return) is hooked,
 * and ended GRACE later: N + 0.75 s. Signals start the same GRACE. on_end
 * handlers (symbolizing, printing) are not interrupted and get ON_END, but
 * under -d nothing runs past N + CAP (below).
 */
#define LATE_NS 300000000ull
#define GRACE_NS 450000000ull
#define ON_END_NS 10000000000ull
/*
 * The top level sets the run up (compiles BPF C, attaches): -d does not cut
 * it short, as the loop's timer never did; only one that has not returned
 * SETUP_NS after the deadline (a loop) is ended.
 */
#define SETUP_NS 10000000000ull
#define MEM_GRACE_NS 200000000ull
/*
 * -d N: the process is gone N + CAP after the script was ready, whatever still
 * runs then (on_end handlers, a loop, slow C work): the promise is -d's.
 */
#define CAP_NS 1000000000ull

static struct {
	pthread_t thread;
	int running;
	sem_t wake;
	uint64_t deadline;		/* -d, CLOCK_MONOTONIC ns; 0: none */
	uint64_t duration;		/* -d in ns: from ready, the deadline moves */
	uint64_t mem_limit;		/* bytes of RSS; 0: none */
	volatile uint64_t stop_at;	/* when a stop was asked for; 0: not yet */
	volatile int reason;		/* enum shark_stop, for the loop thread */
	uint64_t grace;
	volatile int done;
	volatile int looping;		/* the top level returned, the loop runs */
	volatile int finishing;		/* on_end handlers run: no more hooks */
	int busy;			/* in slow C work (symbol tables): not stuck */
	pthread_mutex_t lock;
	uv_async_t async;
} wd = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t rss_bytes(void)
{
	unsigned long long size, rss;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &rss);
	fclose(f);
	return n == 2 ? rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void say(const char *msg)
{
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0)
		return;
}

/* Async-signal-safe: start the grace period (once) and wake the thread. */
void shark_watchdog__stopping(void)
{
	if (!wd.running)
		return;
	if (!wd.stop_at)
		wd.stop_at = shark_time_ns();
	sem_post(&wd.wake);
}

/* On the loop thread: the stop the watchdog asked for. */
static void on_async(uv_async_t *h)
{
	(void)h;
	shark_stop(wd.reason);
}

static void ask_stop(int reason)
{
	wd.reason = reason;
	shark_watchdog__stopping();
	uv_async_send(&wd.async);
	/* unwind Lua (code the JIT did not compile), but never on_end's */
	pthread_mutex_lock(&wd.lock);
	if (!wd.finishing)
		shark_vm__interrupt();
	pthread_mutex_unlock(&wd.lock);
}

/* The top level returned: the loop runs, -d may interrupt it. */
void shark_watchdog__looping(void)
{
	/* -d counts from here, when the script is ready (loop.c's timer too) */
	if (wd.duration)
		wd.deadline = shark_time_ns() + wd.duration;
	wd.looping = 1;
	if (wd.running)
		sem_post(&wd.wake);
}

/* The loop ended: on_end handlers run next, and are not interrupted. */
void shark_watchdog__finishing(void)
{
	pthread_mutex_lock(&wd.lock);
	wd.finishing = 1;
	pthread_mutex_unlock(&wd.lock);
	if (wd.running)
		sem_post(&wd.wake);
}

static void say_mem(void)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "shark: the memory limit of %llu MB was reached: stopping\n",
		 (unsigned long long)(wd.mem_limit >> 20));
	say(msg);
}

/*
 * Loading symbol tables (kallsyms, an ELF file) in a handler can take most
 * of a second on a busy machine: that handler is working, not looping, and
 * is neither hooked nor ended until it is back in Lua.
 */
void shark_watchdog__busy(int delta)
{
	__atomic_add_fetch(&wd.busy, delta, __ATOMIC_SEQ_CST);
}

static int busy(void)
{
	return __atomic_load_n(&wd.busy, __ATOMIC_SEQ_CST) > 0;
}

/* When the process is ended if still running; 0: not (yet) to be ended. */
static uint64_t abort_at(void)
{
	if (!wd.stop_at)
		return 0;
	return wd.stop_at + (wd.finishing ? ON_END_NS : wd.grace);
}

static void end_now(void)
{
	say(wd.finishing ? "shark: on_end handlers still running 10 s after the stop: exiting\n" :
	    wd.reason == SHARK_STOP_DURATION ?
	    "shark: -d time is up and the script does not return (a loop in Lua?): exiting\n" :
	    "shark: the script does not return after the stop (a loop in Lua?): exiting\n");
	shark_loop__abort(shark_state.signo ? 128 + shark_state.signo : SHARK_EXIT_ERROR);
}

/*
 * Print what stdout holds (on_end's output so far), unless the loop thread
 * holds the stream (a write blocked on a full pipe): never wait for it.
 */
static void flush_stdout(void)
{
	if (ftrylockfile(stdout))
		return;
	fflush_unlocked(stdout);
	funlockfile(stdout);
}

/* -d N + 1 s after ready: end the run now, whatever it does. */
static void end_capped(void)
{
	char msg[200];

	flush_stdout();
	snprintf(msg, sizeof(msg), "shark: -d %.9g: %s 1 s after the time was up: exiting (status %d)\n",
		 (double)wd.duration / 1e9,
		 wd.finishing ? "on_end handlers still running" : "the script does not return (a loop in Lua?)",
		 shark_state.signo ? 128 + shark_state.signo : SHARK_EXIT_ERROR);
	say(msg);
	shark_loop__abort(shark_state.signo ? 128 + shark_state.signo : SHARK_EXIT_ERROR);
}

static void *run(void *arg)
{
	int fired_deadline = 0, fired_mem = 0;
	uint64_t held = 0;	/* last seen in slow C work: LATE counts from then */

	(void)arg;
	/*
	 * Above a real-time reader (-r): a handler looping at SCHED_FIFO would
	 * otherwise leave this thread only what the kernel's real-time
	 * throttling spares (none where it is off). It sleeps nearly always.
	 */
	if (shark_state.rt_prio > 0) {
		struct sched_param sp = {
			.sched_priority = shark_state.rt_prio < SHARK_RT_PRIO_MAX ? shark_state.rt_prio + 1 :
										  SHARK_RT_PRIO_MAX,
		};

		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);	/* as the reader: best effort */
	}
	while (!wd.done) {
		uint64_t now = shark_time_ns(), next = now + 1000000000ull, end = abort_at();
		uint64_t cap = wd.deadline && wd.looping ? wd.deadline + CAP_NS : 0;
		struct timespec ts;

		if (wd.deadline && !fired_deadline)
			next = wd.looping ? (held > wd.deadline ? held : wd.deadline) + LATE_NS :
					    wd.deadline + SETUP_NS;
		if (end && end < next)
			next = end;
		if (cap && cap < next)
			next = cap;
		if ((wd.mem_limit || busy()) && now + 100000000ull < next)
			next = now + 100000000ull;
		ts.tv_sec = next / 1000000000ull;
		ts.tv_nsec = next % 1000000000ull;
		while (sem_clockwait(&wd.wake, CLOCK_MONOTONIC, &ts) && errno == EINTR)
			;
		if (wd.done)
			break;
		now = shark_time_ns();
		if (cap && now >= cap && !wd.done)
			end_capped();
		if (busy()) {	/* look again soon */
			held = now;
			if (wd.stop_at)
				wd.stop_at = now;
			continue;
		}
		if (wd.deadline && !fired_deadline && wd.looping &&
		    now >= (held > wd.deadline ? held : wd.deadline) + LATE_NS) {
			fired_deadline = 1;
			if (wd.finishing)	/* the loop's timer stopped the run: time on_end */
				shark_watchdog__stopping();
			else
				ask_stop(SHARK_STOP_DURATION);
		}
		if (wd.deadline && !fired_deadline && !wd.looping && now >= wd.deadline + SETUP_NS) {
			say("shark: -d time is up and the script's top level has not returned for 10 s "
			    "(a loop in Lua?): exiting\n");
			shark_loop__abort(SHARK_EXIT_ERROR);
		}
		if (wd.mem_limit && !fired_mem && rss_bytes() > wd.mem_limit) {
			fired_mem = 1;
			say_mem();
			shark_state.errors++;
			wd.grace = MEM_GRACE_NS;	/* it may still be growing */
			ask_stop(SHARK_STOP_ERROR);
		}
		end = abort_at();
		if (end && now >= end && !wd.done)
			end_now();
	}
	return NULL;
}

/* duration: -d seconds (0: none); mem_limit_mb: 0 for none. */
int shark_watchdog__start(double duration, uint64_t mem_limit_mb)
{
	int err;

	if (sem_init(&wd.wake, 0, 0))
		return -errno;
	err = uv_async_init(shark_loop(), &wd.async, on_async);
	if (err)
		return err;
	uv_unref((uv_handle_t *)&wd.async);
	if (duration > 0) {
		wd.duration = (uint64_t)(duration * 1e9);
		wd.deadline = shark_time_ns() + wd.duration;
	}
	wd.mem_limit = mem_limit_mb << 20;
	wd.grace = GRACE_NS;
	wd.running = 1;
	err = -pthread_create(&wd.thread, NULL, run, NULL);
	if (err)
		wd.running = 0;
	return err;
}

/* The run ended normally: the thread goes. */
void shark_watchdog__stop(void)
{
	if (!wd.running)
		return;
	wd.done = 1;
	sem_post(&wd.wake);
	pthread_join(wd.thread, NULL);
	wd.running = 0;
}
