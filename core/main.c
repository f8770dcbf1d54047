// SPDX-License-Identifier: GPL-2.0
/* main.c - the shark command: parse the command line, hand over to the core. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shark.h"
#include "vm.h"
#ifdef __SANITIZE_ADDRESS__
#include <lua.h>
#endif

/*
 * A bundle's arguments are its script's, except --shark-version and
 * --shark-verbose (-v for shark and libbpf), which no tool would use.
 */
static void bundle_opts(int argc, char **argv, struct shark_opts *o)
{
	int n = 0;

	memset(o, 0, sizeof(*o));
	o->rt_prio = -1;
	o->kind = SHARK_SCRIPT_BUNDLE;
	o->script = argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shark-verbose"))
			o->verbose++;
		else if (!strcmp(argv[i], "--shark-version"))
			o->version = 1;
		else
			argv[1 + n++] = argv[i];
	}
	o->args = argv + 1;
	o->nargs = n;
}

int main(int argc, char **argv)
{
	struct shark_opts opts;
	struct lua_State *L;
	char err[256];
	int rc;

	shark_state.start_time = (double)shark_time_ns();
	rc = shark_bundle__open(err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return SHARK_EXIT_ERROR;
	}
	if (rc > 0)
		bundle_opts(argc, argv, &opts);
	else if (shark_cli__parse(argc, argv, &opts, err, sizeof(err))) {
		fprintf(stderr, "shark: %s\n", err);
		fprintf(stderr, "usage: shark [options] script.lua [args...]  (shark -h for help)\n");
		return SHARK_EXIT_USAGE;
	}
	if (opts.help) {
		shark_cli__usage(stdout);
		return SHARK_EXIT_OK;
	}
	if (opts.version && opts.kind != SHARK_SCRIPT_BUNDLE) {
		shark_cli__version(stdout);
		return SHARK_EXIT_OK;
	}
	shark_log__init(opts.verbose, opts.quiet);
	shark_state.verbose = opts.verbose;
	shark_state.quiet = opts.quiet;
	if (opts.rt_prio >= 0)
		shark_state.rt_prio = opts.rt_prio;

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
#ifdef __SANITIZE_ADDRESS__
	/*
	 * LeakSanitizer does not scan LuaJIT's own arena: the objects Lua still
	 * holds (rings, sessions, BPF objects, libuv handles) would all read as
	 * leaked. Closing the state runs their finalizers; what is left leaked.
	 */
	lua_close(L);
#endif
	return rc;
}
