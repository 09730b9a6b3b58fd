/*
 * Unit tests for backends/etcd_json.c: the bodies of etcd 3.4's JSON
 * gateway.  The answers below are ones the gateway of Debian's etcd 3.4.23
 * gave (docs/fleet.md, "Gateway facts"), written with ' for " to stay
 * readable; then what must be refused, and the error mapping for every
 * error body measured there.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backends/etcd_json.h"
#include "helper/base/json_strict.h"
#include "helper/base/secmem.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

/* A header as the gateway writes it (cluster_id above 2^63). */
#define HDR                                                                    \
	"'header':{'cluster_id':'18282423181130208379','member_id':'"          \
	"15183020548198850647','revision':'6','raft_term':'2'}"
/* base64 of /astro-cred/v1/records/ci, of /astro-cred/rec/ci, of v3. */
#define K_REC "L2FzdHJvLWNyZWQvdjEvcmVjb3Jkcy9jaQ=="
#define K_CI  "L2FzdHJvLWNyZWQvcmVjL2Np"
#define V3    "djM="

/* s with every ' turned into " (heap; free it). */
static char *q(const char *s)
{
	char *b = strdup(s);

	for (char *p = b; *p; p++)
		if (*p == '\'')
			*p = '"';
	return b;
}

/* Parse q(s) with f quietly; *err gets what was printed. */
static enum status quiet(enum status (*f)(const char *, size_t), const char *s,
			 const char **err)
{
	char *b = q(s);
	enum status st;

	capture_begin();
	st = f(b, strlen(b));
	*err = capture_text();
	free(b);
	return st;
}

static struct etcd_range g_range;
static struct etcd_txn_res g_txn;
static struct etcd_lease g_lease;
static struct etcd_header g_hdr;
static int64_t g_want;

static enum status range_of(const char *b, size_t n)
{
	etcd_range_clear(&g_range);
	return etcd_parse_range(b, n, &g_range);
}
static enum status txn_of(const char *b, size_t n)
{
	etcd_txn_res_clear(&g_txn);
	return etcd_parse_txn(b, n, &g_txn);
}
static enum status grant_of(const char *b, size_t n)
{
	return etcd_parse_lease_grant(b, n, &g_lease);
}
static enum status keepalive_of(const char *b, size_t n)
{
	return etcd_parse_keepalive(b, n, g_want, &g_lease);
}
static enum status ttl_of(const char *b, size_t n)
{
	return etcd_parse_timetolive(b, n, g_want, &g_lease);
}
static enum status header_of(const char *b, size_t n)
{
	return etcd_parse_header(b, n, &g_hdr);
}

/* The request in out, as a C string. */
static const char *body(const struct secbuf *out)
{
	return out->data ? (const char *)out->data : "";
}

static void test_int64(void)
{
	static const struct {
		const char *s;
		int ok;
		int64_t v;
	} t[] = {
	    {"0", 1, 0},
	    {"42", 1, 42},
	    {"-1", 1, -1},
	    {"9223372036854775807", 1, INT64_MAX},
	    {"-9223372036854775808", 1, INT64_MIN},
	    {"9223372036854775808", 0, 0},
	    {"-9223372036854775809", 0, 0},
	    {"18446744073709551616", 0, 0},
	    {"", 0, 0},
	    {"-", 0, 0},
	    {"-0", 0, 0},
	    {"01", 0, 0},
	    {"+1", 0, 0},
	    {" 1", 0, 0},
	    {"1 ", 0, 0},
	    {"1e3", 0, 0},
	    {"0x10", 0, 0},
	    {"1.0", 0, 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = 12345;
		int r = etcd_int64_parse(t[i].s, &v);

		ok(t[i].ok ? r == 0 && v == t[i].v : r < 0, "int64 '%s' %s",
		   t[i].s, t[i].ok ? "parses" : "is refused");
	}
	ok(etcd_int64_parse(NULL, &(int64_t){0}) < 0, "int64 NULL refused");
}

static void test_req_range(void)
{
	struct secbuf out = SECBUF_INIT(1);
	const char *err;

	ok(etcd_req_range(&out, "/astro-cred/v1/records/ci", 0, 0) == ST_OK,
	   "range request");
	is_str(body(&out), "{\"key\":\"" K_REC "\"}", "range: the key alone");
	ok(etcd_req_range(&out, "/astro-cred/",
			  ETCD_PREFIX | ETCD_KEYS_ONLY | ETCD_SERIALIZABLE,
			  500) == ST_OK,
	   "prefix range request");
	/* /astro-cred/ -> /astro-cred0 */
	is_str(
	    body(&out),
	    "{\"key\":\"L2FzdHJvLWNyZWQv\",\"range_end\":\"L2FzdHJvLWNyZWQw\","
	    "\"limit\":\"500\",\"serializable\":true,\"keys_only\":true}",
	    "prefix range: range_end, limit as a string, flags");
	ok(etcd_req_range(&out, "a\xff\xff", ETCD_PREFIX | ETCD_COUNT_ONLY,
			  0) == ST_OK &&
	       strstr(body(&out), "\"range_end\":\"Yg==\"") &&
	       strstr(body(&out), "\"count_only\":true"),
	   "prefix end skips trailing 0xff bytes (a\\xff\\xff -> b)");
	ok(etcd_req_range(&out, "\xff", ETCD_PREFIX, 0) == ST_OK &&
	       strstr(body(&out), "\"range_end\":\"AA==\""),
	   "prefix of 0xff only: range_end is one zero byte (to the end)");
	capture_begin();
	ok(etcd_req_range(&out, "", 0, 0) == ST_STORE, "empty key refused");
	err = capture_text();
	ok(one_line(err), "with one line");
	ok(out.len == 0, "and nothing left in the buffer");
	{
		char big[ETCD_KEY_MAX + 2];

		memset(big, 'k', sizeof(big) - 1);
		big[ETCD_KEY_MAX + 1] = '\0';
		capture_begin();
		ok(etcd_req_range(&out, big, 0, 0) == ST_STORE,
		   "key of ETCD_KEY_MAX + 1 bytes refused");
		big[ETCD_KEY_MAX] = '\0';
		ok(etcd_req_range(&out, big, 0, 0) == ST_OK,
		   "key of ETCD_KEY_MAX bytes accepted");
		ok(etcd_req_range(&out, "k", 0x10, 0) == ST_STORE &&
		       etcd_req_range(&out, "k", 0, -1) == ST_STORE,
		   "unknown flag, negative limit refused");
		capture_end(big, sizeof(big));
	}
	secbuf_clear(&out);
}

static void test_req_put_txn(void)
{
	struct secbuf out = SECBUF_INIT(1);
	static const unsigned char val[] = "v3";
	struct etcd_op put = {ETCD_OP_PUT, "/astro-cred/rec/ci", val, 2,
			      INT64_MAX};
	struct etcd_op rng = {ETCD_OP_RANGE, "/astro-cred/rec/ci", NULL, 0, 0};
	struct etcd_op del = {ETCD_OP_DELETE, "/astro-cred/rec/ci", NULL, 0, 0};
	struct etcd_cmp cmp[2] = {
	    {"/astro-cred/rec/ci", ETCD_TARGET_MOD, ETCD_EQUAL, 42},
	    {"/astro-cred/rec/ci", ETCD_TARGET_CREATE, ETCD_GREATER, 0},
	};
	struct etcd_txn t = {cmp, 2, &put, &rng, 1, 1};
	struct etcd_op many[ETCD_OPS_MAX + 1];
	unsigned char *bigval;

	ok(etcd_req_put(&out, &put) == ST_OK, "put request");
	is_str(body(&out),
	       "{\"key\":\"" K_CI "\",\"value\":\"" V3 "\","
	       "\"lease\":\"9223372036854775807\"}",
	       "put: value in base64, lease as an exact string");
	put.value_len = 0, put.lease = 0;
	ok(etcd_req_put(&out, &put) == ST_OK &&
	       !strcmp(body(&out), "{\"key\":\"" K_CI "\"}"),
	   "put: an empty value and no lease are left out");
	put.value_len = 2, put.lease = 7;
	ok(etcd_req_txn(&out, &t) == ST_OK, "txn request");
	is_str(body(&out),
	       "{\"compare\":[{\"key\":\"" K_CI "\",\"target\":\"MOD\","
	       "\"result\":\"EQUAL\",\"mod_revision\":\"42\"},{\"key\":\"" K_CI
	       "\",\"target\":\"CREATE\",\"result\":\"GREATER\","
	       "\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{"
	       "\"key\":\"" K_CI "\",\"value\":\"" V3 "\",\"lease\":\"7\"}}],"
	       "\"failure\":[{\"request_range\":{\"key\":\"" K_CI "\"}}]}",
	       "txn: compares, success and failure as the gateway reads them");
	cmp[0].target = ETCD_TARGET_VERSION, cmp[0].result = ETCD_NOT_EQUAL;
	cmp[1].target = ETCD_TARGET_LEASE, cmp[1].result = ETCD_LESS;
	t.success = &del, t.nfailure = 0;
	ok(etcd_req_txn(&out, &t) == ST_OK &&
	       strstr(body(&out), "\"target\":\"VERSION\",\"result\":"
				  "\"NOT_EQUAL\",\"version\":\"42\"") &&
	       strstr(body(&out), "\"target\":\"LEASE\",\"result\":\"LESS\","
				  "\"lease\":\"0\"") &&
	       strstr(body(&out), "{\"request_delete_range\":{\"key\":") &&
	       !strstr(body(&out), "failure"),
	   "txn: VERSION, LEASE, delete; an empty branch left out");
	capture_begin();
	cmp[1].target = (enum etcd_target)9;
	ok(etcd_req_txn(&out, &t) == ST_STORE,
	   "unknown compare target refused");
	cmp[1].target = ETCD_TARGET_MOD;
	for (size_t i = 0; i <= ETCD_OPS_MAX; i++)
		many[i] = rng;
	t.success = many, t.nsuccess = ETCD_OPS_MAX + 1;
	ok(etcd_req_txn(&out, &t) == ST_STORE,
	   "more than ETCD_OPS_MAX refused");
	/* 16 values of 64 KiB: past the 256 KiB ceiling of a request. */
	bigval = calloc(1, ETCD_VALUE_MAX);
	for (size_t i = 0; i < ETCD_OPS_MAX; i++)
		many[i] = (struct etcd_op){ETCD_OP_PUT, "/k", bigval,
					   ETCD_VALUE_MAX, 0};
	t.nsuccess = ETCD_OPS_MAX;
	ok(etcd_req_txn(&out, &t) == ST_STORE && out.len == 0,
	   "a request over ETCD_REQ_MAX refused, the buffer wiped");
	many[0].value_len = ETCD_VALUE_MAX + 1;
	ok(etcd_req_put(&out, &many[0]) == ST_STORE,
	   "a value over ETCD_VALUE_MAX refused");
	ok(etcd_req_put(&out, &rng) == ST_STORE, "a range is not a put");
	free(bigval);
	capture_end((char[64]){0}, 64);
	secbuf_clear(&out);
}

static void test_req_lease_lock(void)
{
	struct secbuf out = SECBUF_INIT(1);

	ok(etcd_req_lease_grant(&out, 30) == ST_OK &&
	       !strcmp(body(&out), "{\"TTL\":\"30\"}"),
	   "lease grant: {\"TTL\":\"30\"}");
	ok(etcd_req_lease_id(&out, 7587869312413589000LL, 0) == ST_OK &&
	       !strcmp(body(&out), "{\"ID\":\"7587869312413589000\"}"),
	   "keepalive/revoke: an ID above 2^53, exact");
	ok(etcd_req_lease_id(&out, 5, 1) == ST_OK &&
	       !strcmp(body(&out), "{\"ID\":\"5\",\"keys\":true}"),
	   "timetolive with keys");
	ok(etcd_req_lock(&out, "/astro-cred/v1/locks/ci",
			 6942195756288740119LL) == ST_OK &&
	       !strcmp(body(&out),
		       "{\"name\":\"L2FzdHJvLWNyZWQvdjEvbG9ja3MvY2k=\","
		       "\"lease\":\"6942195756288740119\"}"),
	   "lock: name and lease");
	ok(etcd_req_unlock(&out, "/astro-cred/v1/locks/ci/6057a2424ed08b17") ==
		   ST_OK &&
	       !strcmp(body(&out), "{\"key\":\"L2FzdHJvLWNyZWQvdjEvbG9ja3Mv"
				   "Y2kvNjA1N2EyNDI0ZWQwOGIxNw==\"}"),
	   "unlock: the key");
	capture_begin();
	ok(etcd_req_lease_grant(&out, 0) == ST_STORE &&
	       etcd_req_lease_grant(&out, ETCD_TTL_MAX + 1) == ST_STORE,
	   "TTL 0 and over ETCD_TTL_MAX refused");
	ok(etcd_req_lease_id(&out, 0, 0) == ST_STORE &&
	       etcd_req_lease_id(&out, -5, 0) == ST_STORE,
	   "lease ID 0 or negative refused");
	ok(etcd_req_lock(&out, "/l", 0) == ST_STORE,
	   "a lock without our lease refused (etcd would make a 60 s one)");
	ok(etcd_req_lock(&out, "", 5) == ST_STORE,
	   "an empty lock name refused");
	capture_end((char[64]){0}, 64);
	secbuf_clear(&out);
}

static void test_req_auth(void)
{
	struct secbuf out = SECBUF_INIT(1);
	char buf[4096];

	ok(etcd_req_auth(&out, "fl\"eet", "p\\w\"d") == ST_OK &&
	       !strcmp(body(&out), "{\"name\":\"fl\\\"eet\","
				   "\"password\":\"p\\\\w\\\"d\"}"),
	   "auth: quotes and backslashes escaped");
	ok(etcd_req_auth(&out, "fleet", "p\xc3\xa9") == ST_OK,
	   "auth: UTF-8 password accepted");
	capture_begin();
	ok(etcd_req_auth(&out, "fleet", "bad\xc3") == ST_STORE && out.len == 0,
	   "auth: invalid UTF-8 refused (the strict parser's check), wiped");
	ok(etcd_req_auth(&out, "fleet", "two\nlines") == ST_STORE,
	   "auth: a control character refused");
	ok(etcd_req_auth(&out, "fleet", "") == ST_STORE &&
	       etcd_req_auth(&out, "", "pw") == ST_STORE,
	   "auth: empty user or password refused");
	capture_end(buf, sizeof(buf));
	ok(!strstr(buf, "bad") && !strstr(buf, "lines"),
	   "no message quotes the password");
	secbuf_clear(&out);
}

static void test_parse_range(void)
{
	const char *err;
	struct etcd_kv *kv;

	ok(quiet(range_of,
		 "{" HDR ",'kvs':[{'key':'" K_CI "','create_revision':'2',"
		 "'mod_revision':'6','version':'3','value':'" V3 "',"
		 "'lease':'6942195756288740119'}],'count':'1'}",
		 &err) == ST_OK,
	   "range answer");
	is_str(err, "", "quietly");
	kv = g_range.kvs;
	ok(g_range.hdr.cluster_id == 18282423181130208379ULL &&
	       g_range.hdr.member_id == 15183020548198850647ULL &&
	       g_range.hdr.revision == 6 && g_range.hdr.raft_term == 2,
	   "header: uint64 ids above 2^63, exact");
	ok(g_range.nkvs == 1 && g_range.count == 1 && !g_range.more,
	   "one kv, count 1");
	ok(kv && kv->key_len == 18 && !strcmp(kv->key, "/astro-cred/rec/ci"),
	   "key decoded");
	ok(kv && kv->value_len == 2 && !memcmp(kv->value, "v3", 3),
	   "value decoded, NUL after it");
	ok(kv && kv->create_revision == 2 && kv->mod_revision == 6 &&
	       kv->version == 3 && kv->lease == 6942195756288740119LL,
	   "revisions and the lease, exact");
	ok(quiet(range_of, "{" HDR "}", &err) == ST_OK && g_range.nkvs == 0 &&
	       g_range.count == 0,
	   "no such key: kvs and count left out");
	ok(quiet(range_of,
		 "{" HDR ",'kvs':[{'key':'" K_CI "','create_revision':'2',"
		 "'mod_revision':'3','version':'2'}],'count':'1'}",
		 &err) == ST_OK &&
	       g_range.kvs[0].value == NULL && g_range.kvs[0].value_len == 0,
	   "keys_only (or an empty value): no value");
	ok(quiet(range_of,
		 "{" HDR ",'kvs':[{'key':'" K_CI "','create_revision':'2',"
		 "'mod_revision':'3','version':'2'}],'count':'7','more':true,"
		 "'unknown':{'x':[1]}}",
		 &err) == ST_OK &&
	       g_range.more && g_range.count == 7,
	   "a limited answer: more, count beyond kvs; unknown keys ignored");
	ok(quiet(range_of, "{" HDR ",'count':'3'}", &err) == ST_OK &&
	       g_range.count == 3,
	   "count_only");
	etcd_range_clear(&g_range);
}

/* Each body must be refused, with one line on stderr. */
static void refused(enum status (*f)(const char *, size_t), const char *s,
		    const char *name)
{
	const char *err;
	enum status st = quiet(f, s, &err);

	ok(st == ST_STORE && one_line(err), "refused: %s", name);
	if (st != ST_STORE || !one_line(err))
		printf("#   status %d, stderr '%s'\n", st, err);
}

#define KV(fields) "{" HDR ",'kvs':[{" fields "}],'count':'1'}"
#define KVOK	   "'key':'" K_CI "','create_revision':'2','version':'1'"

static void test_range_refusals(void)
{
	refused(range_of, KV(KVOK ",'mod_revision':6"),
		"a revision as a JSON number");
	refused(range_of, KV(KVOK ",'mod_revision':'9223372036854775808'"),
		"a revision past int64");
	refused(range_of, KV(KVOK ",'mod_revision':'06'"), "a leading zero");
	refused(range_of, KV(KVOK ",'mod_revision':'+6'"), "a plus sign");
	refused(range_of, KV(KVOK ",'mod_revision':'-6'"),
		"a negative revision");
	refused(range_of, KV(KVOK ",'mod_revision':'1'"),
		"mod_revision before create_revision");
	refused(range_of,
		KV("'key':'L2F!','create_revision':'2','version':'1',"
		   "'mod_revision':'2'"),
		"a key that is not base64");
	refused(range_of,
		KV("'key':'QR==','create_revision':'2','version':'1',"
		   "'mod_revision':'2'"),
		"non-canonical base64 (trailing bits set)");
	refused(range_of,
		KV("'key':'QQ','create_revision':'2','version':'1',"
		   "'mod_revision':'2'"),
		"base64 without its padding");
	refused(range_of,
		KV("'key':'QUJD\\n','create_revision':'2','version':'1',"
		   "'mod_revision':'2'"),
		"base64 with a character after it");
	refused(range_of,
		KV("'key':'','create_revision':'2','version':'1',"
		   "'mod_revision':'2'"),
		"an empty key");
	refused(range_of, KV("'create_revision':'2','version':'1'"),
		"a kv without a key");
	refused(range_of, KV(KVOK ",'mod_revision':'2','value':5"),
		"a value that is not a string");
	refused(range_of, "{" HDR ",'kvs':{}}", "kvs not an array");
	refused(range_of, "{" HDR ",'kvs':['x']}", "a kv not an object");
	refused(range_of,
		"{" HDR ",'kvs':[{" KVOK ",'mod_revision':'2'},{" KVOK
		",'mod_revision':'2'}],'count':'1'}",
		"count below the kvs given");
	refused(range_of, "{'kvs':[]}", "no header");
	refused(range_of, "{'header':{'revision':'0'}}",
		"a top-level header without a revision");
	refused(range_of, "{" HDR ",'more':'true'}", "more as a string");
	refused(range_of, "{" HDR ",'count':'1','count':'2'}",
		"a duplicate key");
	refused(range_of, "{" HDR "} x", "bytes after the document");
	refused(range_of, "[{" HDR "}]", "an array at the top");
	refused(range_of, "Not Found\n", "a text body");
	{
		/* A value one byte past ETCD_VALUE_MAX. */
		size_t n = (ETCD_VALUE_MAX + 3) / 3 * 4;
		char *b = malloc(n + 256), *p = b;

		p += snprintf(p, 256,
			      "{" HDR ",'kvs':[{" KVOK
			      ",'mod_revision':'2','value':'");
		for (size_t i = 0; i < n; i++)
			*p++ = 'A';
		memcpy(p, "'}],'count':'1'}", sizeof("'}],'count':'1'}"));
		refused(range_of, b, "a value over ETCD_VALUE_MAX");
		free(b);
	}
	{
		char *b = malloc(ETCD_BODY_MAX + 2);

		memset(b, ' ', ETCD_BODY_MAX + 1);
		b[0] = '{', b[ETCD_BODY_MAX] = '}', b[ETCD_BODY_MAX + 1] = '\0';
		refused(range_of, b, "an answer over ETCD_BODY_MAX");
		free(b);
	}
	etcd_range_clear(&g_range);
}

static void test_parse_txn(void)
{
	const char *err;

	ok(quiet(txn_of,
		 "{" HDR ",'succeeded':true,'responses':[{'response_put':{"
		 "'header':{'revision':'6'}}}]}",
		 &err) == ST_OK &&
	       g_txn.succeeded && g_txn.nres == 1 &&
	       g_txn.res[0].type == ETCD_OP_PUT && g_txn.res[0].revision == 6,
	   "txn that succeeded: the put's revision");
	ok(quiet(txn_of,
		 "{" HDR ",'responses':[{'response_range':{'header':{"
		 "'revision':'6'},'kvs':[{'key':'" K_CI "','create_revision':"
		 "'2','mod_revision':'6','version':'3','value':'" V3 "'}],"
		 "'count':'1'}}]}",
		 &err) == ST_OK &&
	       !g_txn.succeeded && g_txn.nres == 1 &&
	       g_txn.res[0].type == ETCD_OP_RANGE &&
	       g_txn.res[0].range.nkvs == 1 &&
	       g_txn.res[0].range.kvs[0].mod_revision == 6 &&
	       !strcmp((char *)g_txn.res[0].range.kvs[0].value, "v3"),
	   "failed txn: succeeded left out, the failure branch's range");
	ok(quiet(txn_of, "{" HDR "}", &err) == ST_OK && !g_txn.succeeded &&
	       g_txn.nres == 0,
	   "failed txn with no failure branch: the header alone");
	ok(quiet(txn_of,
		 "{" HDR ",'succeeded':true,'responses':[{'response_delete_"
		 "range':{'header':{'revision':'8'},'deleted':'1','prev_kvs':"
		 "[{'key':'" K_CI "'}]}}]}",
		 &err) == ST_OK &&
	       g_txn.res[0].type == ETCD_OP_DELETE && g_txn.res[0].deleted == 1,
	   "delete: how many");
	refused(txn_of, "{" HDR ",'succeeded':'true'}", "succeeded a string");
	refused(txn_of,
		"{" HDR
		",'responses':[{'response_put':{},'response_range':{}}]}",
		"a response of two kinds");
	refused(txn_of, "{" HDR ",'responses':[{'response_other':{}}]}",
		"a response of no kind we know");
	refused(txn_of, "{" HDR ",'responses':{}}", "responses not an array");
	refused(txn_of, "{" HDR ",'responses':[{'response_put':[]}]}",
		"a response that is not an object");
	etcd_txn_res_clear(&g_txn);
}

static void test_parse_lease(void)
{
	const char *err;

	ok(quiet(grant_of, "{" HDR ",'ID':'6942195756288740119','TTL':'5'}",
		 &err) == ST_OK &&
	       g_lease.id == 6942195756288740119LL && g_lease.ttl == 5,
	   "lease grant: ID above 2^53, exact");
	refused(grant_of, "{" HDR ",'ID':'5','TTL':'5','error':'no'}",
		"a grant with an error");
	refused(grant_of, "{" HDR ",'TTL':'5'}", "a grant without an ID");
	refused(grant_of, "{" HDR ",'ID':'5'}", "a grant without a TTL");
	g_want = 3301316932608870169LL;
	ok(quiet(keepalive_of,
		 "{'result':{" HDR ",'ID':'3301316932608870169','TTL':'60'}}\n",
		 &err) == ST_OK &&
	       g_lease.ttl == 60 && !g_lease.gone,
	   "keepalive: wrapped in result, a newline after it");
	ok(quiet(keepalive_of,
		 "{'result':{" HDR ",'ID':'3301316932608870169'}}",
		 &err) == ST_OK &&
	       g_lease.gone,
	   "keepalive of an expired or revoked lease: no TTL, gone");
	refused(keepalive_of, "{'result':{" HDR ",'ID':'77','TTL':'60'}}",
		"a keepalive for another lease");
	refused(keepalive_of, "{" HDR ",'ID':'3301316932608870169','TTL':'6'}",
		"a keepalive not wrapped in result");
	ok(quiet(ttl_of,
		 "{" HDR ",'ID':'3301316932608870169','TTL':'4',"
		 "'grantedTTL':'5','keys':['" K_CI "']}",
		 &err) == ST_OK &&
	       g_lease.ttl == 4 && g_lease.granted_ttl == 5 && !g_lease.gone,
	   "timetolive");
	ok(quiet(ttl_of, "{" HDR ",'ID':'3301316932608870169','TTL':'-1'}",
		 &err) == ST_OK &&
	       g_lease.gone,
	   "timetolive of a gone lease: TTL -1");
	refused(ttl_of, "{" HDR ",'ID':'3301316932608870169','TTL':'-2'}",
		"a TTL below -1");
	ok(quiet(header_of, "{" HDR "}", &err) == ST_OK && g_hdr.revision == 6,
	   "put, revoke, unlock: the header");
}

static void test_parse_lock_auth(void)
{
	char *key = NULL, *tok = NULL, *b;
	struct etcd_header h;
	char buf[1024];

	/* /astro-cred/lock/6057a2424ed08b28 */
	b = q("{" HDR ",'key':'L2FzdHJvLWNyZWQvbG9jay82MDU3YTI0MjRlZDA4YjI4'}");
	ok(etcd_parse_lock(b, strlen(b), "/astro-cred/lock",
			   0x6057a2424ed08b28LL, &h, &key) == ST_OK &&
	       key && !strcmp(key, "/astro-cred/lock/6057a2424ed08b28") &&
	       h.revision == 6,
	   "lock: the key is NAME/<lease in hex>");
	free(key);
	capture_begin();
	ok(etcd_parse_lock(b, strlen(b), "/astro-cred/lock", 0x6057a2424ed08b2a,
			   &h, &key) == ST_STORE &&
	       !key,
	   "lock: a key for another lease refused");
	ok(etcd_parse_lock(b, strlen(b), "/astro-cred/loc", 0x6057a2424ed08b28,
			   &h, &key) == ST_STORE,
	   "lock: a key under another name refused");
	free(b);
	capture_end(buf, sizeof(buf));
	b = q("{" HDR ",'token':'TXbyxhPJrkRtGLsQ.26'}");
	ok(etcd_parse_auth(b, strlen(b), &tok) == ST_OK && tok &&
	       !strcmp(tok, "TXbyxhPJrkRtGLsQ.26"),
	   "authenticate: the token, in secret memory");
	secmem_free(tok);
	free(b);
	b = q("{" HDR ",'token':'TXbyxhPJ rkRtGLsQ.26'}");
	capture_begin();
	ok(etcd_parse_auth(b, strlen(b), &tok) == ST_STORE && !tok,
	   "a token with a space refused (it goes into a header)");
	capture_end(buf, sizeof(buf));
	ok(one_line(buf) && !strstr(buf, "TXbyxhPJ"),
	   "one line that does not quote the token");
	free(b);
}

static void test_errors(void)
{
	static const struct {
		int http;
		const char *body;
		int code;
		enum status st;
		unsigned flags;
		const char *name;
	} t[] = {
	    {400,
	     "{'error':'etcdserver: authentication failed, invalid user ID or "
	     "password','message':'etcdserver: authentication failed, invalid "
	     "user ID or password','code':3}",
	     3, ST_STORE, 0, "wrong password"},
	    {401,
	     "{'error':'etcdserver: invalid auth token','message':'etcdserver: "
	     "invalid auth token','code':16}",
	     16, ST_STORE, ETCD_ERR_REAUTH, "token unknown (member restarted)"},
	    {400,
	     "{'error':'etcdserver: user name is empty','message':'etcdserver: "
	     "user name is empty','code':3}",
	     3, ST_STORE, 0, "auth on, no credentials"},
	    {403,
	     "{'error':'etcdserver: permission denied','message':'etcdserver: "
	     "permission denied','code':7}",
	     7, ST_STORE, 0, "permission denied"},
	    {500,
	     "{'error':'etcdserver: permission denied','message':'etcdserver: "
	     "permission denied','code':2}",
	     2, ST_STORE, 0, "permission denied through the lock API (500)"},
	    {500,
	     "{'error':'etcdserver: invalid auth token','message':'etcdserver: "
	     "invalid auth token','code':2}",
	     2, ST_STORE, ETCD_ERR_REAUTH,
	     "token unknown through the lock API"},
	    {412,
	     "{'error':'etcdserver: authentication is not enabled','message':"
	     "'etcdserver: authentication is not enabled','code':9}",
	     9, ST_STORE, ETCD_ERR_NO_AUTH, "auth is off"},
	    {503,
	     "{'error':'etcdserver: request timed out','message':'etcdserver: "
	     "request timed out','code':14}",
	     14, ST_TRANSIENT, 0, "no quorum: request timed out"},
	    {500,
	     "{'error':'context deadline exceeded','message':'context deadline "
	     "exceeded','code':2}",
	     2, ST_TRANSIENT, 0, "no quorum: a write's deadline (500)"},
	    {503,
	     "{'error':{'grpc_code':14,'http_code':503,'message':'etcdserver: "
	     "no leader','http_status':'Service Unavailable'}}",
	     14, ST_TRANSIENT, 0, "no leader, the stream shape (keepalive)"},
	    {404,
	     "{'error':'etcdserver: requested lease not found','message':"
	     "'etcdserver: requested lease not found','code':5}",
	     5, ST_TRANSIENT, ETCD_ERR_LEASE_GONE, "lease not found"},
	    {500,
	     "{'error':'etcdserver: requested lease not found','message':"
	     "'etcdserver: requested lease not found','code':2}",
	     2, ST_TRANSIENT, ETCD_ERR_LEASE_GONE,
	     "lease not found through the lock API"},
	    {400,
	     "{'error':'etcdserver: request is too large','message':"
	     "'etcdserver: request is too large','code':3}",
	     3, ST_STORE, 0, "request too large"},
	    {429,
	     "{'error':'grpc: received message larger than max (3000022 vs. "
	     "2097152)','message':'grpc: received message larger than max "
	     "(3000022 vs. 2097152)','code':8}",
	     8, ST_STORE, 0, "message too large: 429 but not transient"},
	    {429,
	     "{'error':'etcdserver: too many requests','message':'etcdserver: "
	     "too many requests','code':8}",
	     8, ST_TRANSIENT, 0, "too many requests"},
	    {400,
	     "{'error':'illegal base64 data at input byte 0','message':"
	     "'illegal base64 data at input byte 0','code':3}",
	     3, ST_STORE, 0, "a request etcd cannot read"},
	    {404, "Not Found\n", -1, ST_STORE, 0, "not an etcd v3 gateway"},
	    {502, "<html>bad gateway</html>", -1, ST_TRANSIENT, 0,
	     "a proxy's 502"},
	    {503, "{'code':'x'}", -1, ST_TRANSIENT, 0, "a 503 we cannot read"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct etcd_error e;
		char *b = q(t[i].body);

		etcd_parse_error(t[i].http, b, strlen(b), &e);
		ok(e.code == t[i].code && e.st == t[i].st &&
		       e.flags == t[i].flags && e.http_status == t[i].http &&
		       e.message[0],
		   "error: %s", t[i].name);
		if (e.code != t[i].code || e.st != t[i].st ||
		    e.flags != t[i].flags)
			printf("#   code %d st %d flags %u '%s'\n", e.code,
			       e.st, e.flags, e.message);
		free(b);
	}
}

static void test_error_message(void)
{
	struct etcd_error e;
	char *b =
	    q("{'error':'x','message':'red \\u001b[31m\\nline','code':3}");
	char big[2 * ETCD_MSG_MAX + 64], *p = big;

	etcd_parse_error(400, b, strlen(b), &e);
	ok(strstr(e.message, "red \\x1b[31m\\x0aline") != NULL,
	   "control characters in a message escaped");
	free(b);
	etcd_parse_error(404, "Not Found", 9, &e);
	is_str(e.message, "HTTP status 404", "no body we know: the status");
	etcd_parse_error(503, NULL, 0, &e);
	ok(e.st == ST_TRANSIENT && e.code == -1, "no body at all");
	p += snprintf(p, 16, "{\"message\":\"");
	memset(p, 'm', 2 * ETCD_MSG_MAX);
	p += 2 * ETCD_MSG_MAX;
	memcpy(p, "\",\"code\":14}", sizeof("\",\"code\":14}"));
	etcd_parse_error(503, big, strlen(big), &e);
	ok(strlen(e.message) == ETCD_MSG_MAX - 1 && e.st == ST_TRANSIENT,
	   "a long message cut at ETCD_MSG_MAX");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_int64();
	test_req_range();
	test_req_put_txn();
	test_req_lease_lock();
	test_req_auth();
	test_parse_range();
	test_range_refusals();
	test_parse_txn();
	test_parse_lease();
	test_parse_lock_auth();
	test_errors();
	test_error_message();
	return done_testing();
}
