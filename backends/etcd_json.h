/*
 * etcd_json.h: the bodies of etcd 3.4's v3 JSON gateway (grpc-gateway on
 * the client port), as pure functions: requests built into a bounded
 * secret buffer, answers parsed into structs, errors mapped to astro-cred
 * statuses.  No network, no globals: the unit tests and the fuzzer reach
 * every rule.  What the gateway really does, call by call, is measured in
 * docs/fleet.md ("Gateway facts"); the rules below follow it.
 *
 *  - Keys and values are bytes, base64 (standard alphabet, padded) on the
 *    wire.  We refuse a non-canonical or malformed encoding.
 *  - int64 and uint64 fields (revisions, lease IDs, TTLs, counts, the
 *    header's ids) come as JSON strings of decimal digits, and cluster and
 *    member ids exceed 2^63: they are parsed here digit by digit, never
 *    through a double.  A JSON number in their place is refused: 3.4 never
 *    sends one.  Zero values are left out by the gateway (proto3): a
 *    missing field is 0 (a missing `succeeded` is false).
 *  - Answers go through json_parse_strict() (no duplicate keys, valid
 *    UTF-8, nothing after the value); unknown keys are ignored, known ones
 *    must have their type.  Requests are written by hand, never through
 *    cJSON's number printing (a double), and each is checked by the strict
 *    parser before it leaves: a body we cannot read back is a bug.
 *
 * Parsers return ST_OK, or ST_STORE after one message ("the etcd answer:
 * field 'kvs' has an invalid value") and an emptied struct; an answer that
 * does not have the shape we rely on is as bad as a damaged store.
 * Builders empty their buffer first, then return ST_OK, or ST_STORE after
 * one message (the buffer left empty) when an argument is out of bounds.
 */
#ifndef ASTRO_CRED_ETCD_JSON_H
#define ASTRO_CRED_ETCD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "helper/base/secmem.h"
#include "helper/base/status.h"

/* The gateway's paths (etcd 3.4 also answers /v3beta/, 3.5 only /v3/). */
#define ETCD_PATH_RANGE	      "/v3/kv/range"
#define ETCD_PATH_PUT	      "/v3/kv/put"
#define ETCD_PATH_TXN	      "/v3/kv/txn"
#define ETCD_PATH_LEASE_GRANT "/v3/lease/grant"
#define ETCD_PATH_KEEPALIVE   "/v3/lease/keepalive"
#define ETCD_PATH_REVOKE      "/v3/lease/revoke"
#define ETCD_PATH_TIMETOLIVE  "/v3/lease/timetolive"
#define ETCD_PATH_LOCK	      "/v3/lock/lock"
#define ETCD_PATH_UNLOCK      "/v3/lock/unlock"
#define ETCD_PATH_AUTH	      "/v3/auth/authenticate"

#define ETCD_BODY_MAX	  (1024 * 1024) /* an answer we read */
#define ETCD_REQ_MAX	  (256 * 1024)	/* a request we build */
#define ETCD_KEY_MAX	  1024		/* a key, in bytes */
#define ETCD_VALUE_MAX	  (64 * 1024)	/* a value (a sealed record: < 9 KiB) */
#define ETCD_KVS_MAX	  10000		/* key-values in one range answer */
#define ETCD_OPS_MAX	  16		/* compares, or ops of a branch */
#define ETCD_MSG_MAX	  256		/* an error message we keep */
#define ETCD_TOKEN_MAX	  4096		/* an auth token (simple or JWT) */
#define ETCD_USER_MAX	  256		/* a user name, in bytes */
#define ETCD_PASSWORD_MAX 1024		/* as SEALED_PASSPHRASE_MAX */

/* The header of every answer; a field the gateway left out is 0. */
struct etcd_header {
	uint64_t cluster_id, member_id, raft_term;
	int64_t revision;
};

/* One key-value of a range answer. */
struct etcd_kv {
	char *key; /* heap, NUL-terminated after key_len bytes */
	size_t key_len;
	unsigned char *value; /* secret memory, NUL after value_len; or NULL */
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
};

struct etcd_range {
	struct etcd_header hdr;
	struct etcd_kv *kvs;
	size_t nkvs;
	int64_t count; /* keys in the range (may exceed nkvs with a limit) */
	int more;      /* a limit cut the answer short */
};
#define ETCD_RANGE_INIT                                                        \
	{                                                                      \
		{0, 0, 0, 0}, NULL, 0, 0, 0                                    \
	}
/* Free what a range holds (values wiped) and reset it; NULL is fine. */
void etcd_range_clear(struct etcd_range *r);

/* Flags of etcd_req_range(). */
#define ETCD_PREFIX	  0x1 /* every key that starts with key */
#define ETCD_SERIALIZABLE 0x2 /* local read, no quorum (may be stale) */
#define ETCD_KEYS_ONLY	  0x4
#define ETCD_COUNT_ONLY	  0x8

/*
 * A range request for key (a C string; with ETCD_PREFIX, the whole
 * prefix), at most limit keys (0: no limit).  Linearizable unless
 * ETCD_SERIALIZABLE.
 */
enum status etcd_req_range(struct secbuf *out, const char *key, unsigned flags,
			   int64_t limit);

/* What a compare looks at, and how. */
enum etcd_target {
	ETCD_TARGET_VERSION,
	ETCD_TARGET_CREATE,
	ETCD_TARGET_MOD,
	ETCD_TARGET_LEASE,
};
enum etcd_result {
	ETCD_EQUAL,
	ETCD_GREATER,
	ETCD_LESS,
	ETCD_NOT_EQUAL,
};
/* key's target compared with value, e.g. MOD EQUAL 42; CREATE EQUAL 0. */
struct etcd_cmp {
	const char *key;
	enum etcd_target target;
	enum etcd_result result;
	int64_t value;
};

enum etcd_op_type {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
};
/* One operation of a transaction branch (or a lone put). */
struct etcd_op {
	enum etcd_op_type type;
	const char *key;
	const unsigned char *value; /* PUT: value_len bytes (may be 0) */
	size_t value_len;
	int64_t lease; /* PUT: attach to this lease; 0 none */
};
struct etcd_txn {
	const struct etcd_cmp *cmp;
	size_t ncmp;
	const struct etcd_op *success, *failure;
	size_t nsuccess, nfailure;
};

/* A put (op->type must be ETCD_OP_PUT). */
enum status etcd_req_put(struct secbuf *out, const struct etcd_op *op);
/* A transaction: if every compare holds, success, else failure. */
enum status etcd_req_txn(struct secbuf *out, const struct etcd_txn *t);
/* {"TTL":"ttl"}: a new lease (ttl 1..ETCD_TTL_MAX seconds). */
#define ETCD_TTL_MAX 9000000000LL
enum status etcd_req_lease_grant(struct secbuf *out, int64_t ttl);
/*
 * {"ID":"id"}: the body of keepalive, revoke and timetolive (with keys:
 * also list the keys attached).
 */
enum status etcd_req_lease_id(struct secbuf *out, int64_t id, int keys);
/* Wait for the lock named name, held by lease (> 0) once granted. */
enum status etcd_req_lock(struct secbuf *out, const char *name, int64_t lease);
/* Release the lock key a lock answer gave. */
enum status etcd_req_unlock(struct secbuf *out, const char *key);
/*
 * {"name":user,"password":password}.  The password goes only into out
 * (secret memory) and the strict parser's wiped tree.  Both must be
 * non-empty valid UTF-8 without control characters.
 */
enum status etcd_req_auth(struct secbuf *out, const char *user,
			  const char *password);

/* Answers.  body[len] must be '\0'; len at most ETCD_BODY_MAX. */

/* Any answer that carries only a header: put, revoke, unlock. */
enum status etcd_parse_header(const char *body, size_t len,
			      struct etcd_header *out);

enum status etcd_parse_range(const char *body, size_t len,
			     struct etcd_range *out);

/* One entry of a transaction's responses. */
struct etcd_op_res {
	enum etcd_op_type type;
	int64_t revision;	 /* the entry's own header revision */
	struct etcd_range range; /* RANGE: its key-values */
	int64_t deleted;	 /* DELETE: how many keys */
};
struct etcd_txn_res {
	struct etcd_header hdr;
	int succeeded; /* 0 when the gateway left it out: the failure branch */
	struct etcd_op_res *res;
	size_t nres;
};
#define ETCD_TXN_RES_INIT                                                      \
	{                                                                      \
		{0, 0, 0, 0}, 0, NULL, 0                                       \
	}
void etcd_txn_res_clear(struct etcd_txn_res *t);
enum status etcd_parse_txn(const char *body, size_t len,
			   struct etcd_txn_res *out);

struct etcd_lease {
	struct etcd_header hdr;
	int64_t id, ttl, granted_ttl;
	int gone; /* the lease no longer exists (expired or revoked) */
};
/* A grant: a positive ID and TTL, no "error". */
enum status etcd_parse_lease_grant(const char *body, size_t len,
				   struct etcd_lease *out);
/*
 * A keepalive answer ({"result":{...}}) for lease want_id: a TTL left out
 * means the lease is gone (out->gone); a different ID is refused.
 */
enum status etcd_parse_keepalive(const char *body, size_t len, int64_t want_id,
				 struct etcd_lease *out);
/* A timetolive answer for want_id: TTL -1 means gone. */
enum status etcd_parse_timetolive(const char *body, size_t len, int64_t want_id,
				  struct etcd_lease *out);

/*
 * A lock answer for (name, lease): the key must be exactly name "/" and
 * the lease in lower-case hex, as etcd makes it; *key is a heap copy.
 * NOTE: etcd 3.4 may grant a lock whose key is already gone (the lease
 * expired while waiting; docs/fleet.md): a granted key proves nothing
 * until a transaction compares it.
 */
enum status etcd_parse_lock(const char *body, size_t len, const char *name,
			    int64_t lease, struct etcd_header *hdr, char **key);

/* An authenticate answer: *token in secret memory (secmem_free it). */
enum status etcd_parse_auth(const char *body, size_t len, char **token);

/*
 * What an error answer means for us: REAUTH, our auth token is unknown
 * (expired, or the member restarted): authenticate again; LEASE_GONE, the
 * lease named does not exist (expired or revoked); NO_AUTH, we
 * authenticated but the cluster has authentication off.
 */
#define ETCD_ERR_REAUTH	    0x1
#define ETCD_ERR_LEASE_GONE 0x2
#define ETCD_ERR_NO_AUTH    0x4
struct etcd_error {
	int http_status;
	int code;		    /* gRPC code, -1 when the body gave none */
	char message[ETCD_MSG_MAX]; /* sanitized; else "HTTP status N" */
	unsigned flags;
	enum status st; /* ST_TRANSIENT or ST_STORE */
};
/*
 * Map an answer with HTTP status other than 200 (or an error body) to
 * out.  Both shapes the gateway uses are read: {"error","message","code"}
 * and, from streams, {"error":{"grpc_code","http_code","message"}}.  Never
 * fails, never prints; what it keeps of the body is the message,
 * sanitized.  ST_TRANSIENT: no leader, timeouts, leader changes,
 * unavailable, a 5xx without a body we know; ST_STORE: authentication,
 * permission, a request etcd refuses (too large, malformed), no such
 * path (not an etcd v3 gateway).
 */
void etcd_parse_error(int http_status, const char *body, size_t len,
		      struct etcd_error *out);

/* Parse a decimal int64 written as etcd writes it ("0", "-1", "42"). */
int etcd_int64_parse(const char *s, int64_t *out);

#endif
