/*
 * lifecycle_store.c: a token's birth and death: store (a pasted token),
 * create (minted from a parent), erase (optionally revoked at the API).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/api/api.h"
#include "helper/base/config.h"
#include "helper/base/jwt.h"
#include "helper/life/life_int.h"
#include "helper/base/log.h"

/* Valid, and short enough for the record. */
static int rotate_before_ok(const char *s)
{
	int64_t v;
	int pct;

	return strlen(s) < sizeof(((struct record *)0)->rotate_before) &&
	       life_rotate_before(s, &pct, &v) == 0;
}

static enum status check_store_req(struct life *L, const struct store_req *q)
{
	struct record p;
	enum status st;

	if (!q->token || !*q->token)
		return fail(ST_USAGE, "no token: send 'token=...' on stdin");
	if (q->rotate && strcmp(q->rotate, "auto") &&
	    strcmp(q->rotate, "never"))
		return fail(ST_USAGE, "rotate must be 'auto' or 'never'");
	if (q->rotate_before && !rotate_before_ok(q->rotate_before))
		return fail(ST_USAGE, "rotate_before must be a duration "
				      "(300, 5m, 2h, 1d) or N%% (1-99)");
	if (!q->parent)
		return ST_OK;
	if (!profile_name_ok(q->parent) || !strcmp(q->parent, q->profile))
		return fail(ST_USAGE, "invalid parent profile");
	record_init(&p);
	st = life_read(L, q->parent, &p);
	record_clear(&p);
	if (st == ST_NOTFOUND)
		return fail(ST_USAGE, "parent profile '%s' is not stored",
			    q->parent);
	return st;
}

/*
 * The scope a token's claims imply.  An Agent token is the one that names
 * both its deployment and that deployment's workspace; a Deployment token
 * names its deployment only, a Workspace token its workspace only.  The
 * API confirms it: an Agent token is verified on its agent-tokens path.
 */
static void scope_from_claims(struct record *r, const struct jwt_claims *c)
{
	snprintf(r->organization, sizeof(r->organization), "%s", c->org_id);
	snprintf(r->workspace, sizeof(r->workspace), "%s", c->workspace_id);
	snprintf(r->deployment, sizeof(r->deployment), "%s", c->deployment_id);
	snprintf(r->scope, sizeof(r->scope), "%s",
		 c->deployment_id[0] && c->workspace_id[0] ? "AGENT"
		 : c->deployment_id[0]			   ? "DEPLOYMENT"
		 : c->workspace_id[0]			   ? "WORKSPACE"
							   : "ORGANIZATION");
}

/* The role the token holds on its own entity (what a replacement needs). */
static void role_from_api(struct record *r, const struct api_token *t)
{
	const char *entity = !strcmp(r->scope, "WORKSPACE") ? r->workspace
			     : !strcmp(r->scope, "DEPLOYMENT")
				 ? r->deployment
				 : r->organization;

	for (size_t i = 0; i < t->nroles; i++)
		if (t->roles[i].entity_id &&
		    !strcmp(t->roles[i].entity_id, entity)) {
			snprintf(r->role, sizeof(r->role), "%s",
				 t->roles[i].role);
			return;
		}
	if (t->nroles)
		snprintf(r->role, sizeof(r->role), "%s", t->roles[0].role);
}

static void facts_from_api(struct record *r, const struct api_token *t)
{
	int64_t life = r->expires_at - r->issued_at;

	snprintf(r->name, sizeof(r->name), "%s", t->name ? t->name : "");
	/* A replacement is created with this description: all or nothing. */
	if (t->description && strlen(t->description) < sizeof(r->description))
		snprintf(r->description, sizeof(r->description), "%s",
			 t->description);
	else if (t->description)
		warning("the description of token %s is too long to keep; "
			"a replacement will have none",
			r->token_id);
	/* The API calls an Agent token's scope DEPLOYMENT. */
	if (!t->agent && t->scope && *t->scope)
		snprintf(r->scope, sizeof(r->scope), "%s", t->scope);
	role_from_api(r, t);
	r->expiry_days = t->expiry_days;
	if (!r->expiry_days && r->expires_at && life > 0)
		r->expiry_days = (int)((life + 86399) / 86400);
}

/* Ask the API about the token, acting with its parent or itself. */
static enum status verify(struct life *L, struct record *r)
{
	struct api_token t = API_TOKEN_INIT;
	struct api_error e;
	struct record p;
	const char *bearer = r->token;
	enum status st;

	record_init(&p);
	if (r->parent[0]) {
		if ((st = life_parent(L, r, &p)) != ST_OK)
			goto out;
		bearer = p.token;
	}
	if ((st = life_api(L)) != ST_OK)
		goto out;
	if (life_is_agent(r))
		st = L->api->agent_get(L->ctx, bearer, r->organization,
				       r->deployment, r->token_id, &t, &e);
	else
		st = L->api->token_get(L->ctx, bearer, r->organization,
				       r->token_id, &t, &e);
	if (st == ST_API && e.http_status == 404)
		st = fail(ST_AUTH,
			  "token %s is not known to the API "
			  "(deleted?); nothing stored",
			  r->token_id);
	if (st == ST_OK)
		facts_from_api(r, &t);
out:
	life_token_clear(L, &t);
	record_clear(&p);
	return st;
}

static void fill_policy(struct record *r, const struct store_req *q)
{
	const char *url = getenv("ASTRO_API_URL");

	snprintf(r->profile, sizeof(r->profile), "%s", q->profile);
	snprintf(r->parent, sizeof(r->parent), "%s",
		 q->parent ? q->parent : "");
	snprintf(r->api_url, sizeof(r->api_url), "%s",
		 url && *url ? url : API_DEFAULT_URL);
	r->rotate_never = q->rotate && !strcmp(q->rotate, "never");
	snprintf(r->rotate_before, sizeof(r->rotate_before), "%s",
		 q->rotate_before ? q->rotate_before : "");
}

enum status life_store(struct life *L, const struct store_req *q)
{
	struct backend_lock *lk = NULL;
	struct jwt_claims c;
	struct record r;
	char when[32];
	enum status st;

	record_init(&r);
	if ((st = check_store_req(L, q)) != ST_OK)
		return st;
	if (!jwt_alphabet_ok(q->token) || jwt_claims(q->token, &c) != ST_OK)
		return fail(ST_USAGE, "the token is not an Astro API token "
				      "(a JWT); nothing stored");
	if (c.has_exp && c.exp <= now_seconds()) {
		format_time(c.exp, when, sizeof(when));
		return fail(ST_AUTH, "token %s expired at %s; nothing stored",
			    c.token_id, when);
	}
	fill_policy(&r, q);
	scope_from_claims(&r, &c);
	if ((st = life_apply_token(&r, q->token, c.token_id)) != ST_OK)
		goto out;
	if (q->verify && (st = verify(L, &r)) != ST_OK)
		goto out;
	if ((st = L->be->lock(r.profile, &lk)) != ST_OK)
		goto out;
	st = life_write(L, &r);
	L->be->unlock(lk);
	if (st == ST_OK)
		verbose("stored token %s as profile '%s' (%s)", r.token_id,
			r.profile, L->be->name);
out:
	record_clear(&r);
	return st;
}

enum status life_erase(struct life *L, const char *profile, int revoke)
{
	struct backend_lock *lk = NULL;
	struct record r, p;
	enum status st;

	record_init(&r);
	record_init(&p);
	if ((st = L->be->lock(profile, &lk)) != ST_OK)
		return st;
	st = life_read(L, profile, &r);
	/* A damaged record can still be forgotten: nothing in it is needed. */
	if (st == ST_STORE && !revoke) {
		warning("profile '%s' cannot be read; forgetting it anyway",
			profile);
		st = L->be->erase(profile);
		goto out;
	}
	if (st != ST_OK)
		goto out;
	if (revoke) {
		const char *bearer = r.token;

		if (r.parent[0]) {
			if ((st = life_parent(L, &r, &p)) != ST_OK)
				goto out;
			bearer = p.token;
		}
		if ((st = life_api(L)) != ST_OK ||
		    (st = life_delete_token(L, &r, bearer, r.token_id)) !=
			ST_OK)
			goto out;
		verbose("deleted token %s at the API", r.token_id);
	}
	st = L->be->erase(profile);
out:
	L->be->unlock(lk);
	record_clear(&r);
	record_clear(&p);
	return st;
}

static const char *default_role(const char *scope)
{
	if (!strcmp(scope, "ORGANIZATION"))
		return "ORGANIZATION_MEMBER";
	if (!strcmp(scope, "WORKSPACE"))
		return "WORKSPACE_MEMBER";
	if (!strcmp(scope, "DEPLOYMENT"))
		return "DEPLOYMENT_ADMIN";
	return "";
}

static enum status check_create(struct life *L, const struct create_req *q)
{
	static const char *const scopes[] = {"ORGANIZATION", "WORKSPACE",
					     "DEPLOYMENT", "AGENT"};
	struct record r;
	enum status st;
	size_t i;

	for (i = 0; i < 4 && strcmp(q->scope, scopes[i]); i++)
		;
	if (i == 4)
		return fail(ST_USAGE, "--scope must be ORGANIZATION, "
				      "WORKSPACE, DEPLOYMENT or AGENT");
	if (i > 0 && (!q->entity || !*q->entity))
		return fail(ST_USAGE, "--scope %s needs --entity ID", q->scope);
	if (q->expiry_days < 0 || q->expiry_days > 3650)
		return fail(ST_USAGE, "--expiry-days must be 1 to 3650");
	if (q->desc && strlen(q->desc) >= REC_DESC_MAX)
		return fail(ST_USAGE, "--description must be at most 500 "
				      "characters");
	if (!strcmp(q->profile, q->from))
		return fail(ST_USAGE, "--from must name another profile");
	record_init(&r);
	st = life_read(L, q->profile, &r);
	record_clear(&r);
	if (st == ST_OK)
		return fail(ST_USAGE,
			    "profile '%s' already exists; erase it "
			    "first",
			    q->profile);
	return st == ST_NOTFOUND ? ST_OK : st;
}

static void create_record(struct record *r, const struct create_req *q,
			  const struct record *p)
{
	snprintf(r->profile, sizeof(r->profile), "%s", q->profile);
	snprintf(r->parent, sizeof(r->parent), "%s", q->from);
	snprintf(r->scope, sizeof(r->scope), "%s", q->scope);
	snprintf(r->organization, sizeof(r->organization), "%s",
		 p->organization);
	snprintf(r->api_url, sizeof(r->api_url), "%s", p->api_url);
	if (!strcmp(q->scope, "WORKSPACE"))
		snprintf(r->workspace, sizeof(r->workspace), "%s", q->entity);
	else if (strcmp(q->scope, "ORGANIZATION"))
		snprintf(r->deployment, sizeof(r->deployment), "%s", q->entity);
	if (q->desc)
		snprintf(r->description, sizeof(r->description), "%s", q->desc);
	if (q->name)
		snprintf(r->name, sizeof(r->name), "%s", q->name);
	else
		snprintf(r->name, sizeof(r->name), "astro-cred %s", q->profile);
	snprintf(r->role, sizeof(r->role), "%s",
		 q->role ? q->role : default_role(q->scope));
	r->expiry_days = q->expiry_days;
}

static enum status mint(struct life *L, struct record *r,
			const struct create_req *q, const struct record *p)
{
	struct api_token t = API_TOKEN_INIT;
	struct api_create c;
	struct api_error e;
	enum status st;

	memset(&c, 0, sizeof(c));
	c.name = r->name;
	c.role = r->role;
	c.scope = r->scope;
	c.entity_id = q->entity;
	c.description = r->description[0] ? r->description : NULL;
	c.expiry_days = r->expiry_days;
	st = life_api_create(L, p->token, r->organization, life_agent_dep(r),
			     &c, &t, &e);
	if (st == ST_OK)
		st = life_apply_token(r, t.token, t.id);
	if (st == ST_OK && (st = life_write(L, r)) != ST_OK) {
		/* Unsaved: do not leave a live token nobody holds. */
		if (life_delete_token(L, r, p->token, r->token_id) != ST_OK)
			error("token %s was created but could not be saved "
			      "nor deleted; delete it in Astro",
			      r->token_id);
	}
	life_token_clear(L, &t);
	return st;
}

enum status life_create(struct life *L, const struct create_req *q)
{
	struct backend_lock *lk = NULL;
	struct record r, p;
	enum status st;

	record_init(&r);
	record_init(&p);
	if ((st = check_create(L, q)) != ST_OK)
		return st;
	/* life_parent needs only the names; the rest comes from the parent. */
	snprintf(r.profile, sizeof(r.profile), "%s", q->profile);
	snprintf(r.parent, sizeof(r.parent), "%s", q->from);
	if ((st = life_parent(L, &r, &p)) != ST_OK)
		goto out;
	create_record(&r, q, &p);
	if ((st = life_api(L)) != ST_OK ||
	    (st = L->be->lock(r.profile, &lk)) != ST_OK)
		goto out;
	st = mint(L, &r, q, &p);
	L->be->unlock(lk);
	if (st == ST_OK)
		verbose("created token %s as profile '%s'", r.token_id,
			r.profile);
out:
	record_clear(&r);
	record_clear(&p);
	return st;
}
