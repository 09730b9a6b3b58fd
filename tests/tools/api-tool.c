/*
 * api-tool: a thin command line over the API client, for shell tests.
 *
 *   api-tool [--rss] get ORG ID
 *   api-tool [--rss] rotate ORG ID
 *   api-tool [--rss] create ORG --scope S --name N --role R [--entity E]
 *                    [--kind K] [--description D] [--expiry-days N]
 *   api-tool [--rss] delete ORG ID
 *   api-tool [--rss] list ORG [--workspace W] [--deployment D] [--org-only]
 *                    [--kind K] [--page-size N]
 *   api-tool agent-get ORG DEP ID | agent-delete ORG DEP ID
 *   api-tool agent-create ORG DEP --name N [--description D] [--expiry-days N]
 *   api-tool agent-list ORG DEP [--page-size N]
 *   api-tool claims              (JWT claims of the token on stdin)
 *
 * The bearer token is the first line of stdin, never an argument.  Results
 * are key=value lines on stdout (a token's secret as token=, for the tests
 * to use); on failure the api_error fields.  The exit status is the enum
 * status.  --rss adds maxrss_kb= (peak resident memory) at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "helper/api/api.h"
#include "helper/base/json_strict.h"
#include "helper/base/jwt.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

struct opts {
	struct api_create create;
	struct api_list_filter filter;
	const char *pos[3];
	int npos;
};

static char *read_bearer(void)
{
	char *buf = secmem_alloc(JWT_TOKEN_MAX + 3);
	size_t n;

	if (!fgets(buf, JWT_TOKEN_MAX + 3, stdin)) {
		buf[0] = '\0';
		return buf;
	}
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--org-only")) {
			o->filter.org_only = 1;
			continue;
		}
		if (a[0] != '-' || a[1] != '-') {
			if (o->npos >= 3)
				return error("too many arguments");
			o->pos[o->npos++] = a;
			continue;
		}
		if (!v)
			return error("%s needs a value", a);
		i++;
		if (!strcmp(a, "--scope"))
			o->create.scope = v;
		else if (!strcmp(a, "--name"))
			o->create.name = v;
		else if (!strcmp(a, "--role"))
			o->create.role = v;
		else if (!strcmp(a, "--entity"))
			o->create.entity_id = v;
		else if (!strcmp(a, "--description"))
			o->create.description = v;
		else if (!strcmp(a, "--kind"))
			o->create.kind = o->filter.kind = v;
		else if (!strcmp(a, "--expiry-days"))
			o->create.expiry_days = (int)strtol(v, NULL, 10);
		else if (!strcmp(a, "--workspace"))
			o->filter.workspace_id = v;
		else if (!strcmp(a, "--deployment"))
			o->filter.deployment_id = v;
		else if (!strcmp(a, "--page-size"))
			o->filter.page_size = (unsigned)strtoul(v, NULL, 10);
		else
			return error("unknown option %s", a);
	}
	return 0;
}

static void put_time(const char *key, int64_t t)
{
	char buf[JSON_TIME_LEN];

	if (t && json_time_format(t, buf, sizeof(buf)) == 0)
		printf("%s=%s\n", key, buf);
}

static void put_str(const char *key, const char *s)
{
	char clean[1024];

	if (!s)
		return;
	log_sanitize(clean, sizeof(clean), s);
	printf("%s=%s\n", key, clean);
}

static void print_token(const struct api_token *t)
{
	put_str("id", t->id);
	put_str("name", t->name);
	put_str("description", t->description);
	put_str("short_token", t->short_token);
	put_str("scope", t->scope);
	put_str("kind", t->kind);
	put_str("created_by", t->created_by);
	put_time("start_at", t->start_at);
	put_time("end_at", t->end_at);
	put_time("created_at", t->created_at);
	put_time("updated_at", t->updated_at);
	put_time("last_used_at", t->last_used_at);
	put_time("last_rotated_at", t->last_rotated_at);
	if (t->expiry_days)
		printf("expiry_days=%d\n", t->expiry_days);
	for (size_t i = 0; i < t->nroles; i++) {
		const struct api_role *r = &t->roles[i];

		printf("role=%s:%s:%s%s%s\n", r->entity_type, r->entity_id,
		       r->role, r->deployment_id ? ":" : "",
		       r->deployment_id ? r->deployment_id : "");
	}
	if (t->agent)
		put_str("agent_deployment", t->deployment_id);
	if (t->token)
		printf("token=%s\n", t->token);
}

static void print_list(const struct api_token_list *l)
{
	printf("count=%zu\n", l->n);
	for (size_t i = 0; i < l->n; i++)
		printf("id=%s scope=%s\n", l->v[i].id, l->v[i].scope);
}

static void print_error(enum status st, const struct api_error *e)
{
	printf("status=%d\n", (int)st);
	printf("http_status=%ld\n", e->http_status);
	printf("maybe_committed=%d\n", e->maybe_committed);
	put_str("message", e->message);
	put_str("request_id", e->request_id);
}

/* What one command needs: the context, the bearer and its outputs. */
struct call {
	struct api_ctx *ctx;
	const char *bearer;
	const struct opts *o;
	struct api_token t;
	struct api_token_list l;
	struct api_error err;
};

static enum status c_get(struct call *c)
{
	return api_token_get(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
			     &c->t, &c->err);
}

static enum status c_rotate(struct call *c)
{
	return api_token_rotate(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
				&c->t, &c->err);
}

static enum status c_create(struct call *c)
{
	return api_token_create(c->ctx, c->bearer, c->o->pos[0], &c->o->create,
				&c->t, &c->err);
}

static enum status c_delete(struct call *c)
{
	return api_token_delete(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
				&c->err);
}

static enum status c_list(struct call *c)
{
	return api_token_list(c->ctx, c->bearer, c->o->pos[0], &c->o->filter,
			      &c->l, &c->err);
}

static enum status c_agent_get(struct call *c)
{
	return api_agent_get(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
			     c->o->pos[2], &c->t, &c->err);
}

static enum status c_agent_create(struct call *c)
{
	return api_agent_create(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
				&c->o->create, &c->t, &c->err);
}

static enum status c_agent_delete(struct call *c)
{
	return api_agent_delete(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
				c->o->pos[2], &c->err);
}

static enum status c_agent_list(struct call *c)
{
	return api_agent_list(c->ctx, c->bearer, c->o->pos[0], c->o->pos[1],
			      &c->o->filter, &c->l, &c->err);
}

enum out_kind { OUT_TOKEN, OUT_LIST, OUT_DELETE };

static const struct command {
	const char *name;
	int npos;
	enum out_kind out;
	enum status (*fn)(struct call *c);
} commands[] = {
    {"get", 2, OUT_TOKEN, c_get},
    {"rotate", 2, OUT_TOKEN, c_rotate},
    {"create", 1, OUT_TOKEN, c_create},
    {"delete", 2, OUT_DELETE, c_delete},
    {"list", 1, OUT_LIST, c_list},
    {"agent-get", 3, OUT_TOKEN, c_agent_get},
    {"agent-create", 2, OUT_TOKEN, c_agent_create},
    {"agent-delete", 3, OUT_DELETE, c_agent_delete},
    {"agent-list", 2, OUT_LIST, c_agent_list},
};

static enum status run(const char *cmd, const struct opts *o,
		       const char *bearer, struct api_ctx *ctx)
{
	const struct command *k = NULL;
	struct call c;
	enum status st;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			k = &commands[i];
	if (!k)
		return fail(ST_USAGE, "unknown command %s", cmd);
	if (o->npos != k->npos)
		return fail(ST_USAGE, "%s takes %d arguments", cmd, k->npos);
	memset(&c, 0, sizeof(c));
	c.ctx = ctx, c.bearer = bearer, c.o = o;
	st = k->fn(&c);
	if (st != ST_OK)
		print_error(st, &c.err);
	else if (k->out == OUT_LIST)
		print_list(&c.l);
	else if (k->out == OUT_DELETE)
		printf("deleted=1\nhttp_status=%ld\n", c.err.http_status);
	else
		print_token(&c.t);
	api_token_clear(&c.t);
	api_token_list_clear(&c.l);
	return st;
}

static enum status claims(const char *token)
{
	struct jwt_claims c;
	enum status st = jwt_claims(token, &c);

	if (st != ST_OK)
		return st;
	put_str("token_id", c.token_id);
	put_str("org_id", c.org_id);
	put_str("organization_id", c.organization_id);
	put_str("workspace_id", c.workspace_id);
	put_str("deployment_id", c.deployment_id);
	printf("iat=%lld\nexp=%lld\nhas_exp=%d\n", (long long)c.iat,
	       (long long)c.exp, c.has_exp);
	return ST_OK;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct api_ctx *ctx = NULL;
	char *bearer = NULL;
	enum status st = ST_USAGE;
	int rss = 0;

	if (sodium_init() < 0)
		return ST_TRANSIENT;
	secmem_json_hooks();
	memset(&o, 0, sizeof(o));
	argv++, argc--;
	if (argc && !strcmp(argv[0], "--rss"))
		rss = 1, argv++, argc--;
	if (argc < 1) {
		error("usage: api-tool [--rss] COMMAND ARGS (token on stdin)");
		return ST_USAGE;
	}
	if (parse_opts(argc - 1, argv + 1, &o) < 0)
		goto out;
	bearer = read_bearer();
	if (!strcmp(argv[0], "claims")) {
		st = claims(bearer);
		goto out;
	}
	if ((st = api_ctx_new(&ctx)) != ST_OK)
		goto out;
	st = run(argv[0], &o, bearer, ctx);
out:
	api_ctx_free(ctx);
	secmem_free(bearer);
	if (rss) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("maxrss_kb=%ld\n", ru.ru_maxrss);
	}
	fflush(stdout);
	return (int)st;
}
