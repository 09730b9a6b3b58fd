/*
 * sealed_cache.c: derived keys cached in the kernel's user keyring for
 * ASTRO_CRED_KEY_CACHE_SECONDS, so that a passphrase store costs one
 * Argon2id run per cache period, not one per command (see sealed_key.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/keyctl.h>
#include <sodium.h>

#include "backends/sealed_key.h"
#include "backends/sealed_key_int.h"
#include "helper/base/envnum.h"
#include "helper/base/log.h"

long sealed_cache_seconds(void)
{
	return (long)env_number("ASTRO_CRED_KEY_CACHE_SECONDS", NULL, 1, 0,
				SEALED_CACHE_SECONDS_MAX, SEALED_CACHE_SECONDS);
}

void sealed_cache_name(const char *store, const struct sealed_header *h,
		       char desc[SEALED_CACHE_NAME_LEN + 1])
{
	static const char tag[] = "astro-cred key cache v1";
	crypto_generichash_state st;
	uint8_t out[SEALED_CACHE_HASH], lim[8];

	for (int i = 0; i < 4; i++) {
		lim[i] = (uint8_t)(h->opslimit >> (8 * i));
		lim[4 + i] = (uint8_t)(h->memlimit_kib >> (8 * i));
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof(tag));
	crypto_generichash_update(&st, (const uint8_t *)store,
				  strlen(store) + 1);
	crypto_generichash_update(&st, h->salt, SEALED_SALT_LEN);
	crypto_generichash_update(&st, lim, sizeof(lim));
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(desc, SEALED_CACHE_PREFIX, sizeof(SEALED_CACHE_PREFIX) - 1);
	sodium_bin2hex(desc + sizeof(SEALED_CACHE_PREFIX) - 1,
		       2 * SEALED_CACHE_HASH + 1, out, sizeof(out));
}

/* keyctl(KEYCTL_SEARCH) on the user keyring; the id confers possession. */
static long cache_search(const char *desc)
{
	return syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user",
		       desc, 0);
}

int sealed_cache_get(const char *desc, unsigned char *key)
{
	long id = cache_search(desc), n;

	if (id < 0)
		return 0;
	n = syscall(SYS_keyctl, KEYCTL_READ, id, key, SEALED_KEY_LEN);
	if (n != SEALED_KEY_LEN) {
		sodium_memzero(key, SEALED_KEY_LEN);
		return 0;
	}
	verbose("using the derived key cached in the kernel keyring");
	return 1;
}

void sealed_cache_forget(const char *desc)
{
	long id = cache_search(desc);

	if (id >= 0)
		syscall(SYS_keyctl, KEYCTL_INVALIDATE, id);
}

void sealed_cache_put(const char *desc, const unsigned char *key, long secs)
{
	long id;

	if (syscall(SYS_add_key, "user", desc, key, (size_t)SEALED_KEY_LEN,
		    KEY_SPEC_USER_KEYRING) < 0) {
		verbose("cannot cache the key in the kernel keyring: %s",
			strerror(errno));
		return;
	}
	/* facts.md: the timeout takes only on the id found by a search. */
	id = cache_search(desc);
	if (id < 0 ||
	    syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, id, (unsigned)secs) < 0) {
		verbose("cannot set the key cache timeout; not caching");
		sealed_cache_forget(desc);
	}
}
