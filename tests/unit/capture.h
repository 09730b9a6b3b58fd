/*
 * capture.h: run code with stderr redirected to a temporary file, then
 * look at what it printed (for "never prints the token" assertions).
 *
 *   capture_begin();  ...code...  const char *err = capture_end();
 */
#ifndef ASTRO_CRED_CAPTURE_H
#define ASTRO_CRED_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char capture_buf[16384];
static int capture_saved = -1;
static FILE *capture_file;

static inline void capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	if (!capture_file)
		abort();
	capture_saved = dup(2);
	dup2(fileno(capture_file), 2);
}

static inline const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(capture_saved, 2);
	close(capture_saved);
	rewind(capture_file);
	n = fread(capture_buf, 1, sizeof(capture_buf) - 1, capture_file);
	capture_buf[n] = '\0';
	fclose(capture_file);
	return capture_buf;
}

#endif
