// SPDX-License-Identifier: GPL-2.0
/*
 * jitmap.c - behave like a JIT: copy a spinning function into anonymous
 * executable memory, describe it in /tmp/perf-PID.map as "jitted_spin", and
 * run it for MS milliseconds (SIGALRM ends the process).
 * usage: jitmap MS [nomap]
 * nomap: write no map, print the code's address instead (for tests where
 * another user plants a map for this process).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

static const unsigned char spin[] = { 0xeb, 0xfe };	/* x86: jmp . */

static char map_path[64];

static void done(int sig)
{
	(void)sig;
	if (map_path[0])
		unlink(map_path);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	long ms = argc > 1 ? atol(argv[1]) : 300;
	void (*fn)(void);
	unsigned char *code;
	FILE *f;

	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	memcpy(code + 256, spin, sizeof(spin));
	if (argc > 2 && !strcmp(argv[2], "nomap")) {
		printf("%lx\n", (unsigned long)(code + 240));
		fflush(stdout);
	} else {
		snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", (int)getpid());
		f = fopen(map_path, "w");
		if (!f)
			return 1;
		fprintf(f, "%lx 40 jitted_spin\n", (unsigned long)(code + 240));
		fclose(f);
	}
	signal(SIGALRM, done);
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
	fn = (void (*)(void))(code + 256);
	fn();
	return 0;
}
