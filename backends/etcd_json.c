/*
 * etcd_json.c: requests to and answers from etcd's v3 JSON gateway (see
 * etcd_json.h for the rules, docs/fleet.md for the measured facts).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backends/etcd_json.h"
#include "helper/base/json_strict.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define WHAT "the etcd answer"
/* Bytes base64-encoded per step: a multiple of 3, so no padding between. */
#define B64_CHUNK 768

/* The request being written; after a failure every step is a no-op. */
struct w {
	struct secbuf *b;
	int err;
};

static void w_raw(struct w *w, const char *s, size_t n)
{
	if (!w->err && secbuf_append(w->b, s, n) < 0)
		w->err = 1;
}

static void w_str0(struct w *w, const char *s)
{
	w_raw(w, s, strlen(s));
}

/* A JSON string: quote, backslash and control bytes escaped. */
static void w_string(struct w *w, const char *s)
{
	w_raw(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			w_raw(w, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			w_raw(w, esc, 6);
		} else {
			w_raw(w, s, 1);
		}
	}
	w_raw(w, "\"", 1);
}

/* An int64 as etcd's gateway writes one: a quoted decimal. */
static void w_int64(struct w *w, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "\"%" PRId64 "\"", v);
	w_str0(w, num);
}

static void w_base64(struct w *w, const unsigned char *p, size_t n)
{
	char enc[B64_CHUNK / 3 * 4 + 1];

	w_raw(w, "\"", 1);
	while (n > 0) {
		size_t k = n < B64_CHUNK ? n : B64_CHUNK;

		sodium_bin2base64(enc, sizeof(enc), p, k,
				  sodium_base64_VARIANT_ORIGINAL);
		w_str0(w, enc);
		p += k, n -= k;
	}
	w_raw(w, "\"", 1);
	sodium_memzero(enc, sizeof(enc));
}

/* "name": */
static void w_key(struct w *w, const char *name)
{
	w_raw(w, "\"", 1);
	w_str0(w, name);
	w_raw(w, "\":", 2);
}

/*
 * Finish a request: within its ceiling, and readable by our own strict
 * parser (valid UTF-8 and JSON).  On failure the buffer is wiped.
 */
static enum status w_done(struct w *w, const char *what)
{
	const char *why;
	cJSON *t;

	if (w->err) {
		secbuf_clear(w->b);
		return fail(ST_STORE,
			    "the etcd %s request would exceed %d bytes", what,
			    ETCD_REQ_MAX);
	}
	t = json_parse_strict((const char *)w->b->data, w->b->len, &why);
	if (!t) {
		secbuf_clear(w->b);
		return fail(ST_STORE, "the etcd %s request is not valid: %s",
			    what, why);
	}
	cJSON_Delete(t);
	return ST_OK;
}

static void w_begin(struct w *w, struct secbuf *out)
{
	secbuf_clear(out);
	out->max = ETCD_REQ_MAX;
	w->b = out;
	w->err = 0;
}

static int key_ok(const char *key)
{
	size_t n = key ? strlen(key) : 0;

	return n > 0 && n <= ETCD_KEY_MAX;
}

static enum status bad_key(const char *what)
{
	return fail(ST_STORE, "etcd %s: a key must have 1 to %d bytes", what,
		    ETCD_KEY_MAX);
}

/*
 * The end of the range of keys that start with key: key with its last byte
 * that is not 0xff incremented and what follows dropped; a single zero
 * byte ("every key after key") when there is none.
 */
static size_t prefix_end(const char *key, unsigned char *end)
{
	size_t n = strlen(key);

	memcpy(end, key, n);
	while (n > 0 && end[n - 1] == 0xff)
		n--;
	if (n == 0) {
		end[0] = 0;
		return 1;
	}
	end[n - 1]++;
	return n;
}

enum status etcd_req_range(struct secbuf *out, const char *key, unsigned flags,
			   int64_t limit)
{
	unsigned char end[ETCD_KEY_MAX];
	struct w w;

	w_begin(&w, out);
	if (!key_ok(key))
		return bad_key("range");
	if (limit < 0 || (flags & ~0xfu))
		return fail(ST_STORE, "etcd range: bad limit or flags");
	w_raw(&w, "{", 1);
	w_key(&w, "key");
	w_base64(&w, (const unsigned char *)key, strlen(key));
	if (flags & ETCD_PREFIX) {
		w_raw(&w, ",", 1);
		w_key(&w, "range_end");
		w_base64(&w, end, prefix_end(key, end));
	}
	if (limit > 0) {
		w_raw(&w, ",", 1);
		w_key(&w, "limit");
		w_int64(&w, limit);
	}
	if (flags & ETCD_SERIALIZABLE)
		w_str0(&w, ",\"serializable\":true");
	if (flags & ETCD_KEYS_ONLY)
		w_str0(&w, ",\"keys_only\":true");
	if (flags & ETCD_COUNT_ONLY)
		w_str0(&w, ",\"count_only\":true");
	w_raw(&w, "}", 1);
	return w_done(&w, "range");
}

static enum status check_op(const struct etcd_op *op)
{
	if (!key_ok(op->key))
		return bad_key("operation");
	if (op->type != ETCD_OP_RANGE && op->type != ETCD_OP_PUT &&
	    op->type != ETCD_OP_DELETE)
		return fail(ST_STORE, "etcd operation: unknown type");
	if (op->type == ETCD_OP_PUT &&
	    (op->value_len > ETCD_VALUE_MAX || (op->value_len && !op->value) ||
	     op->lease < 0))
		return fail(ST_STORE,
			    "etcd put: a value must have at most %d "
			    "bytes, a lease must not be negative",
			    ETCD_VALUE_MAX);
	return ST_OK;
}

/* The fields of a put: key, value (left out when empty), lease. */
static void w_put_fields(struct w *w, const struct etcd_op *op)
{
	w_key(w, "key");
	w_base64(w, (const unsigned char *)op->key, strlen(op->key));
	if (op->value_len) {
		w_raw(w, ",", 1);
		w_key(w, "value");
		w_base64(w, op->value, op->value_len);
	}
	if (op->lease) {
		w_raw(w, ",", 1);
		w_key(w, "lease");
		w_int64(w, op->lease);
	}
}

enum status etcd_req_put(struct secbuf *out, const struct etcd_op *op)
{
	struct w w;
	enum status st = check_op(op);

	w_begin(&w, out);
	if (st != ST_OK)
		return st;
	if (op->type != ETCD_OP_PUT)
		return fail(ST_STORE, "etcd put: not a put operation");
	w_raw(&w, "{", 1);
	w_put_fields(&w, op);
	w_raw(&w, "}", 1);
	return w_done(&w, "put");
}

static void w_op(struct w *w, const struct etcd_op *op)
{
	static const char *const names[] = {
	    [ETCD_OP_RANGE] = "request_range",
	    [ETCD_OP_PUT] = "request_put",
	    [ETCD_OP_DELETE] = "request_delete_range",
	};

	w_raw(w, "{", 1);
	w_key(w, names[op->type]);
	w_raw(w, "{", 1);
	if (op->type == ETCD_OP_PUT) {
		w_put_fields(w, op);
	} else {
		w_key(w, "key");
		w_base64(w, (const unsigned char *)op->key, strlen(op->key));
	}
	w_raw(w, "}}", 2);
}

static void w_ops(struct w *w, const char *name, const struct etcd_op *ops,
		  size_t n)
{
	if (n == 0)
		return;
	w_raw(w, ",", 1);
	w_key(w, name);
	w_raw(w, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			w_raw(w, ",", 1);
		w_op(w, &ops[i]);
	}
	w_raw(w, "]", 1);
}

static void w_cmp(struct w *w, const struct etcd_cmp *c)
{
	static const char *const targets[] = {
	    [ETCD_TARGET_VERSION] = "VERSION",
	    [ETCD_TARGET_CREATE] = "CREATE",
	    [ETCD_TARGET_MOD] = "MOD",
	    [ETCD_TARGET_LEASE] = "LEASE",
	};
	static const char *const fields[] = {
	    [ETCD_TARGET_VERSION] = "version",
	    [ETCD_TARGET_CREATE] = "create_revision",
	    [ETCD_TARGET_MOD] = "mod_revision",
	    [ETCD_TARGET_LEASE] = "lease",
	};
	static const char *const results[] = {
	    [ETCD_EQUAL] = "EQUAL",
	    [ETCD_GREATER] = "GREATER",
	    [ETCD_LESS] = "LESS",
	    [ETCD_NOT_EQUAL] = "NOT_EQUAL",
	};

	w_raw(w, "{", 1);
	w_key(w, "key");
	w_base64(w, (const unsigned char *)c->key, strlen(c->key));
	w_raw(w, ",", 1);
	w_key(w, "target");
	w_string(w, targets[c->target]);
	w_raw(w, ",", 1);
	w_key(w, "result");
	w_string(w, results[c->result]);
	w_raw(w, ",", 1);
	w_key(w, fields[c->target]);
	w_int64(w, c->value);
	w_raw(w, "}", 1);
}

static enum status check_txn(const struct etcd_txn *t)
{
	enum status st = ST_OK;

	if (t->ncmp > ETCD_OPS_MAX || t->nsuccess > ETCD_OPS_MAX ||
	    t->nfailure > ETCD_OPS_MAX)
		return fail(ST_STORE,
			    "etcd txn: more than %d compares or "
			    "operations",
			    ETCD_OPS_MAX);
	for (size_t i = 0; i < t->ncmp; i++) {
		const struct etcd_cmp *c = &t->cmp[i];

		if (!key_ok(c->key))
			return bad_key("compare");
		if (c->target > ETCD_TARGET_LEASE || c->result > ETCD_NOT_EQUAL)
			return fail(ST_STORE, "etcd compare: unknown target "
					      "or result");
	}
	for (size_t i = 0; st == ST_OK && i < t->nsuccess; i++)
		st = check_op(&t->success[i]);
	for (size_t i = 0; st == ST_OK && i < t->nfailure; i++)
		st = check_op(&t->failure[i]);
	return st;
}

enum status etcd_req_txn(struct secbuf *out, const struct etcd_txn *t)
{
	struct w w;
	enum status st = check_txn(t);

	w_begin(&w, out);
	if (st != ST_OK)
		return st;
	w_str0(&w, "{\"compare\":[");
	for (size_t i = 0; i < t->ncmp; i++) {
		if (i)
			w_raw(&w, ",", 1);
		w_cmp(&w, &t->cmp[i]);
	}
	w_raw(&w, "]", 1);
	w_ops(&w, "success", t->success, t->nsuccess);
	w_ops(&w, "failure", t->failure, t->nfailure);
	w_raw(&w, "}", 1);
	return w_done(&w, "txn");
}

enum status etcd_req_lease_grant(struct secbuf *out, int64_t ttl)
{
	struct w w;

	w_begin(&w, out);
	if (ttl < 1 || ttl > ETCD_TTL_MAX)
		return fail(ST_STORE, "etcd lease: TTL out of range");
	w_str0(&w, "{\"TTL\":");
	w_int64(&w, ttl);
	w_raw(&w, "}", 1);
	return w_done(&w, "lease");
}

enum status etcd_req_lease_id(struct secbuf *out, int64_t id, int keys)
{
	struct w w;

	w_begin(&w, out);
	if (id <= 0)
		return fail(ST_STORE, "etcd lease: a lease ID is positive");
	w_str0(&w, "{\"ID\":");
	w_int64(&w, id);
	if (keys)
		w_str0(&w, ",\"keys\":true");
	w_raw(&w, "}", 1);
	return w_done(&w, "lease");
}

enum status etcd_req_lock(struct secbuf *out, const char *name, int64_t lease)
{
	struct w w;

	w_begin(&w, out);
	/* Room for "/" and 16 hex digits after the name in the lock key. */
	if (!name || !*name || strlen(name) > ETCD_KEY_MAX - 17)
		return bad_key("lock");
	if (lease <= 0)
		return fail(ST_STORE, "etcd lock: the lock needs our lease");
	w_raw(&w, "{", 1);
	w_key(&w, "name");
	w_base64(&w, (const unsigned char *)name, strlen(name));
	w_raw(&w, ",", 1);
	w_key(&w, "lease");
	w_int64(&w, lease);
	w_raw(&w, "}", 1);
	return w_done(&w, "lock");
}

enum status etcd_req_unlock(struct secbuf *out, const char *key)
{
	struct w w;

	w_begin(&w, out);
	if (!key_ok(key))
		return bad_key("unlock");
	w_raw(&w, "{", 1);
	w_key(&w, "key");
	w_base64(&w, (const unsigned char *)key, strlen(key));
	w_raw(&w, "}", 1);
	return w_done(&w, "unlock");
}

/* Non-empty, at most max bytes, no control byte (UTF-8: w_done checks). */
static int cred_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s && s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c < 0x20 || c == 0x7f || n >= max)
			return 0;
	}
	return n > 0;
}

enum status etcd_req_auth(struct secbuf *out, const char *user,
			  const char *password)
{
	struct w w;

	w_begin(&w, out);
	if (!cred_ok(user, ETCD_USER_MAX))
		return fail(ST_STORE,
			    "the etcd user name must have 1 to %d "
			    "bytes and no control characters",
			    ETCD_USER_MAX);
	if (!cred_ok(password, ETCD_PASSWORD_MAX))
		return fail(ST_STORE,
			    "the etcd password must have 1 to %d "
			    "bytes and no control characters",
			    ETCD_PASSWORD_MAX);
	w_raw(&w, "{", 1);
	w_key(&w, "name");
	w_string(&w, user);
	w_raw(&w, ",", 1);
	w_key(&w, "password");
	w_string(&w, password);
	w_raw(&w, "}", 1);
	return w_done(&w, "authenticate");
}

/* Answers. */

/* Decimal digits with an optional minus, no leading zero, no "-0". */
static int dec_parse(const char *s, int *neg, uint64_t *mag)
{
	uint64_t v = 0;
	size_t i = 0;

	*neg = s[0] == '-';
	i = (size_t)*neg;
	if (s[i] < '0' || s[i] > '9' || (s[i] == '0' && s[i + 1]))
		return -1;
	for (; s[i]; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*neg && v == 0)
		return -1;
	*mag = v;
	return 0;
}

int etcd_int64_parse(const char *s, int64_t *out)
{
	uint64_t m;
	int neg;

	if (!s || dec_parse(s, &neg, &m) < 0)
		return -1;
	if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - m) : (int64_t)m;
	return 0;
}

static int uint64_parse(const char *s, uint64_t *out)
{
	int neg;

	return dec_parse(s, &neg, out) < 0 || neg ? -1 : 0;
}

/* An int64 member (a string) within [min, max]; absent is 0. */
static int take_i64(const cJSON *o, const char *key, int64_t min, int64_t max,
		    int64_t *out)
{
	const char *s;
	int res = json_get_string(o, key, JSON_NONEMPTY, &s);

	*out = 0;
	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK || etcd_int64_parse(s, out) < 0 || *out < min ||
	    *out > max)
		return json_field_fail(WHAT, key, JSON_INVALID);
	return 0;
}

static int take_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const char *s;
	int res = json_get_string(o, key, JSON_NONEMPTY, &s);

	*out = 0;
	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK || uint64_parse(s, out) < 0)
		return json_field_fail(WHAT, key, JSON_INVALID);
	return 0;
}

static int take_bool(const cJSON *o, const char *key, int *out)
{
	int res = json_get_bool(o, key, out);

	if (res == JSON_ABSENT)
		*out = 0;
	return res == JSON_INVALID ? json_field_fail(WHAT, key, res) : 0;
}

/*
 * The header; required at the top of an answer (with a revision, which
 * starts at 1), optional inside a transaction's responses.
 */
static int take_header(const cJSON *o, int top, struct etcd_header *h)
{
	const cJSON *hd;
	int res = json_get_object(o, "header", &hd);

	memset(h, 0, sizeof(*h));
	if (res == JSON_ABSENT && !top)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(WHAT, "header", res);
	if (take_u64(hd, "cluster_id", &h->cluster_id) < 0 ||
	    take_u64(hd, "member_id", &h->member_id) < 0 ||
	    take_u64(hd, "raft_term", &h->raft_term) < 0 ||
	    take_i64(hd, "revision", 0, INT64_MAX, &h->revision) < 0)
		return -1;
	if (top && h->revision < 1)
		return json_field_fail(WHAT, "revision", JSON_INVALID);
	return 0;
}

/*
 * A base64 member, strictly: the standard alphabet, padded, canonical,
 * every character used.  Decoded into a new buffer (secret memory when
 * secret) with a NUL after it; absent is an empty value when optional.
 */
static int take_bytes(const cJSON *o, const char *key, int required, size_t max,
		      int secret, unsigned char **out, size_t *outlen)
{
	const char *s, *end = NULL;
	size_t n, cap;
	int res = json_get_string(o, key, 0, &s);

	*out = NULL;
	*outlen = 0;
	if (res == JSON_ABSENT && !required)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(WHAT, key, res);
	n = strlen(s);
	if (n % 4 || n / 4 * 3 > max + 2)
		return json_field_fail(WHAT, key, JSON_INVALID);
	cap = n / 4 * 3 + 1;
	*out = secret ? secmem_alloc(cap) : xmalloc(cap);
	if (sodium_base642bin(*out, cap, s, n, NULL, outlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + n || *outlen > max || (required && *outlen == 0)) {
		if (secret)
			secmem_free(*out);
		else
			free(*out);
		*out = NULL;
		*outlen = 0;
		return json_field_fail(WHAT, key, JSON_INVALID);
	}
	(*out)[*outlen] = '\0';
	return 0;
}

static void kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	secmem_free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void etcd_range_clear(struct etcd_range *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nkvs; i++)
		kv_clear(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

static int take_kv(const cJSON *o, struct etcd_kv *kv)
{
	unsigned char *key;

	if (!cJSON_IsObject(o))
		return json_field_fail(WHAT, "kvs", JSON_INVALID);
	if (take_bytes(o, "key", 1, ETCD_KEY_MAX, 0, &key, &kv->key_len) < 0)
		return -1;
	kv->key = (char *)key;
	if (take_bytes(o, "value", 0, ETCD_VALUE_MAX, 1, &kv->value,
		       &kv->value_len) < 0 ||
	    take_i64(o, "create_revision", 0, INT64_MAX, &kv->create_revision) <
		0 ||
	    take_i64(o, "mod_revision", 0, INT64_MAX, &kv->mod_revision) < 0 ||
	    take_i64(o, "version", 0, INT64_MAX, &kv->version) < 0 ||
	    take_i64(o, "lease", 0, INT64_MAX, &kv->lease) < 0)
		return -1;
	/* A stored key has been created and modified, at least once. */
	if (kv->create_revision < 1 || kv->mod_revision < kv->create_revision ||
	    kv->version < 1)
		return json_field_fail(WHAT, "kvs", JSON_INVALID);
	return 0;
}

/* The body of a range answer, top-level or inside a transaction. */
static int take_range(const cJSON *o, int top, struct etcd_range *r)
{
	const cJSON *arr, *it;
	int res, n;

	if (take_header(o, top, &r->hdr) < 0 ||
	    take_i64(o, "count", 0, INT64_MAX, &r->count) < 0 ||
	    take_bool(o, "more", &r->more) < 0)
		return -1;
	res = json_get_array(o, "kvs", &arr);
	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(WHAT, "kvs", res);
	n = cJSON_GetArraySize(arr);
	if (n > ETCD_KVS_MAX)
		return error("%s: more than %d key-values", WHAT, ETCD_KVS_MAX);
	if (n == 0)
		return 0;
	r->kvs = xcalloc((size_t)n, sizeof(*r->kvs));
	cJSON_ArrayForEach(it, arr)
	{
		/* Count as we go so that clear() frees a partial kv. */
		if (take_kv(it, &r->kvs[r->nkvs++]) < 0)
			return -1;
	}
	/* count_only leaves kvs out; otherwise count covers what came. */
	if (r->count < (int64_t)r->nkvs)
		return json_field_fail(WHAT, "count", JSON_INVALID);
	return 0;
}

static cJSON *parse_root(const char *body, size_t len)
{
	const char *why;
	cJSON *root;

	if (len > ETCD_BODY_MAX) {
		error("%s is larger than %d bytes", WHAT, ETCD_BODY_MAX);
		return NULL;
	}
	root = json_parse_strict(body, len, &why);
	if (!root) {
		error("%s is not valid JSON: %s", WHAT, why);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		error("%s is not a JSON object", WHAT);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

enum status etcd_parse_header(const char *body, size_t len,
			      struct etcd_header *out)
{
	cJSON *root = parse_root(body, len);
	int r;

	memset(out, 0, sizeof(*out));
	if (!root)
		return ST_STORE;
	r = take_header(root, 1, out);
	cJSON_Delete(root);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return ST_STORE;
	}
	return ST_OK;
}

enum status etcd_parse_range(const char *body, size_t len,
			     struct etcd_range *out)
{
	cJSON *root = parse_root(body, len);
	int r;

	memset(out, 0, sizeof(*out));
	if (!root)
		return ST_STORE;
	r = take_range(root, 1, out);
	cJSON_Delete(root);
	if (r < 0) {
		etcd_range_clear(out);
		return ST_STORE;
	}
	return ST_OK;
}

void etcd_txn_res_clear(struct etcd_txn_res *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nres; i++)
		etcd_range_clear(&t->res[i].range);
	free(t->res);
	memset(t, 0, sizeof(*t));
}

/* One response: an object with exactly one known member. */
static int take_op_res(const cJSON *o, struct etcd_op_res *r)
{
	static const char *const names[] = {
	    [ETCD_OP_RANGE] = "response_range",
	    [ETCD_OP_PUT] = "response_put",
	    [ETCD_OP_DELETE] = "response_delete_range",
	};
	const cJSON *body = NULL;
	int found = 0;

	if (!cJSON_IsObject(o))
		return json_field_fail(WHAT, "responses", JSON_INVALID);
	for (int t = ETCD_OP_RANGE; t <= ETCD_OP_DELETE; t++) {
		const cJSON *b;
		int res = json_get_object(o, names[t], &b);

		if (res == JSON_INVALID)
			return json_field_fail(WHAT, names[t], res);
		if (res == JSON_OK) {
			found++;
			body = b;
			r->type = (enum etcd_op_type)t;
		}
	}
	if (found != 1)
		return json_field_fail(WHAT, "responses", JSON_INVALID);
	if (r->type == ETCD_OP_RANGE) {
		if (take_range(body, 0, &r->range) < 0)
			return -1;
		r->revision = r->range.hdr.revision;
		return 0;
	}
	if (take_header(body, 0, &r->range.hdr) < 0 ||
	    take_i64(body, "deleted", 0, INT64_MAX, &r->deleted) < 0)
		return -1;
	r->revision = r->range.hdr.revision;
	return 0;
}

static int take_txn(const cJSON *root, struct etcd_txn_res *t)
{
	const cJSON *arr, *it;
	int res, n;

	if (take_header(root, 1, &t->hdr) < 0 ||
	    take_bool(root, "succeeded", &t->succeeded) < 0)
		return -1;
	res = json_get_array(root, "responses", &arr);
	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(WHAT, "responses", res);
	n = cJSON_GetArraySize(arr);
	if (n > ETCD_OPS_MAX)
		return json_field_fail(WHAT, "responses", JSON_INVALID);
	if (n == 0)
		return 0;
	t->res = xcalloc((size_t)n, sizeof(*t->res));
	cJSON_ArrayForEach(it, arr)
	{
		if (take_op_res(it, &t->res[t->nres++]) < 0)
			return -1;
	}
	return 0;
}

enum status etcd_parse_txn(const char *body, size_t len,
			   struct etcd_txn_res *out)
{
	cJSON *root = parse_root(body, len);
	int r;

	memset(out, 0, sizeof(*out));
	if (!root)
		return ST_STORE;
	r = take_txn(root, out);
	cJSON_Delete(root);
	if (r < 0) {
		etcd_txn_res_clear(out);
		return ST_STORE;
	}
	return ST_OK;
}

static int take_lease(const cJSON *o, struct etcd_lease *l)
{
	if (take_header(o, 1, &l->hdr) < 0 ||
	    take_i64(o, "ID", 0, INT64_MAX, &l->id) < 0 ||
	    take_i64(o, "TTL", -1, ETCD_TTL_MAX, &l->ttl) < 0 ||
	    take_i64(o, "grantedTTL", 0, ETCD_TTL_MAX, &l->granted_ttl) < 0)
		return -1;
	return 0;
}

static enum status lease_done(cJSON *root, int r, struct etcd_lease *out)
{
	cJSON_Delete(root);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return ST_STORE;
	}
	return ST_OK;
}

enum status etcd_parse_lease_grant(const char *body, size_t len,
				   struct etcd_lease *out)
{
	cJSON *root = parse_root(body, len);
	const char *err;
	int r;

	memset(out, 0, sizeof(*out));
	if (!root)
		return ST_STORE;
	r = take_lease(root, out);
	/* LeaseGrantResponse has an "error" string of its own. */
	if (r == 0 && json_get_string(root, "error", 0, &err) != JSON_ABSENT)
		r = error("%s: the lease was not granted", WHAT);
	if (r == 0 && (out->id < 1 || out->ttl < 1))
		r = json_field_fail(WHAT, out->id < 1 ? "ID" : "TTL",
				    JSON_INVALID);
	return lease_done(root, r, out);
}

enum status etcd_parse_keepalive(const char *body, size_t len, int64_t want_id,
				 struct etcd_lease *out)
{
	cJSON *root = parse_root(body, len);
	const cJSON *res;
	int r;

	memset(out, 0, sizeof(*out));
	if (!root)
		return ST_STORE;
	r = json_get_object(root, "result", &res);
	if (r != JSON_OK)
		r = json_field_fail(WHAT, "result", r);
	else
		r = take_lease(res, out);
	if (r == 0 && out->id != want_id)
		r = error("%s: a keepalive for another lease", WHAT);
	if (r == 0 && out->ttl < 0)
		r = json_field_fail(WHAT, "TTL", JSON_INVALID);
	out->gone = r == 0 && out->ttl == 0;
	return lease_done(root, r, out);
}

enum status etcd_parse_timetolive(const char *body, size_t len, int64_t want_id,
				  struct etcd_lease *out)
{
	cJSON *root = parse_root(body, len);
	int r;

	memset(out, 0, sizeof(*out));
	if (!root)
		return ST_STORE;
	r = take_lease(root, out);
	if (r == 0 && out->id != want_id)
		r = error("%s: the time to live of another lease", WHAT);
	out->gone = r == 0 && out->ttl < 0;
	return lease_done(root, r, out);
}

enum status etcd_parse_lock(const char *body, size_t len, const char *name,
			    int64_t lease, struct etcd_header *hdr, char **key)
{
	cJSON *root = parse_root(body, len);
	unsigned char *k = NULL;
	char want[ETCD_KEY_MAX + 1];
	size_t n = 0;
	int r;

	*key = NULL;
	memset(hdr, 0, sizeof(*hdr));
	if (!root)
		return ST_STORE;
	r = take_header(root, 1, hdr);
	if (r == 0)
		r = take_bytes(root, "key", 1, ETCD_KEY_MAX, 0, &k, &n);
	/* etcd names the key NAME/<lease in hex, as Go's %x writes it>. */
	if (r == 0 && (lease <= 0 ||
		       (size_t)snprintf(want, sizeof(want), "%s/%" PRIx64, name,
					(uint64_t)lease) >= sizeof(want) ||
		       n != strlen(want) || memcmp(k, want, n)))
		r = error("%s: the lock key is not the one asked for", WHAT);
	cJSON_Delete(root);
	if (r < 0) {
		free(k);
		memset(hdr, 0, sizeof(*hdr));
		return ST_STORE;
	}
	*key = (char *)k;
	return ST_OK;
}

/* Visible ASCII only: the token goes into an HTTP header as it is. */
static int token_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (s[n] < 0x21 || s[n] > 0x7e || n >= ETCD_TOKEN_MAX)
			return 0;
	return n > 0;
}

enum status etcd_parse_auth(const char *body, size_t len, char **token)
{
	cJSON *root = parse_root(body, len);
	struct etcd_header hdr;
	const char *s;
	int r;

	*token = NULL;
	if (!root)
		return ST_STORE;
	r = take_header(root, 1, &hdr);
	if (r == 0) {
		int res = json_get_string(root, "token", JSON_NONEMPTY, &s);

		if (res != JSON_OK || !token_ok(s))
			r = json_field_fail(
			    WHAT, "token", res == JSON_OK ? JSON_INVALID : res);
	}
	if (r == 0)
		*token = secmem_strdup(s);
	cJSON_Delete(root);
	return r < 0 ? ST_STORE : ST_OK;
}

/* Errors. */

/* Does the message contain any of these (etcd's own words)? */
static int says(const char *msg, const char *const *words)
{
	for (; *words; words++)
		if (strstr(msg, *words))
			return 1;
	return 0;
}

static const char *const reauth_words[] = {
    "invalid auth token", "auth: revision in header is old", NULL};
static const char *const transient_words[] = {"context deadline exceeded",
					      "context canceled",
					      "no leader",
					      "leader changed",
					      "request timed out",
					      "too many requests",
					      "not capable",
					      "timeout",
					      NULL};

/* gRPC codes as etcd uses them. */
enum {
	G_CANCELED = 1,
	G_UNKNOWN = 2,
	G_DEADLINE = 4,
	G_NOT_FOUND = 5,
	G_PERMISSION = 7,
	G_EXHAUSTED = 8,
	G_PRECONDITION = 9,
	G_ABORTED = 10,
	G_UNAVAILABLE = 14,
	G_UNAUTHENTICATED = 16,
};

static void classify(struct etcd_error *e)
{
	const char *m = e->message;

	e->st = ST_STORE;
	if (e->code == G_UNAUTHENTICATED || says(m, reauth_words))
		e->flags |= ETCD_ERR_REAUTH;
	if (strstr(m, "requested lease not found"))
		e->flags |= ETCD_ERR_LEASE_GONE;
	if (strstr(m, "authentication is not enabled"))
		e->flags |= ETCD_ERR_NO_AUTH;
	if (e->flags & (ETCD_ERR_REAUTH | ETCD_ERR_NO_AUTH) ||
	    e->code == G_PERMISSION || strstr(m, "permission denied") ||
	    strstr(m, "user name is empty") ||
	    strstr(m, "authentication failed"))
		return; /* ST_STORE: our credentials or rights */
	if (e->flags & ETCD_ERR_LEASE_GONE) {
		e->st = ST_TRANSIENT; /* a new lease fixes it */
		return;
	}
	switch (e->code) {
	case G_CANCELED:
	case G_DEADLINE:
	case G_ABORTED:
	case G_UNAVAILABLE:
		e->st = ST_TRANSIENT;
		return;
	case G_UNKNOWN:
	case G_EXHAUSTED: /* too many requests, or too large / no space */
		if (says(m, transient_words))
			e->st = ST_TRANSIENT;
		return;
	case -1: /* no body we know: the HTTP status decides */
		if (e->http_status >= 500 || e->http_status == 429 ||
		    e->http_status == 408)
			e->st = ST_TRANSIENT;
		return;
	default:
		return;
	}
}

static const char *any_string(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Take code and message from either error shape of the gateway. */
static void read_error_body(const cJSON *root, struct etcd_error *e)
{
	const cJSON *inner;
	const char *msg = NULL;
	int64_t code;

	if (json_get_object(root, "error", &inner) == JSON_OK) {
		root =
		    inner; /* {"error":{"grpc_code","http_code","message"}} */
		if (json_get_int64(root, "grpc_code", 0, 16, &code) == JSON_OK)
			e->code = (int)code;
	} else if (json_get_int64(root, "code", 0, 16, &code) == JSON_OK) {
		e->code = (int)code;
	}
	/* Any string: log_sanitize() escapes what is not printable. */
	msg = any_string(root, "message");
	if (!msg || !*msg)
		msg = any_string(root, "error");
	if (msg)
		log_sanitize(e->message, sizeof(e->message), msg);
}

void etcd_parse_error(int http_status, const char *body, size_t len,
		      struct etcd_error *out)
{
	cJSON *root = NULL;
	const char *why;

	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	out->code = -1;
	if (body && len <= ETCD_BODY_MAX && body[len] == '\0')
		root = json_parse_strict(body, len, &why);
	if (cJSON_IsObject(root))
		read_error_body(root, out);
	cJSON_Delete(root);
	if (!out->message[0])
		snprintf(out->message, sizeof(out->message), "HTTP status %d",
			 http_status);
	classify(out);
}
