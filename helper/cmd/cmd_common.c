#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/base/json_strict.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"
#include "protocol/out.h"

/* Does the long option named at the start of arg ("name[=value]") have val? */
static int long_named(const struct option *lo, const char *arg, int val)
{
	size_t n = strcspn(arg, "=");

	for (; lo->name; lo++)
		if (lo->val == val && strlen(lo->name) == n &&
		    !strncmp(lo->name, arg, n))
			return 1;
	return 0;
}

/*
 * The option getopt_long just refused (c '?': unknown, or given a value
 * it takes none of; ':' a missing value), said our way.  The offending
 * element is argv[optind - 1], unless a short option inside a cluster
 * ("-xv") was refused: then optopt alone names it.
 */
static void opt_error(int c, char **argv, const struct option *lo,
		      const char *verb)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	int is_long =
	    !strncmp(arg, "--", 2) &&
	    (optopt == 0 || optopt >= 256 || long_named(lo, arg + 2, optopt));
	char name[80];

	if (is_long)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="),
			 arg);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	if (c == ':')
		error("%s: option '%s' needs a value; see 'astro-cred %s "
		      "--help'",
		      verb, name, verb);
	else if (is_long && optopt)
		error("%s: option '%s' takes no value; see 'astro-cred %s "
		      "--help'",
		      verb, name, verb);
	else
		error("%s: unrecognized option '%s'; see 'astro-cred %s "
		      "--help'",
		      verb, name, verb);
}

int cmd_getopt(int argc, char **argv, const char *shorts,
	       const struct option *lo, const char *verb)
{
	char s[64];
	int c;

	/* A leading ':' makes a missing value ':'; keep a leading '+'. */
	snprintf(s, sizeof(s), "%s:%s", *shorts == '+' ? "+" : "",
		 shorts + (*shorts == '+'));
	opterr = 0;
	c = getopt_long(argc, argv, s, lo, NULL);
	if (c == '?' || c == ':') {
		opt_error(c, argv, lo, verb);
		return '?';
	}
	return c;
}

/* getopt_long's value for opts[i]: its letter, or a code above them. */
static int opt_code(const struct cmd_opt *opts, size_t i)
{
	return opts[i].short_name ? opts[i].short_name : 256 + (int)i;
}

static enum status take_opt(const struct cmd_opt *opts, size_t n, int c)
{
	if (c == 'v') {
		log_set_verbose(1);
		return ST_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (opt_code(opts, i) != c)
			continue;
		if (opts[i].value)
			*opts[i].value = optarg;
		else
			*opts[i].flag = 1;
		return ST_OK;
	}
	return ST_USAGE; /* cmd_getopt said why */
}

enum status cmd_parse_opts(int argc, char **argv, const char *verb,
			   const struct cmd_opt *opts)
{
	size_t n = 0, s = 0;
	struct option *lo;
	char *shorts;
	enum status st = ST_OK;
	int c;

	while (opts[n].name)
		n++;
	/* opts, then --verbose and the terminating zero entry. */
	lo = xcalloc(n + 2, sizeof(*lo));
	shorts = xcalloc(2 * n + 2, 1);
	for (size_t i = 0; i < n; i++) {
		lo[i] = (struct option){opts[i].name,
					opts[i].value ? required_argument
						      : no_argument,
					NULL, opt_code(opts, i)};
		if (opts[i].short_name) {
			shorts[s++] = (char)opts[i].short_name;
			if (opts[i].value)
				shorts[s++] = ':';
		}
	}
	lo[n] = (struct option){"verbose", no_argument, NULL, 'v'};
	shorts[s] = 'v';
	while (st == ST_OK &&
	       (c = cmd_getopt(argc, argv, shorts, lo, verb)) != -1)
		st = take_opt(opts, n, c);
	if (st == ST_OK && optind != argc)
		st = fail(ST_USAGE, "unexpected argument '%s'", argv[optind]);
	free(lo);
	free(shorts);
	return st;
}

enum status cmd_read_request(struct kv *kv)
{
	if (isatty(STDIN_FILENO))
		return ST_OK;
	return kv_read_fd(STDIN_FILENO, kv);
}

const char *cmd_profile(const char *opt, const struct kv *kv)
{
	const char *p = opt ? opt : kv_get(kv, "profile");

	return resolve_profile(p);
}

enum status cmd_min_ttl(const char *opt, const struct kv *kv, int64_t *out)
{
	const char *v = opt ? opt : kv_get(kv, "min_ttl");

	*out = 0;
	if (v && parse_duration(v, out) < 0)
		return fail(ST_USAGE, "min_ttl must be seconds or a number "
				      "with s, m, h or d");
	return ST_OK;
}

enum status cmd_format(const char *name, unsigned allowed, enum out_format *out)
{
	static const char *const names[] = {"kv", "json", "raw", "table"};

	for (unsigned i = 0; i < 4; i++)
		if (name && !strcmp(name, names[i]) && (allowed & (1u << i))) {
			*out = (enum out_format)i;
			return ST_OK;
		}
	return fail(ST_USAGE, "unknown --format '%s'", name ? name : "");
}

void cmd_not_found(enum status st, const char *profile)
{
	if (st == ST_NOTFOUND)
		error("no credential stored for profile '%s'", profile);
}

enum status cmd_write_stdout(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(ST_TRANSIENT, "cannot write to stdout: %s",
				    strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return ST_OK;
}

static int kv_record(FILE *f, const struct record *r)
{
	char exp[32];
	int bad = 0;

	bad |= kv_write(f, "profile", r->profile);
	bad |= kv_write(f, "token", r->token);
	bad |= kv_write(f, "token_id", r->token_id);
	bad |= kv_write(f, "scope", r->scope);
	bad |= kv_write(f, "organization", r->organization);
	if (r->workspace[0])
		bad |= kv_write(f, "workspace", r->workspace);
	if (r->deployment[0])
		bad |= kv_write(f, "deployment", r->deployment);
	if (r->expires_at) {
		format_time(r->expires_at, exp, sizeof(exp));
		bad |= kv_write(f, "expires_at", exp);
	}
	if (!bad)
		bad = kv_write_end(f);
	return bad ? -1 : 0;
}

static int json_record(FILE *f, const struct record *r)
{
	cJSON *o = cJSON_CreateObject();
	char exp[32], *s = NULL;
	int ret = -1;

	if (!o || !cJSON_AddStringToObject(o, "profile", r->profile) ||
	    !cJSON_AddStringToObject(o, "token", r->token) ||
	    !cJSON_AddStringToObject(o, "tokenId", r->token_id) ||
	    !cJSON_AddStringToObject(o, "scope", r->scope) ||
	    !cJSON_AddStringToObject(o, "organizationId", r->organization))
		goto out;
	if (r->workspace[0] &&
	    !cJSON_AddStringToObject(o, "workspaceId", r->workspace))
		goto out;
	if (r->deployment[0] &&
	    !cJSON_AddStringToObject(o, "deploymentId", r->deployment))
		goto out;
	format_time(r->expires_at, exp, sizeof(exp));
	if (r->expires_at && !cJSON_AddStringToObject(o, "expiresAt", exp))
		goto out;
	s = cJSON_PrintUnformatted(o);
	if (s && fputs(s, f) != EOF && fputc('\n', f) != EOF)
		ret = 0;
	/* cJSON's buffer held the token: its free hook wipes it. */
out:
	json_free_secret(s);
	cJSON_Delete(o);
	return ret;
}

enum status cmd_print_record(const struct record *r, enum out_format f)
{
	struct out o = OUT_INIT;
	FILE *m = out_open(&o);
	int bad;

	if (f == FMT_JSON)
		bad = json_record(m, r);
	else if (f == FMT_RAW)
		bad = fputs(r->token, m) == EOF ? -1 : 0;
	else
		bad = kv_record(m, r);
	if (bad) {
		out_discard(&o);
		return fail(ST_STORE, "refusing to print a malformed stored "
				      "value");
	}
	return out_commit(&o, STDOUT_FILENO);
}
