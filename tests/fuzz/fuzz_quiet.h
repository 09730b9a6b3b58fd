/*
 * fuzz_quiet.h: shared set-up for the protocol fuzz targets.  Library code
 * prints one message per refusal on stderr; millions of them would slow
 * the fuzzer, so the targets point the C library's `stderr` at /dev/null.
 * libFuzzer keeps the FILE * it captured at start-up, and sanitizer
 * reports write to fd 2 directly, so neither is silenced.
 */
#ifndef ASTRO_CRED_FUZZ_QUIET_H
#define ASTRO_CRED_FUZZ_QUIET_H

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "helper/base/secmem.h"

static void fuzz_setup(void)
{
	static int done;
	FILE *null;

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0)
		abort();
	secmem_json_hooks();
	null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
}

/* A property that must hold: crash loudly (libFuzzer saves the input). */
#define PROPERTY(cond)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			dprintf(2, "property failed: %s\n", #cond);            \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
