/*
 * backend.h: where secrets rest.  One vtable per store, one table of them
 * (as tmux's command table or SQLite's VFS list); adding a backend touches
 * its own file and one line of backend.c.
 *
 * A backend stores, per profile, one opaque record: the bytes that
 * helper/life/record.c encodes (the token and its non-secret metadata).  The
 * record is secret as a whole; backends keep it encrypted at rest and hand
 * it back in secret memory.  Backends do no locking of their own beyond
 * what keeps a single write atomic: the token lifecycle serializes writers
 * per profile with profile_lock() (backends/storedir.h).
 */
#ifndef ASTRO_CRED_BACKEND_H
#define ASTRO_CRED_BACKEND_H

#include <stddef.h>

#include "helper/base/names.h"
#include "helper/base/secmem.h"
#include "helper/base/status.h"
#include "helper/base/strlist.h"

/* Largest record a backend must hold (a JWT plus metadata). */
#define RECORD_MAX 8192

struct backend {
	const char *name;
	/* Read PROFILE's record into rec: ST_OK, ST_NOTFOUND or ST_STORE. */
	enum status (*get)(const char *profile, struct secbuf *rec);
	/* Create or replace PROFILE's record atomically. */
	enum status (*store)(const char *profile, const unsigned char *rec,
			     size_t len);
	/* Forget PROFILE: ST_OK, ST_NOTFOUND, ST_STORE. */
	enum status (*erase)(const char *profile);
	/* Append every stored profile name to out (unsorted). */
	enum status (*list)(struct strlist *out);
	/*
	 * For `auto`: nonzero when this backend can be used here, decided
	 * quickly (the keyring: a Secret Service answers within ~1 s).
	 */
	int (*available)(void);
};

/* Every backend, NULL-terminated, in preference order for `auto`. */
extern const struct backend *const backend_table[];

/* Look a backend up by name ("file", "keyring"), or NULL. */
const struct backend *backend_find(const char *name);

/*
 * The backend named NAME: keyring|file|auto (NULL or "" is auto); auto is
 * the keyring when a Secret Service answers, else the file, and says which
 * under --verbose.  An unknown name is ST_USAGE, its message naming FROM
 * (where the caller found the name).  Never a plain-text fallback.
 */
enum status backend_select(const char *name, const char *from,
			   const struct backend **out);

#endif
