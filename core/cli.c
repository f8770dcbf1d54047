// SPDX-License-Identifier: GPL-2.0
/* cli.c - command-line parsing, usage and version text. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include <luajit.h>
#include <uv.h>
#include "shark.h"

static const char usage_text[] =
"usage: shark [options] script.lua [args...]\n"
"       shark [options] -e 'code' [args...]\n"
"       shark [options] - [args...]          (script from stdin)\n"
"       shark -l [-v] [GLOB]                 (list events; -v: fields)\n"
"       shark test [FEATURE]                 (what this machine can trace)\n"
"       shark bundle script.lua [-o TOOL]    (one executable for machines without shark)\n"
"       shark serve [--listen ADDR:PORT]     (the web viewer of uploaded profiles; -h for more)\n"
"       shark stat [-e EVENT,...] -- CMD     (count events in the kernel, as perf stat)\n"
"       shark record -e EVENT,... -- CMD     (a journal of samples; or: record script.lua)\n"
"       shark report FILE                    (summarise a journal)\n"
"       shark replay FILE script.lua         (run a script over a journal)\n"
"       shark top [-p PID] [-e EVENT]        (the hottest functions, live; -h for more)\n"
"\n"
"A scriptable Linux tracer: Lua scripts on perf events and BPF.\n"
"\n"
"options:\n"
"  -e CODE        run CODE instead of a script file\n"
"  -d SECONDS     stop after SECONDS (fractions allowed), running on_end handlers\n"
"  -o FILE        write the script's output (stdout) to FILE\n"
"  -p PID         trace process PID; stop when it exits\n"
"  -c 'CMD'       run CMD, trace it, stop when it exits\n"
"  -r PRIO        the reader of events runs SCHED_FIFO at PRIO (1-99) while\n"
"                 sources are attached, so busy CPUs do not delay it past a\n"
"                 full ring; 0: normal scheduling (default 1; needs root)\n"
"  -v             verbose: shark's and libbpf's messages (repeat for more)\n"
"  -q             quiet: no informational messages on stderr\n"
"  -l             list events (tracepoints, software, hardware) matching GLOB\n"
"      --mem-limit MB  stop the script when shark uses more than MB megabytes\n"
"                 (also SHARK_MEM_LIMIT=MB)\n"
"  -h, --help     this text\n"
"      --version  versions of shark, LuaJIT, libuv, libbpf and the kernel\n"
"\n"
"examples:\n"
"  shark -e 'perf.on(\"sched:sched_switch\", function(e) perf.print(e) end)' -d 1\n"
"  shark -l 'sched:*'      shark -l -v syscalls:sys_enter_openat\n"
"  shark -e 'set_interval(1000, function() print(os.date()) end)' -d 3\n"
"  shark -e 'shark.on_end(function() print(shark.time()) end)'\n"
"  shark -d 5 -o out.txt script.lua --my-arg 1\n"
"  shark -c 'sleep 1' -e 'print(shark.target().pid)'\n"
"  echo 'print(1 + 1)' | shark -\n"
"\n"
"In scripts: shark, ffi, set_interval(ms, fn), set_timeout(ms, fn), clear_timer(t),\n"
"require \"uv\" (libuv on shark's loop), require \"cjson\". Exit codes: 0 ok, 1 error,\n"
"2 usage, or the script's shark.exit(n).\n";

void shark_cli__usage(FILE *f)
{
	fputs(usage_text, f);
}

void shark_cli__version(FILE *f)
{
	struct utsname u;

	fprintf(f, "shark %s\n", SHARK_VERSION);
	fprintf(f, "%s\n", LUAJIT_VERSION);
	fprintf(f, "libuv %s\n", uv_version_string());
	fprintf(f, "libbpf %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	if (uname(&u) == 0)
		fprintf(f, "kernel %s %s %s\n", u.sysname, u.release, u.machine);
}

int shark_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > 365.0 * 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The one check of every pid shark is given: -p, perf.on{pid}, getopt's -p, probes. */
int32_t shark_pid_valid(double v)
{
	return v >= 1 && v <= SHARK_PID_MAX && v == floor(v);
}

/* A decimal number from min to max, digits only (no sign, space or suffix). */
static int parse_range(const char *s, unsigned long long min, unsigned long long max,
		       unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int shark_parse_pid(const char *s, int *out)
{
	unsigned long long v;

	if (parse_range(s, 1, SHARK_PID_MAX, &v))
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_mb(const char *s, uint64_t *out)
{
	unsigned long long v;

	if (parse_range(s, 1, 1ull << 30, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_prio(const char *s, int *out)
{
	unsigned long long v;

	if (parse_range(s, 0, SHARK_RT_PRIO_MAX, &v))
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return SHARK_EXIT_USAGE;
}

static const struct {
	const char *name, *module;
} commands[] = {
	{ "test", "shark.cmd.test" },
	{ "bundle", "shark.cmd.bundle" },
	{ "agent", "shark.cmd.agent" },
	{ "serve", "shark.cmd.serve" },
	{ "stat", "shark.cmd.stat" },
	{ "record", "shark.cmd.record" },
	{ "report", "shark.cmd.report" },
	{ "replay", "shark.cmd.replay" },
	{ "top", "shark.cmd.top" },
};

int shark_cli__parse(int argc, char **argv, struct shark_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "mem-limit", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->rt_prio = -1;
	err[0] = '\0';
	optind = 1;
	opterr = 0;
	/* '+': options stop at the script name; what follows is the script's */
	while ((c = getopt_long(argc, argv, "+:e:d:o:p:c:r:vqlh", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->kind = SHARK_SCRIPT_CODE;
			o->script = optarg;
			break;
		case 'd':
			if (shark_parse_seconds(optarg, &o->duration))
				return fail(err, errlen, "-d wants a positive number of seconds, not '%s'", optarg);
			break;
		case 'o':
			if (!*optarg)
				return fail(err, errlen, "-o wants a file name");
			o->output = optarg;
			break;
		case 'p':
			if (shark_parse_pid(optarg, &o->pid))
				return fail(err, errlen, "-p wants a process id, not '%s'", optarg);
			break;
		case 'c':
			if (!*optarg || strspn(optarg, " \t\n") == strlen(optarg))
				return fail(err, errlen, "-c wants a command");
			o->command = optarg;
			break;
		case 'r':
			if (parse_prio(optarg, &o->rt_prio))
				return fail(err, errlen, "-r wants a real-time priority from 0 (none) to %d, not '%s'",
					    SHARK_RT_PRIO_MAX, optarg);
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'l':
			o->kind = SHARK_SCRIPT_MODULE;
			o->module = "shark.cmd.list";
			o->script = "-l";
			break;
		case 'h':
			o->help = 1;
			return 0;
		case 'V':
			o->version = 1;
			return 0;
		case 'M':
			if (parse_mb(optarg, &o->mem_limit))
				return fail(err, errlen, "--mem-limit wants a number of megabytes, not '%s'", optarg);
			break;
		case ':':
			return fail(err, errlen, "option -%c needs an argument", optopt);
		default:
			if (optopt)
				return fail(err, errlen, "unknown option -%c", optopt);
			return fail(err, errlen, "unknown option %s", argv[optind - 1]);
		}
	}
	if (!o->mem_limit && getenv("SHARK_MEM_LIMIT") && *getenv("SHARK_MEM_LIMIT") &&
	    parse_mb(getenv("SHARK_MEM_LIMIT"), &o->mem_limit))
		return fail(err, errlen, "SHARK_MEM_LIMIT wants a number of megabytes, not '%s'",
			    getenv("SHARK_MEM_LIMIT"));
	if (o->pid && o->command)
		return fail(err, errlen, "-p and -c cannot be used together");
	if (o->kind == SHARK_SCRIPT_NONE) {
		if (optind >= argc)
			return fail(err, errlen, "no script given");
		o->script = argv[optind++];
		o->kind = strcmp(o->script, "-") ? SHARK_SCRIPT_FILE : SHARK_SCRIPT_STDIN;
		/* built-in commands; a script of that name runs as ./name */
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (!strcmp(o->script, commands[i].name)) {
				o->kind = SHARK_SCRIPT_MODULE;
				o->module = commands[i].module;
			}
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}
