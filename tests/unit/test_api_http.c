/*
 * Unit tests for the parts of the API client that need no server:
 * Retry-After parsing (H-07), and what api_ctx_new() accepts from the
 * environment (H-03: https only; the budget; v1beta1 detection).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "helper/api/api.h"
#include "helper/api/api_http.h"
#include "helper/base/secmem.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

static void test_retry_after(void)
{
	const int64_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */

	is_int(http_retry_after("2", now), 2, "seconds");
	is_int(http_retry_after(" 2\r\n", now), 2, "seconds, header padding");
	is_int(http_retry_after("0", now), 0, "zero");
	is_int(http_retry_after("86400", now), 86400, "a day (caller clamps)");
	is_int(http_retry_after("99999999999999", now), 999999999,
	       "huge saturates");
	is_int(http_retry_after("-5", now), -1, "negative ignored");
	is_int(http_retry_after("garbage", now), -1, "garbage ignored");
	is_int(http_retry_after("1.5", now), -1, "fraction ignored");
	is_int(http_retry_after("", now), -1, "empty ignored");
	is_int(http_retry_after("2 3", now), -1, "two numbers ignored");
	is_int(http_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", now), 5,
	       "HTTP-date ahead");
	is_int(http_retry_after("Tue, 14 Nov 2023 22:13:25 GMT\r\n", now), 5,
	       "HTTP-date with CRLF");
	is_int(http_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), 0,
	       "HTTP-date in the past: 0");
	is_int(http_retry_after("Tue, 14 Nov 2023 22:13:25 PST", now), -1,
	       "not GMT ignored");
	is_int(http_retry_after("Tue, 14 Nov 2023 22:13:25 GMT x", now), -1,
	       "trailing text ignored");
}

static enum status ctx_with(const char *url, const char *ms,
			    struct api_ctx **ctx, const char **err)
{
	enum status st;

	if (url)
		setenv("ASTRO_API_URL", url, 1);
	else
		unsetenv("ASTRO_API_URL");
	if (ms)
		setenv("ASTRO_CRED_API_TIMEOUT_MS", ms, 1);
	else
		unsetenv("ASTRO_CRED_API_TIMEOUT_MS");
	capture_begin();
	st = api_ctx_new(ctx);
	*err = capture_text();
	return st;
}

static void url_refused(const char *url, const char *name)
{
	struct api_ctx *ctx = (struct api_ctx *)1;
	const char *err;

	ok(ctx_with(url, NULL, &ctx, &err) == ST_USAGE && ctx == NULL &&
	       strstr(err, "ASTRO_API_URL"),
	   "refused (ST_USAGE): %s", name);
}

static void test_ctx(void)
{
	struct api_ctx *ctx = NULL;
	const char *err;
	char long_url[600];

	unsetenv("ASTRO_CRED_CA_FILE");
	ok(ctx_with(NULL, NULL, &ctx, &err) == ST_OK, "defaults");
	is_str(ctx->base, API_DEFAULT_URL, "default base URL");
	is_int(ctx->budget_ms, API_BUDGET_MS, "default budget");
	is_int(ctx->beta, 0, "v1 by default");
	ok(ctx->ca_file == NULL, "system trust by default");
	api_ctx_free(ctx);

	ok(ctx_with("https://127.0.0.1:8443/iam/v1beta1//", "1500", &ctx,
		    &err) == ST_OK,
	   "a v1beta1 base with trailing slashes");
	is_str(ctx->base, "https://127.0.0.1:8443/iam/v1beta1",
	       "trailing slashes dropped");
	is_int(ctx->beta, 1, "v1beta1 detected");
	is_int(ctx->budget_ms, 1500, "budget from the environment");
	api_ctx_free(ctx);
	ok(ctx_with("HTTPS://api.example.test/v1", NULL, &ctx, &err) == ST_OK,
	   "scheme case-insensitive");
	api_ctx_free(ctx);

	url_refused("http://api.astronomer.io/v1", "http://");
	url_refused("ftp://api.astronomer.io/v1", "ftp://");
	url_refused("file:///etc/passwd", "file://");
	url_refused("api.astronomer.io/v1", "no scheme");
	url_refused("https://", "no host");
	url_refused("https:///v1", "empty host");
	url_refused("https://u:p@api.astronomer.io/v1", "credentials");
	url_refused("https://api.astronomer.io/v1?x=1", "query");
	url_refused("https://api.astronomer.io/v1#f", "fragment");
	url_refused("https://api.astronomer.io/v1\n", "newline");
	url_refused("https://api.astronomer.io/ v1", "space");
	memset(long_url, 'a', sizeof(long_url) - 1);
	memcpy(long_url, "https://", 8);
	long_url[sizeof(long_url) - 1] = '\0';
	url_refused(long_url, "longer than 511");

	ok(ctx_with(NULL, "99", &ctx, &err) == ST_USAGE && !ctx,
	   "budget below 100 ms refused");
	ok(ctx_with(NULL, "600001", &ctx, &err) == ST_USAGE,
	   "budget above 600 s refused");
	ok(ctx_with(NULL, "2s", &ctx, &err) == ST_USAGE, "budget '2s' refused");
	ok(ctx_with(NULL, "-5", &ctx, &err) == ST_USAGE, "negative refused");
	setenv("ASTRO_CRED_CA_FILE", "/nonexistent/ca.pem", 1);
	ok(ctx_with(NULL, NULL, &ctx, &err) == ST_USAGE &&
	       strstr(err, "ASTRO_CRED_CA_FILE"),
	   "unreadable CA file refused");
	unsetenv("ASTRO_CRED_CA_FILE");
	unsetenv("ASTRO_API_URL");
	unsetenv("ASTRO_CRED_API_TIMEOUT_MS");
	api_ctx_free(NULL);
}

static void test_no_network_on_bad_args(void)
{
	struct api_ctx *ctx = NULL;
	struct api_token t = API_TOKEN_INIT;
	struct api_token_list l = API_TOKEN_LIST_INIT;
	struct api_error e;
	struct api_list_filter f = {NULL, NULL, NULL, 0, 0};
	const char *err;

	/* Port 1 on loopback: anything that got through would fail (5). */
	if (ctx_with("https://127.0.0.1:1/v1", "1000", &ctx, &err) != ST_OK)
		return;
	capture_begin();
	is_int(api_token_get(ctx, "a.b.c", "org", "../x", &t, &e), ST_USAGE,
	       "bad token id");
	is_int(api_token_get(ctx, "a b", "org", "x", &t, &e), ST_USAGE,
	       "bearer with a space");
	is_int(api_token_get(ctx, "a.b\r\nX-Evil: 1", "org", "x", &t, &e),
	       ST_USAGE, "bearer with CRLF (header injection)");
	is_int(api_token_get(ctx, "", "org", "x", &t, &e), ST_USAGE,
	       "empty bearer");
	is_int(api_token_rotate(ctx, "a.b.c", "o/rg", "x", &t, &e), ST_USAGE,
	       "bad organization");
	is_int(api_agent_get(ctx, "a.b.c", "org", "d?x", "x", &t, &e), ST_USAGE,
	       "bad deployment");
	f.page_size = 1001;
	is_int(api_token_list(ctx, "a.b.c", "org", &f, &l, &e), ST_USAGE,
	       "page size 1001");
	f.page_size = 0;
	f.workspace_id = "w&x=1";
	is_int(api_token_list(ctx, "a.b.c", "org", &f, &l, &e), ST_USAGE,
	       "filter with query characters");
	f.workspace_id = "w1";
	is_int(api_agent_list(ctx, "a.b.c", "org", "dep", &f, &l, &e), ST_USAGE,
	       "agent list takes no filters");
	is_int(api_token_get(ctx, "a.b.c", "org", "x", &t, &e), ST_TRANSIENT,
	       "control: a valid call reaches the (closed) port");
	err = capture_text();
	ok(e.http_status == 0 && !e.maybe_committed,
	   "connection refused: no status, nothing committed");
	ok(!strstr(err, "a.b.c"), "the bearer never appears in messages");
	ok(api_ops.token_get == api_token_get &&
	       api_ops.agent_list == api_agent_list &&
	       api_ops.ctx_new == api_ctx_new,
	   "api_ops table points at the functions");
	api_ctx_free(ctx);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_retry_after();
	test_ctx();
	test_no_network_on_bad_args();
	return done_testing();
}
