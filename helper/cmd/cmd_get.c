/* get, rotate and check: serve a token, renewing it first if needed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper/cmd/cmd.h"
#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"

struct get_args {
	const char *profile, *min_ttl, *format;
	int force;
};

static enum status parse_get(int argc, char **argv, const char *verb,
			     struct get_args *a)
{
	const struct cmd_opt opts[] = {
	    {"profile", 'p', &a->profile, NULL},
	    {"min-ttl", 0, &a->min_ttl, NULL},
	    {"format", 0, &a->format, NULL},
	    {"force", 0, NULL, &a->force},
	    {NULL, 0, NULL, NULL},
	};

	memset(a, 0, sizeof(*a));
	return cmd_parse_opts(argc, argv, verb, opts);
}

static const char tty_hint[] =
    "# astro-cred: not printing a token to a terminal.\n"
    "# Pipe it, or use: eval \"$(astro-cred env)\"  "
    "(--force prints it anyway)\n";

int cmd_get(int argc, char **argv)
{
	struct kv kv = KV_INIT;
	struct life L = LIFE_INIT;
	struct record r;
	struct get_args a;
	enum out_format fmt = FMT_KV;
	const char *profile = NULL;
	int64_t min_ttl;
	enum status st;

	record_init(&r);
	if ((st = parse_get(argc, argv, "get", &a)) != ST_OK ||
	    (a.format && (st = cmd_format(a.format, 7, &fmt)) != ST_OK) ||
	    (st = cmd_read_request(&kv)) != ST_OK)
		goto out;
	st = ST_USAGE;
	if (!(profile = cmd_profile(a.profile, &kv)) ||
	    (st = cmd_min_ttl(a.min_ttl, &kv, &min_ttl)) != ST_OK ||
	    (st = life_open(&L)) != ST_OK ||
	    (st = life_get(&L, profile, min_ttl, 0, &r)) != ST_OK)
		goto out;
	if (fmt == FMT_RAW && isatty(STDOUT_FILENO) && !a.force)
		st = cmd_write_stdout(tty_hint, sizeof(tty_hint) - 1);
	else
		st = cmd_print_record(&r, fmt);
out:
	cmd_not_found(st, profile);
	record_clear(&r);
	life_close(&L);
	kv_clear(&kv);
	return st;
}

/*
 * The options of rotate and check, which take only -p and (when min_ttl
 * is not NULL) --min-ttl; only is the message for the others.
 */
static enum status parse_narrow(int argc, char **argv, const char *verb,
				const char *only, const char **profile,
				int64_t *min_ttl)
{
	struct get_args a;
	enum status st;

	if ((st = parse_get(argc, argv, verb, &a)) != ST_OK)
		return st;
	if (a.format || a.force || (a.min_ttl && !min_ttl))
		return fail(ST_USAGE, "%s", only);
	if (!(*profile = resolve_profile(a.profile)))
		return ST_USAGE;
	if (a.min_ttl && parse_duration(a.min_ttl, min_ttl) < 0)
		return fail(ST_USAGE, "--min-ttl must be a duration");
	return ST_OK;
}

int cmd_rotate(int argc, char **argv)
{
	struct life L = LIFE_INIT;
	struct record r;
	const char *profile;
	enum status st;

	record_init(&r);
	if ((st = parse_narrow(argc, argv, "rotate",
			       "rotate takes only -p PROFILE", &profile,
			       NULL)) != ST_OK)
		return st;
	if ((st = life_open(&L)) == ST_OK &&
	    (st = life_get(&L, profile, 0, 1, &r)) == ST_OK)
		fprintf(stderr, "astro-cred: profile '%s' now holds token %s\n",
			profile, r.token_id);
	cmd_not_found(st, profile);
	record_clear(&r);
	life_close(&L);
	return st;
}

/*
 * check: 0 when valid for at least --min-ttl, 1 when no such profile, 4
 * when valid for less, expired or interrupted.  It never renews and never
 * uses the network: it answers "would a get need to do anything?".
 */
int cmd_check(int argc, char **argv)
{
	struct life L = LIFE_INIT;
	struct record r;
	const char *profile;
	int64_t min_ttl = 0, left;
	enum status st;

	record_init(&r);
	if ((st = parse_narrow(argc, argv, "check",
			       "check takes -p and --min-ttl only", &profile,
			       &min_ttl)) != ST_OK)
		return st;
	if ((st = life_open(&L)) != ST_OK ||
	    (st = life_read(&L, profile, &r)) != ST_OK)
		goto out;
	left = r.expires_at ? r.expires_at - now_seconds() : INT64_MAX;
	if (r.state == REC_INTERRUPTED)
		st = fail(ST_AUTH, "profile '%s': renewal was interrupted",
			  profile);
	else if (left < min_ttl || left <= 0)
		st = fail(ST_AUTH, "profile '%s': token %s %s", profile,
			  r.token_id,
			  left <= 0 ? "has expired" : "expires too soon");
out:
	cmd_not_found(st, profile);
	record_clear(&r);
	life_close(&L);
	return st;
}
