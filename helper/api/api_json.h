/*
 * api_json.h: the Astro API's JSON, as pure functions (no network), so the
 * unit tests (J-01..J-09) and the fuzzer reach every byte of the mapping.
 * Part of net.so.  Responses go through json_parse_strict(); unknown keys
 * are ignored, known ones must have their documented type.
 */
#ifndef ASTRO_CRED_API_JSON_H
#define ASTRO_CRED_API_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "helper/api/api.h"

/* How a body is read. */
struct api_json_opts {
	int beta;	  /* v1beta1: the scope field is named "type" */
	int want_secret;  /* create/rotate: "token" is required */
	const char *what; /* prefix of messages; NULL: "the API's answer" */
};

/*
 * Map one ApiToken object into out (cleared first; cleared again on
 * failure).  Required: id, name, description, shortToken, scope (or type),
 * kind, startAt, createdAt, updatedAt.  Returns 0, or -1 after one
 * message naming the field ("<what>: field 'id' is missing").
 */
int api_json_token(const cJSON *obj, const struct api_json_opts *o,
		   struct api_token *out);

/* Parse a whole body (len bytes, body[len] == '\0') holding one token. */
int api_json_parse_token(const char *body, size_t len,
			 const struct api_json_opts *o, struct api_token *out);

/*
 * Parse one page of ApiTokensPaginated and append its tokens to out.
 * *total is totalCount, *offset the page's offset, *count the number of
 * tokens on the page.  -1 after a message; out keeps earlier pages.
 */
int api_json_parse_page(const char *body, size_t len,
			const struct api_json_opts *o,
			struct api_token_list *out, int64_t *total,
			int64_t *offset, size_t *count);

/*
 * Take "message" and "requestId" from an Error body into err (sanitized,
 * truncated), if the body is such an object; otherwise leave them empty.
 * Never fails, never prints, never copies anything else of the body.
 */
void api_json_parse_error(const char *body, size_t len, struct api_error *err);

/*
 * Check req and encode a CreateApiTokenRequest (agent: a
 * CreateAgentTokenRequest) as compact JSON; cJSON_free() it.  NULL after
 * a message if req is invalid (name 1..256, description <= 500, a known
 * scope and kind, an entity for WORKSPACE/DEPLOYMENT, expiry 0..3650).
 */
char *api_json_create_body(const struct api_create *req, int agent, int beta);

/* Is s a path/query-safe id: [A-Za-z0-9_-]{1,API_ID_MAX}? */
int api_id_ok(const char *s);

#endif
