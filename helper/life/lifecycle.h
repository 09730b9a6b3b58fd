/*
 * lifecycle.h: a token's life: store, read, renew before expiry exactly
 * once across processes, and never lose the only valid token.
 *
 * The rules (README "Renewal"; contract.md section 7):
 *
 *  - A fresh token is served from the store with no lock and no network.
 *  - A stale one is renewed under the profile's lock (the backend's, see
 *    backends/backend.h): after
 *    taking it we re-read the store and renew only if still stale, so N
 *    concurrent callers cause one renewal and all print the same token.
 *  - With a parent profile (a token allowed to manage this one) renewal is
 *    a replacement: record the intent, create a new token with the same
 *    name, description, scope, entity, role and period, persist it, then
 *    delete the old one.  A valid token is in the store at every instant;
 *    a crash leaves at worst an orphan, which the next run finds and
 *    deletes.  Agent tokens cannot be rotated, so they are always
 *    replaced, and need a parent to be renewed at all.
 *  - When no renewal is possible (rotate=never, an Agent token without a
 *    parent) the token is served while valid for min_ttl, else ST_AUTH
 *    naming the cause: never a dead token.
 *  - Without a parent the token rotates itself in place: the intent is
 *    persisted before the POST, the answer is persisted before anything is
 *    printed, and the POST is never sent twice.  If the answer is lost we
 *    ask the API whether the old token still works: if so nothing happened
 *    (exit 5, safe to retry); if not the profile is marked interrupted and
 *    every later `get` exits 4 with a recovery message.
 */
#ifndef ASTRO_CRED_LIFECYCLE_H
#define ASTRO_CRED_LIFECYCLE_H

#include <stdint.h>

#include "backends/backend.h"
#include "helper/life/record.h"

struct api_ctx;
struct api_ops;

struct life {
	const struct backend *be;
	const struct api_ops *api;
	struct api_ctx *ctx;
};
#define LIFE_INIT                                                              \
	{                                                                      \
		NULL, NULL, NULL                                               \
	}

/*
 * The backend astro-cred uses here: ASTRO_CRED_BACKEND, else the config
 * file's `backend`, else auto (see backend_select).  ST_USAGE for an
 * unknown name or a malformed config file.
 */
enum status life_backend(const struct backend **out);

/* Choose the backend (life_backend); the API is loaded on first need. */
enum status life_open(struct life *L);
/*
 * Free the API context and have the backend forget every key it caches
 * (called before an exec, too).  Accepts a life that never opened.
 */
void life_close(struct life *L);

/* Read and decode PROFILE's record (no lock, no network). */
enum status life_read(struct life *L, const char *profile, struct record *r);

/*
 * The profile's record with a token valid for at least min_ttl seconds,
 * renewing first when the policy says so (or always when force is set:
 * `rotate`).  An interrupted profile is ST_AUTH with the recovery message.
 */
enum status life_get(struct life *L, const char *profile, int64_t min_ttl,
		     int force, struct record *out);

/* Options of `store` (request attributes, command line winning). */
struct store_req {
	const char *profile, *token, *parent, *rotate, *rotate_before;
	int verify;
};
/* Validate, verify with the API unless told not to, and persist. */
enum status life_store(struct life *L, const struct store_req *req);

/* Forget PROFILE; with revoke, delete the token at the API first. */
enum status life_erase(struct life *L, const char *profile, int revoke);

/* Options of `create`. */
struct create_req {
	const char *profile, *from, *scope, *entity, *role, *name, *desc;
	int expiry_days;
};
enum status life_create(struct life *L, const struct create_req *req);

/*
 * Seconds before expiry at which renewal starts: max(min_ttl, policy),
 * policy = rotate_before (DUR or N% of the lifetime) or, by default, a
 * fifth of the lifetime and at least 5 minutes.
 */
int64_t life_renew_margin(const struct record *r, int64_t min_ttl);
/* Does r need renewal at time now for a caller needing min_ttl? */
int life_needs_renewal(const struct record *r, int64_t now, int64_t min_ttl);

/*
 * The state `list` shows for r at time now: its journal state, or
 * "expired" for an expired token that nothing can renew (renewal off, or
 * no parent: a token cannot rotate itself once expired).
 */
const char *life_state_label(const struct record *r, int64_t now);

struct api_list_filter;
struct api_token_list;
/*
 * The tokens the API lists, asked with me's token in me's organization:
 * the agent tokens of deployment agent_dep when it is set, else /tokens
 * with filter f.  Free the list with life_token_list_clear().
 */
enum status life_list_tokens(struct life *L, const struct record *me,
			     const char *agent_dep,
			     const struct api_list_filter *f,
			     struct api_token_list *out);
void life_token_list_clear(struct life *L, struct api_token_list *l);

#endif
