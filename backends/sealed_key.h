/*
 * sealed_key.h: where the sealed file's 32-byte key comes from
 * (contract.md section 7 "Key file"; docs/sealed-format.md "Key sources").
 *
 *   ASTRO_CRED_KEY_FILE         32 raw bytes or 64 hex digits (+ newline);
 *                               a regular file of ours, no group/other bits
 *   ASTRO_CRED_PASSPHRASE_FILE  its first line is the passphrase
 *   ASTRO_CRED_PASSPHRASE       the passphrase itself (unset once read)
 *   /dev/tty                    a prompt, echo off, when there is a terminal
 *
 * A key file wins over a passphrase for new files; a file is always opened
 * with the source its header names.  Passphrases are stretched with
 * Argon2id over the store's salt and limits (keycheck-passphrase.acrd), so
 * every profile of a store shares one derived key, which is cached in the
 * kernel user keyring for ASTRO_CRED_KEY_CACHE_SECONDS (default 900, 0:
 * off).  Keys, passphrases and derived keys live in secure memory only;
 * pointers handed out stay valid until sealed_key_clear().
 *
 * The key sources need no store directory: a store is named by a string
 * (the file store's canonical path), which the prompt shows and the
 * kernel cache entry is keyed on, so another store of sealed records can
 * use them as they are.  Only the key check of sealed_key_for_write()
 * lives in the store directory (sealed_check.c).
 */
#ifndef ASTRO_CRED_SEALED_KEY_H
#define ASTRO_CRED_SEALED_KEY_H

#include <stddef.h>

#include "backends/sealed_format.h"
#include "helper/base/status.h"

struct storedir;

/* Profile files: <store>/profiles/<profile>.acrd (sealed.c). */
#define SEALED_PROFILE_SUFFIX	   ".acrd"
#define SEALED_KEYCHECK_KEYFILE	   "keycheck-keyfile.acrd"
#define SEALED_KEYCHECK_PASSPHRASE "keycheck-passphrase.acrd"
/* Context name of the key-check files: no profile name contains '/'. */
#define SEALED_KEYCHECK_CONTEXT	 "/keycheck"
#define SEALED_CACHE_SECONDS	 900
#define SEALED_CACHE_SECONDS_MAX (31L * 86400)
#define SEALED_PASSPHRASE_MAX	 1024
/* Argon2id limits for new stores: libsodium's INTERACTIVE. */
#define SEALED_NEW_OPSLIMIT 2U
#define SEALED_NEW_MEM_KIB  65536U

/*
 * Decode a key file's contents: exactly 32 raw bytes, or 64 hex digits
 * with an optional trailing newline.  0, or -1 for anything else.
 */
int sealed_key_parse(const unsigned char *buf, size_t len,
		     unsigned char key[SEALED_KEY_LEN])
    __attribute__((warn_unused_result));

/*
 * The key for a file whose header h has passed sealed_parse_header():
 * the key file for key source 0; for Argon2id, this process's copy, else
 * the kernel keyring cache, else a passphrase run through Argon2id with
 * h's (already capped) limits.  ST_STORE with a message listing the ways
 * to give a key when there is none.
 */
enum status sealed_key_for_read(const char *store,
				const struct sealed_header *h,
				const unsigned char **key)
    __attribute__((warn_unused_result));

/*
 * Report whether the key from sealed_key_for_read() opened the file.  A
 * derived key that worked is cached in the kernel keyring; one that did
 * not is dropped everywhere.  Returns 1 when the failed key came from a
 * cache, so that asking again (the passphrase) may succeed.
 */
int sealed_key_result(const char *store, const struct sealed_header *h,
		      int opened);

/*
 * The key of a new passphrase store: a fresh salt and INTERACTIVE limits
 * into params, the passphrase (asked twice on a terminal) run through
 * Argon2id.  Report with sealed_key_result() once it is the store's.
 */
enum status sealed_key_new(const char *store, struct sealed_header *params,
			   const unsigned char **key)
    __attribute__((warn_unused_result));

/*
 * Header parameters (key source, Argon2id limits and salt, a fresh nonce)
 * and the key for writing a new file.  The key is first proven against
 * the store's key-check file, which is created on first use; a key or
 * passphrase that does not open it is refused (ST_STORE), so one store
 * never ends up sealed under two keys by a typo.  A key that does not open
 * the key-check file but opens the store's profiles means the key-check
 * file is damaged: refused too, saying so and how to repair it (remove
 * the file).  A key-check file is created only with a key that opens the
 * store's profiles of its key source, if there are any (for a passphrase,
 * with their salt and limits), so removing a damaged one loses nothing.
 */
enum status sealed_key_for_write(struct storedir *sd,
				 struct sealed_header *params,
				 const unsigned char **key)
    __attribute__((warn_unused_result));

/* Wipe and free every key and passphrase this process holds. */
void sealed_key_clear(void);

#endif
