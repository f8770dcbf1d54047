// SPDX-License-Identifier: GPL-2.0
/* syscall_nr.c - make syscall number N once, with arguments it must reject. usage: syscall_nr N */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	syscall(atol(argv[1]), -1L, -1L, -1L, -1L, -1L, -1L);
	return 0;
}
