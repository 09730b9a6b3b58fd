/*
 * api_http.h: one hardened HTTPS exchange with the Astro API, retries and
 * status mapping included (see api.h for the policy).  Private to net.so.
 */
#ifndef ASTRO_CRED_API_HTTP_H
#define ASTRO_CRED_API_HTTP_H

#include <stdint.h>

#include <curl/curl.h>

#include "helper/api/api.h"
#include "helper/base/secmem.h"

struct api_ctx {
	char *base;	  /* https://host[:port]/path, no trailing slash */
	char *ca_file;	  /* ASTRO_CRED_CA_FILE or NULL */
	int beta;	  /* the path ends in /iam/v1beta1 */
	long budget_ms;	  /* the whole budget, for messages */
	int64_t deadline; /* CLOCK_MONOTONIC ms when the budget ends */
	CURL *curl;	  /* reused across calls (connection reuse) */
	int global;	  /* holds a curl_global_init (api_mem) */
};

struct http_req {
	const char *what;   /* "get token": names the call in messages */
	const char *method; /* GET, POST or DELETE */
	const char *url;
	const char *body; /* POST JSON body or NULL (sent empty) */
	int retry;	  /* idempotent (GET, DELETE): resent after any
			     transient failure; others only after a 429 or
			     when nothing was sent */
	int mutating;	  /* may change state: sets maybe_committed */
};

struct http_resp {
	long status;
	struct secbuf body; /* secure memory: a body may carry a token */
};
/* clang-format off */
#define HTTP_RESP_INIT { 0, SECBUF_INIT(API_BODY_MAX) }
/* clang-format on */

/*
 * Perform rq with bearer (checked against the token alphabet), within
 * ctx's budget.  ST_OK only for a 2xx whose body is empty or JSON (by
 * Content-Type); anything else fills err, prints one message and returns
 * the mapped status.  rs->body holds the 2xx body.
 */
enum status http_request(struct api_ctx *ctx, const char *bearer,
			 const struct http_req *rq, struct http_resp *rs,
			 struct api_error *err);
void http_resp_clear(struct http_resp *rs);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t http_now_ms(void);

/*
 * Parse a Retry-After value: delta-seconds, or an HTTP-date (IMF-fixdate)
 * measured from now.  Returns seconds (>= 0), or -1 for anything else
 * (negative numbers and garbage are ignored, as curl does since 8.12).
 */
long http_retry_after(const char *v, int64_t now_s);

#endif
