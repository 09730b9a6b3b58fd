/*
 * sealed_key.c: the keys this process holds for the sealed format and
 * where each comes from (see sealed_key.h and docs/sealed-format.md for
 * the design and its threat model).  The sources themselves: the key and
 * passphrase files (sealed_keyfile.c), the terminal (sealed_prompt.c),
 * the kernel keyring cache (sealed_cache.c); a store directory's key
 * check is sealed_check.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backends/sealed_key.h"
#include "backends/sealed_key_int.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define SLOTS 4

#define NO_KEY_HELP                                                            \
	"set ASTRO_CRED_KEY_FILE to a file holding a 32-byte key (32 raw "     \
	"bytes or 64 hex digits), ASTRO_CRED_PASSPHRASE_FILE to a file "       \
	"whose first line is the passphrase, or ASTRO_CRED_PASSPHRASE "        \
	"(weaker); or run it where /dev/tty can prompt for the passphrase"

/* What a key is for: the source and, for Argon2id, salt and limits. */
struct key_id {
	uint8_t source;
	uint32_t ops, mem;
	uint8_t salt[SEALED_SALT_LEN];
};

struct slot {
	int used, verified, from_kernel;
	struct key_id id;
	unsigned char *key; /* SEALED_KEY_LEN bytes of secure memory */
};

static struct slot slots[SLOTS];
static char *passphrase; /* secure memory, NUL-terminated */
static size_t passphrase_len;
static int clear_registered;

void sealed_key_clear(void)
{
	for (size_t i = 0; i < SLOTS; i++) {
		secmem_free(slots[i].key);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
	secmem_free(passphrase);
	passphrase = NULL;
	passphrase_len = 0;
}

static void key_id_of(const struct sealed_header *h, struct key_id *id)
{
	memset(id, 0, sizeof(*id));
	id->source = h->key_source;
	if (h->key_source != SEALED_KEY_ARGON2ID)
		return;
	id->ops = h->opslimit;
	id->mem = h->memlimit_kib;
	memcpy(id->salt, h->salt, SEALED_SALT_LEN);
}

static int same_id(const struct key_id *a, const struct key_id *b)
{
	return a->source == b->source && a->ops == b->ops && a->mem == b->mem &&
	       !memcmp(a->salt, b->salt, SEALED_SALT_LEN);
}

static struct slot *find_slot(const struct sealed_header *h)
{
	struct key_id id;

	key_id_of(h, &id);
	for (size_t i = 0; i < SLOTS; i++)
		if (slots[i].used && same_id(&slots[i].id, &id))
			return &slots[i];
	return NULL;
}

static void drop_slot(struct slot *s)
{
	secmem_free(s->key);
	memset(s, 0, sizeof(*s));
}

static struct slot *new_slot(const struct sealed_header *h)
{
	struct slot *s = &slots[0];

	if (!clear_registered) {
		atexit(sealed_key_clear);
		clear_registered = 1;
	}
	for (size_t i = 0; i < SLOTS; i++)
		if (!slots[i].used) {
			s = &slots[i];
			break;
		}
	drop_slot(s);
	s->used = 1;
	key_id_of(h, &s->id);
	s->key = secmem_alloc(SEALED_KEY_LEN);
	return s;
}

/* Keep p (a NUL-terminated copy in secure memory) as the passphrase. */
static void keep_passphrase(char *p, size_t n)
{
	passphrase = p;
	passphrase_len = n;
	if (!clear_registered) {
		atexit(sealed_key_clear);
		clear_registered = 1;
	}
}

/* The passphrase, from the first source that gives one. */
static enum status get_passphrase(const char *store, int confirm)
{
	const char *p;
	char *got = NULL;
	size_t n = 0;
	enum status st;

	if (passphrase)
		return ST_OK;
	if ((p = getenv("ASTRO_CRED_PASSPHRASE_FILE")) && *p) {
		if ((st = sealed_keyfile_passphrase(p, &got, &n)) == ST_OK)
			keep_passphrase(got, n);
		return st;
	}
	if ((p = getenv("ASTRO_CRED_PASSPHRASE")) && *p) {
		keep_passphrase(secmem_strndup(p, strlen(p)), strlen(p));
		/* Never passed on to a child (contract.md section 4). */
		sodium_memzero((char *)p, strlen(p));
		unsetenv("ASTRO_CRED_PASSPHRASE");
		return ST_OK;
	}
	st = sealed_prompt_passphrase(store, confirm, &got, &n);
	if (st == ST_OK)
		keep_passphrase(got, n);
	if (st == ST_NOTFOUND)
		return fail(ST_STORE, "no key for the sealed file store: %s",
			    NO_KEY_HELP);
	return st;
}

static enum status derive(const struct sealed_header *h, unsigned char *key)
{
	/* The caps again, right before the expensive call (F-09). */
	if (h->opslimit < SEALED_OPS_MIN || h->opslimit > SEALED_OPS_MAX ||
	    h->memlimit_kib < SEALED_MEM_KIB_MIN ||
	    h->memlimit_kib > SEALED_MEM_KIB_MAX)
		return fail(ST_STORE, "key derivation limits out of bounds");
	verbose("deriving the key with Argon2id (ops %u, %u MiB)",
		(unsigned)h->opslimit, (unsigned)(h->memlimit_kib / 1024));
	if (crypto_pwhash(key, SEALED_KEY_LEN, passphrase, passphrase_len,
			  h->salt, h->opslimit, (size_t)h->memlimit_kib * 1024U,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return fail(ST_STORE,
			    "Argon2id key derivation failed (%u MiB "
			    "of memory not available?)",
			    (unsigned)(h->memlimit_kib / 1024));
	return ST_OK;
}

static enum status raw_key(const struct sealed_header *h,
			   const unsigned char **key)
{
	const char *path = getenv("ASTRO_CRED_KEY_FILE");
	struct slot *s;
	enum status st;

	if (!path || !*path)
		return fail(ST_STORE, "this was sealed with a key file: set "
				      "ASTRO_CRED_KEY_FILE to it");
	s = new_slot(h);
	if ((st = sealed_keyfile_key(path, s->key)) != ST_OK) {
		drop_slot(s);
		return st;
	}
	*key = s->key;
	return ST_OK;
}

static enum status derived_key(const char *store, const struct sealed_header *h,
			       int confirm, const unsigned char **key)
{
	char desc[SEALED_CACHE_NAME_LEN + 1];
	struct slot *s = new_slot(h);
	enum status st;

	sealed_cache_name(store, h, desc);
	if (sealed_cache_seconds() > 0 && sealed_cache_get(desc, s->key)) {
		s->from_kernel = 1;
		*key = s->key;
		return ST_OK;
	}
	if ((st = get_passphrase(store, confirm)) != ST_OK ||
	    (st = derive(h, s->key)) != ST_OK) {
		drop_slot(s);
		return st;
	}
	*key = s->key;
	return ST_OK;
}

enum status sealed_key_for_read(const char *store,
				const struct sealed_header *h,
				const unsigned char **key)
{
	struct slot *s = find_slot(h);

	if (s) {
		*key = s->key;
		return ST_OK;
	}
	if (h->key_source == SEALED_KEY_RAW)
		return raw_key(h, key);
	return derived_key(store, h, 0, key);
}

int sealed_key_result(const char *store, const struct sealed_header *h,
		      int opened)
{
	struct slot *s = find_slot(h);
	char desc[SEALED_CACHE_NAME_LEN + 1];
	long secs;
	int cached;

	if (!s || h->key_source != SEALED_KEY_ARGON2ID)
		return 0;
	sealed_cache_name(store, h, desc);
	if (opened) {
		if (!s->verified && !s->from_kernel &&
		    (secs = sealed_cache_seconds()) > 0)
			sealed_cache_put(desc, s->key, secs);
		s->verified = 1;
		return 0;
	}
	cached = s->from_kernel;
	if (cached)
		sealed_cache_forget(desc);
	drop_slot(s);
	return cached;
}

enum status sealed_key_new(const char *store, struct sealed_header *params,
			   const unsigned char **key)
{
	params->key_source = SEALED_KEY_ARGON2ID;
	params->opslimit = SEALED_NEW_OPSLIMIT;
	params->memlimit_kib = SEALED_NEW_MEM_KIB;
	randombytes_buf(params->salt, sizeof(params->salt));
	return derived_key(store, params, 1, key);
}
