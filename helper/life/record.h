/*
 * record.h: what astro-cred keeps per profile, and its byte encoding.
 *
 * A record is the token (secret) plus the non-secret facts about it that
 * renewal needs without the network: id, scope, organization, entity,
 * expiry, name, description and role (what a replacement is created
 * with), the parent profile allowed to replace it, the renewal policy,
 * and the renewal journal (state, intent time, orphan id).  Backends store
 * the encoded bytes opaquely and encrypted; the encoding is canonical JSON
 * written only by record_encode() and read back strictly by
 * record_decode(), a pure pair that unit tests and the fuzzer reach.
 */
#ifndef ASTRO_CRED_RECORD_H
#define ASTRO_CRED_RECORD_H

#include <stdint.h>

#include "helper/base/names.h"
#include "helper/base/secmem.h"
#include "helper/base/status.h"

#define REC_ID_MAX   129 /* as JWT_ID_MAX */
#define REC_NAME_MAX 257
#define REC_URL_MAX  512
/* The API allows 500 characters; in UTF-8 at most 4 bytes each. */
#define REC_DESC_MAX 2001

enum rec_state {
	REC_OK = 0,
	REC_ROTATING,	 /* a rotate POST may be in flight (no parent) */
	REC_REPLACING,	 /* a create for a replacement may be in flight */
	REC_INTERRUPTED, /* the rotation answer was lost; token is dead */
};

struct record {
	char profile[PROFILE_NAME_MAX + 1];
	char *token; /* secret memory, NUL-terminated */
	char token_id[REC_ID_MAX];
	char scope[16]; /* ORGANIZATION|WORKSPACE|DEPLOYMENT|AGENT */
	char organization[REC_ID_MAX];
	char workspace[REC_ID_MAX];
	char deployment[REC_ID_MAX];
	char name[REC_NAME_MAX];
	char description[REC_DESC_MAX]; /* may hold TAB and LF */
	char role[REC_ID_MAX];
	char parent[PROFILE_NAME_MAX + 1];
	char api_url[REC_URL_MAX];
	int64_t issued_at;  /* iat */
	int64_t expires_at; /* exp; 0 = never expires */
	int expiry_days;    /* period a replacement is created with; 0 none */
	int rotate_never;   /* rotate=never */
	char rotate_before[24]; /* as given: DUR or N%; "" = default */
	int64_t rotate_every;	/* seconds; renew non-expiring tokens; 0 off */
	enum rec_state state;
	int64_t intent_at;	    /* when the in-flight renewal began */
	char orphan_id[REC_ID_MAX]; /* a replaced token still to delete */
	int64_t stored_at;
	int64_t generation; /* +1 at every write: who wrote since I read? */
};

void record_init(struct record *r);
/* Wipe and free the token; the struct is reset. */
void record_clear(struct record *r);
/* Replace r->token with a secret copy of tok. */
void record_set_token(struct record *r, const char *tok);

/* Encode r into out (secret memory). */
enum status record_encode(const struct record *r, struct secbuf *out);
/* Decode strictly; anything unexpected is ST_STORE (a damaged store). */
enum status record_decode(const unsigned char *buf, size_t len,
			  struct record *r);

const char *rec_state_name(enum rec_state s);

#endif
