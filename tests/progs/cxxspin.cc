// SPDX-License-Identifier: GPL-2.0
// cxxspin.cc - spin MS milliseconds in a C++ function with a mangled name,
// shark::demo::Spinner::spin(int), for the demangler. usage: cxxspin MS
#include <cstdlib>
#include <ctime>

namespace shark {
namespace demo {
struct Spinner {
	__attribute__((noinline)) double spin(int ms);
};

double Spinner::spin(int ms)
{
	timespec t0, t;
	volatile double x = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 10000; i++)
			x += i * 0.5;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	return x;
}
} // namespace demo
} // namespace shark

int main(int argc, char **argv)
{
	shark::demo::Spinner s;

	return s.spin(argc > 1 ? std::atoi(argv[1]) : 300) > 0 ? 0 : 1;
}
