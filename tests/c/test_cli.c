// SPDX-License-Identifier: GPL-2.0
/* test_cli.c - command-line parsing. */
#include "tap.h"
#include "shark.h"

static int parse(struct shark_opts *o, char *err, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return shark_cli__parse(argc, argv, o, err, 256);
}

#define ARGV(...) ((char *[]){ "shark", __VA_ARGS__, NULL })

static void test_good(void)
{
	struct shark_opts o;
	char err[256];

	is_int(parse(&o, err, ARGV("x.lua", "-v", "a")), 0, "script with args parses");
	is_int(o.kind, SHARK_SCRIPT_FILE, "script kind is file");
	is_str(o.script, "x.lua", "script path kept");
	is_int(o.nargs, 2, "options after the script belong to the script");
	is_str(o.args[0], "-v", "first script arg");
	is_int(o.verbose, 0, "-v after the script is not shark's");

	is_int(parse(&o, err, ARGV("-vv", "-q", "-d", "1.5", "-o", "f", "-p", "42", "-e", "print(1)", "a")), 0,
	       "all options parse");
	is_int(o.verbose, 2, "-vv counts twice");
	is_int(o.quiet, 1, "-q");
	ok(o.duration == 1.5, "-d takes fractions");
	is_str(o.output, "f", "-o");
	is_int(o.pid, 42, "-p");
	is_int(o.kind, SHARK_SCRIPT_CODE, "-e sets code kind");
	is_str(o.script, "print(1)", "-e code kept");
	is_int(o.nargs, 1, "with -e the first operand is an argument");

	is_int(parse(&o, err, ARGV("-")), 0, "- parses");
	is_int(o.kind, SHARK_SCRIPT_STDIN, "- means stdin");
	is_int(parse(&o, err, ARGV("-c", "sleep 1", "s.lua")), 0, "-c parses");
	is_str(o.command, "sleep 1", "-c command kept");
	is_int(parse(&o, err, ARGV("--help")), 0, "--help parses");
	ok(o.help, "--help sets help");
	is_int(parse(&o, err, ARGV("-h")), 0, "-h parses");
	ok(o.help, "-h sets help");
	is_int(parse(&o, err, ARGV("--version")), 0, "--version parses");
	ok(o.version, "--version sets version");
}

static void test_bad(void)
{
	struct shark_opts o;
	char err[256];

	is_int(parse(&o, err, ARGV("-x", "s.lua")), SHARK_EXIT_USAGE, "unknown short option");
	is_str(err, "unknown option -x", "message names it");
	is_int(parse(&o, err, ARGV("--nope", "s.lua")), SHARK_EXIT_USAGE, "unknown long option");
	is_str(err, "unknown option --nope", "message names the long option");
	is_int(parse(&o, err, ARGV("-d")), SHARK_EXIT_USAGE, "-d without value");
	is_str(err, "option -d needs an argument", "missing argument message");
	is_int(parse(&o, err, ARGV("-d", "0", "s.lua")), SHARK_EXIT_USAGE, "-d 0 rejected");
	is_int(parse(&o, err, ARGV("-d", "-1", "s.lua")), SHARK_EXIT_USAGE, "-d negative rejected");
	is_int(parse(&o, err, ARGV("-d", "2x", "s.lua")), SHARK_EXIT_USAGE, "-d garbage rejected");
	is_int(parse(&o, err, ARGV("-p", "0", "s.lua")), SHARK_EXIT_USAGE, "-p 0 rejected");
	is_int(parse(&o, err, ARGV("-p", "abc", "s.lua")), SHARK_EXIT_USAGE, "-p text rejected");
	is_str(err, "-p wants a process id, not 'abc'", "-p message");
	is_int(parse(&o, err, ARGV("-p", "-5", "s.lua")), SHARK_EXIT_USAGE, "-p -5 rejected");
	is_int(parse(&o, err, ARGV("-p", "1.5", "s.lua")), SHARK_EXIT_USAGE, "-p 1.5 rejected");
	is_int(parse(&o, err, ARGV("-p", "4294967297", "s.lua")), SHARK_EXIT_USAGE, "-p 2^32+1 rejected");
	is_int(parse(&o, err, ARGV("-p", "4194305", "s.lua")), SHARK_EXIT_USAGE, "-p above PID_MAX_LIMIT rejected");
	is_int(parse(&o, err, ARGV("-p", "+7", "s.lua")), SHARK_EXIT_USAGE, "-p +7 rejected");
	is_int(parse(&o, err, ARGV("--mem-limit", "0", "s.lua")), SHARK_EXIT_USAGE, "--mem-limit 0 rejected");
	is_int(parse(&o, err, ARGV("--mem-limit", "64", "s.lua")), 0, "--mem-limit 64");
	is_int((int)o.mem_limit, 64, "--mem-limit in MB");
	is_int(parse(&o, err, ARGV("s.lua")), 0, "no -r");
	is_int(o.rt_prio, -1, "no -r: the default applies (-1)");
	is_int(parse(&o, err, ARGV("-r", "0", "s.lua")), 0, "-r 0");
	is_int(o.rt_prio, 0, "-r 0: normal scheduling");
	is_int(parse(&o, err, ARGV("-r", "99", "s.lua")), 0, "-r 99");
	is_int(o.rt_prio, 99, "-r 99: the highest real-time priority");
	is_int(parse(&o, err, ARGV("-r", "100", "s.lua")), SHARK_EXIT_USAGE, "-r 100 rejected");
	is_str(err, "-r wants a real-time priority from 0 (none) to 99, not '100'", "-r 100 message");
	is_int(parse(&o, err, ARGV("-r", "-1", "s.lua")), SHARK_EXIT_USAGE, "-r -1 rejected");
	is_int(parse(&o, err, ARGV("-r", "1x", "s.lua")), SHARK_EXIT_USAGE, "-r 1x rejected");
	is_int(parse(&o, err, ARGV("-c", "  ", "s.lua")), SHARK_EXIT_USAGE, "-c blank rejected");
	is_int(parse(&o, err, ARGV("-p", "1", "-c", "ls", "s.lua")), SHARK_EXIT_USAGE, "-p with -c rejected");
	is_int(parse(&o, err, ARGV("-o", "", "s.lua")), SHARK_EXIT_USAGE, "-o empty rejected");
	is_int(parse(&o, err, ARGV("-v")), SHARK_EXIT_USAGE, "no script");
	is_str(err, "no script given", "no script message");
}

static void test_numbers(void)
{
	double d;
	int pid;

	is_int(shark_parse_seconds("0.25", &d), 0, "0.25 s parses");
	ok(d == 0.25, "0.25 s value");
	ok(shark_parse_seconds("inf", &d) != 0, "inf rejected");
	ok(shark_parse_seconds("nan", &d) != 0, "nan rejected");
	ok(shark_parse_seconds("", &d) != 0, "empty rejected");
	is_int(shark_parse_pid("123", &pid), 0, "pid parses");
	is_int(pid, 123, "pid value");
	ok(shark_parse_pid("99999999999", &pid) != 0, "huge pid rejected");
	ok(shark_parse_pid("12a", &pid) != 0, "pid with garbage rejected");
}

void test_cli(void)
{
	test_good();
	test_bad();
	test_numbers();
}
