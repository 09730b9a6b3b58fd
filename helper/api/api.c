/*
 * api.c: the token operations of the Astro API on top of api_http.c (the
 * wire) and api_json.c (the mapping), and the api_ops table net.so
 * exports.  Ids are checked before they go into a path or a query, so no
 * escaping is ever needed and nothing can smuggle a '/', '?' or '#'.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "helper/api/api.h"
#include "helper/api/api_http.h"
#include "helper/api/api_json.h"
#include "helper/api/api_mem.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define URL_MAX	    2048
#define BASE_MAX    512
#define BETA_SUFFIX "/iam/v1beta1"
/* Under v1beta1, agent tokens belong to the platform API, not to IAM. */
#define BETA_AGENT_SUFFIX "/platform/v1beta1"

static int curl_users;

/* Parse a positive decimal number, all of s, within [min, max]. */
static int parse_ms(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Check the parts of an https URL with libcurl's own parser. */
static int base_parts_ok(const char *url, char **path)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL,
	     *frag = NULL;
	int ok = 0;

	if (!u)
		die_oom();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	curl_url_get(u, CURLUPART_PATH, path, 0);
	ok = scheme && !strcmp(scheme, "https") && host && *host && !user &&
	     !query && !frag && *path;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return ok;
}

/*
 * ASTRO_API_URL: https only (ST_USAGE otherwise, before any connection),
 * no credentials, query or fragment; any trailing '/' dropped.
 */
static enum status base_url(struct api_ctx *ctx)
{
	const char *env = getenv("ASTRO_API_URL");
	const char *url = env && *env ? env : API_DEFAULT_URL;
	size_t n = strlen(url);
	char *path = NULL;
	int ok;

	if (n >= BASE_MAX || strncasecmp(url, "https://", 8) || url[8] == '/' ||
	    strcspn(url, " \t\r\n\\") != n)
		return fail(ST_USAGE,
			    "ASTRO_API_URL must be an https:// URL "
			    "(of at most %d characters)",
			    BASE_MAX - 1);
	ok = base_parts_ok(url, &path);
	curl_free(path);
	if (!ok)
		return fail(ST_USAGE,
			    "ASTRO_API_URL must be an https:// URL "
			    "with a host and no user, query or fragment");
	while (n > 8 && url[n - 1] == '/')
		n--;
	ctx->base = xstrndup(url, n);
	ctx->beta = n >= strlen(BETA_SUFFIX) &&
		    !strcmp(ctx->base + n - strlen(BETA_SUFFIX), BETA_SUFFIX);
	return ST_OK;
}

static enum status ctx_env(struct api_ctx *ctx)
{
	const char *ca = getenv("ASTRO_CRED_CA_FILE");
	const char *ms = getenv("ASTRO_CRED_API_TIMEOUT_MS");
	enum status st;

	if ((st = base_url(ctx)) != ST_OK)
		return st;
	if (ca && *ca) {
		if (access(ca, R_OK) < 0)
			return fail(ST_USAGE, "ASTRO_CRED_CA_FILE '%s': %s", ca,
				    strerror(errno));
		ctx->ca_file = xstrdup(ca);
	}
	ctx->budget_ms = API_BUDGET_MS;
	if (ms && *ms && parse_ms(ms, 100, 600000, &ctx->budget_ms) < 0)
		return fail(ST_USAGE,
			    "ASTRO_CRED_API_TIMEOUT_MS must be a "
			    "number of milliseconds from 100 to 600000");
	return ST_OK;
}

/*
 * libcurl is initialized first, with the wiping allocator (api_mem.h):
 * that must come before any other libcurl call, and base_url() parses
 * with curl_url().
 */
enum status api_ctx_new(struct api_ctx **out)
{
	struct api_ctx *ctx = xcalloc(1, sizeof(*ctx));
	enum status st;

	*out = NULL;
	if (curl_users == 0 && api_mem_global_init() != CURLE_OK) {
		st = fail(ST_TRANSIENT, "cannot initialize libcurl");
		goto fail;
	}
	curl_users++;
	ctx->global = 1;
	if ((st = ctx_env(ctx)) != ST_OK)
		goto fail;
	ctx->curl = curl_easy_init();
	if (!ctx->curl) {
		st = fail(ST_TRANSIENT, "cannot initialize libcurl");
		goto fail;
	}
	ctx->deadline = http_now_ms() + ctx->budget_ms;
	*out = ctx;
	return ST_OK;
fail:
	api_ctx_free(ctx);
	return st;
}

/*
 * The cleanups free, and so wipe, libcurl's buffers and (closing the
 * connections) OpenSSL's before exit.
 */
void api_ctx_free(struct api_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->curl)
		curl_easy_cleanup(ctx->curl);
	if (ctx->global && --curl_users == 0)
		curl_global_cleanup();
	free(ctx->base);
	free(ctx->ca_file);
	free(ctx);
}

/*
 * The base URL of a call into buf: ctx->base, except that agent tokens
 * under .../iam/v1beta1 live under .../platform/v1beta1 (the deprecated
 * API split tokens, in IAM, from deployments and their agent tokens, in
 * the platform API).  Its length, or -1 if it does not fit.
 */
static int call_base(char *buf, size_t len, const struct api_ctx *ctx,
		     int agent)
{
	size_t n = strlen(ctx->base);
	int m;

	if (!(agent && ctx->beta))
		m = snprintf(buf, len, "%s", ctx->base);
	else
		m = snprintf(buf, len, "%.*s%s", (int)(n - strlen(BETA_SUFFIX)),
			     ctx->base, BETA_AGENT_SUFFIX);
	return m < 0 || (size_t)m >= len ? -1 : m;
}

/* The call's base + formatted path into buf; -1 if it does not fit. */
__attribute__((format(printf, 5, 6))) static int
make_url(char *buf, size_t len, const struct api_ctx *ctx, int agent,
	 const char *fmt, ...)
{
	va_list ap;
	int b = call_base(buf, len, ctx, agent);
	size_t n;
	int m;

	if (b < 0)
		return -1;
	n = (size_t)b;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= len - n ? -1 : 0;
}

static enum status check_ids(const char *what, const char *org, const char *dep,
			     const char *id)
{
	if (!api_id_ok(org))
		return fail(ST_USAGE,
			    "%s: the organization id must be 1 to "
			    "%d of [A-Za-z0-9_-]",
			    what, API_ID_MAX);
	if (dep && !api_id_ok(dep))
		return fail(ST_USAGE,
			    "%s: the deployment id must be 1 to "
			    "%d of [A-Za-z0-9_-]",
			    what, API_ID_MAX);
	if (id && !api_id_ok(id))
		return fail(ST_USAGE,
			    "%s: the token id must be 1 to %d of "
			    "[A-Za-z0-9_-]",
			    what, API_ID_MAX);
	return ST_OK;
}

/*
 * One call: the ids that make its path (dep: a deployment's agent tokens;
 * id: one token; suffix: what follows the id), checked by call_start
 * before they go into url.  dummy stands in for a NULL struct api_error *.
 */
struct call {
	const char *what; /* "get token": names the call in messages */
	const char *org, *dep, *id, *suffix;
	char url[URL_MAX];
	struct api_error dummy;
};

/* Check c's ids and make c->url; *err (&c->dummy if NULL) is cleared. */
static enum status call_start(struct api_ctx *ctx, struct call *c,
			      struct api_error **err)
{
	enum status st;

	if (!*err)
		*err = &c->dummy;
	memset(*err, 0, sizeof(**err));
	if ((st = check_ids(c->what, c->org, c->dep, c->id)) != ST_OK)
		return st;
	if (make_url(c->url, sizeof(c->url), ctx, c->dep != NULL,
		     "/organizations/%s%s%s%s%s%s%s", c->org,
		     c->dep ? "/deployments/" : "/tokens", c->dep ? c->dep : "",
		     c->dep ? "/agent-tokens" : "", c->id ? "/" : "",
		     c->id ? c->id : "", c->suffix ? c->suffix : "") < 0)
		return fail(ST_USAGE, "%s: URL too long", c->what);
	return ST_OK;
}

static void mark_agent(struct api_token *t, const char *dep)
{
	t->agent = 1;
	free(t->deployment_id);
	t->deployment_id = xstrdup(dep);
}

/*
 * One request whose answer is one token.  A malformed 2xx answer to a
 * mutating request may still mean the server acted: maybe_committed.
 */
static enum status one_token(struct api_ctx *ctx, const char *bearer,
			     const struct http_req *rq, int want_secret,
			     struct api_token *out, struct api_error *err)
{
	struct http_resp rs = HTTP_RESP_INIT;
	char what[96];
	struct api_json_opts o = {ctx->beta, want_secret, what};
	enum status st = http_request(ctx, bearer, rq, &rs, err);

	if (st != ST_OK)
		goto out;
	snprintf(what, sizeof(what), "%s: the Astro API's answer", rq->what);
	if (api_json_parse_token((const char *)rs.body.data, rs.body.len, &o,
				 out) < 0) {
		st = ST_TRANSIENT;
		err->maybe_committed = rq->mutating;
		if (rq->mutating)
			error("%s: so the outcome is unknown: the change may "
			      "have taken effect",
			      rq->what);
	}
out:
	http_resp_clear(&rs);
	return st;
}

/* GET one token, which must be the one asked for. */
static enum status get_one(struct api_ctx *ctx, const char *bearer,
			   struct call *c, struct api_token *out,
			   struct api_error *err)
{
	struct http_req rq = {c->what, "GET", c->url, NULL, 1, 0};
	enum status st;

	memset(out, 0, sizeof(*out));
	if ((st = call_start(ctx, c, &err)) != ST_OK)
		return st;
	st = one_token(ctx, bearer, &rq, 0, out, err);
	if (st == ST_OK && strcmp(out->id, c->id)) {
		api_token_clear(out);
		st = fail(ST_TRANSIENT,
			  "%s: the Astro API answered with "
			  "another token than the one asked for",
			  c->what);
	}
	if (st == ST_OK && c->dep)
		mark_agent(out, c->dep);
	return st;
}

/*
 * A POST whose answer is a new token with its secret: a create (req set,
 * checked after the ids) or a rotate (no body).
 */
static enum status post_one(struct api_ctx *ctx, const char *bearer,
			    struct call *c, const struct api_create *req,
			    struct api_token *out, struct api_error *err)
{
	struct http_req rq = {c->what, "POST", c->url, NULL, 0, 1};
	char *body = NULL;
	enum status st;

	memset(out, 0, sizeof(*out));
	if ((st = call_start(ctx, c, &err)) != ST_OK)
		return st;
	if (req && !(body = api_json_create_body(req, !!c->dep, ctx->beta)))
		return ST_USAGE;
	rq.body = body;
	st = one_token(ctx, bearer, &rq, 1, out, err);
	cJSON_free(body);
	if (st == ST_OK && c->dep)
		mark_agent(out, c->dep);
	return st;
}

static enum status delete_one(struct api_ctx *ctx, const char *bearer,
			      struct call *c, struct api_error *err)
{
	struct http_req rq = {c->what, "DELETE", c->url, NULL, 1, 1};
	struct http_resp rs = HTTP_RESP_INIT;
	enum status st;

	if ((st = call_start(ctx, c, &err)) != ST_OK)
		return st;
	st = http_request(ctx, bearer, &rq, &rs, err);
	http_resp_clear(&rs);
	return st;
}

/* The query of a /tokens list page (filters were checked). */
static int list_query(char *buf, size_t len, const struct api_list_filter *f,
		      int64_t offset, unsigned limit)
{
	int m = snprintf(
	    buf, len, "?offset=%lld&limit=%u%s%s%s%s%s%s%s", (long long)offset,
	    limit, f && f->workspace_id ? "&workspaceId=" : "",
	    f && f->workspace_id ? f->workspace_id : "",
	    f && f->deployment_id ? "&deploymentId=" : "",
	    f && f->deployment_id ? f->deployment_id : "",
	    f && f->org_only ? "&includeOnlyOrganizationTokens=true" : "",
	    f && f->kind ? "&kind=" : "", f && f->kind ? f->kind : "");

	return m < 0 || (size_t)m >= len ? -1 : 0;
}

static enum status check_filter(const char *what,
				const struct api_list_filter *f, int agent)
{
	if (!f)
		return ST_OK;
	if (f->page_size > 1000)
		return fail(ST_USAGE, "%s: page size must be 1 to 1000", what);
	if (agent &&
	    (f->workspace_id || f->deployment_id || f->kind || f->org_only))
		return fail(ST_USAGE, "%s: agent tokens take no filters", what);
	if ((f->workspace_id && !api_id_ok(f->workspace_id)) ||
	    (f->deployment_id && !api_id_ok(f->deployment_id)))
		return fail(ST_USAGE,
			    "%s: filter ids must be of "
			    "[A-Za-z0-9_-]",
			    what);
	if (f->kind && strcmp(f->kind, "STANDARD") &&
	    strcmp(f->kind, "DIRECT_ACCESS"))
		return fail(ST_USAGE,
			    "%s: kind must be STANDARD or "
			    "DIRECT_ACCESS",
			    what);
	return ST_OK;
}

static int id_cmp(const void *a, const void *b)
{
	const struct api_token *x = *(const struct api_token *const *)a;
	const struct api_token *y = *(const struct api_token *const *)b;
	int c = strcmp(x->id, y->id);

	/* Ties by position, so the first occurrence sorts first. */
	return c ? c : (x < y ? -1 : x > y);
}

/*
 * A token created or deleted while we page shifts the offsets, so a token
 * can show up on two pages: keep its first occurrence.
 */
static void drop_duplicates(struct api_token_list *l)
{
	struct api_token **p;
	unsigned char *dup;
	size_t i, o = 0;

	if (l->n < 2)
		return;
	p = xcalloc(l->n, sizeof(*p));
	dup = xcalloc(l->n, 1);
	for (i = 0; i < l->n; i++)
		p[i] = &l->v[i];
	qsort(p, l->n, sizeof(*p), id_cmp);
	for (i = 1; i < l->n; i++) {
		if (!strcmp(p[i - 1]->id, p[i]->id))
			dup[p[i] - l->v] = 1;
	}
	for (i = 0; i < l->n; i++) {
		if (dup[i])
			api_token_clear(&l->v[i]);
		else
			l->v[o++] = l->v[i];
	}
	l->n = o;
	free(p);
	free(dup);
}

static enum status fetch_page(struct api_ctx *ctx, const char *bearer,
			      const char *what, const char *url,
			      struct api_token_list *out, int64_t *total,
			      int64_t *offset, size_t *count,
			      struct api_error *err)
{
	struct http_req rq = {what, "GET", url, NULL, 1, 0};
	struct http_resp rs = HTTP_RESP_INIT;
	char w[96];
	struct api_json_opts o = {ctx->beta, 0, w};
	enum status st = http_request(ctx, bearer, &rq, &rs, err);

	snprintf(w, sizeof(w), "%s: the Astro API's answer", what);
	if (st == ST_OK &&
	    api_json_parse_page((const char *)rs.body.data, rs.body.len, &o,
				out, total, offset, count) < 0)
		st = ST_TRANSIENT;
	http_resp_clear(&rs);
	return st;
}

/* Every page of the list at c->url; filters already checked. */
static enum status list_pages(struct api_ctx *ctx, const char *bearer,
			      struct call *c, const struct api_list_filter *f,
			      struct api_token_list *out, struct api_error *err)
{
	unsigned limit = f && f->page_size ? f->page_size : API_PAGE_DEFAULT;
	int64_t offset = 0, total = 0, got_offset = 0;
	size_t n = strlen(c->url), count;
	enum status st;

	for (;;) {
		/* Each page's query replaces the last one's. */
		if (list_query(c->url + n, sizeof(c->url) - n, f, offset,
			       limit) < 0)
			return fail(ST_USAGE, "%s: URL too long", c->what);
		st = fetch_page(ctx, bearer, c->what, c->url, out, &total,
				&got_offset, &count, err);
		if (st != ST_OK)
			return st;
		if (got_offset != offset)
			return fail(ST_TRANSIENT,
				    "%s: the Astro API answered "
				    "page offset %lld for %lld",
				    c->what, (long long)got_offset,
				    (long long)offset);
		offset += (int64_t)count;
		if (count == 0 || offset >= total)
			break;
	}
	drop_duplicates(out);
	return ST_OK;
}

static enum status list_all(struct api_ctx *ctx, const char *bearer,
			    struct call *c, const struct api_list_filter *f,
			    struct api_token_list *out, struct api_error *err)
{
	enum status st;

	out->v = NULL;
	out->n = 0;
	if ((st = call_start(ctx, c, &err)) != ST_OK ||
	    (st = check_filter(c->what, f, !!c->dep)) != ST_OK)
		return st;
	st = list_pages(ctx, bearer, c, f, out, err);
	if (st != ST_OK) {
		api_token_list_clear(out);
		return st;
	}
	for (size_t i = 0; c->dep && i < out->n; i++)
		mark_agent(&out->v[i], c->dep);
	return ST_OK;
}

enum status api_token_get(struct api_ctx *ctx, const char *bearer,
			  const char *org, const char *id,
			  struct api_token *out, struct api_error *err)
{
	struct call c = {.what = "get token", .org = org, .id = id};

	return get_one(ctx, bearer, &c, out, err);
}

enum status api_token_rotate(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *id,
			     struct api_token *out, struct api_error *err)
{
	struct call c = {
	    .what = "rotate token", .org = org, .id = id, .suffix = "/rotate"};

	return post_one(ctx, bearer, &c, NULL, out, err);
}

enum status api_token_create(struct api_ctx *ctx, const char *bearer,
			     const char *org, const struct api_create *req,
			     struct api_token *out, struct api_error *err)
{
	struct call c = {.what = "create token", .org = org};

	return post_one(ctx, bearer, &c, req, out, err);
}

enum status api_token_delete(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *id,
			     struct api_error *err)
{
	struct call c = {.what = "delete token", .org = org, .id = id};

	return delete_one(ctx, bearer, &c, err);
}

enum status api_token_list(struct api_ctx *ctx, const char *bearer,
			   const char *org, const struct api_list_filter *f,
			   struct api_token_list *out, struct api_error *err)
{
	struct call c = {.what = "list tokens", .org = org};

	return list_all(ctx, bearer, &c, f, out, err);
}

enum status api_agent_get(struct api_ctx *ctx, const char *bearer,
			  const char *org, const char *dep, const char *id,
			  struct api_token *out, struct api_error *err)
{
	struct call c = {
	    .what = "get agent token", .org = org, .dep = dep, .id = id};

	return get_one(ctx, bearer, &c, out, err);
}

enum status api_agent_create(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *dep,
			     const struct api_create *req,
			     struct api_token *out, struct api_error *err)
{
	struct call c = {.what = "create agent token", .org = org, .dep = dep};

	return post_one(ctx, bearer, &c, req, out, err);
}

enum status api_agent_delete(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *dep, const char *id,
			     struct api_error *err)
{
	struct call c = {
	    .what = "delete agent token", .org = org, .dep = dep, .id = id};

	return delete_one(ctx, bearer, &c, err);
}

enum status api_agent_list(struct api_ctx *ctx, const char *bearer,
			   const char *org, const char *dep,
			   const struct api_list_filter *f,
			   struct api_token_list *out, struct api_error *err)
{
	struct call c = {.what = "list agent tokens", .org = org, .dep = dep};

	return list_all(ctx, bearer, &c, f, out, err);
}

const struct api_ops api_ops = {
    .ctx_new = api_ctx_new,
    .ctx_free = api_ctx_free,
    .token_clear = api_token_clear,
    .token_list_clear = api_token_list_clear,
    .token_get = api_token_get,
    .token_rotate = api_token_rotate,
    .token_create = api_token_create,
    .token_delete = api_token_delete,
    .token_list = api_token_list,
    .agent_get = api_agent_get,
    .agent_create = api_agent_create,
    .agent_delete = api_agent_delete,
    .agent_list = api_agent_list,
};
