/*
 * list: the stored profiles (never a token value), or with --remote the
 * organization's tokens as the API lists them, marking those we hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "helper/api/api.h"
#include "helper/cmd/cmd.h"
#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"
#include "protocol/out.h"

struct list_args {
	const char *profile, *format, *workspace, *deployment;
	int remote, org_only, agent;
};

/* One row of either listing: column values, all non-secret. */
#define NCOLS 8
struct row {
	const char *v[NCOLS];
};

struct table {
	const char *const *keys;  /* kv/json names */
	const char *const *heads; /* table headings */
	size_t ncols;
	struct row *rows;
	size_t n;
};

static void print_table(FILE *f, const struct table *t)
{
	size_t w[NCOLS];

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->heads[c]);
		for (size_t i = 0; i < t->n; i++)
			if (strlen(t->rows[i].v[c]) > w[c])
				w[c] = strlen(t->rows[i].v[c]);
	}
	for (size_t c = 0; c < t->ncols; c++)
		fprintf(f, "%-*s%s", (int)w[c], t->heads[c],
			c + 1 < t->ncols ? "  " : "\n");
	for (size_t i = 0; i < t->n; i++)
		for (size_t c = 0; c < t->ncols; c++)
			fprintf(f, "%-*s%s", (int)w[c],
				*t->rows[i].v[c] ? t->rows[i].v[c] : "-",
				c + 1 < t->ncols ? "  " : "\n");
}

static int print_kv(FILE *f, const struct table *t)
{
	int bad = 0;

	for (size_t i = 0; i < t->n; i++) {
		for (size_t c = 0; c < t->ncols; c++)
			if (*t->rows[i].v[c])
				bad |= kv_write(f, t->keys[c], t->rows[i].v[c]);
		fputc('\n', f);
	}
	return bad;
}

static int print_json(FILE *f, const struct table *t)
{
	cJSON *a = cJSON_CreateArray();
	char *s;
	int ret = -1;

	for (size_t i = 0; a && i < t->n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o))
			goto out;
		for (size_t c = 0; c < t->ncols; c++)
			if (*t->rows[i].v[c] &&
			    !cJSON_AddStringToObject(o, t->keys[c],
						     t->rows[i].v[c]))
				goto out;
	}
	s = a ? cJSON_PrintUnformatted(a) : NULL;
	if (s) {
		ret = fputs(s, f) == EOF || fputc('\n', f) == EOF;
		cJSON_free(s);
	}
out:
	cJSON_Delete(a);
	return ret;
}

static enum status emit(const struct table *t, enum out_format fmt)
{
	struct out o = OUT_INIT;
	FILE *m = out_open(&o);
	int bad = 0;

	if (fmt == FMT_JSON)
		bad = print_json(m, t);
	else if (fmt == FMT_KV)
		bad = print_kv(m, t);
	else
		print_table(m, t);
	if (bad) {
		out_discard(&o);
		return fail(ST_STORE, "refusing to print a malformed value");
	}
	return out_commit(&o, STDOUT_FILENO);
}

static void format_left(int64_t exp, char *buf, size_t len)
{
	int64_t left = exp - now_seconds();

	if (!exp)
		snprintf(buf, len, "never");
	else if (left <= 0)
		snprintf(buf, len, "expired");
	else if (left < 3600)
		snprintf(buf, len, "%lldm", (long long)(left / 60));
	else if (left < 86400 * 2)
		snprintf(buf, len, "%lldh", (long long)(left / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(left / 86400));
}

/* Strings a row points at, owned per row. */
struct cells {
	char exp[32], left[24], last[32];
};

static const char *const local_keys[] = {"profile",  "scope",	   "entity",
					 "token_id", "expires_at", "left",
					 "backend",  "state"};
static const char *const local_heads[] = {"PROFILE",  "SCOPE",	 "ENTITY",
					  "TOKEN ID", "EXPIRES", "LEFT",
					  "BACKEND",  "STATE"};

static const char *entity_of(const struct record *r)
{
	return r->deployment[0]	 ? r->deployment
	       : r->workspace[0] ? r->workspace
				 : r->organization;
}

/*
 * Every readable profile, and each damaged one as "corrupt" (nothing but
 * its name), then ST_STORE if any was damaged (contract.md section 7).
 */
static enum status list_local(struct life *L, enum out_format fmt)
{
	struct strlist names = STRLIST_INIT;
	struct table t = {local_keys, local_heads, 8, NULL, 0};
	struct record *recs = NULL;
	struct cells *cells = NULL;
	size_t bad = 0;
	enum status st;

	if ((st = L->be->list(&names)) != ST_OK)
		goto out;
	strlist_sort(&names);
	recs = xcalloc(names.n, sizeof(*recs));
	cells = xcalloc(names.n, sizeof(*cells));
	t.rows = xcalloc(names.n, sizeof(*t.rows));
	for (size_t i = 0; i < names.n; i++) {
		struct record *r = &recs[t.n];
		struct cells *c = &cells[t.n];

		st = life_read(L, names.v[i], r);
		if (st == ST_NOTFOUND) /* erased since it was listed */
			continue;
		if (st == ST_STORE) {
			bad++;
			t.rows[t.n++] =
			    (struct row){{names.v[i], "", "", "", "", "",
					  L->be->name, "corrupt"}};
			continue;
		}
		if (st != ST_OK)
			goto out;
		if (r->expires_at)
			format_time(r->expires_at, c->exp, sizeof(c->exp));
		format_left(r->expires_at, c->left, sizeof(c->left));
		t.rows[t.n++] = (struct row){
		    {r->profile, r->scope, entity_of(r), r->token_id, c->exp,
		     c->left, L->be->name, life_state_label(r, now_seconds())}};
	}
	st = emit(&t, fmt);
	if (st == ST_OK && bad)
		st = fail(ST_STORE,
			  "%zu profile%s could not be read (see above): "
			  "listed as corrupt; store a new token under that "
			  "name, or forget it with astro-cred erase -p NAME",
			  bad, bad == 1 ? "" : "s");
out:
	for (size_t i = 0; recs && i < names.n; i++)
		record_clear(&recs[i]);
	free(recs);
	free(cells);
	free(t.rows);
	strlist_clear(&names);
	return st;
}

static const char *const remote_keys[] = {
    "token_id", "name", "scope", "expires_at", "last_used_at", "profile"};
static const char *const remote_heads[] = {"TOKEN ID", "NAME",	    "SCOPE",
					   "EXPIRES",  "LAST USED", "HELD BY"};

/* token id -> profile, for every profile we hold. */
static void held_ids(struct life *L, struct strlist *ids, struct strlist *by)
{
	struct strlist names = STRLIST_INIT;

	if (L->be->list(&names) == ST_OK)
		for (size_t i = 0; i < names.n; i++) {
			struct record r;

			record_init(&r);
			if (life_read(L, names.v[i], &r) == ST_OK) {
				strlist_push(ids, r.token_id);
				strlist_push(by, r.profile);
			}
			record_clear(&r);
		}
	strlist_clear(&names);
}

static enum status fetch_remote(struct life *L, const struct list_args *a,
				const struct record *me,
				struct api_token_list *tl)
{
	struct api_list_filter f;

	memset(&f, 0, sizeof(f));
	if (a->agent)
		return life_list_tokens(L, me, a->deployment, &f, tl);
	f.workspace_id = a->workspace;
	f.deployment_id = a->deployment;
	f.org_only = a->org_only;
	return life_list_tokens(L, me, NULL, &f, tl);
}

static enum status list_remote(struct life *L, const struct list_args *a,
			       enum out_format fmt)
{
	struct api_token_list tl = API_TOKEN_LIST_INIT;
	struct strlist ids = STRLIST_INIT, by = STRLIST_INIT;
	struct table t = {remote_keys, remote_heads, 6, NULL, 0};
	struct cells *cells = NULL;
	struct record me;
	const char *profile = resolve_profile(a->profile);
	enum status st = ST_USAGE;

	record_init(&me);
	if (!profile || (st = life_get(L, profile, 60, 0, &me)) != ST_OK ||
	    (st = fetch_remote(L, a, &me, &tl)) != ST_OK)
		goto out;
	held_ids(L, &ids, &by);
	cells = xcalloc(tl.n + 1, sizeof(*cells));
	t.rows = xcalloc(tl.n + 1, sizeof(*t.rows));
	for (size_t i = 0; i < tl.n; i++) {
		const struct api_token *k = &tl.v[i];
		struct cells *c = &cells[i];
		long h = strlist_find(&ids, k->id);

		if (k->end_at)
			format_time(k->end_at, c->exp, sizeof(c->exp));
		if (k->last_used_at)
			format_time(k->last_used_at, c->last, sizeof(c->last));
		t.rows[t.n++] =
		    (struct row){{k->id, k->name ? k->name : "",
				  a->agent   ? "AGENT"
				  : k->scope ? k->scope
					     : "",
				  c->exp, c->last, h >= 0 ? by.v[h] : ""}};
	}
	st = emit(&t, fmt);
out:
	cmd_not_found(st, profile);
	life_token_list_clear(L, &tl);
	strlist_clear(&ids);
	strlist_clear(&by);
	free(cells);
	free(t.rows);
	record_clear(&me);
	return st;
}

static enum status parse_list(int argc, char **argv, struct list_args *a)
{
	const struct cmd_opt opts[] = {
	    {"profile", 'p', &a->profile, NULL},
	    {"format", 0, &a->format, NULL},
	    {"remote", 0, NULL, &a->remote},
	    {"workspace", 0, &a->workspace, NULL},
	    {"deployment", 0, &a->deployment, NULL},
	    {"org-only", 0, NULL, &a->org_only},
	    {"agent", 0, NULL, &a->agent},
	    {NULL, 0, NULL, NULL},
	};
	enum status st;

	if ((st = cmd_parse_opts(argc, argv, "list", opts)) != ST_OK)
		return st;
	if (!a->remote && (a->profile || a->workspace || a->deployment ||
			   a->org_only || a->agent))
		return fail(ST_USAGE, "-p and the filters go with --remote");
	if (a->agent && (!a->deployment || a->workspace || a->org_only))
		return fail(ST_USAGE, "--agent needs --deployment ID alone");
	return ST_OK;
}

int cmd_list(int argc, char **argv)
{
	struct list_args a;
	struct life L = LIFE_INIT;
	enum out_format fmt = FMT_TABLE;
	enum status st;

	memset(&a, 0, sizeof(a));
	if ((st = parse_list(argc, argv, &a)) != ST_OK ||
	    (a.format &&
	     (st = cmd_format(a.format,
			      1u << FMT_TABLE | 1u << FMT_KV | 1u << FMT_JSON,
			      &fmt)) != ST_OK) ||
	    (st = life_open(&L)) != ST_OK)
		goto out;
	st = a.remote ? list_remote(&L, &a, fmt) : list_local(&L, fmt);
out:
	life_close(&L);
	return st;
}
