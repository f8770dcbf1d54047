// SPDX-License-Identifier: GPL-2.0
/*
 * syscall_nr.c - make syscall number N (COUNT times, default once), with
 * arguments it must reject. usage: syscall_nr N [COUNT]
 */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	for (long i = 0, n = argc > 2 ? atol(argv[2]) : 1; i < n; i++)
		syscall(atol(argv[1]), -1L, -1L, -1L, -1L, -1L, -1L);
	return 0;
}
