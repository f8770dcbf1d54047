// SPDX-License-Identifier: GPL-2.0
/* loop.c - the libuv loop that owns the process: signals, -d, stdout, the target. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include "shark.h"
#include "vm.h"

static uv_loop_t loop;
static uv_async_t sig_async;
static uv_timer_t duration_timer;
static uint64_t duration_ms;	/* -d; 0: none */
static uv_prepare_t flush_prepare;
static volatile sig_atomic_t nsignals;

static struct {
	pid_t pid;
	int is_child;
	int hold_fd;		/* write end of the pipe the held child waits on */
	int ready_fd;		/* read end: EOF once exec succeeded, else its errno */
	int pidfd;
	uv_poll_t poll;
	uv_timer_t timer;	/* no pidfd_open (before Linux 5.3): look every 50 ms */
	int polling;
} target = { .hold_fd = -1, .ready_fd = -1, .pidfd = -1 };

uv_loop_t *shark_loop(void)
{
	return &loop;
}

void shark_stop(int32_t reason)
{
	if (!shark_state.stop_reason)
		shark_state.stop_reason = reason;
	uv_stop(&loop);
}

/* ------------------------------------------------------------------ signals */

/*
 * Leave now, from a signal handler or the watchdog thread. Every probe, perf
 * event and BPF link of ours is fd based, so the kernel detaches them as the
 * process goes.
 */
void shark_loop__abort(int code)
{
	if (target.pid > 0 && target.is_child)
		kill(target.pid, SIGTERM);
	/* a terminal left in raw mode (shark top) comes back; async-signal-safe */
	uv_tty_reset_mode();
	_exit(code);
}

static void on_signal(int sig)
{
	if (++nsignals > 1)
		shark_loop__abort(128 + sig);	/* second Ctrl-C */
	shark_state.signo = sig;
	uv_async_send(&sig_async);
	/* a loop the JIT compiled ignores the hook below: the watchdog ends it */
	shark_watchdog__stopping();
	/* break out of a long-running Lua call (not JIT-compiled loops) */
	shark_vm__interrupt();
}

static void on_sig_async(uv_async_t *h)
{
	(void)h;
	shark_stop(SHARK_STOP_SIGNAL);
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	/* a closed stdout shows up as EPIPE on write, handled in print/flush */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------ -d, stdout */

static void on_duration(uv_timer_t *t)
{
	(void)t;
	shark_stop(SHARK_STOP_DURATION);
}

/* Before the loop blocks: push out what the script printed, notice EPIPE. */
static void on_prepare(uv_prepare_t *p)
{
	(void)p;
	if (fflush(stdout) == EOF && errno == EPIPE)
		shark_stop(SHARK_STOP_STDOUT);
}

/* ------------------------------------------------------------- the target */

static int pidfd_open(pid_t pid)
{
	if (getenv("SHARK_NO_PIDFD"))	/* tests: the fallback of old kernels */
		return -1 + 0 * (errno = ENOSYS);
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void target_gone(void)
{
	if (target.pidfd >= 0)
		uv_poll_stop(&target.poll);
	else
		uv_timer_stop(&target.timer);
	target.polling = 0;
	shark_state.target_running = 0;
	pr_debug("target %d exited\n", (int)target.pid);
	shark_stop(SHARK_STOP_TARGET);
}

static void on_target_exit(uv_poll_t *p, int status, int events)
{
	int wstatus;

	(void)p;
	(void)status;
	(void)events;
	if (target.is_child) {
		if (waitpid(target.pid, &wstatus, WNOHANG) == target.pid)
			shark_state.target_status = wstatus;
	}
	target_gone();
}

static void on_target_timer(uv_timer_t *t)
{
	int wstatus;

	(void)t;
	if (target.is_child) {
		pid_t r = waitpid(target.pid, &wstatus, WNOHANG);

		if (r == 0)
			return;
		if (r == target.pid)
			shark_state.target_status = wstatus;
	} else if (!kill(target.pid, 0) || errno != ESRCH) {
		return;
	}
	target_gone();
}

static int watch(pid_t pid, int keep_alive)
{
	uv_handle_t *h;
	int err;

	target.pid = pid;
	target.pidfd = pidfd_open(pid);
	if (target.pidfd < 0 && errno != ENOSYS)
		return -errno;
	if (target.pidfd >= 0) {
		err = uv_poll_init(&loop, &target.poll, target.pidfd);
		if (!err)
			err = uv_poll_start(&target.poll, UV_READABLE, on_target_exit);
		h = (uv_handle_t *)&target.poll;
	} else {
		err = uv_timer_init(&loop, &target.timer);
		if (!err)
			err = uv_timer_start(&target.timer, on_target_timer, 50, 50);
		h = (uv_handle_t *)&target.timer;
	}
	if (err) {
		if (target.pidfd >= 0)
			close(target.pidfd);
		target.pidfd = -1;
		return err;
	}
	target.polling = 1;
	if (!keep_alive)
		uv_unref(h);
	return 0;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static void on_pid_exit(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	uv_poll_stop(p);
	pr_debug("process %d exited\n", (int)(intptr_t)p->data);
	shark_stop(SHARK_STOP_TARGET);
}

/*
 * A tool's -p (getopt's pid row): the run ends when process @pid exits, as
 * with shark -p, without making it shark's target. 0, or -errno (-ESRCH: no
 * such process). The poll and its pidfd live as long as shark.
 */
int shark_loop__watch_exit(int pid)
{
	uv_poll_t *p;
	int fd, err;

	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	fd = pidfd_open(pid);
	if (fd < 0)
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	err = uv_poll_init(&loop, p, fd);
	if (err) {
		close(fd);
		free(p);
		return err;
	}
	p->data = (void *)(intptr_t)pid;
	err = uv_poll_start(p, UV_READABLE, on_pid_exit);
	if (err) {
		uv_close((uv_handle_t *)p, free_handle);
		close(fd);
		return err;
	}
	uv_unref((uv_handle_t *)p);
	return 0;
}

int shark_target__watch(int pid)
{
	int err;

	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	err = watch(pid, 0);
	if (err)
		return err;
	target.pid = pid;
	shark_state.target_pid = pid;
	shark_state.target_running = 1;
	return 0;
}

/*
 * Fork the -c command and hold it before exec until everything is attached:
 * the child blocks reading a pipe; release writes a byte, and a closed pipe
 * (shark failed before release) makes the child leave without running CMD.
 */
int shark_target__spawn(const char *cmd)
{
	int go, ready;
	char **argv;
	pid_t pid;

	argv = shark_cmd__argv(cmd);
	if (!argv)
		return -errno;
	pid = shark_spawn_held(argv, &go, &ready);
	shark_cmd__free(argv);
	if (pid < 0)
		return pid;
	target.pid = pid;
	target.is_child = 1;
	target.hold_fd = go;
	shark_state.target_pid = pid;
	shark_state.target_running = 1;
	shark_state.target_status = -1;
	shark_state.target_held = 1;
	target.ready_fd = ready;
	return watch(pid, 1);
}

int shark_target__release(void)
{
	ssize_t n;
	int e = 0;

	if (target.hold_fd < 0)
		return 0;
	shark_state.target_held = 0;
	if (write(target.hold_fd, "g", 1) != 1) {
		e = errno;
		close(target.hold_fd);
		target.hold_fd = -1;
		return -e;
	}
	close(target.hold_fd);
	target.hold_fd = -1;
	do
		n = read(target.ready_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(target.ready_fd);
	target.ready_fd = -1;
	return n == sizeof(e) ? -e : 0;
}

/* Do not leave the -c child behind: SIGTERM, then SIGKILL after 500 ms. */
static void reap_child(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int status;

	if (target.hold_fd >= 0) {
		close(target.hold_fd);	/* a held child exits on EOF */
		target.hold_fd = -1;
	} else if (shark_state.target_running) {
		kill(target.pid, SIGTERM);
	}
	for (int i = 0; i < 50; i++) {
		pid_t r = waitpid(target.pid, &status, WNOHANG);

		if (r == target.pid || (r < 0 && errno == ECHILD))
			return;
		nanosleep(&ts, NULL);
	}
	kill(target.pid, SIGKILL);
	waitpid(target.pid, &status, 0);
}

/* ---------------------------------------------------------------- the loop */

int shark_loop__init(const struct shark_opts *opts)
{
	int err;

	err = uv_loop_init(&loop);
	if (err)
		return err;
	err = uv_async_init(&loop, &sig_async, on_sig_async);
	if (err)
		return err;
	uv_unref((uv_handle_t *)&sig_async);
	err = uv_prepare_init(&loop, &flush_prepare);
	if (!err)
		err = uv_prepare_start(&flush_prepare, on_prepare);
	if (err)
		return err;
	uv_unref((uv_handle_t *)&flush_prepare);
	if (opts->duration > 0) {
		duration_ms = (uint64_t)(opts->duration * 1000.0 + 0.5);
		err = uv_timer_init(&loop, &duration_timer);
		if (err)
			return err;
		/* -d bounds the run; it is not a reason to stay */
		uv_unref((uv_handle_t *)&duration_timer);
	}
	err = shark_watchdog__start(opts->duration, opts->mem_limit);
	if (err)
		return err;
	return install_signals();
}

/*
 * The script's top level has run: its probes are attached. -d counts from
 * here, not from start-up (loading BPF takes tens of ms, more under load),
 * so a rate over -d seconds is a rate over the traced time.
 */
int shark_loop__ready(void)
{
	if (!duration_ms)
		return 0;
	uv_update_time(&loop);
	return uv_timer_start(&duration_timer, on_duration, duration_ms, 0);
}

/* Run until stopped or idle; return the stop reason. */
int shark_loop__run(void)
{
	if (!shark_state.stop_reason)
		uv_run(&loop, UV_RUN_DEFAULT);
	if (!shark_state.stop_reason)
		shark_state.stop_reason = SHARK_STOP_IDLE;
	fflush(stdout);
	return shark_state.stop_reason;
}

/*
 * The process is about to exit: the kernel closes every fd (perf events, BPF
 * links, the pidfd) and frees memory. What it does not do is end the -c child.
 */
void shark_loop__fini(void)
{
	shark_watchdog__stop();
	fflush(stdout);
	if (target.pid > 0 && target.is_child)
		reap_child();
}
