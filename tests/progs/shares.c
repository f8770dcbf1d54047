// SPDX-License-Identifier: GPL-2.0
/*
 * shares.c - CPU split 1:2 by work, not by time: "shares N" runs N rounds,
 * each one unit of work in spin_one() and two units in spin_two(), both
 * called from main() (frame pointers), so a CPU profile of it holds
 * spin_one and spin_two at about a third and two thirds of the samples
 * however busy the machine is.
 */
#include <stdlib.h>

#define UNIT 2000000

/* each spins in its own body, so both are leaves (pprof's flat) */
__attribute__((noinline)) double spin_one(void)
{
	volatile double x = 0;

	for (long i = 0; i < UNIT; i++)
		x += i * 0.5;
	return x;
}

__attribute__((noinline)) double spin_two(void)
{
	volatile double x = 0;

	for (long i = 0; i < 2 * UNIT; i++)
		x += i * 0.5;
	return x;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 100;
	double r = 0;

	for (long i = 0; i < rounds; i++)
		r += spin_one() + spin_two();
	return r > 0 ? 0 : 1;
}
