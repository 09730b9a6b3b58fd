/* The stored record's codec and the renewal policy (pure functions). */
#include <string.h>

#include <sodium.h>

#include "helper/life/lifecycle.h"
#include "helper/life/record.h"
#include "helper/base/secmem.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

static void sample(struct record *r)
{
	record_init(r);
	snprintf(r->profile, sizeof(r->profile), "ci");
	record_set_token(r, "eyJhbGciOi.eyJzdWIi.c2ln");
	snprintf(r->token_id, sizeof(r->token_id), "tok1");
	snprintf(r->scope, sizeof(r->scope), "DEPLOYMENT");
	snprintf(r->organization, sizeof(r->organization), "org1");
	snprintf(r->deployment, sizeof(r->deployment), "dep1");
	snprintf(r->parent, sizeof(r->parent), "admin");
	snprintf(r->name, sizeof(r->name), "deploy bot");
	snprintf(r->description, sizeof(r->description),
		 "line one\n\tline two");
	snprintf(r->rotate_before, sizeof(r->rotate_before), "20%%");
	r->issued_at = 1000;
	r->expires_at = 87400;
	r->expiry_days = 1;
	r->state = REC_REPLACING;
	r->generation = 7;
}

static enum status decode_str(const char *s, struct record *r)
{
	struct secbuf b = SECBUF_INIT(RECORD_MAX);
	enum status st;

	if (secbuf_append(&b, s, strlen(s)) < 0)
		return ST_USAGE;
	capture_begin();
	st = record_decode(b.data, b.len, r);
	capture_text();
	secbuf_clear(&b);
	return st;
}

static void test_roundtrip(void)
{
	struct record a, b;
	struct secbuf buf = SECBUF_INIT(RECORD_MAX);

	sample(&a);
	record_init(&b);
	is_int(record_encode(&a, &buf), ST_OK, "encode");
	is_int(record_decode(buf.data, buf.len, &b), ST_OK, "decode");
	is_str(b.token, a.token, "token survives");
	is_str(b.deployment, "dep1", "deployment survives");
	is_str(b.parent, "admin", "parent survives");
	is_str(b.name, "deploy bot", "name survives");
	is_str(b.description, "line one\n\tline two",
	       "description survives, TAB and LF included");
	is_str(b.rotate_before, "20%", "policy survives");
	is_int(b.expires_at, 87400, "expiry survives");
	is_int(b.state, REC_REPLACING, "journal state survives");
	is_int(b.generation, 7, "generation survives");
	ok(!strstr((char *)buf.data, "workspaceId"), "empty fields omitted");
	record_clear(&a);
	record_clear(&b);
	secbuf_clear(&buf);
}

static void test_rejects(void)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"v\":1}",
	    "{\"v\":2,\"token\":\"t\",\"profile\":\"p\",\"tokenId\":\"i\","
	    "\"scope\":\"ORGANIZATION\",\"organizationId\":\"o\"}",
	    "{\"v\":1,\"token\":\"t\",\"profile\":\"p\",\"tokenId\":\"i\","
	    "\"scope\":\"ORGANIZATION\",\"organizationId\":\"o\",\"x\":1}",
	    "{\"v\":1,\"token\":\"t\",\"token\":\"u\",\"profile\":\"p\","
	    "\"tokenId\":\"i\",\"scope\":\"ORGANIZATION\","
	    "\"organizationId\":\"o\"}",
	    "{\"v\":1,\"token\":\"t\",\"profile\":\"../x\",\"tokenId\":\"i\","
	    "\"scope\":\"ORGANIZATION\",\"organizationId\":\"o\"}",
	    "{\"v\":1,\"token\":\"t\",\"profile\":\"p\",\"tokenId\":\"i\","
	    "\"scope\":\"ORGANIZATION\",\"organizationId\":\"o\","
	    "\"expiresAt\":-5}",
	    "{\"v\":1,\"token\":\"t\",\"profile\":\"p\",\"tokenId\":\"i\","
	    "\"scope\":\"ORGANIZATION\",\"organizationId\":\"o\","
	    "\"state\":\"weird\"}",
	    "{\"v\":1,\"token\":\"t\",\"profile\":\"p\",\"tokenId\":\"i\","
	    "\"scope\":\"ORGANIZATION\",\"organizationId\":\"o\"} x",
	};
	struct record r;

	record_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		is_int(decode_str(bad[i], &r), ST_STORE,
		       "reject bad record %zu", i);
	ok(r.token == NULL, "nothing left behind on rejection");
	is_int(decode_str("{\"v\":1,\"token\":\"t\",\"profile\":\"p\","
			  "\"tokenId\":\"i\",\"scope\":\"ORGANIZATION\","
			  "\"organizationId\":\"o\"}",
			  &r),
	       ST_OK, "minimal record accepted");
	record_clear(&r);
}

static void test_policy(void)
{
	struct record r;

	record_init(&r);
	r.issued_at = 0;
	r.expires_at = 86400; /* a day */
	is_int(life_renew_margin(&r, 0), 86400 / 5, "default: a fifth");
	is_int(life_renew_margin(&r, 30000), 30000, "min_ttl wins if larger");
	r.expires_at = 1000;
	is_int(life_renew_margin(&r, 0), 300, "at least 5 minutes");
	r.expires_at = 400;
	is_int(life_renew_margin(&r, 0), 200, "never more than half");
	snprintf(r.rotate_before, sizeof(r.rotate_before), "50%%");
	r.expires_at = 1000;
	is_int(life_renew_margin(&r, 0), 500, "N%% of the lifetime");
	snprintf(r.rotate_before, sizeof(r.rotate_before), "2m");
	is_int(life_renew_margin(&r, 0), 120, "a duration");
	ok(!life_needs_renewal(&r, 800, 0), "fresh: 200 s left > 120");
	ok(life_needs_renewal(&r, 900, 0), "due: 100 s left < 120");
	ok(life_needs_renewal(&r, 800, 300), "due for a min_ttl of 300");
	r.rotate_never = 1;
	ok(!life_needs_renewal(&r, 900, 0), "rotate=never: never due");
	r.rotate_never = 0;
	r.expires_at = 0;
	ok(!life_needs_renewal(&r, 1e9, 0), "non-expiring: never due");
	r.rotate_every = 3600;
	ok(life_needs_renewal(&r, 4000, 0), "unless rotate_every says so");
	r.expires_at = 1000;
	r.rotate_every = 0;
	r.state = REC_ROTATING;
	ok(life_needs_renewal(&r, 0, 0), "a journal state is always due");
	record_clear(&r);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_roundtrip();
	test_rejects();
	test_policy();
	return done_testing();
}
