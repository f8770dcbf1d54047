// SPDX-License-Identifier: GPL-2.0
/* main.c - the shark command: parse the command line, hand over to the core. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shark.h"

int main(int argc, char **argv)
{
	struct shark_opts opts;
	struct lua_State *L;
	char err[256];
	int rc;

	shark_state.start_time = (double)shark_time_ns();
	if (shark_cli__parse(argc, argv, &opts, err, sizeof(err))) {
		fprintf(stderr, "shark: %s\n", err);
		fprintf(stderr, "usage: shark [options] script.lua [args...]  (shark -h for help)\n");
		return SHARK_EXIT_USAGE;
	}
	if (opts.help) {
		shark_cli__usage(stdout);
		return SHARK_EXIT_OK;
	}
	if (opts.version) {
		shark_cli__version(stdout);
		return SHARK_EXIT_OK;
	}
	shark_log__init(opts.verbose, opts.quiet);
	shark_state.verbose = opts.verbose;
	shark_state.quiet = opts.quiet;

	if (opts.output && !freopen(opts.output, "w", stdout)) {
		pr_err("cannot write %s: %s\n", opts.output, strerror(errno));
		return SHARK_EXIT_ERROR;
	}
	rc = shark_loop__init(&opts);
	if (rc) {
		pr_err("cannot set up the event loop: %s\n", strerror(-rc));
		return SHARK_EXIT_ERROR;
	}
	if (opts.pid) {
		rc = shark_target__watch(opts.pid);
		if (rc) {
			pr_err("cannot trace process %d: %s\n", opts.pid,
			       rc == -ESRCH ? "no such process" : strerror(-rc));
			return SHARK_EXIT_ERROR;
		}
	}
	if (opts.command) {
		rc = shark_target__spawn(opts.command);
		if (rc) {
			pr_err("cannot start '%s': %s\n", opts.command, strerror(-rc));
			return SHARK_EXIT_ERROR;
		}
	}
	L = shark_vm__new(&opts);
	if (!L) {
		pr_err("cannot create the Lua state: out of memory\n");
		shark_loop__fini();
		return SHARK_EXIT_ERROR;
	}
	rc = shark_vm__run(L, &opts);
	shark_loop__fini();
	return rc;
}
