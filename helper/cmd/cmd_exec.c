/*
 * exec: run a command with ASTRO_API_TOKEN (and its expiry) in its
 * environment, replacing this process: the command gets our stdin, and its
 * exit status and signals are its own.  Better than `env` in scripts: the
 * token reaches that one command and its children, not every later child
 * of the shell, and it is renewed right before the command starts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper/cmd/cmd.h"
#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

enum { OPT_MIN_TTL = 256 };

/*
 * Our secrets never reach the child.  The keys we held were wiped by
 * life_close() before our image is replaced (execve discards it unwiped,
 * and atexit handlers do not run).
 */
static void scrub_environment(void)
{
	unsetenv("ASTRO_CRED_PASSPHRASE");
}

/* exec failed: wipe the token in our environment (setenv's heap copy). */
static void wipe_token_env(void)
{
	char *t = getenv("ASTRO_API_TOKEN");

	if (t)
		secmem_wipe(t, strlen(t));
	unsetenv("ASTRO_API_TOKEN");
}

static enum status set_token_env(const struct record *r)
{
	char exp[32];

	if (setenv("ASTRO_API_TOKEN", r->token, 1) < 0)
		return fail(ST_TRANSIENT, "cannot set ASTRO_API_TOKEN");
	if (!r->expires_at) {
		unsetenv("ASTRO_API_TOKEN_EXPIRES_AT");
		return ST_OK;
	}
	format_time(r->expires_at, exp, sizeof(exp));
	if (setenv("ASTRO_API_TOKEN_EXPIRES_AT", exp, 1) < 0)
		return fail(ST_TRANSIENT, "cannot set the expiry variable");
	return ST_OK;
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"profile", required_argument, NULL, 'p'},
	    {"min-ttl", required_argument, NULL, OPT_MIN_TTL},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct life L = LIFE_INIT;
	struct record r;
	const char *popt = NULL, *profile;
	int64_t min_ttl = 0;
	enum status st;
	int c, e;

	while ((c = cmd_getopt(argc, argv, "+p:v", opts, "exec")) != -1) {
		if (c == 'p')
			popt = optarg;
		else if (c == 'v')
			log_set_verbose(1);
		else if (c == OPT_MIN_TTL &&
			 parse_duration(optarg, &min_ttl) == 0)
			;
		else if (c == OPT_MIN_TTL)
			return fail(ST_USAGE, "--min-ttl must be a duration");
		else
			return ST_USAGE;
	}
	if (optind >= argc)
		return fail(ST_USAGE, "exec needs a command: astro-cred exec "
				      "-- COMMAND [ARG...]");
	if (!(profile = resolve_profile(popt)))
		return ST_USAGE;
	record_init(&r);
	if ((st = life_open(&L)) == ST_OK &&
	    (st = life_get(&L, profile, min_ttl, 0, &r)) == ST_OK)
		st = set_token_env(&r);
	cmd_not_found(st, profile);
	record_clear(&r);
	life_close(&L);
	if (st != ST_OK)
		return st;
	scrub_environment();
	fflush(NULL);
	secmem_clear_registers();
	execvp(argv[optind], argv + optind);
	e = errno;
	wipe_token_env();
	error("cannot run '%s': %s", argv[optind], strerror(e));
	/* As env(1) and the shells: 127 not found, 126 found but failed. */
	return e == ENOENT ? 127 : 126;
}
