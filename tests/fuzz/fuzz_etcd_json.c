/*
 * fuzz_etcd_json: etcd gateway answers through every parser of
 * backends/etcd_json.c (range, txn, lease grant, keepalive, timetolive,
 * lock, authenticate, header, error), and the input as a key, a value and
 * a password through the request builders.  Properties beyond "no crash,
 * no leak": an accepted answer has the invariants the backend relies on
 * (revisions ordered, sizes within their ceilings, a lock key that is the
 * one asked for, a token of visible ASCII); a refused one holds nothing;
 * an error always maps to ST_TRANSIENT or ST_STORE with a printable
 * message; every request built reads back, with the strict parser, to
 * exactly the bytes that went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backends/etcd_json.h"
#include "helper/base/json_strict.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lease of the seed corpus (keepalive.json, lock.json). */
#define SEED_LEASE 3301316932608870169LL
#define SEED_LOCK  "/astro-cred/v1/locks/ci"

static void check_range(const struct etcd_range *r, int ok, int top)
{
	if (!ok) {
		PROPERTY(!r->kvs && !r->nkvs && !r->hdr.revision);
		return;
	}
	PROPERTY(!top || r->hdr.revision >= 1);
	PROPERTY(r->nkvs <= ETCD_KVS_MAX && r->count >= (int64_t)r->nkvs);
	for (size_t i = 0; i < r->nkvs; i++) {
		const struct etcd_kv *kv = &r->kvs[i];

		PROPERTY(kv->key && kv->key_len >= 1 &&
			 kv->key_len <= ETCD_KEY_MAX &&
			 kv->key[kv->key_len] == '\0');
		PROPERTY(kv->value_len <= ETCD_VALUE_MAX);
		PROPERTY(!kv->value || kv->value[kv->value_len] == '\0');
		PROPERTY(kv->create_revision >= 1 &&
			 kv->mod_revision >= kv->create_revision &&
			 kv->version >= 1 && kv->lease >= 0);
	}
}

static void answers(const char *buf, size_t size)
{
	struct etcd_range r;
	struct etcd_txn_res t;
	struct etcd_lease l;
	struct etcd_header h;
	char *key, *tok;
	int ok;

	ok = etcd_parse_range(buf, size, &r) == ST_OK;
	check_range(&r, ok, 1);
	etcd_range_clear(&r);
	ok = etcd_parse_txn(buf, size, &t) == ST_OK;
	PROPERTY(ok || (!t.res && !t.nres && !t.succeeded));
	for (size_t i = 0; ok && i < t.nres; i++) {
		PROPERTY(t.res[i].type <= ETCD_OP_DELETE);
		check_range(&t.res[i].range, 1, 0);
	}
	etcd_txn_res_clear(&t);
	if (etcd_parse_lease_grant(buf, size, &l) == ST_OK)
		PROPERTY(l.id >= 1 && l.ttl >= 1 && !l.gone);
	if (etcd_parse_keepalive(buf, size, SEED_LEASE, &l) == ST_OK)
		PROPERTY(l.id == SEED_LEASE && l.ttl >= 0 &&
			 l.gone == (l.ttl == 0));
	if (etcd_parse_timetolive(buf, size, SEED_LEASE, &l) == ST_OK)
		PROPERTY(l.id == SEED_LEASE && l.gone == (l.ttl == -1));
	if (etcd_parse_lock(buf, size, SEED_LOCK, SEED_LEASE, &h, &key) ==
	    ST_OK) {
		PROPERTY(key && !strcmp(key, SEED_LOCK "/2dd0a24253224719"));
		free(key);
	} else {
		PROPERTY(!key);
	}
	if (etcd_parse_auth(buf, size, &tok) == ST_OK) {
		PROPERTY(tok && *tok);
		for (const char *p = tok; *p; p++)
			PROPERTY(*p > 0x20 && *p < 0x7f);
		secmem_free(tok);
	} else {
		PROPERTY(!tok);
	}
	if (etcd_parse_header(buf, size, &h) == ST_OK)
		PROPERTY(h.revision >= 1);
}

static void errors(const char *buf, size_t size, int http)
{
	struct etcd_error e;

	etcd_parse_error(http, buf, size, &e);
	PROPERTY(e.st == ST_TRANSIENT || e.st == ST_STORE);
	PROPERTY(e.code >= -1 && e.code <= 16 && e.http_status == http);
	PROPERTY(e.message[0] && strlen(e.message) < ETCD_MSG_MAX);
	for (const char *p = e.message; *p; p++)
		PROPERTY(*p >= 0x20 && *p < 0x7f);
}

/* The base64 string member key of a built body, decoded. */
static int member_bytes(const cJSON *o, const char *key, unsigned char *out,
			size_t max, size_t *n)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *s;

	if (!cJSON_IsString(it))
		return -1;
	s = it->valuestring;
	return sodium_base642bin(out, max, s, strlen(s), NULL, n, NULL,
				 sodium_base64_VARIANT_ORIGINAL);
}

/* A built request reads back to what went in. */
static cJSON *reread(const struct secbuf *b)
{
	const char *why;
	cJSON *t = json_parse_strict((const char *)b->data, b->len, &why);

	PROPERTY(t != NULL);
	return t;
}

static void requests(const char *buf, size_t size)
{
	struct secbuf out = SECBUF_INIT(1);
	static unsigned char dec[ETCD_VALUE_MAX + 3];
	size_t n;
	cJSON *t;
	int c_string = strlen(buf) == size;

	/* The input as a key (a C string): the same bytes come back. */
	if (c_string && etcd_req_range(&out, buf, ETCD_PREFIX, 10) == ST_OK) {
		t = reread(&out);
		PROPERTY(member_bytes(t, "key", dec, sizeof(dec), &n) == 0);
		PROPERTY(n == size && !memcmp(dec, buf, size));
		cJSON_Delete(t);
	}
	/* The input as a value. */
	if (size <= ETCD_VALUE_MAX) {
		struct etcd_op op = {ETCD_OP_PUT, "/k", (const uint8_t *)buf,
				     size, 0};

		PROPERTY(etcd_req_put(&out, &op) == ST_OK);
		t = reread(&out);
		n = 0;
		PROPERTY(size == 0 ||
			 member_bytes(t, "value", dec, sizeof(dec), &n) == 0);
		PROPERTY(n == size && !memcmp(dec, buf, size));
		cJSON_Delete(t);
	}
	/* The input as a password: escaped so that it reads back the same. */
	if (c_string && etcd_req_auth(&out, "fleet", buf) == ST_OK) {
		const cJSON *pw;

		t = reread(&out);
		pw = cJSON_GetObjectItemCaseSensitive(t, "password");
		PROPERTY(cJSON_IsString(pw) && !strcmp(pw->valuestring, buf));
		cJSON_Delete(t);
	}
	secbuf_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = {400, 401, 403, 404, 412,
				       429, 500, 502, 503, 504};
	char *buf;

	fuzz_setup();
	if (size > ETCD_BODY_MAX)
		return 0;
	buf = malloc(size + 1);
	if (size)
		memcpy(buf, data, size);
	buf[size] = '\0';
	answers(buf, size);
	errors(buf, size, statuses[size % (sizeof(statuses) / sizeof(int))]);
	requests(buf, size);
	free(buf);
	return 0;
}
