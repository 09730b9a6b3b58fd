/*
 * api_http.c: the libcurl side of the Astro API client.
 *
 * Every request gets the hardening of security.md section 7 afresh (the
 * easy handle is reset between requests, keeping only its connection
 * cache): HTTPS only, redirects never followed and any 3xx an error (the
 * redirect CVE series leaked exactly this kind of bearer token), peer and
 * host verification with TLS >= 1.2, no netrc, no compression, no signals,
 * no verbose output, bounded connect/total time and a low-speed cutoff,
 * and hard ceilings on body and header bytes enforced in our own
 * callbacks (CURLOPT_MAXFILESIZE is only a second layer: before 8.4.0 it
 * ignores bodies of unknown length).
 *
 * The Authorization header is built in secure memory; libcurl copies it
 * into its own list and buffers, so we wipe the list before freeing it,
 * and libcurl and OpenSSL wipe their copies (of the header and of the
 * answer) when they free them (api_mem.h).  Until then they are in the
 * ordinary heap: hence PR_SET_DUMPABLE=0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "helper/api/api_http.h"
#include "helper/api/api_json.h"
#include "helper/api/api_mem.h"
#include "helper/base/jwt.h"
#include "helper/base/log.h"

#ifndef ASTRO_CRED_VERSION
#define ASTRO_CRED_VERSION "0"
#endif

#define LOW_SPEED_BPS	100 /* below this many bytes/s ... */
#define LOW_SPEED_S	10  /* ... for this long: give up (slowloris) */
#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS	4000

/* One try of one request. */
struct attempt {
	struct secbuf *body;
	size_t header_bytes;
	int body_over, header_over;
	long retry_after; /* seconds, -1 if none or unusable */
	long status;
	int sent; /* the request may have left us */
	CURLcode rc;
	char content_type[128];
	char errbuf[CURL_ERROR_SIZE];
};

int64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

long http_retry_after(const char *v, int64_t now_s)
{
	char buf[64];
	size_t n;
	struct tm tm;
	const char *end;
	int64_t when;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, " \t\r\n");
	if (n == 0 || n >= sizeof(buf) || v[n + strspn(v + n, " \t\r\n")])
		goto date;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") == n) {
		/* More than 9 digits: far beyond any budget anyway. */
		return n > 9 ? 999999999L : strtol(buf, NULL, 10);
	}
date:
	n = strlen(v);
	while (n && strchr(" \t\r\n", v[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -1;
	when = (int64_t)timegm(&tm);
	if (when <= now_s)
		return 0;
	return when - now_s > 999999999L ? 999999999L : (long)(when - now_s);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct attempt *a = ud;
	size_t len = size * n;

	/* Returning less than len aborts with CURLE_WRITE_ERROR. */
	if (secbuf_append(a->body, p, len) < 0) {
		a->body_over = 1;
		return 0;
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct attempt *a = ud;
	size_t len = size * n;
	char val[64];

	if (len > API_HEADER_MAX - a->header_bytes) {
		a->header_over = 1;
		return 0;
	}
	a->header_bytes += len;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		a->retry_after = -1; /* a new response (after a 1xx) */
	} else if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		size_t vl =
		    len - 12 < sizeof(val) - 1 ? len - 12 : sizeof(val) - 1;

		memcpy(val, p + 12, vl);
		val[vl] = '\0';
		a->retry_after = http_retry_after(val, (int64_t)time(NULL));
	}
	return len;
}

/* Request headers; the Authorization line passes through secure memory. */
static struct curl_slist *make_headers(const char *bearer,
				       const struct http_req *rq)
{
	static const char prefix[] = "Authorization: Bearer ";
	size_t n = sizeof(prefix) - 1 + strlen(bearer);
	char *auth = secmem_alloc(n + 1);
	struct curl_slist *l = NULL, *t;

	memcpy(auth, prefix, sizeof(prefix) - 1);
	memcpy(auth + sizeof(prefix) - 1, bearer, strlen(bearer) + 1);
	const char *lines[] = {
	    "Accept: application/json",
	    "X-API-Version: 1.0",
	    "Expect:",
	    strcmp(rq->method, "POST") ? NULL
				       : "Content-Type: application/json",
	    auth,
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!lines[i])
			continue;
		t = curl_slist_append(l, lines[i]);
		if (!t)
			die_oom();
		l = t;
	}
	secmem_free(auth);
	return l;
}

static void free_headers(struct curl_slist *l)
{
	for (struct curl_slist *s = l; s; s = s->next)
		secmem_wipe(s->data, strlen(s->data));
	curl_slist_free_all(l);
}

static void set_hardening(CURL *h, const struct api_ctx *ctx, int64_t left)
{
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L);
	curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
	api_mem_tls(h);
	if (ctx->ca_file) {
		/* Replaces the system trust: the bundle and the directory. */
		curl_easy_setopt(h, CURLOPT_CAINFO, ctx->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(left < API_CONNECT_MS ? left : API_CONNECT_MS));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BPS);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_S);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)API_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_USERAGENT,
			 "astro-cred/" ASTRO_CRED_VERSION);
}

static void set_method(CURL *h, const struct http_req *rq)
{
	if (!strcmp(rq->method, "POST")) {
		const char *b = rq->body ? rq->body : "";

		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, b);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(b));
	} else if (!strcmp(rq->method, "DELETE")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	/*
	 * libcurl silently resends a request whose reused connection turns
	 * out dead before any answer.  That must never happen to a rotate:
	 * the server may have acted on the first copy.
	 */
	if (rq->mutating)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
}

static void attempt_run(struct api_ctx *ctx, const struct http_req *rq,
			struct curl_slist *hdrs, int64_t left,
			struct attempt *a, struct secbuf *body)
{
	CURL *h = ctx->curl;
	char *ct = NULL;
	curl_off_t req_size = 0, pretransfer = 0;

	memset(a, 0, sizeof(*a));
	a->body = body;
	a->retry_after = -1;
	curl_easy_reset(h);
	set_hardening(h, ctx, left);
	set_method(h, rq);
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	a->rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_size);
	curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
	a->sent = req_size > 0 || pretransfer > 0;
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(a->content_type, sizeof(a->content_type), "%s", ct);
	/* The handle must not keep pointers into this stack frame. */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	verbose("%s %s: curl %d, HTTP %ld, %zu body bytes", rq->method, rq->url,
		(int)a->rc, a->status, body->len);
}

static int tls_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION ||
	       rc == CURLE_SSL_CONNECT_ERROR ||
	       rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM ||
	       rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_ISSUER_ERROR ||
	       rc == CURLE_SSL_CRL_BADFILE;
}

static int retryable(const struct attempt *a)
{
	if (a->rc == CURLE_OK) {
		switch (a->status) {
		case 408:
		case 429:
		case 500:
		case 502:
		case 503:
		case 504:
			return 1;
		}
		return 0;
	}
	if (a->body_over || a->header_over || tls_error(a->rc))
		return 0;
	switch (a->rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/*
 * May rq be sent again after attempt a failed?  A GET or a DELETE
 * (rq->retry: sending it again cannot do more than the first did) after
 * any transient failure.  Any request, a POST too, when the server surely
 * did not act on it: it answered 429 (a rate limit refuses before acting),
 * or nothing of it left us (the connection was never made).  Never a POST
 * after a 5xx, a timeout or a lost answer: it may have taken effect, and a
 * rotate sent twice would leave us holding a dead token.
 */
static int may_retry(const struct http_req *rq, const struct attempt *a)
{
	if (!retryable(a))
		return 0;
	if (rq->retry)
		return 1;
	if (a->rc == CURLE_OK)
		return a->status == 429;
	return !a->sent && (a->rc == CURLE_COULDNT_RESOLVE_HOST ||
			    a->rc == CURLE_COULDNT_RESOLVE_PROXY ||
			    a->rc == CURLE_COULDNT_CONNECT);
}

/*
 * Full-jitter exponential backoff (sleep = rand(0, min(cap, base * 2^n)))
 * with Retry-After as a floor.  -1: the server wants longer than we wait.
 */
static int64_t backoff_ms(int try, long retry_after)
{
	uint32_t cap = BACKOFF_BASE_MS << (try - 1);
	int64_t wait;

	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	wait = randombytes_uniform(cap + 1);
	if (retry_after > API_RETRY_AFTER_MAX)
		return -1;
	if (retry_after >= 0 && retry_after * 1000L > wait)
		wait = retry_after * 1000L;
	return wait;
}

static enum status transport_fail(const struct api_ctx *ctx,
				  const struct http_req *rq,
				  const struct attempt *a, const char *note,
				  struct api_error *err)
{
	const char *detail =
	    a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->rc);

	err->maybe_committed = rq->mutating && a->sent;
	if (a->body_over || a->rc == CURLE_FILESIZE_EXCEEDED)
		return fail(ST_TRANSIENT,
			    "%s: the Astro API's answer exceeds "
			    "%d KiB; refused",
			    rq->what, API_BODY_MAX / 1024);
	if (a->header_over)
		return fail(ST_TRANSIENT,
			    "%s: the Astro API's answer headers "
			    "exceed %d KiB; refused",
			    rq->what, API_HEADER_MAX / 1024);
	if (a->rc == CURLE_OPERATION_TIMEDOUT)
		return fail(ST_TRANSIENT,
			    "%s: no complete answer from the "
			    "Astro API in time (budget %ld ms): %s%s",
			    rq->what, ctx->budget_ms, detail, note);
	if (tls_error(a->rc))
		return fail(ST_TRANSIENT,
			    "%s: TLS with the Astro API failed "
			    "(certificate not trusted?): %s",
			    rq->what, detail);
	return fail(ST_TRANSIENT, "%s: cannot talk to the Astro API: %s%s%s",
		    rq->what, detail, note,
		    err->maybe_committed ? " (after the request was sent: "
					   "it may have taken effect)"
					 : "");
}

static int is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	return !strncasecmp(ct, want, n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum status status_of(long s)
{
	if (s == 401 || s == 403)
		return ST_AUTH;
	if (s >= 400 && s < 500 && s != 408 && s != 429)
		return ST_API;
	return ST_TRANSIENT;
}

static enum status http_fail(const struct http_req *rq, const struct attempt *a,
			     const char *note, struct api_error *err)
{
	enum status st = status_of(a->status);
	const char *kind = "";

	if (a->status >= 300 && a->status < 400)
		kind = " (an unexpected redirect, not followed)";
	else if (a->status < 200 || a->status >= 600)
		kind = " (an unexpected status)";
	/* A 3xx, 5xx or odd status says nothing about whether it acted. */
	err->maybe_committed =
	    rq->mutating && (a->status < 400 || a->status >= 500);
	return fail(st, "%s: the Astro API answered HTTP %ld%s%s%s%s%s%s%s",
		    rq->what, a->status, kind, err->message[0] ? ": " : "",
		    err->message, err->request_id[0] ? " (requestId " : "",
		    err->request_id, err->request_id[0] ? ")" : "", note);
}

static enum status conclude(const struct api_ctx *ctx,
			    const struct http_req *rq, const struct attempt *a,
			    struct http_resp *rs, const char *note,
			    struct api_error *err)
{
	if (a->rc != CURLE_OK)
		return transport_fail(ctx, rq, a, note, err);
	rs->status = err->http_status = a->status;
	if (a->status >= 200 && a->status < 300) {
		if (rs->body.len && !is_json(a->content_type)) {
			char ct[64];

			log_sanitize(ct, sizeof(ct), a->content_type);
			err->maybe_committed = rq->mutating;
			return fail(ST_TRANSIENT,
				    "%s: the Astro API answered "
				    "HTTP %ld with Content-Type '%s', not JSON",
				    rq->what, a->status, ct);
		}
		return ST_OK;
	}
	api_json_parse_error((const char *)rs->body.data, rs->body.len, err);
	return http_fail(rq, a, note, err);
}

enum status http_request(struct api_ctx *ctx, const char *bearer,
			 const struct http_req *rq, struct http_resp *rs,
			 struct api_error *err)
{
	struct curl_slist *hdrs;
	struct attempt a;
	enum status st;
	char note[128] = "";

	memset(err, 0, sizeof(*err));
	if (!bearer || !jwt_alphabet_ok(bearer))
		return fail(ST_USAGE,
			    "%s: the token to authenticate with is "
			    "empty or has characters outside [A-Za-z0-9._-]",
			    rq->what);
	hdrs = make_headers(bearer, rq);
	for (int try = 1;; try++) {
		int64_t left = ctx->deadline - http_now_ms(), wait;

		if (left <= 0) {
			st = fail(ST_TRANSIENT,
				  "%s: the time budget for the "
				  "Astro API (%ld ms) is used up",
				  rq->what, ctx->budget_ms);
			break;
		}
		secbuf_clear(&rs->body);
		attempt_run(ctx, rq, hdrs, left, &a, &rs->body);
		if (try < API_TRIES && may_retry(rq, &a)) {
			wait = backoff_ms(try, a.retry_after);
			if (wait >= 0 && http_now_ms() + wait < ctx->deadline) {
				verbose("%s: retrying in %lld ms", rq->what,
					(long long)wait);
				sleep_ms(wait);
				continue;
			}
			if (a.retry_after >= 0)
				snprintf(note, sizeof(note),
					 "; it asks to "
					 "retry after %ld s, beyond the time "
					 "budget",
					 a.retry_after);
		}
		if (try > 1 && !note[0])
			snprintf(note, sizeof(note), " (after %d tries)", try);
		st = conclude(ctx, rq, &a, rs, note, err);
		break;
	}
	free_headers(hdrs);
	if (st != ST_OK)
		secbuf_clear(&rs->body);
	return st;
}

void http_resp_clear(struct http_resp *rs)
{
	secbuf_clear(&rs->body);
	rs->status = 0;
}
