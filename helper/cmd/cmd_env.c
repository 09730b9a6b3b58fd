/*
 * env: print statements that set ASTRO_API_TOKEN (and its expiry) for
 * eval "$(astro-cred env)".  The shell emitter checks every value against
 * a strict alphabet before quoting it, and the output is assembled in
 * secret memory and written in one go: on any error stdout is empty.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper/cmd/cmd.h"
#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"
#include "protocol/shell.h"

static const char *const env_names[] = {"ASTRO_API_TOKEN",
					"ASTRO_API_TOKEN_EXPIRES_AT"};

struct env_args {
	const char *profile, *shell, *min_ttl;
	int unset, force;
};

static enum status parse_env(int argc, char **argv, struct env_args *a)
{
	/* clang-format off */
	const struct cmd_opt opts[] = {
	    {"profile", 'p', &a->profile, NULL},
	    {"shell", 0, &a->shell, NULL},
	    {"unset", 0, NULL, &a->unset},
	    {"force", 0, NULL, &a->force},
	    {"min-ttl", 0, &a->min_ttl, NULL},
	    {NULL, 0, NULL, NULL},
	};
	/* clang-format on */

	return cmd_parse_opts(argc, argv, "env", opts);
}

static enum status print_token(const struct env_args *a, enum shell sh)
{
	struct life L = LIFE_INIT;
	struct shell_var vars[2];
	struct record r;
	const char *profile = resolve_profile(a->profile);
	int64_t min_ttl = 0;
	char exp[32];
	enum status st;

	if (!profile)
		return ST_USAGE;
	if (a->min_ttl && parse_duration(a->min_ttl, &min_ttl) < 0)
		return fail(ST_USAGE, "--min-ttl must be a duration");
	record_init(&r);
	if ((st = life_open(&L)) != ST_OK ||
	    (st = life_get(&L, profile, min_ttl, 0, &r)) != ST_OK)
		goto out;
	vars[0] = (struct shell_var){env_names[0], r.token, SHELL_VALUE_TOKEN};
	format_time(r.expires_at, exp, sizeof(exp));
	vars[1] = (struct shell_var){env_names[1], exp, SHELL_VALUE_TIME};
	st = shell_print(STDOUT_FILENO, sh, vars, r.expires_at ? 2 : 1);
out:
	cmd_not_found(st, profile);
	record_clear(&r);
	life_close(&L);
	return st;
}

int cmd_env(int argc, char **argv)
{
	struct env_args a;
	enum shell sh;
	enum status st;

	memset(&a, 0, sizeof(a));
	if ((st = parse_env(argc, argv, &a)) != ST_OK)
		return st;
	if (a.shell)
		st = shell_from_name(a.shell, &sh);
	else
		sh = shell_from_env();
	if (st != ST_OK)
		return st;
	if (a.unset)
		return shell_print_unset(STDOUT_FILENO, sh, env_names, 2);
	if (isatty(STDOUT_FILENO) && !a.force) {
		const char *hint = shell_tty_hint(sh);

		return write(STDOUT_FILENO, hint, strlen(hint)) < 0
			   ? ST_TRANSIENT
			   : ST_OK;
	}
	return print_token(&a, sh);
}
