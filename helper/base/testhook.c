#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "helper/base/testhook.h"

void test_crash_point(const char *name)
{
	const char *want = getenv("ASTRO_CRED_TEST_CRASH");

	if (want && !strcmp(want, name))
		raise(SIGKILL);
}
