/*
 * api.h: the Astro API client (module net.so; libcurl + cJSON).
 *
 * The token operations of the Astro Platform API v1 (and the deprecated
 * iam/v1beta1, whose scope field is called "type"), over HTTPS only, with
 * the libcurl hardening of security.md section 7.  The executable reaches
 * these through the api_ops table (see helper/net.h: api_load()); unit
 * tests and tests/tools link them directly.
 *
 * Outcomes (every function prints one message where it fails, naming the
 * HTTP status, Astro's sanitized "message" and its "requestId"; never a
 * token, never the body):
 *
 *   ST_OK         2xx with a well-formed body
 *   ST_USAGE      a bad argument or environment: ASTRO_API_URL not
 *                 https://, an id outside [A-Za-z0-9_-]{1,128}, a bearer
 *                 outside the token alphabet, an unreadable CA file
 *   ST_AUTH       401 or 403
 *   ST_API        any other 4xx (400, 404, 409, ...) except 408 and 429
 *   ST_TRANSIENT  the API could not be reached or did not answer properly:
 *                 connection/TLS failures, timeouts and the time budget,
 *                 408/429/5xx (after the retries GET allows), any 3xx
 *                 (redirects are never followed: they would carry the
 *                 token), 1xx/unknown statuses, a 2xx that is not JSON
 *                 (a captive portal), is malformed or misses a required
 *                 field, and a body over API_BODY_MAX.
 *
 * Malformed answers count as transient rather than ST_API: what answers
 * with HTML or garbage is most often something between us and Astro, and
 * for a POST it means the outcome is unknown (see maybe_committed).
 *
 * Retries: at most API_TRIES attempts, with full-jitter exponential
 * backoff and Retry-After as a floor, all within the budget.  GETs (get,
 * list) and DELETEs, which sending again cannot make do more, are retried
 * on transport errors, 408, 429, 500, 502, 503 and 504.  POSTs (create,
 * rotate) are retried only when the server surely did not act: after a
 * 429, or when the connection was never made; never after a 5xx, a
 * timeout or a lost answer.  Mutating requests go on a fresh connection
 * (libcurl would otherwise resend a request whose reused connection died).
 *
 * Environment (read by api_ctx_new):
 *   ASTRO_API_URL              base URL, default https://api.astronomer.io/v1
 *   ASTRO_CRED_CA_FILE         a PEM bundle to trust INSTEAD of the
 *                              system's (libcurl's CAINFO replaces)
 *   ASTRO_CRED_API_TIMEOUT_MS  the whole budget of one command for all
 *                              API calls, retries and waits included
 *                              (default 30000, 100..600000); every single
 *                              request is also capped at it
 */
#ifndef ASTRO_CRED_API_H
#define ASTRO_CRED_API_H

#include <stddef.h>
#include <stdint.h>

#include "helper/base/status.h"

/* clang-format off */
#define API_DEFAULT_URL "https://api.astronomer.io/v1"
#define API_BODY_MAX (64 * 1024)   /* response body ceiling */
#define API_HEADER_MAX (16 * 1024) /* response header bytes ceiling */
#define API_BUDGET_MS 30000        /* default whole-command budget */
#define API_CONNECT_MS 5000        /* connect timeout (within the budget) */
#define API_TRIES 3                /* attempts for a GET */
#define API_RETRY_AFTER_MAX 30     /* longest Retry-After we wait, s */
#define API_LIST_MAX 10000         /* tokens one list may return */
#define API_PAGE_DEFAULT 40        /* tokens per page (fits the body cap) */
#define API_ID_MAX 128             /* ids in paths and queries */
/* clang-format on */

struct api_ctx;

struct api_error {
	long http_status;    /* 0 when no HTTP answer was read */
	char message[256];   /* Astro's "message", already sanitized */
	char request_id[96]; /* Astro's "requestId", sanitized */
	int maybe_committed; /* a POST may have taken effect: the answer
				was lost, a 5xx, or malformed */
};

struct api_role {
	char *entity_id, *entity_type, *role;
	char *deployment_id; /* NULL unless given */
};

/*
 * A token as the API describes it.  Strings are heap copies (NULL when
 * the API left an optional one out); description may hold TAB and LF.
 * token (the secret) is in secure memory and only set by create/rotate.
 * Times are Unix seconds; 0 where absent (end_at 0: never expires).
 */
struct api_token {
	char *id, *name, *description, *short_token, *kind;
	char *scope;	  /* ORGANIZATION|WORKSPACE|DEPLOYMENT|...; "type"
			     in v1beta1 */
	char *created_by; /* createdBy.id, or NULL */
	int64_t start_at, end_at, created_at, updated_at, last_used_at,
	    last_rotated_at;
	int expiry_days; /* expiryPeriodInDays, 0 if none */
	struct api_role *roles;
	size_t nroles;
	char *token;	     /* the secret; secmem */
	char *deployment_id; /* agent tokens: the deployment of the path */
	int agent;	     /* came from an agent-token endpoint */
};
/* clang-format off */
#define API_TOKEN_INIT { 0 }
/* clang-format on */

struct api_token_list {
	struct api_token *v;
	size_t n;
};
/* clang-format off */
#define API_TOKEN_LIST_INIT { NULL, 0 }
/* clang-format on */

/* Create request.  scope/role/entity_id/kind unused for agent tokens. */
struct api_create {
	const char *name;	 /* required, 1..256 */
	const char *description; /* optional, <= 500 */
	const char *scope;	 /* ORGANIZATION|WORKSPACE|DEPLOYMENT */
	const char *role;	 /* required for /tokens */
	const char *entity_id;	 /* WORKSPACE and DEPLOYMENT scopes */
	const char *kind;	 /* optional: STANDARD|DIRECT_ACCESS */
	int expiry_days;	 /* 0: never expires; else 1..3650 */
};

/* List filters; NULL/0 fields are not sent. */
struct api_list_filter {
	const char *workspace_id, *deployment_id, *kind;
	int org_only;	    /* includeOnlyOrganizationTokens=true */
	unsigned page_size; /* 0: API_PAGE_DEFAULT; 1..1000 */
};

/*
 * Read the environment (see above), start the time budget and make a
 * libcurl handle.  ST_USAGE for a bad URL, CA file or timeout value.
 */
enum status api_ctx_new(struct api_ctx **out);
void api_ctx_free(struct api_ctx *ctx);

/* Free everything a token holds (wiping the secret); reset to INIT. */
void api_token_clear(struct api_token *t);
void api_token_list_clear(struct api_token_list *l);

/* GET .../tokens/{id} (retried). */
enum status api_token_get(struct api_ctx *ctx, const char *bearer,
			  const char *org, const char *id,
			  struct api_token *out, struct api_error *err);
/*
 * POST .../tokens/{id}/rotate.  Never sent again once the server may have
 * acted (only after a 429 or no connection): the old secret dies when it
 * acts.  out->token holds the new secret on success.
 */
enum status api_token_rotate(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *id,
			     struct api_token *out, struct api_error *err);
/* POST .../tokens (retried as rotate); out->token is the new secret. */
enum status api_token_create(struct api_ctx *ctx, const char *bearer,
			     const char *org, const struct api_create *req,
			     struct api_token *out, struct api_error *err);
/* DELETE .../tokens/{id} (204; retried). */
enum status api_token_delete(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *id,
			     struct api_error *err);
/* GET .../tokens, every page (retried per page), duplicates dropped. */
enum status api_token_list(struct api_ctx *ctx, const char *bearer,
			   const char *org, const struct api_list_filter *f,
			   struct api_token_list *out, struct api_error *err);

/* The same for agent tokens of deployment dep (no rotate: replace). */
enum status api_agent_get(struct api_ctx *ctx, const char *bearer,
			  const char *org, const char *dep, const char *id,
			  struct api_token *out, struct api_error *err);
enum status api_agent_create(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *dep,
			     const struct api_create *req,
			     struct api_token *out, struct api_error *err);
enum status api_agent_delete(struct api_ctx *ctx, const char *bearer,
			     const char *org, const char *dep, const char *id,
			     struct api_error *err);
/* Filters other than page_size do not apply to agent tokens. */
enum status api_agent_list(struct api_ctx *ctx, const char *bearer,
			   const char *org, const char *dep,
			   const struct api_list_filter *f,
			   struct api_token_list *out, struct api_error *err);

/* What net.so exports as "api_ops"; see helper/net.h. */
struct api_ops {
	enum status (*ctx_new)(struct api_ctx **out);
	void (*ctx_free)(struct api_ctx *ctx);
	void (*token_clear)(struct api_token *t);
	void (*token_list_clear)(struct api_token_list *l);
	enum status (*token_get)(struct api_ctx *, const char *bearer,
				 const char *org, const char *id,
				 struct api_token *, struct api_error *);
	enum status (*token_rotate)(struct api_ctx *, const char *bearer,
				    const char *org, const char *id,
				    struct api_token *, struct api_error *);
	enum status (*token_create)(struct api_ctx *, const char *bearer,
				    const char *org, const struct api_create *,
				    struct api_token *, struct api_error *);
	enum status (*token_delete)(struct api_ctx *, const char *bearer,
				    const char *org, const char *id,
				    struct api_error *);
	enum status (*token_list)(struct api_ctx *, const char *bearer,
				  const char *org,
				  const struct api_list_filter *,
				  struct api_token_list *, struct api_error *);
	enum status (*agent_get)(struct api_ctx *, const char *bearer,
				 const char *org, const char *dep,
				 const char *id, struct api_token *,
				 struct api_error *);
	enum status (*agent_create)(struct api_ctx *, const char *bearer,
				    const char *org, const char *dep,
				    const struct api_create *,
				    struct api_token *, struct api_error *);
	enum status (*agent_delete)(struct api_ctx *, const char *bearer,
				    const char *org, const char *dep,
				    const char *id, struct api_error *);
	enum status (*agent_list)(struct api_ctx *, const char *bearer,
				  const char *org, const char *dep,
				  const struct api_list_filter *,
				  struct api_token_list *, struct api_error *);
};

extern const struct api_ops api_ops;

#endif
