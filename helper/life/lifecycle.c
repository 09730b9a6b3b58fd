#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/api/api.h"
#include "helper/base/config.h"
#include "helper/base/jwt.h"
#include "helper/life/life_int.h"
#include "helper/base/log.h"
#include "helper/api/net.h"
#include "helper/base/testhook.h"

/* A parent chain longer than this is refused (and so are cycles). */
#define PARENT_DEPTH_MAX 4
/* A parent's token must stay valid this long to act for a child. */
#define PARENT_MIN_TTL 60

enum status life_backend(const struct backend **out)
{
	const char *name = getenv("ASTRO_CRED_BACKEND");
	const char *from = "ASTRO_CRED_BACKEND";

	/* The environment wins over the config file's `backend` key. */
	if (!name || !*name) {
		if (config_check() != ST_OK)
			return ST_USAGE;
		name = config_get("backend");
		from = "the config file";
	}
	return backend_select(name, from, out);
}

enum status life_open(struct life *L)
{
	return life_backend(&L->be);
}

void life_close(struct life *L)
{
	if (L->ctx && L->api)
		L->api->ctx_free(L->ctx);
	L->ctx = NULL;
	if (L->be)
		L->be->forget();
}

enum status life_api(struct life *L)
{
	if (!L->api && !(L->api = api_load()))
		return ST_TRANSIENT;
	if (!L->ctx)
		return L->api->ctx_new(&L->ctx);
	return ST_OK;
}

void life_token_clear(struct life *L, struct api_token *t)
{
	if (L->api)
		L->api->token_clear(t);
}

void life_token_list_clear(struct life *L, struct api_token_list *l)
{
	if (L->api)
		L->api->token_list_clear(l);
}

enum status life_read(struct life *L, const char *profile, struct record *r)
{
	struct secbuf buf = SECBUF_INIT(RECORD_MAX);
	enum status st = L->be->get(profile, &buf);

	if (st == ST_OK)
		st = record_decode(buf.data, buf.len, r);
	if (st == ST_OK && strcmp(r->profile, profile))
		st = fail(ST_STORE, "the record stored as '%s' names '%s'",
			  profile, r->profile);
	secbuf_clear(&buf);
	return st;
}

enum status life_write(struct life *L, struct record *r)
{
	struct secbuf buf = SECBUF_INIT(RECORD_MAX);
	enum status st;

	r->stored_at = now_seconds();
	r->generation++;
	st = record_encode(r, &buf);
	if (st == ST_OK)
		st = L->be->put(r->profile, buf.data, buf.len);
	secbuf_clear(&buf);
	return st;
}

/*
 * Persist a record that holds a token just issued by the API, the only copy
 * there is.  A write can fail after its rename took effect (the directory
 * fsync): then the store already holds the new token, and saying it was
 * lost would send the user to re-bootstrap for nothing.  Read back to tell.
 */
static enum status write_new_token(struct life *L, struct record *r)
{
	struct record back;
	enum status st = life_write(L, r);

	if (st == ST_OK)
		return ST_OK;
	record_init(&back);
	if (life_read(L, r->profile, &back) == ST_OK && back.token &&
	    !strcmp(back.token, r->token) && back.generation == r->generation) {
		warning("profile '%s': the new token is stored, but the store "
			"could not confirm it reached the disk",
			r->profile);
		st = ST_OK;
	}
	record_clear(&back);
	return st;
}

int life_rotate_before(const char *s, int *pct, int64_t *secs)
{
	size_t n = strlen(s);
	int64_t v;

	*pct = 0;
	if (n > 1 && s[n - 1] == '%') {
		char num[3];

		if (n - 1 > 2 || s[0] == '0')
			return -1;
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (parse_duration(num, &v) < 0 || v < 1 || v > 99)
			return -1;
		*pct = (int)v;
		return 0;
	}
	return parse_duration(s, secs);
}

/* rotate_before ("N%" of the lifetime, or a duration), else the default. */
static int64_t policy_margin(const struct record *r)
{
	int64_t life = r->expires_at - r->issued_at, v;
	int pct;

	if (r->rotate_before[0] &&
	    life_rotate_before(r->rotate_before, &pct, &v) == 0)
		return pct ? (life > 0 ? life * pct / 100 : 0) : v;
	/*
	 * Default: a fifth of the lifetime, at least 5 minutes, and never
	 * more than half of it (so a short-lived token is not always due).
	 */
	v = life > 0 ? life / 5 : 0;
	if (v < 300)
		v = 300;
	return life > 0 && v > life / 2 ? life / 2 : v;
}

int64_t life_renew_margin(const struct record *r, int64_t min_ttl)
{
	int64_t m = policy_margin(r);

	return m > min_ttl ? m : min_ttl;
}

int life_needs_renewal(const struct record *r, int64_t now, int64_t min_ttl)
{
	if (r->state != REC_OK || r->orphan_id[0])
		return 1;
	if (r->rotate_never)
		return 0;
	if (!r->expires_at)
		return r->rotate_every && now - r->issued_at >= r->rotate_every;
	return r->expires_at - now < life_renew_margin(r, min_ttl);
}

static enum status interrupted_msg(const struct record *r)
{
	return fail(ST_AUTH,
		    "profile '%s': a rotation of token %s was interrupted "
		    "and its answer lost; the old token no longer works. "
		    "Recover by storing a new token (astro-cred store -p %s) "
		    "or by giving the profile a parent that can replace it",
		    r->profile, r->token_id, r->profile);
}

/*
 * Why r cannot be renewed, or NULL when it can (contract.md section 7,
 * "No renewal possible"): renewal is off, or an Agent token, which only a
 * replacement renews, has no parent to make one.
 */
static const char *no_renewal(const struct record *r)
{
	if (r->rotate_never)
		return "renewal is off (rotate=never)";
	if (life_is_agent(r) && !r->parent[0])
		return "an Agent token is renewed only by replacement through "
		       "a parent profile, and this profile has none";
	return NULL;
}

/* A token without a parent cannot rotate itself once it has expired. */
static enum status expired_unrenewable(const struct record *r)
{
	char when[32];

	format_time(r->expires_at, when, sizeof(when));
	return fail(ST_AUTH,
		    "profile '%s': token %s expired at %s, and a token "
		    "without a parent cannot renew itself once expired; "
		    "store a new token (astro-cred store -p %s), or give the "
		    "profile a parent that can replace it",
		    r->profile, r->token_id, when, r->profile);
}

const char *life_state_label(const struct record *r, int64_t now)
{
	if (r->state == REC_OK && r->expires_at && r->expires_at <= now &&
	    (r->rotate_never || !r->parent[0]))
		return "expired";
	return rec_state_name(r->state);
}

/* Fill the record's id and times from a new token's claims. */
enum status life_apply_token(struct record *r, const char *tok, const char *id)
{
	struct jwt_claims c;
	enum status st = jwt_claims(tok, &c);

	if (st != ST_OK)
		return fail(ST_TRANSIENT, "the API returned a malformed token");
	record_set_token(r, tok);
	snprintf(r->token_id, sizeof(r->token_id), "%s",
		 id && *id ? id : c.token_id);
	r->issued_at = c.iat;
	r->expires_at = c.has_exp ? c.exp : 0;
	return ST_OK;
}

static enum status get_depth(struct life *L, const char *profile,
			     int64_t min_ttl, int force, struct record *out,
			     int depth);

static enum status parent_token(struct life *L, const struct record *r,
				struct record *p, int depth)
{
	if (depth >= PARENT_DEPTH_MAX)
		return fail(ST_USAGE, "parent chain of '%s' is too long",
			    r->profile);
	if (!strcmp(r->parent, r->profile))
		return fail(ST_USAGE, "profile '%s' is its own parent",
			    r->profile);
	return get_depth(L, r->parent, PARENT_MIN_TTL, 0, p, depth);
}

int life_is_agent(const struct record *r)
{
	return !strcmp(r->scope, "AGENT");
}

/*
 * The journal says a replacement's create may have reached the API.  Delete
 * any token of the same name created since the intent that is not ours.
 */
static enum status clean_replacing(struct life *L, struct record *r,
				   const char *bearer)
{
	struct api_token_list tl = API_TOKEN_LIST_INIT;
	struct api_list_filter f = {0};
	struct api_error e;
	enum status st;

	st = life_api_list(L, bearer, r->organization, life_agent_dep(r), &f,
			   &tl, &e);
	for (size_t i = 0; st == ST_OK && i < tl.n; i++) {
		const struct api_token *t = &tl.v[i];

		if (strcmp(t->name, r->name) || !strcmp(t->id, r->token_id) ||
		    t->created_at < r->intent_at - 60)
			continue;
		warning("deleting token %s left by an interrupted renewal",
			t->id);
		st = life_api_delete(L, bearer, r->organization,
				     life_agent_dep(r), t->id, &e);
	}
	life_token_list_clear(L, &tl);
	return st;
}

enum status life_delete_token(struct life *L, const struct record *r,
			      const char *bearer, const char *id)
{
	struct api_error e;
	enum status st;

	st = life_api_delete(L, bearer, r->organization, life_agent_dep(r), id,
			     &e);
	/* Already gone is what we wanted. */
	if (st == ST_API && e.http_status == 404)
		st = ST_OK;
	return st;
}

static void fill_create(const struct record *r, struct api_create *c)
{
	memset(c, 0, sizeof(*c));
	c->name = r->name;
	c->role = r->role;
	c->scope = r->scope;
	c->entity_id = !strcmp(r->scope, "WORKSPACE")	 ? r->workspace
		       : !strcmp(r->scope, "DEPLOYMENT") ? r->deployment
							 : NULL;
	c->expiry_days = r->expiry_days;
	c->description = r->description[0] ? r->description : NULL;
}

/* What the caller of a renewal needs: forced (rotate) or min_ttl left. */
struct want {
	int force;
	int64_t min_ttl;
};

static int still_due(const struct record *r, const struct want *w)
{
	return w->force || life_needs_renewal(r, now_seconds(), w->min_ttl);
}

static enum status replace(struct life *L, struct record *r, int depth,
			   const struct want *w)
{
	struct record p;
	struct api_token t = API_TOKEN_INIT;
	struct api_create c;
	struct api_error e;
	char old_id[REC_ID_MAX];
	enum status st;

	record_init(&p);
	st = parent_token(L, r, &p, depth);
	if (st != ST_OK || (st = life_api(L)) != ST_OK)
		goto out;
	/* Settle what an earlier run left: its journal, then its orphan. */
	if (r->state == REC_REPLACING) {
		if ((st = clean_replacing(L, r, p.token)) != ST_OK)
			goto out;
		r->state = REC_OK;
		if ((st = life_write(L, r)) != ST_OK)
			goto out;
	}
	if (r->orphan_id[0] &&
	    life_delete_token(L, r, p.token, r->orphan_id) == ST_OK) {
		r->orphan_id[0] = '\0';
		if ((st = life_write(L, r)) != ST_OK)
			goto out;
	}
	if (!still_due(r, w))
		goto out;
	if (!r->name[0] || (!life_is_agent(r) && !r->role[0])) {
		st = fail(ST_USAGE,
			  "profile '%s': the name or role of token %s is "
			  "unknown, so it cannot be replaced; store it again "
			  "without --no-verify",
			  r->profile, r->token_id);
		goto out;
	}
	/* The journal first: a create may reach the API and its answer not us.
	 */
	r->state = REC_REPLACING;
	r->intent_at = now_seconds();
	if ((st = life_write(L, r)) != ST_OK)
		goto out;
	fill_create(r, &c);
	test_crash_point("before_call");
	st = life_api_create(L, p.token, r->organization, life_agent_dep(r), &c,
			     &t, &e);
	if (st != ST_OK) {
		if (!e.maybe_committed) {
			r->state = REC_OK;
			life_write(L, r);
		}
		goto out;
	}
	test_crash_point("after_answer");
	snprintf(old_id, sizeof(old_id), "%s", r->token_id);
	if ((st = life_apply_token(r, t.token, t.id)) != ST_OK)
		goto out;
	snprintf(r->orphan_id, sizeof(r->orphan_id), "%s", old_id);
	r->state = REC_OK;
	/* The new token is persisted before the old one is deleted. */
	if ((st = write_new_token(L, r)) != ST_OK)
		goto out;
	test_crash_point("after_persist");
	if (life_delete_token(L, r, p.token, old_id) == ST_OK) {
		r->orphan_id[0] = '\0';
		life_write(L, r);
	} else {
		warning("old token %s not deleted yet; the next renewal "
			"retries",
			old_id);
	}
	verbose("profile '%s': replaced token %s with %s", r->profile, old_id,
		r->token_id);
out:
	life_token_clear(L, &t);
	record_clear(&p);
	return st;
}

/* Does the token still work?  ST_OK yes, ST_AUTH no, else unknown. */
static enum status still_valid(struct life *L, const struct record *r)
{
	struct api_token t = API_TOKEN_INIT;
	struct api_error e;
	enum status st = L->api->token_get(L->ctx, r->token, r->organization,
					   r->token_id, &t, &e);

	life_token_clear(L, &t);
	if (st == ST_API && e.http_status == 404)
		st = ST_AUTH;
	return st;
}

/* The journal says a rotation may have happened: find out which. */
static enum status settle_rotating(struct life *L, struct record *r)
{
	enum status st = still_valid(L, r);

	if (st == ST_OK) {
		r->state = REC_OK;
		return life_write(L, r);
	}
	if (st == ST_AUTH) {
		r->state = REC_INTERRUPTED;
		life_write(L, r);
		return interrupted_msg(r);
	}
	return fail(ST_TRANSIENT,
		    "profile '%s': cannot tell yet whether an earlier "
		    "rotation took effect; try again",
		    r->profile);
}

static enum status rotate_in_place(struct life *L, struct record *r,
				   const struct want *w)
{
	struct api_token t = API_TOKEN_INIT;
	struct api_error e;
	enum status st;

	if ((st = life_api(L)) != ST_OK)
		return st;
	if (r->state == REC_ROTATING && (st = settle_rotating(L, r)) != ST_OK)
		return st;
	if (!still_due(r, w))
		return ST_OK;
	if (r->expires_at && r->expires_at <= now_seconds())
		return expired_unrenewable(r);
	r->state = REC_ROTATING;
	r->intent_at = now_seconds();
	if ((st = life_write(L, r)) != ST_OK)
		return st;
	test_crash_point("before_call");
	st = L->api->token_rotate(L->ctx, r->token, r->organization,
				  r->token_id, &t, &e);
	if (st == ST_OK) {
		test_crash_point("after_answer");
		st = life_apply_token(r, t.token, t.id);
		r->state = REC_OK;
		if (st == ST_OK)
			st = write_new_token(L, r);
		if (st == ST_OK)
			test_crash_point("after_persist");
		if (st != ST_OK)
			error("profile '%s': the rotated token could not be "
			      "saved; the profile will need a new token",
			      r->profile);
	} else if (e.maybe_committed) {
		st = settle_rotating(L, r);
		if (st == ST_OK && e.http_status >= 500)
			st = fail(ST_TRANSIENT,
				  "profile '%s': the Astro API answered the "
				  "rotation with HTTP %ld (a server error); "
				  "the old token still works, so nothing "
				  "changed: try again later",
				  r->profile, e.http_status);
		else if (st == ST_OK)
			st = fail(ST_TRANSIENT,
				  "profile '%s': the rotation's answer was "
				  "lost but the old token still works; "
				  "nothing changed, safe to retry",
				  r->profile);
	} else {
		r->state = REC_OK;
		life_write(L, r);
		if (st == ST_AUTH && strstr(e.message, "expired"))
			st = expired_unrenewable(r);
		else if (st == ST_AUTH)
			st = fail(ST_AUTH,
				  "profile '%s': token %s was revoked or "
				  "rotated elsewhere (or the store was put "
				  "back from a copy); store a live token: "
				  "astro-cred store -p %s",
				  r->profile, r->token_id, r->profile);
	}
	life_token_clear(L, &t);
	return st;
}

static enum status renew(struct life *L, struct record *r, int depth,
			 const struct want *w)
{
	if (r->parent[0] || life_is_agent(r)) {
		if (!r->parent[0])
			return fail(ST_AUTH,
				    "profile '%s': an Agent token is renewed "
				    "only by replacement, which needs a parent "
				    "profile; store it again with "
				    "parent=PROFILE",
				    r->profile);
		return replace(L, r, depth, w);
	}
	if (r->state == REC_INTERRUPTED)
		return interrupted_msg(r);
	return rotate_in_place(L, r, w);
}

static enum status usable(const struct record *r, int64_t min_ttl)
{
	char when[32];
	int64_t now = now_seconds();

	if (r->state == REC_INTERRUPTED)
		return interrupted_msg(r);
	if (r->expires_at && r->expires_at - now < min_ttl) {
		format_time(r->expires_at, when, sizeof(when));
		return fail(ST_AUTH, "profile '%s': token %s %s at %s%s",
			    r->profile, r->token_id,
			    r->expires_at <= now ? "expired" : "expires", when,
			    r->rotate_never ? " and renewal is off"
					    : " and could not be renewed");
	}
	return ST_OK;
}

/*
 * A profile that no renewal can help (no_renewal() says why): its token is
 * served while it is valid for at least min_ttl, else exit 4 naming the
 * cause, and never a dead token.  An Agent token without a parent is
 * served in its renewal window with a warning: it will not be renewed.
 */
static enum status serve_unrenewable(const struct record *r, int64_t now,
				     int64_t min_ttl, const char *why)
{
	int64_t left = r->expires_at - now;
	char when[32], how[320];

	if (!r->expires_at)
		return ST_OK;
	format_time(r->expires_at, when, sizeof(when));
	if (r->rotate_never)
		snprintf(how, sizeof(how),
			 "store a new token: astro-cred store -p %s",
			 r->profile);
	else
		snprintf(how, sizeof(how),
			 "store %s with parent=PROFILE, a profile that may "
			 "manage the Agent tokens of deployment %s",
			 left > 0 ? "it again" : "a new token", r->deployment);
	if (left <= 0)
		return fail(ST_AUTH,
			    "profile '%s': token %s expired at %s and %s; %s",
			    r->profile, r->token_id, when, why, how);
	if (left < min_ttl)
		return fail(ST_AUTH,
			    "profile '%s': token %s expires at %s, in %llds, "
			    "sooner than the %llds asked for, and %s; %s",
			    r->profile, r->token_id, when, (long long)left,
			    (long long)min_ttl, why, how);
	if (!r->rotate_never && left < life_renew_margin(r, min_ttl))
		warning("profile '%s': token %s expires at %s and will not be "
			"renewed: %s; %s",
			r->profile, r->token_id, when, why, how);
	return ST_OK;
}

/*
 * A renewal yields a token with the same lifetime; when the caller needs
 * more than that, no renewal can help: say so instead of burning one.
 */
static enum status beyond_lifetime(const struct record *r, int64_t min_ttl)
{
	int64_t life = r->expires_at - r->issued_at;

	if (!r->expires_at || r->issued_at <= 0 || min_ttl <= life)
		return ST_OK;
	return fail(ST_AUTH,
		    "profile '%s': min_ttl %llds is longer than the token's "
		    "whole lifetime (%llds); no renewal can satisfy it",
		    r->profile, (long long)min_ttl, (long long)life);
}

static enum status get_depth(struct life *L, const char *profile,
			     int64_t min_ttl, int force, struct record *out,
			     int depth)
{
	struct backend_lock *lk = NULL;
	struct want w = {force, min_ttl};
	int64_t start = now_seconds(), gen;
	const char *why;
	enum status st;

	st = life_read(L, profile, out);
	if (st != ST_OK)
		return st;
	gen = out->generation;
	if (out->expires_at)
		verbose("profile '%s': %llds left, renewal margin %llds",
			profile, (long long)(out->expires_at - start),
			(long long)life_renew_margin(out, min_ttl));
	if (!force && out->state == REC_OK && !out->orphan_id[0] &&
	    (why = no_renewal(out)))
		st = serve_unrenewable(out, start, min_ttl, why);
	else if (!force && !life_needs_renewal(out, start, min_ttl))
		return ST_OK;
	else if (!force && out->state == REC_INTERRUPTED && !out->parent[0])
		st = interrupted_msg(out);
	else if (!force && out->state == REC_OK && !out->orphan_id[0] &&
		 beyond_lifetime(out, min_ttl) != ST_OK)
		st = ST_AUTH;
	else if ((st = L->be->lock(profile, &lk)) == ST_OK) {
		/*
		 * Somebody may have renewed while we waited for the lock:
		 * read again.  A record rewritten cleanly since our first
		 * read is as fresh as a renewal could make it; otherwise
		 * renew if still due (a journal state always is).
		 */
		st = life_read(L, profile, out);
		if (st == ST_OK &&
		    (force ||
		     (!(out->generation != gen && out->state == REC_OK &&
			!out->orphan_id[0]) &&
		      life_needs_renewal(out, now_seconds(), min_ttl))))
			st = renew(L, out, depth + 1, &w);
		L->be->unlock(lk);
		if (st == ST_OK)
			st = usable(out, min_ttl);
	}
	if (st != ST_OK)
		record_clear(out);
	return st;
}

enum status life_parent(struct life *L, const struct record *r,
			struct record *p)
{
	return parent_token(L, r, p, 0);
}

enum status life_get(struct life *L, const char *profile, int64_t min_ttl,
		     int force, struct record *out)
{
	return get_depth(L, profile, min_ttl, force, out, 0);
}
