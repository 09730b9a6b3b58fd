/*
 * jwt.c: claims of an Astro API token.  No signature check, on purpose:
 * see jwt.h.  Base64url is libsodium's (canonical, no padding); JSON goes
 * through json_parse_strict().
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "helper/base/json_strict.h"
#include "helper/base/jwt.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

int jwt_alphabet_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= JWT_TOKEN_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return n > 0;
}

static int id_ok(const char *s, size_t n)
{
	if (n == 0 || n >= JWT_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static void set_id(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Decode one base64url segment into a NUL-terminated JSON tree. */
static cJSON *segment_json(const char *seg, size_t n, const char *what)
{
	size_t max = n / 4 * 3 + 3, len = 0;
	unsigned char *bin = xmalloc(max + 1);
	const char *end = NULL, *why = NULL;
	cJSON *root = NULL;

	if (sodium_base642bin(bin, max, seg, n, NULL, &len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != seg + n) {
		error("token is not a JWT: its %s is not base64url", what);
		goto out;
	}
	bin[len] = '\0';
	root = json_parse_strict((const char *)bin, len, &why);
	if (!root) {
		error("token is not a JWT: its %s is %s", what, why);
	} else if (!cJSON_IsObject(root)) {
		error("token is not a JWT: its %s is not a JSON object", what);
		cJSON_Delete(root);
		root = NULL;
	}
out:
	secmem_wipe(bin, max + 1);
	free(bin);
	return root;
}

/* "key:value" permissions; the first of each kind we know wins. */
static int take_permission(struct jwt_claims *c, const char *p)
{
	static const struct {
		const char *key;
		size_t off;
	} kinds[] = {
	    {"organizationId:", offsetof(struct jwt_claims, organization_id)},
	    {"workspaceId:", offsetof(struct jwt_claims, workspace_id)},
	    {"deploymentId:", offsetof(struct jwt_claims, deployment_id)},
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t kl = strlen(kinds[i].key);
		char *dst = (char *)c + kinds[i].off;

		if (strncmp(p, kinds[i].key, kl))
			continue;
		if (!id_ok(p + kl, strlen(p + kl)))
			return error(
			    "token claims: a malformed %.*s permission",
			    (int)(kl - 1), kinds[i].key);
		if (!dst[0])
			set_id(dst, p + kl, strlen(p + kl));
	}
	return 0;
}

static int take_permissions(struct jwt_claims *c, const cJSON *payload)
{
	const cJSON *arr, *it;
	int res = json_get_array(payload, "permissions", &arr);

	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK)
		return json_field_fail("token claims", "permissions", res);
	cJSON_ArrayForEach(it, arr)
	{
		if (!json_string_ok(it, 0))
			return json_field_fail("token claims", "permissions",
					       JSON_INVALID);
		if (take_permission(c, it->valuestring) < 0)
			return -1;
	}
	return 0;
}

static int take_id(const cJSON *payload, const char *key, char *dst)
{
	const char *s;
	int res = json_get_string(payload, key, 0, &s);

	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK || !id_ok(s, strlen(s)))
		return json_field_fail("token claims", key, JSON_INVALID);
	set_id(dst, s, strlen(s));
	return 0;
}

static int take_claims(struct jwt_claims *c, const cJSON *payload)
{
	int res;

	if (take_id(payload, "apiTokenId", c->token_id) < 0 ||
	    take_id(payload, "org_id", c->org_id) < 0 ||
	    take_permissions(c, payload) < 0)
		return -1;
	if (!c->org_id[0] && c->organization_id[0])
		memcpy(c->org_id, c->organization_id, sizeof(c->org_id));
	res = json_get_int64(payload, "iat", 0, JSON_TIME_MAX, &c->iat);
	if (res == JSON_INVALID)
		return json_field_fail("token claims", "iat", res);
	res = json_get_int64(payload, "exp", 1, JSON_TIME_MAX, &c->exp);
	if (res == JSON_INVALID)
		return json_field_fail("token claims", "exp", res);
	c->has_exp = (res == JSON_OK);
	return 0;
}

enum status jwt_claims(const char *token, struct jwt_claims *out)
{
	const char *d1, *d2;
	cJSON *header = NULL, *payload = NULL;
	enum status st = ST_USAGE;

	memset(out, 0, sizeof(*out));
	if (!jwt_alphabet_ok(token)) {
		error("token is not a JWT: empty, too long, or characters "
		      "outside [A-Za-z0-9._-]");
		goto out;
	}
	d1 = strchr(token, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d2 || strchr(d2 + 1, '.') || d1 == token || d2 == d1 + 1 ||
	    !d2[1]) {
		error("token is not a JWT: it needs three non-empty parts");
		goto out;
	}
	header = segment_json(token, (size_t)(d1 - token), "header");
	if (!header)
		goto out;
	payload = segment_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload");
	if (!payload || take_claims(out, payload) < 0)
		goto out;
	st = ST_OK;
out:
	if (st != ST_OK)
		memset(out, 0, sizeof(*out));
	cJSON_Delete(header);
	cJSON_Delete(payload);
	return st;
}
