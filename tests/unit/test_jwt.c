/* Unit tests for helper/base/jwt.c: claims, malformed tokens, the alphabet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "helper/base/jwt.h"
#include "helper/base/secmem.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

#define HDR "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"

static void b64(char *out, size_t outlen, const char *s, size_t n)
{
	sodium_bin2base64(out, outlen, (const unsigned char *)s, n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* header.payload.sig, each encoded; returns a static buffer. */
static const char *make(const char *header, const char *payload)
{
	static char tok[JWT_TOKEN_MAX * 2];
	char h[4096], p[8192];

	b64(h, sizeof(h), header, strlen(header));
	b64(p, sizeof(p), payload, strlen(payload));
	snprintf(tok, sizeof(tok), "%s.%s.c2lnbmF0dXJl", h, p);
	return tok;
}

static enum status claims_quiet(const char *tok, struct jwt_claims *c,
				const char **err)
{
	enum status st;

	capture_begin();
	st = jwt_claims(tok, c);
	*err = capture_text();
	return st;
}

static void test_good(void)
{
	struct jwt_claims c;
	const char *err;
	const char *tok =
	    make(HDR, "{\"apiTokenId\":\"clm8q7f6q000008lcgyougpsk\","
		      "\"org_id\":\"orgA\",\"iat\":1700000000,"
		      "\"exp\":4102444800,\"permissions\":["
		      "\"organizationId:orgA\",\"workspaceId:wsB\","
		      "\"deploymentId:depC\",\"deploymentId:depD\","
		      "\"somethingElse:x y z\",\"noColon\"],"
		      "\"extra\":{\"nested\":[1,2,3]}}");

	is_int(claims_quiet(tok, &c, &err), ST_OK, "valid token parses");
	is_str(err, "", "and prints nothing");
	is_str(c.token_id, "clm8q7f6q000008lcgyougpsk", "token id");
	is_str(c.org_id, "orgA", "org_id");
	is_str(c.organization_id, "orgA", "organizationId permission");
	is_str(c.workspace_id, "wsB", "workspaceId permission");
	is_str(c.deployment_id, "depC", "first deploymentId wins");
	is_int(c.iat, 1700000000, "iat");
	is_int(c.exp, 4102444800LL, "exp past 2038 (J-05)");
	is_int(c.has_exp, 1, "has_exp");

	tok = make(HDR, "{\"apiTokenId\":\"t1\","
			"\"permissions\":[\"organizationId:orgZ\"]}");
	is_int(claims_quiet(tok, &c, &err), ST_OK, "no exp parses");
	is_int(c.has_exp, 0, "no exp: has_exp 0");
	is_int(c.exp, 0, "no exp: exp 0");
	is_str(c.org_id, "orgZ", "org_id falls back to the permission");
	is_str(c.workspace_id, "", "no workspace");

	tok = make(HDR, "{}");
	is_int(claims_quiet(tok, &c, &err), ST_OK, "empty claims parse");
	is_str(c.token_id, "", "no token id");
}

static void bad(const char *tok, const char *name)
{
	struct jwt_claims c;
	const char *err;
	enum status st = claims_quiet(tok, &c, &err);

	ok(st == ST_USAGE && strstr(err, "astro-cred: ") &&
	       !strchr(strchr(err, '\n') + 1, '\n'),
	   "malformed -> ST_USAGE, one message: %s", name);
	ok(c.token_id[0] == '\0' && c.exp == 0, "nothing filled: %s", name);
}

static void test_bad_claims(void)
{
	bad(make(HDR, "{\"exp\":1e400}"), "exp 1e400");
	bad(make(HDR, "{\"exp\":\"4102444800\"}"), "exp as a string");
	bad(make(HDR, "{\"exp\":-5}"), "negative exp");
	bad(make(HDR, "{\"exp\":0}"), "exp 0");
	bad(make(HDR, "{\"exp\":1.5}"), "fractional exp");
	bad(make(HDR, "{\"exp\":1,\"exp\":2}"), "duplicate exp");
	bad(make(HDR, "{\"iat\":true}"), "iat bool");
	bad(make(HDR, "{\"apiTokenId\":\"ab\\u0000cd\"}"), "NUL escape in id");
	bad(make(HDR, "{\"apiTokenId\":\"../x\"}"), "id with a slash");
	bad(make(HDR, "{\"apiTokenId\":12}"), "id as a number");
	bad(make(HDR, "{\"apiTokenId\":\"\"}"), "empty id");
	bad(make(HDR, "{\"permissions\":\"workspaceId:x\"}"),
	    "permissions not an array");
	bad(make(HDR, "{\"permissions\":[1]}"), "permission not a string");
	bad(make(HDR, "{\"permissions\":[\"workspaceId:a/b\"]}"),
	    "permission id with a slash");
	bad(make(HDR, "{\"permissions\":[\"workspaceId:\"]}"),
	    "empty permission id");
	bad(make(HDR, "[1,2]"), "payload an array");
	bad(make(HDR, "{\"a\":1} x"), "payload with trailing garbage");
	bad(make(HDR, "{\"a\":\"\xff\"}"), "payload with invalid UTF-8");
	bad(make("not json", "{}"), "header not JSON");
	bad(make("\"s\"", "{}"), "header not an object");
}

static void test_bad_shapes(void)
{
	char big[JWT_TOKEN_MAX + 16];
	const char *good = make(HDR, "{}");
	char buf[1024];

	bad("", "empty");
	bad("abc", "one part");
	bad("abc.def", "two parts");
	bad("a.b.c.d", "four parts");
	bad(".eyJ9.c2ln", "empty header");
	bad("eyJ9..c2ln", "empty payload");
	snprintf(buf, sizeof(buf), "%.*s.", (int)(strrchr(good, '.') - good),
		 good);
	bad(buf, "empty signature");
	bad("e30=.e30.c2ln", "padding");
	bad("e30.e3+.c2ln", "standard base64 alphabet");
	bad("e30.e31.c2ln", "non-canonical trailing bits");
	bad("e30.e.c2ln", "impossible base64 length");
	bad("e30 .e30.c2ln", "space");
	bad("e30.e30.c2ln\n", "newline");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = '.';
	big[20] = '.';
	bad(big, "longer than JWT_TOKEN_MAX");
}

static void test_no_token_in_messages(void)
{
	static const char *cases[] = {
	    "CANARYzz9",
	    "CANARYzz9.CANARYzz9",
	    "CANARYzz9.CANARYzz9.CANARYzz9.CANARYzz9",
	    "CANARYzz9.CANARYzz9.CANARYzz9",
	    "x.CANARYzz9.CANARYzz9",
	    "CANARYzz9.e30.CANARYzz9",
	    "CANARYzz9 .e30.x",
	};
	struct jwt_claims c;
	const char *err;
	int leaked = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		claims_quiet(cases[i], &c, &err);
		leaked += strstr(err, "CANARY") != NULL;
		leaked += strstr(err, "zz9") != NULL;
	}
	is_int(leaked, 0, "messages never quote the token (L-05)");
}

static void test_alphabet(void)
{
	int wrong = 0;
	char s[4] = "a?b";
	char big[JWT_TOKEN_MAX + 2];

	for (int c = 1; c < 256; c++) {
		int want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			   c == '-';

		s[1] = (char)c;
		wrong += jwt_alphabet_ok(s) != want;
		s[1] = 'x';
		s[0] = (char)c;
		wrong += jwt_alphabet_ok(s) != want;
		s[0] = 'a';
	}
	is_int(wrong, 0, "alphabet: exactly [A-Za-z0-9._-], every byte");
	ok(!jwt_alphabet_ok(""), "empty refused");
	memset(big, 'a', sizeof(big) - 1);
	big[JWT_TOKEN_MAX] = '\0';
	ok(jwt_alphabet_ok(big), "JWT_TOKEN_MAX bytes accepted");
	big[JWT_TOKEN_MAX] = 'a';
	big[JWT_TOKEN_MAX + 1] = '\0';
	ok(!jwt_alphabet_ok(big), "JWT_TOKEN_MAX + 1 refused");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_good();
	test_bad_claims();
	test_bad_shapes();
	test_no_token_in_messages();
	test_alphabet();
	return done_testing();
}
