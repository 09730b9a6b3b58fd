/*
 * jwt.h: what an Astro API token says about itself, without the network.
 *
 * Astro API tokens are JWTs.  Like the Astro CLI we read the claims
 * WITHOUT verifying the signature: we hold no key to verify it with, and
 * the API verifies every token it is shown.  So these claims are hints for
 * choosing a profile, an expiry and the id to ask the API about; nothing
 * here may grant or widen access.  Confirm them with GET .../tokens/{id}.
 */
#ifndef ASTRO_CRED_JWT_H
#define ASTRO_CRED_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "helper/base/status.h"

/* Longest token we accept (real ones are about 1 KiB). */
#define JWT_TOKEN_MAX 8192
/* Longest id kept from a claim, plus its NUL. */
#define JWT_ID_MAX 129

struct jwt_claims {
	char token_id[JWT_ID_MAX]; /* apiTokenId ("" if absent) */
	char org_id[JWT_ID_MAX];   /* org_id, else organizationId: permission */
	char organization_id[JWT_ID_MAX]; /* permissions organizationId:... */
	char workspace_id[JWT_ID_MAX];	  /* permissions workspaceId:... */
	char deployment_id[JWT_ID_MAX];	  /* permissions deploymentId:... */
	int64_t iat;			  /* issued at, 0 if absent */
	int64_t exp;			  /* expiry, 0 = never */
	int has_exp;
};

/*
 * Decode the claims of token (header.payload.signature, base64url without
 * padding, both JSON objects parsed strictly).  Malformed: ST_USAGE after
 * one message that never quotes the token.  Ids are [A-Za-z0-9_-]; the
 * first of each permission kind wins.  Not verified: see the top of file.
 */
enum status jwt_claims(const char *token, struct jwt_claims *out);

/*
 * Is s a non-empty string of [A-Za-z0-9._-] only, at most JWT_TOKEN_MAX
 * bytes?  The env/kv emitters and the Authorization header rely on it.
 */
int jwt_alphabet_ok(const char *s);

#endif
