/*
 * env-emit: print what `astro-cred env` prints for a given value, through
 * the same code (shell_print, straight to stdout), for t0500's round trips.
 * The value comes from a file, never from argv.
 *
 *   env-emit [--unset] [--kind token|time] SHELL FILE
 *       FILE's whole content is the value of ASTRO_API_TOKEN (kind token,
 *       the default) or of ASTRO_API_TOKEN_EXPIRES_AT (kind time); the
 *       other variable gets a fixed valid value.  Exit status and stdout
 *       are env's: 0 and the statements, or 2 and nothing.
 *   env-emit --batch SHELL KIND VALUES OUT
 *       VALUES holds NUL-terminated values; for each, OUT gets a record
 *       "STATUS LENGTH\n" followed by LENGTH bytes of what shell_print
 *       wrote (to a memfd, exactly as it writes to stdout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "helper/base/secmem.h"
#include "protocol/out.h"
#include "protocol/shell.h"

#define FIXED_TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmaXhlZCJ9.c2ln"
#define FIXED_TIME  "2026-11-29T04:37:12Z"

static const char *const names[] = {"ASTRO_API_TOKEN",
				    "ASTRO_API_TOKEN_EXPIRES_AT"};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f) {
		perror(path);
		exit(2);
	}
	do {
		if (cap - n < 65536)
			buf = xrealloc(buf, cap = cap * 2 + 65536);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static enum status emit(int fd, enum shell sh, int time_kind, const char *v)
{
	struct shell_var vars[2] = {
	    {names[0], time_kind ? FIXED_TOKEN : v, SHELL_VALUE_TOKEN},
	    {names[1], time_kind ? v : FIXED_TIME, SHELL_VALUE_TIME},
	};

	return shell_print(fd, sh, vars, 2);
}

static int batch(enum shell sh, int time_kind, const char *in,
		 const char *outpath)
{
	size_t len, pos = 0;
	char *vals = slurp(in, &len), *buf = xmalloc(OUT_MAX);
	int mfd = memfd_create("env-emit", 0);
	FILE *out = fopen(outpath, "wb");

	if (mfd < 0 || !out) {
		perror("env-emit");
		return 2;
	}
	while (pos < len) {
		const char *v = vals + pos;
		enum status st;
		ssize_t n;

		pos += strlen(v) + 1;
		if (ftruncate(mfd, 0) < 0 || lseek(mfd, 0, SEEK_SET) < 0)
			return 2;
		st = emit(mfd, sh, time_kind, v);
		n = pread(mfd, buf, OUT_MAX, 0);
		if (n < 0)
			return 2;
		fprintf(out, "%d %zd\n", (int)st, n);
		fwrite(buf, 1, (size_t)n, out);
	}
	free(vals);
	free(buf);
	close(mfd);
	return fclose(out) ? 2 : 0;
}

static int usage(void)
{
	fputs("usage: env-emit [--unset] [--kind token|time] SHELL FILE\n"
	      "       env-emit --batch SHELL token|time VALUES OUT\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	int unset = 0, time_kind = 0, i = 1;
	enum shell sh;
	enum status st;
	size_t len;
	char *v;

	if (sodium_init() < 0)
		return 5;
	if (argc == 6 && !strcmp(argv[1], "--batch")) {
		if (shell_from_name(argv[2], &sh) != ST_OK)
			return 2;
		return batch(sh, !strcmp(argv[3], "time"), argv[4], argv[5]);
	}
	for (; i < argc - 2; i++) {
		if (!strcmp(argv[i], "--unset"))
			unset = 1;
		else if (!strcmp(argv[i], "--kind") && i + 1 < argc - 2)
			time_kind = !strcmp(argv[++i], "time");
		else
			return usage();
	}
	if (argc - i != 2)
		return usage();
	if (shell_from_name(argv[i], &sh) != ST_OK)
		return 2;
	if (unset)
		return (int)shell_print_unset(STDOUT_FILENO, sh, names, 2);
	v = slurp(argv[i + 1], &len);
	if (strlen(v) != len) {
		fputs(
		    "astro-cred: refusing to print ASTRO_API_TOKEN: its value "
		    "contains a NUL byte\n",
		    stderr);
		st = ST_USAGE;
	} else {
		st = emit(STDOUT_FILENO, sh, time_kind, v);
	}
	secmem_wipe(v, len);
	free(v);
	return (int)st;
}
