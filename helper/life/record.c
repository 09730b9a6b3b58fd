#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "helper/base/json_strict.h"
#include "helper/base/log.h"
#include "helper/base/names.h"
#include "helper/life/record.h"

#define RECORD_VERSION 1

static const char *const state_names[] = {
    [REC_OK] = "ok",
    [REC_ROTATING] = "rotating",
    [REC_REPLACING] = "replacing",
    [REC_INTERRUPTED] = "interrupted",
};

const char *rec_state_name(enum rec_state s)
{
	return state_names[s];
}

void record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
}

void record_clear(struct record *r)
{
	if (r->token)
		secmem_free(r->token);
	record_init(r);
}

void record_set_token(struct record *r, const char *tok)
{
	char *t = secmem_strdup(tok);

	if (r->token)
		secmem_free(r->token);
	r->token = t;
}

/* String fields: name in JSON, offset and size in struct record. */
struct sfield {
	const char *key;
	size_t off, size;
	int required;
	unsigned flags; /* JSON_TEXT: free text (TAB and LF allowed) */
};

#define SFX(k, f, req, fl)                                                     \
	{                                                                      \
		k, offsetof(struct record, f),                                 \
		    sizeof(((struct record *)0)->f), req, fl                   \
	}
#define SF(k, f, req) SFX(k, f, req, 0)
static const struct sfield sfields[] = {
    SF("profile", profile, 1),
    SF("tokenId", token_id, 1),
    SF("scope", scope, 1),
    SF("organizationId", organization, 1),
    SF("workspaceId", workspace, 0),
    SF("deploymentId", deployment, 0),
    SF("name", name, 0),
    SFX("description", description, 0, JSON_TEXT),
    SF("role", role, 0),
    SF("parent", parent, 0),
    SF("apiUrl", api_url, 0),
    SF("rotateBefore", rotate_before, 0),
    SF("orphanId", orphan_id, 0),
};

struct nfield {
	const char *key;
	size_t off;
};

#define NF(k, f)                                                               \
	{                                                                      \
		k, offsetof(struct record, f)                                  \
	}
static const struct nfield nfields[] = {
    NF("issuedAt", issued_at),	     NF("expiresAt", expires_at),
    NF("rotateEvery", rotate_every), NF("intentAt", intent_at),
    NF("storedAt", stored_at),	     NF("generation", generation),
};

static int add_num(cJSON *o, const char *k, double v)
{
	return cJSON_AddNumberToObject(o, k, v) ? 0 : -1;
}

static int encode_fields(const struct record *r, cJSON *o)
{
	const char *base = (const char *)r;

	if (add_num(o, "v", RECORD_VERSION) ||
	    !cJSON_AddStringToObject(o, "token", r->token))
		return -1;
	for (size_t i = 0; i < sizeof(sfields) / sizeof(*sfields); i++) {
		const char *s = base + sfields[i].off;

		if ((sfields[i].required || *s) &&
		    !cJSON_AddStringToObject(o, sfields[i].key, s))
			return -1;
	}
	for (size_t i = 0; i < sizeof(nfields) / sizeof(*nfields); i++) {
		int64_t v;

		memcpy(&v, base + nfields[i].off, sizeof(v));
		if (v && add_num(o, nfields[i].key, (double)v))
			return -1;
	}
	if ((r->expiry_days && add_num(o, "expiryDays", r->expiry_days)) ||
	    (r->rotate_never &&
	     !cJSON_AddStringToObject(o, "rotate", "never")) ||
	    (r->state &&
	     !cJSON_AddStringToObject(o, "state", state_names[r->state])))
		return -1;
	return 0;
}

enum status record_encode(const struct record *r, struct secbuf *out)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	enum status ret = ST_STORE;

	if (!r->token || !o || encode_fields(r, o) < 0)
		goto out;
	s = cJSON_PrintUnformatted(o);
	if (!s)
		goto out;
	secbuf_clear(out);
	if (secbuf_append(out, s, strlen(s)) < 0) {
		error("the record of profile '%s' is too large", r->profile);
		goto out;
	}
	ret = ST_OK;
out:
	json_free_secret(s);
	cJSON_Delete(o);
	return ret;
}

/*
 * Our writer never emits over-long fields, nor control characters outside
 * free text (flags JSON_TEXT: TAB and LF).
 */
static int copy_str(const cJSON *o, const char *key, char *dst, size_t size,
		    int required, unsigned flags)
{
	const char *v;
	int res = json_get_string(o, key, flags, &v);

	if (res == JSON_ABSENT)
		return required ? -1 : 0;
	if (res != JSON_OK || strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int get_num(const cJSON *o, const char *key, int64_t max, int64_t *out)
{
	int res = json_get_int64(o, key, 0, max, out);

	if (res == JSON_ABSENT)
		*out = 0;
	return res == JSON_INVALID ? -1 : 0;
}

static int known_key(const char *k)
{
	static const char *const other[] = {"v", "token", "expiryDays",
					    "rotate", "state"};

	for (size_t i = 0; i < sizeof(sfields) / sizeof(*sfields); i++)
		if (!strcmp(k, sfields[i].key))
			return 1;
	for (size_t i = 0; i < sizeof(nfields) / sizeof(*nfields); i++)
		if (!strcmp(k, nfields[i].key))
			return 1;
	for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++)
		if (!strcmp(k, other[i]))
			return 1;
	return 0;
}

/* Every key known (json_parse_strict refused duplicates already). */
static int keys_ok(const cJSON *o)
{
	for (const cJSON *a = o->child; a; a = a->next)
		if (!a->string || !known_key(a->string))
			return -1;
	return 0;
}

static int decode_state(const cJSON *o, struct record *r)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "state");

	if (!it)
		return 0;
	for (size_t i = 1; i < sizeof(state_names) / sizeof(*state_names); i++)
		if (cJSON_IsString(it) &&
		    !strcmp(it->valuestring, state_names[i])) {
			r->state = (enum rec_state)i;
			return 0;
		}
	return -1;
}

static int decode_fields(const cJSON *o, struct record *r)
{
	char *base = (char *)r;
	const cJSON *it;
	int64_t v;

	if (json_get_int64(o, "v", 0, 100, &v) != JSON_OK ||
	    v != RECORD_VERSION || keys_ok(o))
		return -1;
	for (size_t i = 0; i < sizeof(sfields) / sizeof(*sfields); i++)
		if (copy_str(o, sfields[i].key, base + sfields[i].off,
			     sfields[i].size, sfields[i].required,
			     sfields[i].flags))
			return -1;
	for (size_t i = 0; i < sizeof(nfields) / sizeof(*nfields); i++)
		if (get_num(o, nfields[i].key, JSON_TIME_MAX,
			    (int64_t *)(void *)(base + nfields[i].off)))
			return -1;
	if (get_num(o, "expiryDays", 3650, &v))
		return -1;
	r->expiry_days = (int)v;
	it = cJSON_GetObjectItemCaseSensitive(o, "rotate");
	if (it && !(cJSON_IsString(it) && !strcmp(it->valuestring, "never")))
		return -1;
	r->rotate_never = it != NULL;
	return decode_state(o, r);
}

enum status record_decode(const unsigned char *buf, size_t len,
			  struct record *r)
{
	const char *why, *tok;
	cJSON *o;
	enum status ret = ST_STORE;

	record_clear(r);
	/* json_parse_strict needs buf[len] == '\0', as secbufs have. */
	o = json_parse_strict((const char *)buf, len, &why);
	if (!o || !cJSON_IsObject(o) ||
	    json_get_string(o, "token", JSON_NONEMPTY, &tok) != JSON_OK ||
	    decode_fields(o, r) < 0 || !profile_name_ok(r->profile))
		goto bad;
	record_set_token(r, tok);
	ret = ST_OK;
	goto out;
bad:
	record_clear(r);
	error("a stored record is damaged or from an unknown version");
out:
	cJSON_Delete(o);
	return ret;
}
