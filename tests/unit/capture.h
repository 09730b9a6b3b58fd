/*
 * capture.h: catch what a call prints on stderr, for tests that check the
 * "one message, never the value" rule.
 *
 *   capture_begin();  call();  capture_end(buf, sizeof(buf));
 *   ok(one_line(buf) && !strstr(buf, "SECRET"), ...);
 */
#ifndef ASTRO_CRED_TEST_CAPTURE_H
#define ASTRO_CRED_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int capture_saved = -1;
static FILE *capture_file;

static inline void capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	if (!capture_file)
		abort();
	capture_saved = dup(STDERR_FILENO);
	dup2(fileno(capture_file), STDERR_FILENO);
}

/* Restore stderr; buf gets what was printed (NUL-terminated, capped). */
static inline size_t capture_end(char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(capture_saved, STDERR_FILENO);
	close(capture_saved);
	rewind(capture_file);
	n = fread(buf, 1, len - 1, capture_file);
	buf[n] = '\0';
	fclose(capture_file);
	return n;
}

/* 1 if s is exactly one non-empty line ending in LF. */
static inline int one_line(const char *s)
{
	const char *lf = strchr(s, '\n');

	return *s && lf && lf[1] == '\0';
}

/* capture_end() into a static buffer, for tests that want a string. */
static inline const char *capture_text(void)
{
	static char buf[16384];

	capture_end(buf, sizeof(buf));
	return buf;
}

#endif
