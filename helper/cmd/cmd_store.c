/* store, erase and create: a profile's birth and death. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/cmd/cmd.h"
#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"

enum {
	OPT_NO_VERIFY = 256,
	OPT_FROM,
	OPT_SCOPE,
	OPT_ENTITY,
	OPT_ROLE,
	OPT_EXPIRY,
	OPT_NAME,
	OPT_DESC
};

int cmd_store(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"profile", required_argument, NULL, 'p'},
	    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct store_req q = {.verify = 1};
	struct life L = LIFE_INIT;
	struct kv kv = KV_INIT;
	const char *popt = NULL;
	enum status st;
	int c;

	while ((c = cmd_getopt(argc, argv, "p:v", opts, "store")) != -1) {
		if (c == 'p')
			popt = optarg;
		else if (c == 'v')
			log_set_verbose(1);
		else if (c == OPT_NO_VERIFY)
			q.verify = 0;
		else
			return ST_USAGE;
	}
	if (optind != argc)
		return fail(ST_USAGE, "the token is read from stdin, never "
				      "from the command line");
	if ((st = cmd_read_request(&kv)) != ST_OK)
		goto out;
	st = ST_USAGE;
	if (!(q.profile = cmd_profile(popt, &kv)))
		goto out;
	q.token = kv_get(&kv, "token");
	q.parent = kv_get(&kv, "parent");
	q.rotate = kv_get(&kv, "rotate");
	q.rotate_before = kv_get(&kv, "rotate_before");
	if ((st = life_open(&L)) == ST_OK)
		st = life_store(&L, &q);
out:
	life_close(&L);
	kv_clear(&kv);
	return st;
}

int cmd_erase(int argc, char **argv)
{
	struct life L = LIFE_INIT;
	struct kv kv = KV_INIT;
	const char *popt = NULL, *profile;
	int revoke = 0;
	const struct cmd_opt opts[] = {
	    {"profile", 'p', &popt, NULL},
	    {"revoke", 0, NULL, &revoke},
	    {NULL, 0, NULL, NULL},
	};
	enum status st;

	if ((st = cmd_parse_opts(argc, argv, "erase", opts)) != ST_OK)
		return st;
	if ((st = cmd_read_request(&kv)) != ST_OK)
		goto out;
	st = ST_USAGE;
	if (!(profile = cmd_profile(popt, &kv)))
		goto out;
	if ((st = life_open(&L)) == ST_OK)
		st = life_erase(&L, profile, revoke);
	cmd_not_found(st, profile);
out:
	life_close(&L);
	kv_clear(&kv);
	return st;
}

static enum status parse_create(int argc, char **argv, struct create_req *q)
{
	static const struct option opts[] = {
	    {"profile", required_argument, NULL, 'p'},
	    {"from", required_argument, NULL, OPT_FROM},
	    {"scope", required_argument, NULL, OPT_SCOPE},
	    {"entity", required_argument, NULL, OPT_ENTITY},
	    {"role", required_argument, NULL, OPT_ROLE},
	    {"expiry-days", required_argument, NULL, OPT_EXPIRY},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"description", required_argument, NULL, OPT_DESC},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int64_t days;
	int c;

	while ((c = cmd_getopt(argc, argv, "p:v", opts, "create")) != -1) {
		switch (c) {
		case 'p':
			q->profile = optarg;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		case OPT_FROM:
			q->from = optarg;
			break;
		case OPT_SCOPE:
			q->scope = optarg;
			break;
		case OPT_ENTITY:
			q->entity = optarg;
			break;
		case OPT_ROLE:
			q->role = optarg;
			break;
		case OPT_NAME:
			q->name = optarg;
			break;
		case OPT_DESC:
			q->desc = optarg;
			break;
		case OPT_EXPIRY:
			if (parse_duration(optarg, &days) < 0 ||
			    strspn(optarg, "0123456789") != strlen(optarg) ||
			    days < 1 || days > 3650)
				return fail(ST_USAGE, "--expiry-days must be "
						      "1 to 3650");
			q->expiry_days = (int)days;
			break;
		default:
			return ST_USAGE;
		}
	}
	if (optind != argc)
		return fail(ST_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!q->profile || !q->from || !q->scope)
		return fail(ST_USAGE, "create needs -p NEW, --from PROFILE "
				      "and --scope");
	if (!resolve_profile(q->profile) || !resolve_profile(q->from))
		return ST_USAGE;
	if ((q->name && (!*q->name || strlen(q->name) > 256)) ||
	    (q->desc && strlen(q->desc) > 500))
		return fail(ST_USAGE, "--name must be 1 to 256 characters and "
				      "--description at most 500");
	return ST_OK;
}

int cmd_create(int argc, char **argv)
{
	struct create_req q;
	struct life L = LIFE_INIT;
	enum status st;

	memset(&q, 0, sizeof(q));
	if ((st = parse_create(argc, argv, &q)) != ST_OK)
		return st;
	if ((st = life_open(&L)) == ST_OK &&
	    (st = life_create(&L, &q)) == ST_OK)
		fprintf(stderr, "astro-cred: created profile '%s'\n",
			q.profile);
	cmd_not_found(st, q.from);
	life_close(&L);
	return st;
}
