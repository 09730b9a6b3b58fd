/*
 * life_int.h: what the token's life shares among its own files
 * (lifecycle.c: reading, renewing; lifecycle_store.c: store, create,
 * erase; life_api.c: the API calls that depend on the kind of token).
 * The commands see lifecycle.h only (tests/layering checks that).
 */
#ifndef ASTRO_CRED_LIFE_INT_H
#define ASTRO_CRED_LIFE_INT_H

#include <stdint.h>

#include "helper/api/api.h"
#include "helper/life/lifecycle.h"

/* Make sure the API module is loaded and a context exists. */
enum status life_api(struct life *L);
/* Free what the API gave (accepts a life whose API never loaded). */
void life_token_clear(struct life *L, struct api_token *t);

/* Encode r (generation + 1, stored_at now) and put it in the backend. */
enum status life_write(struct life *L, struct record *r);
/* Set r's token, id and times from a token the API just issued. */
enum status life_apply_token(struct record *r, const char *tok, const char *id);
/* Delete token id of r's kind at the API, acting with bearer; 404 is ok. */
enum status life_delete_token(struct life *L, const struct record *r,
			      const char *bearer, const char *id);
int life_is_agent(const struct record *r);
/* The parent's record, fresh enough to act for r. */
enum status life_parent(struct life *L, const struct record *r,
			struct record *p);

/*
 * A rotate_before value: "N%" of the lifetime (N 1 to 99, no leading
 * zero) into *pct, or a duration into *secs (*pct then 0).  0, or -1 when
 * it is neither.
 */
int life_rotate_before(const char *s, int *pct, int64_t *secs);

/*
 * The calls whose endpoint depends on the kind of token: with dep set,
 * the agent tokens of that deployment; else the organization's /tokens.
 * life_agent_dep() gives dep for a record's token.  These are the one
 * place that tells the two apart.
 */
const char *life_agent_dep(const struct record *r);
enum status life_api_list(struct life *L, const char *bearer, const char *org,
			  const char *dep, const struct api_list_filter *f,
			  struct api_token_list *out, struct api_error *e);
enum status life_api_create(struct life *L, const char *bearer, const char *org,
			    const char *dep, const struct api_create *c,
			    struct api_token *out, struct api_error *e);
enum status life_api_delete(struct life *L, const char *bearer, const char *org,
			    const char *dep, const char *id,
			    struct api_error *e);

#endif
