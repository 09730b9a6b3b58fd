/*
 * Unit tests for helper/api/api_json.c: the Astro API's JSON to structs and
 * back, J-01..J-09 of security.md 2.6, and L-05 (a malformed answer that
 * carries a token never echoes it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "helper/api/api_json.h"
#include "helper/base/json_strict.h"
#include "helper/base/secmem.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

#define T_BASE                                                                 \
	"\"id\":\"clm8q7f6q000008lcgyougpsk\",\"name\":\"ci\","                \
	"\"description\":\"line1\\nline2\",\"shortToken\":\"abc\","            \
	"\"kind\":\"STANDARD\",\"startAt\":\"2022-11-22T04:37:12Z\","          \
	"\"createdAt\":\"2022-11-22T04:37:12Z\","                              \
	"\"updatedAt\":\"2022-11-23T04:37:12.5Z\""
#define T_V1   T_BASE ",\"scope\":\"DEPLOYMENT\""
#define SECRET "eyJhbGciOiJSUzI1NiJ9.eyJ9.c2ln-_"

static const struct api_json_opts v1 = {0, 0, NULL}, v1s = {0, 1, NULL},
				  beta = {1, 0, NULL}, betas = {1, 1, NULL};

static int parse_quiet(const char *body, const struct api_json_opts *o,
		       struct api_token *t, const char **err)
{
	int r;

	capture_begin();
	r = api_json_parse_token(body, strlen(body), o, t);
	*err = capture_text();
	return r;
}

static void test_full_token(void)
{
	struct api_token t;
	const char *err;
	const char *body =
	    "{" T_V1 ",\"endAt\":\"2100-01-01T00:00:00Z\","
	    "\"expiryPeriodInDays\":30,\"lastUsedAt\":\"2023-01-01T00:00:00Z\","
	    "\"lastRotatedAt\":\"2023-01-02T00:00:00Z\","
	    "\"createdBy\":{\"id\":\"user1\",\"subjectType\":\"USER\"},"
	    "\"updatedBy\":{\"id\":\"user2\"},"
	    "\"roles\":[{\"entityId\":\"dep1\",\"entityType\":\"DEPLOYMENT\","
	    "\"role\":\"DEPLOYMENT_ADMIN\"},{\"entityId\":\"dag1\","
	    "\"entityType\":\"DAG\",\"role\":\"DAG_VIEWER\","
	    "\"deploymentId\":\"dep1\"}],"
	    "\"token\":\"" SECRET "\",\"unknownField\":{\"x\":[1]}}";

	ok(parse_quiet(body, &v1s, &t, &err) == 0, "full token parses");
	is_str(err, "", "quietly");
	is_str(t.id, "clm8q7f6q000008lcgyougpsk", "id");
	is_str(t.name, "ci", "name");
	is_str(t.description, "line1\nline2", "description keeps LF");
	is_str(t.short_token, "abc", "shortToken");
	is_str(t.scope, "DEPLOYMENT", "scope");
	is_str(t.kind, "STANDARD", "kind");
	is_int(t.start_at, 1669091832, "startAt");
	is_int(t.updated_at, 1669091832 + 86400, "fractional updatedAt");
	is_int(t.end_at, 4102444800LL, "endAt");
	is_int(t.expiry_days, 30, "expiryPeriodInDays");
	is_int(t.last_used_at, 1672531200, "lastUsedAt");
	is_int(t.last_rotated_at, 1672617600, "lastRotatedAt");
	is_str(t.created_by, "user1", "createdBy.id");
	is_int(t.nroles, 2, "two roles");
	is_str(t.roles[0].entity_type, "DEPLOYMENT", "role 0 type");
	ok(t.roles[0].deployment_id == NULL, "role 0 no deploymentId");
	is_str(t.roles[1].deployment_id, "dep1", "role 1 deploymentId");
	is_str(t.token, SECRET, "secret copied");
	api_token_clear(&t);
	ok(t.id == NULL && t.token == NULL && t.roles == NULL, "clear resets");
	api_token_clear(&t);
	api_token_clear(NULL);

	ok(parse_quiet("{" T_V1 "}", &v1, &t, &err) == 0,
	   "minimal token parses");
	ok(t.end_at == 0 && t.token == NULL && t.nroles == 0 &&
	       t.created_by == NULL,
	   "optional fields absent: zero/NULL");
	api_token_clear(&t);
	ok(parse_quiet("{" T_V1 ",\"endAt\":null,\"roles\":null}", &v1, &t,
		       &err) == 0 &&
	       t.end_at == 0,
	   "null optional fields are absent");
	api_token_clear(&t);
}

/* "{" T_V1 "}" with the first `from` replaced by `to`. */
static const char *with(const char *from, const char *to)
{
	static char out[2048];
	const char *base = "{" T_V1 "}";
	const char *p = strstr(base, from);

	snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - base), base, to,
		 p + strlen(from));
	return out;
}

/* body must be refused; the message must name want (a field). */
static void refused(const char *body, const struct api_json_opts *o,
		    const char *want, const char *name)
{
	struct api_token t;
	const char *err;
	int r = parse_quiet(body, o, &t, &err);

	ok(r < 0 && strstr(err, want) && t.id == NULL && t.token == NULL,
	   "refused: %s", name);
	if (r == 0 || !strstr(err, want))
		printf("#   stderr: %s", err);
	api_token_clear(&t);
}

static void test_j_cases(void)
{
	char deep[2600];
	size_t n = 0;

	refused("{" T_V1 ",\"token\":\"abc\\u0000evil\"}", &v1s, "\\u0000",
		"J-01 token with \\u0000");
	refused("{" T_V1 ",\"token\":\"abc\\u001b[2J\"}", &v1s, "token",
		"J-01 token with ESC");
	refused("{" T_V1 ",\"token\":\"a'$(touch x)'\"}", &v1s, "token",
		"token outside the alphabet (S-01)");
	refused(with("\"ci\"", "\"a\\u0007b\""), &v1, "name",
		"J-01 control char in name");
	refused("{" T_V1 ",\"token\":\"FIRST\",\"token\":\"SECOND\"}", &v1s,
		"duplicate", "J-02 duplicate token");
	refused("{" T_V1 ",\"id\":\"other\"}", &v1, "duplicate",
		"J-02 duplicate id");
	refused("{" T_V1 ",\"roles\":[{\"entityId\":\"a\",\"entityId\":\"b\","
		"\"entityType\":\"X\",\"role\":\"R\"}]}",
		&v1, "duplicate", "J-02 duplicate inside roles");
	refused("{" T_BASE ",\"Scope\":\"DEPLOYMENT\"}", &v1, "'scope'",
		"J-03 Scope is not scope");
	refused("{" T_V1 ",\"expiryPeriodInDays\":1e400}", &v1,
		"expiryPeriodInDays", "J-04 1e400");
	refused("{" T_V1 ",\"expiryPeriodInDays\":4102444800}", &v1,
		"expiryPeriodInDays", "J-05 out of range");
	refused("{" T_V1 ",\"expiryPeriodInDays\":1.5}", &v1,
		"expiryPeriodInDays", "fractional number");
	refused("{" T_V1 "} trailing", &v1, "not valid JSON",
		"J-06 trailing garbage");
	refused(with("\"ci\"", "\"\xc3\x28\""), &v1, "UTF-8",
		"J-07 invalid UTF-8");
	for (int i = 0; i < 1100; i++)
		deep[n++] = '[';
	for (int i = 0; i < 1100; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	refused(deep, &v1, "not valid JSON", "J-08 deep nesting");
	refused("{" T_V1 ",\"token\":12345}", &v1s, "token", "J-09 number");
	refused("{" T_V1 ",\"token\":null}", &v1s, "token", "J-09 null");
	refused("{" T_V1 ",\"token\":{}}", &v1s, "token", "J-09 object");
	refused("{" T_V1 ",\"token\":[]}", &v1s, "token", "J-09 array");
	refused("{" T_V1 "}", &v1s, "'token' is missing",
		"create/rotate without token");
	refused("{" T_V1 ",\"token\":\"\"}", &v1s, "token", "empty token");
	refused("[{" T_V1 "}]", &v1, "not a JSON object", "array body");
	refused("", &v1, "not valid JSON", "empty body");
	refused("<html>portal</html>", &v1, "not valid JSON", "HTML body");
}

static void test_required(void)
{
	static const char *keys[] = {"id",	   "name",	"description",
				     "shortToken", "kind",	"startAt",
				     "createdAt",  "updatedAt", "scope"};
	char body[1024], want[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		/* Rename the key so that it is missing, all else intact. */
		char *p;

		snprintf(body, sizeof(body), "{%s}", T_V1);
		snprintf(want, sizeof(want), "\"%s\":", keys[i]);
		p = strstr(body, want);
		p[1] = 'X';
		snprintf(want, sizeof(want), "'%s' is missing", keys[i]);
		refused(body, &v1, want, keys[i]);
	}
	refused("{" T_V1 ",\"id\":7}", &v1, "duplicate", "id twice");
	refused("{" T_BASE ",\"scope\":\"deployment\"}", &v1, "scope",
		"lowercase scope");
	refused("{" T_BASE ",\"scope\":\"\"}", &v1, "scope", "empty scope");
	{
		char b2[1024], *p;

		snprintf(b2, sizeof(b2), "{%s}", T_V1);
		p = strstr(b2, "clm8q7f6q");
		memcpy(p, "clm/../q7", 9);
		refused(b2, &v1, "'id'", "id with a slash");
		memcpy(p, "clm?8q7f6", 9);
		refused(b2, &v1, "'id'", "id with a question mark");
	}
	refused("{" T_V1 ",\"startAt\":\"2022-11-22 04:37:12\"}", &v1,
		"duplicate", "startAt twice");
	refused("{" T_V1 ",\"endAt\":\"yesterday\"}", &v1, "endAt",
		"bad endAt");
	refused("{" T_V1 ",\"endAt\":1669091832}", &v1, "endAt",
		"numeric endAt");
	refused("{" T_V1 ",\"roles\":[{\"entityId\":\"a\"}]}", &v1,
		"entityType", "role missing entityType");
	refused("{" T_V1 ",\"roles\":[\"x\"]}", &v1, "roles",
		"role not an object");
	refused("{" T_V1 ",\"roles\":{}}", &v1, "roles", "roles an object");
	refused("{" T_V1 ",\"createdBy\":\"me\"}", &v1, "createdBy",
		"createdBy a string");
	refused("{" T_V1 ",\"createdBy\":{}}", &v1, "'id'",
		"createdBy without id");
}

static void test_beta(void)
{
	struct api_token t;
	const char *err;

	ok(parse_quiet("{" T_BASE ",\"type\":\"WORKSPACE\",\"token\":\"" SECRET
		       "\"}",
		       &betas, &t, &err) == 0,
	   "v1beta1: type parses");
	is_str(t.scope, "WORKSPACE", "v1beta1: type maps to scope");
	api_token_clear(&t);
	refused("{" T_V1 "}", &beta, "'type' is missing", "v1beta1 needs type");
	refused("{" T_BASE ",\"type\":\"WORKSPACE\"}", &v1, "'scope'",
		"v1 needs scope");
}

static void test_page(void)
{
	struct api_token_list l = API_TOKEN_LIST_INIT;
	int64_t total = -1, offset = -1;
	size_t count = 99;
	const char *page =
	    "{\"tokens\":[{" T_V1 "},{" T_BASE ",\"scope\":\"WORKSPACE\","
	    "\"id\":\"x2\"}],\"limit\":2,\"offset\":4,\"totalCount\":7}";
	const char *err;
	int r;

	/* T_BASE already has an id: the second token repeats the key. */
	capture_begin();
	r = api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
				&count);
	err = capture_text();
	ok(r < 0 && strstr(err, "duplicate"), "page: duplicate id refused");
	api_token_list_clear(&l);

	page = "{\"tokens\":[{" T_V1 "},{" T_V1 "}],\"limit\":2,"
	       "\"offset\":4,\"totalCount\":7}";
	ok(api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
			       &count) == 0,
	   "page parses");
	ok(l.n == 2 && count == 2 && total == 7 && offset == 4,
	   "page numbers and tokens");
	ok(api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
			       &count) == 0 &&
	       l.n == 4,
	   "second page appends");
	api_token_list_clear(&l);
	ok(l.v == NULL && l.n == 0, "list clear");

	page = "{\"tokens\":[],\"limit\":2,\"offset\":0}";
	capture_begin();
	r = api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
				&count);
	err = capture_text();
	ok(r < 0 && strstr(err, "totalCount"), "page without totalCount");
	page = "{\"tokens\":{},\"limit\":2,\"offset\":0,\"totalCount\":0}";
	capture_begin();
	r = api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
				&count);
	err = capture_text();
	ok(r < 0 && strstr(err, "'tokens'"), "tokens not an array");
	page = "{\"tokens\":[1],\"limit\":2,\"offset\":0,\"totalCount\":1}";
	capture_begin();
	r = api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
				&count);
	err = capture_text();
	ok(r < 0 && l.n == 0, "a token that is not an object");
	page = "{\"tokens\":[],\"limit\":2,\"offset\":-1,\"totalCount\":1}";
	capture_begin();
	r = api_json_parse_page(page, strlen(page), &v1, &l, &total, &offset,
				&count);
	err = capture_text();
	ok(r < 0 && strstr(err, "offset"), "negative offset");
	api_token_list_clear(&l);
}

static void test_error_body(void)
{
	struct api_error e;
	const char *b = "{\"message\":\"\\u001b]0;owned\\u0007\\u001b[2Jbad "
			"token\",\"requestId\":\"req-1\",\"statusCode\":401,"
			"\"fieldErrors\":[{\"field\":\"a\",\"code\":\"b\","
			"\"message\":\"c\"}]}";

	memset(&e, 'z', sizeof(e));
	api_json_parse_error(b, strlen(b), &e);
	ok(!strchr(e.message, 0x1b) && !strchr(e.message, 0x07),
	   "T-01: no raw ESC/BEL in the message");
	ok(strstr(e.message, "\\x1b]0;owned") != NULL, "escaped instead");
	is_str(e.request_id, "req-1", "requestId");
	b = "<html>502 Bad Gateway</html>";
	api_json_parse_error(b, strlen(b), &e);
	ok(!e.message[0] && !e.request_id[0], "HTML body: nothing taken");
	b = "{\"message\":12,\"requestId\":[]}";
	api_json_parse_error(b, strlen(b), &e);
	ok(!e.message[0] && !e.request_id[0], "wrong types: nothing taken");
	api_json_parse_error(NULL, 0, &e);
	ok(!e.message[0], "no body");
	{
		char big[2000];

		memset(big, 'm', sizeof(big));
		memcpy(big, "{\"message\":\"", 12);
		memcpy(big + sizeof(big) - 3, "\"}", 3);
		api_json_parse_error(big, strlen(big), &e);
		ok(strlen(e.message) == sizeof(e.message) - 1,
		   "long message truncated to the field");
	}
}

/* Splice the canary into a body shape at every '@'. */
static void splice(char *out, size_t len, const char *shape, const char *c)
{
	size_t o = 0, cl = strlen(c);

	for (; *shape && o + cl + 1 < len; shape++) {
		if (*shape == '@') {
			memcpy(out + o, c, cl);
			o += cl;
		} else {
			out[o++] = *shape;
		}
	}
	out[o] = '\0';
}

static void test_no_secret_echo(void)
{
	static const char canary[] = "ACRD_CANARY_4f2a.b_c-d";
	struct api_token t;
	const char *err;
	char body[1024];
	const char *shapes[] = {
	    "{" T_V1 ",\"token\":\"@\"} trailing",
	    "{" T_V1 ",\"token\":\"@\",\"token\":\"@\"}",
	    "{" T_BASE ",\"token\":\"@\"}",
	    "{" T_V1 ",\"token\":\"@\",\"startAt\":1}",
	    "{\"token\":\"@\"",
	    "{" T_V1 ",\"token\":\"@\\u0000\"}",
	};
	int leaks = 0;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		splice(body, sizeof(body), shapes[i], canary);
		if (parse_quiet(body, &v1s, &t, &err) == 0)
			leaks += 100;
		leaks += strstr(err, "CANARY") != NULL;
		api_token_clear(&t);
	}
	is_int(leaks, 0, "L-05: malformed answers with a token never echo it");
}

static void create_is(const struct api_create *r, int agent, int b,
		      const char *want, const char *name)
{
	const char *err;
	char *s;

	capture_begin();
	s = api_json_create_body(r, agent, b);
	err = capture_text();
	if (want) {
		is_str(s, want, "create body: %s", name);
	} else {
		ok(s == NULL && strstr(err, "astro-cred: "),
		   "create refused: %s", name);
	}
	cJSON_free(s);
}

static void test_create_body(void)
{
	struct api_create r = {"ci",  NULL, "WORKSPACE", "WORKSPACE_MEMBER",
			       "ws1", NULL, 30};
	char longname[300];

	create_is(&r, 0, 0,
		  "{\"name\":\"ci\",\"scope\":\"WORKSPACE\","
		  "\"role\":\"WORKSPACE_MEMBER\",\"entityId\":\"ws1\","
		  "\"tokenExpiryPeriodInDays\":30}",
		  "workspace token");
	create_is(&r, 0, 1,
		  "{\"name\":\"ci\",\"type\":\"WORKSPACE\","
		  "\"role\":\"WORKSPACE_MEMBER\",\"entityId\":\"ws1\","
		  "\"tokenExpiryPeriodInDays\":30}",
		  "v1beta1 says type");
	r.description = "multi\nline \"quoted\"";
	r.expiry_days = 0;
	create_is(&r, 1, 0,
		  "{\"name\":\"ci\",\"description\":\"multi\\nline "
		  "\\\"quoted\\\"\"}",
		  "agent token: name/description only, no expiry");
	r.description = NULL;
	r.scope = "ORGANIZATION";
	r.entity_id = NULL;
	r.kind = "DIRECT_ACCESS";
	create_is(&r, 0, 0,
		  "{\"name\":\"ci\",\"scope\":\"ORGANIZATION\","
		  "\"role\":\"WORKSPACE_MEMBER\",\"kind\":\"DIRECT_ACCESS\"}",
		  "organization token without entity");
	r.kind = "OTHER";
	create_is(&r, 0, 0, NULL, "unknown kind");
	r.kind = NULL;
	r.scope = "AGENT";
	create_is(&r, 0, 0, NULL, "AGENT is not a /tokens scope");
	r.scope = "DEPLOYMENT";
	create_is(&r, 0, 0, NULL, "deployment scope without entity");
	r.entity_id = "dep/../x";
	create_is(&r, 0, 0, NULL, "entity with a slash");
	r.entity_id = "dep1";
	r.expiry_days = 3651;
	create_is(&r, 0, 0, NULL, "expiry 3651");
	r.expiry_days = -1;
	create_is(&r, 0, 0, NULL, "negative expiry");
	r.expiry_days = 3650;
	r.role = NULL;
	create_is(&r, 0, 0, NULL, "no role");
	r.role = "R";
	r.name = "";
	create_is(&r, 0, 0, NULL, "empty name");
	r.name = "a\nb";
	create_is(&r, 0, 0, NULL, "newline in name");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	r.name = longname;
	create_is(&r, 0, 0, NULL, "name of 299 characters");
	r.name = "ok";
	r.description = "\x1b[2J";
	create_is(&r, 0, 0, NULL, "ESC in description");
}

static void test_ids(void)
{
	char big[API_ID_MAX + 2];

	ok(api_id_ok("clm8q7f6q000008lcgyougpsk"), "cuid id ok");
	ok(api_id_ok("A-b_9"), "dash and underscore ok");
	ok(!api_id_ok(""), "empty refused");
	ok(!api_id_ok(NULL), "NULL refused");
	ok(!api_id_ok("a/b") && !api_id_ok("a?b") && !api_id_ok("a#b") &&
	       !api_id_ok("..") && !api_id_ok("a%2f") && !api_id_ok("a b"),
	   "path and query characters refused");
	memset(big, 'a', sizeof(big) - 1);
	big[API_ID_MAX] = '\0';
	ok(api_id_ok(big), "API_ID_MAX characters ok");
	big[API_ID_MAX] = 'a';
	big[API_ID_MAX + 1] = '\0';
	ok(!api_id_ok(big), "API_ID_MAX + 1 refused");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_full_token();
	test_j_cases();
	test_required();
	test_beta();
	test_page();
	test_error_body();
	test_no_secret_echo();
	test_create_body();
	test_ids();
	return done_testing();
}
