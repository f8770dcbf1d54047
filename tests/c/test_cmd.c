// SPDX-License-Identifier: GPL-2.0
/* test_cmd.c - turning -c strings into argv. */
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include "tap.h"
#include "shark.h"

static int count(char **argv)
{
	int n = 0;

	while (argv && argv[n])
		n++;
	return n;
}

/* shark_cmd__free(NULL) in a child: a crash shows as its exit status */
static int free_null_survives(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		shark_cmd__free(NULL);
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

void test_cmd(void)
{
	char **a;

	a = shark_cmd__argv("  /bin/sleep\t1  ");
	is_int(count(a), 2, "plain words split on blanks");
	is_str(a ? a[0] : NULL, "/bin/sleep", "program first");
	is_str(a ? a[1] : NULL, "1", "then its argument");
	shark_cmd__free(a);

	a = shark_cmd__argv("echo a | wc -l");
	is_int(count(a), 3, "a pipe runs under sh -c");
	is_str(a ? a[0] : NULL, "/bin/sh", "sh first");
	is_str(a ? a[2] : NULL, "echo a | wc -l", "command kept whole");
	shark_cmd__free(a);

	a = shark_cmd__argv("ls 'a b'");
	is_str(a ? a[0] : NULL, "/bin/sh", "quotes need the shell");
	is_str(a ? a[2] : NULL, "exec ls 'a b'", "one simple command is exec'd: the target pid is its own");
	shark_cmd__free(a);
	a = shark_cmd__argv("FOO=1 env");
	is_str(a ? a[0] : NULL, "/bin/sh", "assignments need the shell");
	is_str(a ? a[2] : NULL, "FOO=1 exec env", "exec after the assignments (they reach the command)");
	shark_cmd__free(a);
	a = shark_cmd__argv("A=1  B_2=x/y php -r 'f();'");
	is_str(a ? a[2] : NULL, "A=1  B_2=x/y exec php -r 'f();'", "exec after every assignment");
	shark_cmd__free(a);
	a = shark_cmd__argv("A='1 2' env");
	is_str(a ? a[2] : NULL, "A='1 2' env", "a quoted assignment: left to sh");
	shark_cmd__free(a);
	a = shark_cmd__argv("python3 -c 'import os\nos.getpid(); f(1) | 2' \"$(x)\"");
	is_str(a ? a[2] : NULL, "python3 -c 'import os\nos.getpid(); f(1) | 2' \"$(x)\"",
	       "$( ) in double quotes: not exec'd");
	shark_cmd__free(a);
	a = shark_cmd__argv("python3 -c 'import os\nos.getpid(); f(1) | 2' > \"out;x\"");
	is_str(a ? a[2] : NULL, "exec python3 -c 'import os\nos.getpid(); f(1) | 2' > \"out;x\"",
	       "operators inside quotes are words: exec'd");
	shark_cmd__free(a);
	a = shark_cmd__argv("dd if=/dev/zero of=/dev/null count=1");
	is_int(count(a), 4, "'=' inside arguments needs no shell");
	is_str(a ? a[0] : NULL, "dd", "the program itself");
	shark_cmd__free(a);
	a = shark_cmd__argv("exec dd if=/dev/zero count=1");
	is_str(a ? a[2] : NULL, "exec dd if=/dev/zero count=1", "a first word only sh knows: run by sh");
	shark_cmd__free(a);
	a = shark_cmd__argv("exit $X");
	is_str(a ? a[2] : NULL, "exit $X", "a shell builtin is not exec'd");
	shark_cmd__free(a);
	a = shark_cmd__argv("cd /tmp && ls");
	is_str(a ? a[2] : NULL, "cd /tmp && ls", "a list is not exec'd");
	shark_cmd__free(a);
	a = shark_cmd__argv("while true; do :; done");
	is_str(a ? a[2] : NULL, "while true; do :; done", "a compound command is not exec'd");
	shark_cmd__free(a);
	a = shark_cmd__argv("! grep 'x'");
	is_str(a ? a[2] : NULL, "! grep 'x'", "'!' is not exec'd");
	shark_cmd__free(a);

	ok(shark_cmd__argv("   ") == NULL, "blank command rejected");
	ok(shark_cmd__argv(NULL) == NULL, "NULL rejected");
	ok(free_null_survives(), "free(NULL) is safe (a child that calls it exits 0)");
}
