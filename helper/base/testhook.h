/*
 * testhook.h: named crash points for the crash-safety tests.  When
 * ASTRO_CRED_TEST_CRASH names a point, the process kills itself there with
 * SIGKILL, exactly as a power cut or an OOM kill would end it.  It can only
 * end our own process early, which any user can do anyway, so it stays in
 * release builds and the tests exercise the binary users run.
 */
#ifndef ASTRO_CRED_TESTHOOK_H
#define ASTRO_CRED_TESTHOOK_H

void test_crash_point(const char *name);

#endif
