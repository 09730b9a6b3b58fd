/*
 * backend.h: where secrets rest, and the whole of what the token's life
 * (helper/life/) may know about it.  One vtable per store, one table of
 * them (as tmux's command table or SQLite's VFS list): adding a backend
 * touches its own files and one line of backend_table in backend.c.
 *
 * A backend stores, per profile, one opaque record: the bytes that
 * helper/life/record.c encodes (the token and its non-secret metadata).
 * The record is secret as a whole; backends keep it encrypted at rest and
 * hand it back in secret memory.  A backend also owns the profile's
 * renewal lock, as SQLite's io_methods own xLock: the token's life takes
 * it around every read-decide-write and never knows whether it is an
 * flock() on this machine or a lease held in a cluster.
 *
 * Every member is set; every function that takes a profile refuses a name
 * that fails profile_name_ok() with ST_USAGE before touching anything.
 * Errors are reported where they happen (one message) and returned as an
 * enum status; ST_STORE means the store is unusable, locked or damaged.
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

/*
 * A held renewal lock.  Only a handle: each backend converts it to its own
 * lock state (profile_lock.c: an open, flock()ed file).
 */
struct backend_lock;

struct backend {
	const char *name;
	/*
	 * Read PROFILE's record into rec (secret memory, at most RECORD_MAX):
	 * ST_OK, ST_NOTFOUND when there is none, or ST_STORE.
	 */
	enum status (*get)(const char *profile, struct secbuf *rec);
	/*
	 * Create or replace PROFILE's record atomically: after a crash or
	 * power loss at any instant, get returns the old record or the new
	 * one, whole.  Over RECORD_MAX is ST_USAGE.
	 */
	enum status (*put)(const char *profile, const unsigned char *rec,
			   size_t len);
	/* Forget PROFILE's record: ST_OK, ST_NOTFOUND, ST_STORE. */
	enum status (*erase)(const char *profile);
	/* Append every stored profile name to out (unsorted). */
	enum status (*list)(struct strlist *out);
	/*
	 * For `auto`, which tries the table in order: nonzero when this
	 * backend can be used here, decided quickly (the keyring: a Secret
	 * Service answers within ~1 s).  0 keeps a backend out of `auto`.
	 */
	int (*available)(void);
	/*
	 * Take PROFILE's renewal lock into *out: exclusive among every
	 * process that shares this store, released when the holder exits or
	 * dies, and per profile.  A wait is bounded by ASTRO_CRED_LOCK_TIMEOUT
	 * (default 30 s): then ST_TRANSIENT, *out NULL.
	 */
	enum status (*lock)(const char *profile, struct backend_lock **out);
	/* Release a lock from lock(); NULL is fine. */
	void (*unlock)(struct backend_lock *lk);
	/*
	 * Wipe every key, passphrase or other secret the backend keeps
	 * between calls (the sealed file's keys); the process may exec a
	 * command next.  Does nothing when the backend keeps none.
	 */
	void (*forget)(void);
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
