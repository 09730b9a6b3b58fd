/*
 * sealed_key_int.h: the key sources behind sealed_key.c, one file each.
 * For the sealed_*.c files only; outside backends/ tests/layering
 * refuses it.
 */
#ifndef ASTRO_CRED_SEALED_KEY_INT_H
#define ASTRO_CRED_SEALED_KEY_INT_H

#include <stddef.h>

#include "backends/sealed_format.h"
#include "helper/base/status.h"

/* sealed_keyfile.c */

/* The key in key file PATH (checked: ours, 0600, regular) into key. */
enum status sealed_keyfile_key(const char *path, unsigned char *key)
    __attribute__((warn_unused_result));
/*
 * The first line of passphrase file PATH (which may be a pipe) as a
 * NUL-terminated copy in secure memory (*out, *len bytes).
 */
enum status sealed_keyfile_passphrase(const char *path, char **out, size_t *len)
    __attribute__((warn_unused_result));

/* sealed_prompt.c */

/*
 * Ask for the passphrase of STORE on /dev/tty (twice with confirm) into a
 * NUL-terminated copy in secure memory.  ST_NOTFOUND when there is no
 * terminal to ask.
 */
enum status sealed_prompt_passphrase(const char *store, int confirm, char **out,
				     size_t *len)
    __attribute__((warn_unused_result));

/* sealed_cache.c */

#define SEALED_CACHE_PREFIX "astro-cred:v1:"
#define SEALED_CACHE_HASH   16 /* bytes of hash, in hex after the prefix */
#define SEALED_CACHE_NAME_LEN                                                  \
	(sizeof(SEALED_CACHE_PREFIX) - 1 + 2 * SEALED_CACHE_HASH)

/* ASTRO_CRED_KEY_CACHE_SECONDS: how long a cached key lives; 0 is off. */
long sealed_cache_seconds(void);
/*
 * The cache entry's name: a hash of the store's name and the Argon2id
 * salt and limits, so that stores and salts never share an entry and the
 * name reveals neither.
 */
void sealed_cache_name(const char *store, const struct sealed_header *h,
		       char desc[SEALED_CACHE_NAME_LEN + 1]);
/* 1 and the cached key in key, or 0. */
int sealed_cache_get(const char *desc, unsigned char *key);
/* Cache key for secs seconds; best effort. */
void sealed_cache_put(const char *desc, const unsigned char *key, long secs);
/* Drop the entry (a key that did not open the file). */
void sealed_cache_forget(const char *desc);

#endif
