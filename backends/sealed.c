/*
 * sealed.c: the libsodium-sealed file backend ("file").  One ACRD v1 file
 * per profile under <store>/profiles/, so that a get reads one file
 * whatever the number of profiles.  Format: sealed_format.h; keys:
 * sealed_key.h; directory, safe files and atomic writes: storedir.h.
 */
#include <stdio.h>
#include <string.h>

#include "backends/profile_lock.h"
#include "backends/sealed.h"
#include "backends/sealed_format.h"
#include "backends/sealed_key.h"
#include "backends/storedir.h"
#include "helper/base/log.h"

#define SUFFIX	      SEALED_PROFILE_SUFFIX
#define FILE_NAME_MAX (PROFILE_NAME_MAX + sizeof(SUFFIX))

/* The store and profiles/<profile>.acrd for PROFILE. */
static enum status prepare(const char *profile, struct storedir **sd,
			   char name[FILE_NAME_MAX])
{
	if (!profile_name_ok(profile))
		return fail(ST_USAGE, "invalid profile name");
	snprintf(name, FILE_NAME_MAX, "%s%s", profile, SUFFIX);
	return storedir_open(sd);
}

/* Open buf with the key its header names, retrying once past a cache. */
static enum status unseal(struct storedir *sd, const char *profile,
			  const uint8_t *buf, size_t len, struct secbuf *rec)
{
	struct sealed_header h;
	const unsigned char *key;
	enum sealed_err e;
	enum status st;

	if ((e = sealed_parse_header(buf, len, &h)) != SEALED_OK)
		goto bad;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((st = sealed_key_for_read(storedir_path(sd), &h, &key)) !=
		    ST_OK)
			return st;
		e = sealed_open(buf, len, key, profile, rec);
		if (e == SEALED_OK) {
			sealed_key_result(storedir_path(sd), &h, 1);
			return ST_OK;
		}
		if (!sealed_key_result(storedir_path(sd), &h, 0))
			break;
	}
bad:
	return fail(ST_STORE, "cannot open profile '%s' (%s/%s/%s%s): %s",
		    profile, storedir_path(sd), STOREDIR_PROFILES, profile,
		    SUFFIX, sealed_strerror(e));
}

static enum status s_get(const char *profile, struct secbuf *rec)
{
	uint8_t buf[SEALED_FILE_MAX];
	char name[FILE_NAME_MAX];
	struct storedir *sd;
	size_t len = 0;
	enum status st;

	if ((st = prepare(profile, &sd, name)) != ST_OK)
		return st;
	st = storedir_read(sd, STOREDIR_PROFILES, name, buf, SEALED_FILE_MIN,
			   SEALED_FILE_MAX, &len);
	if (st != ST_OK)
		return st;
	return unseal(sd, profile, buf, len, rec);
}

static enum status s_store(const char *profile, const unsigned char *rec,
			   size_t rlen)
{
	uint8_t out[SEALED_FILE_MAX];
	char name[FILE_NAME_MAX];
	struct sealed_header params;
	const unsigned char *key;
	struct storedir *sd;
	size_t n = 0;
	enum sealed_err e;
	enum status st;

	if ((st = prepare(profile, &sd, name)) != ST_OK)
		return st;
	if (rlen > RECORD_MAX)
		return fail(ST_USAGE,
			    "record too large (%zu bytes, at most "
			    "%d)",
			    rlen, RECORD_MAX);
	if ((st = sealed_key_for_write(sd, &params, &key)) != ST_OK)
		return st;
	e = sealed_seal(&params, key, profile, rec, rlen, out, sizeof(out), &n);
	if (e != SEALED_OK)
		return fail(ST_STORE, "cannot seal profile '%s': %s", profile,
			    sealed_strerror(e));
	return storedir_write(sd, STOREDIR_PROFILES, name, out, n);
}

static enum status s_erase(const char *profile)
{
	char name[FILE_NAME_MAX];
	struct storedir *sd;
	enum status st;

	if ((st = prepare(profile, &sd, name)) != ST_OK)
		return st;
	return storedir_remove(sd, STOREDIR_PROFILES, name);
}

static enum status s_list(struct strlist *out)
{
	struct strlist all = STRLIST_INIT;
	struct storedir *sd;
	enum status st;

	if ((st = storedir_open(&sd)) != ST_OK)
		return st;
	storedir_clean_temps(sd);
	st = storedir_list(sd, STOREDIR_PROFILES, SUFFIX, &all);
	for (size_t i = 0; st == ST_OK && i < all.n; i++)
		if (profile_name_ok(all.v[i]))
			strlist_push(out, all.v[i]);
	strlist_clear(&all);
	return st;
}

static int s_available(void)
{
	return 1;
}

const struct backend sealed_backend = {
    .name = "file",
    .get = s_get,
    .put = s_store,
    .erase = s_erase,
    .list = s_list,
    .available = s_available,
    .lock = profile_lock,
    .unlock = profile_unlock,
    .forget = sealed_key_clear,
};
