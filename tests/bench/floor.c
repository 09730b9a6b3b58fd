/*
 * floor.c: the floor for `make bench`, a bare C process.
 *
 * It links nothing but libc (dynamically, as every program here does),
 * writes one short line and exits: the least any credential helper could
 * cost to start, run and be reaped.  tests/bench/run compiles it with
 * `cc -O2` into bench/work/.
 */
#include <unistd.h>

int main(void)
{
	static const char line[] = "floor\n";

	return write(STDOUT_FILENO, line, sizeof(line) - 1) ==
		       (ssize_t)(sizeof(line) - 1)
		   ? 0
		   : 1;
}
