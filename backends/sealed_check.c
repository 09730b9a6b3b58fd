/*
 * sealed_check.c: a store directory's key check (keycheck-*.acrd), which
 * every write's key must open, so that one store never ends up sealed
 * under two keys (see sealed_key_for_write in sealed_key.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "backends/sealed_key.h"
#include "backends/storedir.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"
#include "helper/base/strlist.h"

/* Profiles tried to tell a damaged key-check file from a wrong key. */
#define PROFILE_PROBES 16

#define KEYCHECK_REPAIR                                                        \
	"to repair it, remove it (rm '%s/%s'): the next store writes a new "   \
	"one, once its key has opened the store's profiles; no profile is "    \
	"lost"

/* Read and check the header of key-check file NAME into buf. */
static enum status read_check(struct storedir *sd, const char *name,
			      uint8_t *buf, size_t *len,
			      struct sealed_header *h)
{
	enum status st = storedir_read(sd, NULL, name, buf, SEALED_FILE_MIN,
				       SEALED_FILE_MAX, len);
	enum sealed_err e;

	if (st != ST_OK)
		return st;
	if ((e = sealed_parse_header(buf, *len, h)) != SEALED_OK)
		return fail(ST_STORE,
			    "the store's key-check file '%s/%s' is damaged "
			    "(%s); nothing was changed; " KEYCHECK_REPAIR,
			    storedir_path(sd), name, sealed_strerror(e),
			    storedir_path(sd), name);
	return ST_OK;
}

/* Is h sealed like want (key source and, for Argon2id, salt and limits)? */
static int same_key_id(const struct sealed_header *h,
		       const struct sealed_header *want)
{
	if (h->key_source != want->key_source)
		return 0;
	return h->key_source == SEALED_KEY_RAW ||
	       (h->opslimit == want->opslimit &&
		h->memlimit_kib == want->memlimit_kib &&
		!memcmp(h->salt, want->salt, sizeof(h->salt)));
}

/*
 * The store's profile files sealed like want, at most PROFILE_PROBES of
 * them: with key, those with want's key id (same_key_id), 1 when key opens
 * one of them, else 0; without, those with want's key source, 1 when there
 * is one, its header in *first.  -1 when there is none (or the profiles
 * cannot be listed).  A damaged key-check file is told from a wrong key
 * this way: every profile file is authenticated, so a key that opens one
 * is the store's.
 */
static int probe_profiles(struct storedir *sd, const struct sealed_header *want,
			  const unsigned char *key, struct sealed_header *first)
{
	struct strlist names = STRLIST_INIT;
	struct secbuf tmp = SECBUF_INIT(RECORD_MAX);
	uint8_t buf[SEALED_FILE_MAX];
	char file[PROFILE_NAME_MAX + sizeof(SEALED_PROFILE_SUFFIX)];
	struct sealed_header h;
	size_t len, seen = 0;
	int ret = -1;

	if (storedir_list(sd, STOREDIR_PROFILES, SEALED_PROFILE_SUFFIX,
			  &names) != ST_OK)
		goto out;
	for (size_t i = 0; i < names.n && seen < PROFILE_PROBES; i++) {
		if (strlen(names.v[i]) > PROFILE_NAME_MAX)
			continue;
		snprintf(file, sizeof(file), "%s%s", names.v[i],
			 SEALED_PROFILE_SUFFIX);
		if (storedir_read(sd, STOREDIR_PROFILES, file, buf,
				  SEALED_FILE_MIN, SEALED_FILE_MAX,
				  &len) != ST_OK ||
		    sealed_parse_header(buf, len, &h) != SEALED_OK ||
		    (key ? !same_key_id(&h, want)
			 : h.key_source != want->key_source))
			continue;
		seen++;
		ret = 0;
		if (!key) {
			*first = h;
			ret = 1;
			break;
		}
		if (sealed_open(buf, len, key, names.v[i], &tmp) == SEALED_OK) {
			ret = 1;
			break;
		}
	}
out:
	secbuf_clear(&tmp);
	strlist_clear(&names);
	return ret;
}

/* key opens the profiles but not the key-check file NAME: it is damaged. */
static enum status check_damaged(struct storedir *sd, const char *name)
{
	return fail(ST_STORE,
		    "the store's key-check file '%s/%s' is damaged: the key "
		    "opens the store's profiles but not this file; nothing "
		    "was changed, and reading still works; " KEYCHECK_REPAIR,
		    storedir_path(sd), name, storedir_path(sd), name);
}

/* Does key open the key-check file buf? */
static int opens_check(const uint8_t *buf, size_t len, const unsigned char *key)
{
	struct secbuf tmp = SECBUF_INIT(RECORD_MAX);
	enum sealed_err e =
	    sealed_open(buf, len, key, SEALED_KEYCHECK_CONTEXT, &tmp);

	secbuf_clear(&tmp);
	return e == SEALED_OK;
}

/* Seal an empty record under key as key-check file NAME, if none exists. */
static enum status create_check(struct storedir *sd, const char *name,
				const struct sealed_header *params,
				const unsigned char *key, int *existed)
{
	uint8_t out[SEALED_FILE_MAX];
	struct sealed_header h = *params;
	size_t n = 0;

	randombytes_buf(h.nonce, sizeof(h.nonce));
	if (sealed_seal(&h, key, SEALED_KEYCHECK_CONTEXT, NULL, 0, out,
			sizeof(out), &n) != SEALED_OK)
		return fail(ST_STORE, "cannot seal the key check");
	return storedir_create(sd, NULL, name, out, n, existed);
}

/* Does the key file's key open the store's key check? */
static enum status keyfile_prove(struct storedir *sd,
				 const struct sealed_header *h,
				 const uint8_t *buf, size_t len,
				 const unsigned char *key)
{
	if (h->key_source == SEALED_KEY_RAW && opens_check(buf, len, key))
		return ST_OK;
	if (h->key_source == SEALED_KEY_RAW &&
	    probe_profiles(sd, h, key, NULL) == 1)
		return check_damaged(sd, SEALED_KEYCHECK_KEYFILE);
	return fail(ST_STORE,
		    "the key in ASTRO_CRED_KEY_FILE is not this store's "
		    "key (it does not open '%s/%s'); use the key the "
		    "store was made with, or another ASTRO_CRED_DIR",
		    storedir_path(sd), SEALED_KEYCHECK_KEYFILE);
}

/*
 * A store without a passphrase key check.  New: fresh salt, INTERACTIVE
 * limits, a confirmed passphrase.  One that holds passphrase profiles
 * already (its key check was removed, being damaged) keeps their salt and
 * limits, and the passphrase must open them.
 */
static enum status new_passphrase_store(struct storedir *sd,
					struct sealed_header *params,
					const unsigned char **key, int *existed)
{
	struct sealed_header first;
	enum status st;

	params->key_source = SEALED_KEY_ARGON2ID;
	if (probe_profiles(sd, params, NULL, &first) != 1) {
		st = sealed_key_new(storedir_path(sd), params, key);
	} else {
		params->opslimit = first.opslimit;
		params->memlimit_kib = first.memlimit_kib;
		memcpy(params->salt, first.salt, sizeof(params->salt));
		st = sealed_key_for_read(storedir_path(sd), params, key);
		if (st == ST_OK &&
		    probe_profiles(sd, params, *key, NULL) != 1) {
			sealed_key_result(storedir_path(sd), params, 0);
			return fail(ST_STORE,
				    "the passphrase does not open the store's "
				    "profiles, and the store has no key-check "
				    "file to prove it against; nothing was "
				    "changed");
		}
	}
	if (st != ST_OK)
		return st;
	st =
	    create_check(sd, SEALED_KEYCHECK_PASSPHRASE, params, *key, existed);
	/* Cache the key only if it became the store's. */
	sealed_key_result(storedir_path(sd), params, st == ST_OK && !*existed);
	return st;
}

/*
 * The store's passphrase key, proven against its key-check file h/buf;
 * params then take the store's salt and limits.
 */
static enum status passphrase_prove(struct storedir *sd,
				    struct sealed_header *params,
				    const struct sealed_header *h,
				    const uint8_t *buf, size_t len,
				    const unsigned char **key)
{
	enum status st;

	if (h->key_source != SEALED_KEY_ARGON2ID)
		return fail(ST_STORE, "'%s/%s' is damaged: wrong key source",
			    storedir_path(sd), SEALED_KEYCHECK_PASSPHRASE);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((st = sealed_key_for_read(storedir_path(sd), h, key)) !=
		    ST_OK)
			return st;
		if (opens_check(buf, len, *key)) {
			sealed_key_result(storedir_path(sd), h, 1);
			params->key_source = SEALED_KEY_ARGON2ID;
			params->opslimit = h->opslimit;
			params->memlimit_kib = h->memlimit_kib;
			memcpy(params->salt, h->salt, sizeof(params->salt));
			return ST_OK;
		}
		if (probe_profiles(sd, h, *key, NULL) == 1) {
			sealed_key_result(storedir_path(sd), h, 1);
			return check_damaged(sd, SEALED_KEYCHECK_PASSPHRASE);
		}
		if (!sealed_key_result(storedir_path(sd), h, 0))
			break;
	}
	return fail(ST_STORE,
		    "the passphrase is not this store's (it does not open "
		    "'%s/%s'); nothing was changed",
		    storedir_path(sd), SEALED_KEYCHECK_PASSPHRASE);
}

/* A first writer's key check: of the key file's key or a new passphrase. */
static enum status make_check(struct storedir *sd, int raw,
			      struct sealed_header *params,
			      const unsigned char **key, int *existed)
{
	if (raw && probe_profiles(sd, params, *key, NULL) == 0)
		return fail(ST_STORE,
			    "the key in ASTRO_CRED_KEY_FILE does not open the "
			    "store's profiles, and the store has no key-check "
			    "file to prove it against; use the key the store "
			    "was made with, or another ASTRO_CRED_DIR");
	if (raw)
		return create_check(sd, SEALED_KEYCHECK_KEYFILE, params, *key,
				    existed);
	return new_passphrase_store(sd, params, key, existed);
}

static enum status prove_check(struct storedir *sd, int raw,
			       struct sealed_header *params,
			       const struct sealed_header *h,
			       const uint8_t *buf, size_t len,
			       const unsigned char **key)
{
	if (raw)
		return keyfile_prove(sd, h, buf, len, *key);
	return passphrase_prove(sd, params, h, buf, len, key);
}

/*
 * The key of a write, proven against the store's key-check file (raw: the
 * key file's, whose key is *key already; else the passphrase's).  The
 * first writer creates the file; one that loses that race to another
 * reads the winner's file instead.
 */
static enum status check_for_write(struct storedir *sd, int raw,
				   struct sealed_header *params,
				   const unsigned char **key)
{
	const char *name =
	    raw ? SEALED_KEYCHECK_KEYFILE : SEALED_KEYCHECK_PASSPHRASE;
	uint8_t buf[SEALED_FILE_MAX];
	struct sealed_header h;
	size_t len = 0;
	enum status st;
	int existed = 0;

	for (int round = 0; round < 2; round++) {
		st = read_check(sd, name, buf, &len, &h);
		if (st == ST_NOTFOUND) {
			st = make_check(sd, raw, params, key, &existed);
			if (st != ST_OK || !existed)
				return st;
			continue;
		}
		if (st != ST_OK)
			return st;
		return prove_check(sd, raw, params, &h, buf, len, key);
	}
	return fail(ST_STORE, "the store's key check keeps changing");
}

enum status sealed_key_for_write(struct storedir *sd,
				 struct sealed_header *params,
				 const unsigned char **key)
{
	const char *kf = getenv("ASTRO_CRED_KEY_FILE");
	enum status st;

	memset(params, 0, sizeof(*params));
	if (kf && *kf) {
		params->key_source = SEALED_KEY_RAW;
		if ((st = sealed_key_for_read(storedir_path(sd), params,
					      key)) == ST_OK)
			st = check_for_write(sd, 1, params, key);
	} else {
		st = check_for_write(sd, 0, params, key);
	}
	randombytes_buf(params->nonce, sizeof(params->nonce));
	return st;
}
