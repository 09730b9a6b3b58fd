/*
 * storedir.h: the store directory, files in it that are safe to trust,
 * and crash-safe replacement (storedir.c: the directory and its checks;
 * storedir_io.c: reading and writing; storedir_list.c: listing and the
 * sweep of stale temp files).  The per-profile locks in it are
 * profile_lock.h.
 *
 * The directory is $ASTRO_CRED_DIR, else $XDG_DATA_HOME/astro-cred, else
 * $HOME/.local/share/astro-cred.  It and every subdirectory are created
 * 0700 and checked as ssh checks ~/.ssh: a directory of ours, no group or
 * other bits, and no group/world-writable ancestor without the sticky bit
 * (security.md F-05).  Files are opened O_NOFOLLOW and checked with fstat
 * on the descriptor (regular, ours, mode & 077 == 0, size bounds), so a
 * symlink, FIFO, device, directory or a file of another user is refused
 * with exit 3 and an ssh-style message.
 *
 * Layout (docs/sealed-format.md):
 *   profiles/<profile>.acrd   one sealed file per profile
 *   locks/<profile>.lock      flock()ed (profile_lock.h)
 *   tmp/.acrd-tmp.<16 hex>    in-flight writes, renamed into place
 *   keycheck-*.acrd           what a store's key must open (sealed_check.c)
 *
 * Names passed here are single path components of [A-Za-z0-9._-] (not
 * "." or ".."); anything else is refused before a path is built.
 */
#ifndef ASTRO_CRED_STOREDIR_H
#define ASTRO_CRED_STOREDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "helper/base/status.h"
#include "helper/base/strlist.h"

#define STOREDIR_PROFILES "profiles"
#define STOREDIR_LOCKS	  "locks"
#define STOREDIR_TMP	  "tmp"
/* Temp files older than this are a crashed writer's and are removed. */
#define STOREDIR_STALE_SECONDS 60

struct storedir;

/*
 * The process's store directory: resolved from the environment, created
 * and checked on the first call, then shared (the same pointer each time).
 * ST_STORE with one message when it is missing a home or unsafe.
 */
enum status storedir_open(struct storedir **out)
    __attribute__((warn_unused_result));
/* Forget the shared store directory (tests switch ASTRO_CRED_DIR). */
void storedir_close(void);
/* Its canonical absolute path (realpath). */
const char *storedir_path(const struct storedir *sd);

/*
 * Read SUB/NAME (SUB NULL: the top directory) whole into buf: ST_NOTFOUND
 * when absent, ST_STORE when unsafe or its size is outside [min, max]
 * (max <= cap).  *len gets the size.
 */
enum status storedir_read(struct storedir *sd, const char *sub,
			  const char *name, void *buf, size_t min, size_t max,
			  size_t *len) __attribute__((warn_unused_result));

/*
 * Replace SUB/NAME with buf[0..len) atomically: temp file in tmp/
 * (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), full write, fsync, close, rename,
 * fsync of SUB.  On any error the old file is untouched, the temp file is
 * removed and the message names the errno; ST_STORE.
 */
enum status storedir_write(struct storedir *sd, const char *sub,
			   const char *name, const void *buf, size_t len)
    __attribute__((warn_unused_result));

/*
 * As storedir_write but never replaces: when SUB/NAME already exists it is
 * left alone, *existed is set to 1 and ST_OK returned (link(2) semantics:
 * of two racing creators exactly one wins).
 */
enum status storedir_create(struct storedir *sd, const char *sub,
			    const char *name, const void *buf, size_t len,
			    int *existed) __attribute__((warn_unused_result));

/* Unlink SUB/NAME and fsync SUB: ST_OK, ST_NOTFOUND or ST_STORE. */
enum status storedir_remove(struct storedir *sd, const char *sub,
			    const char *name)
    __attribute__((warn_unused_result));

/*
 * Append to out the names in SUB that end in SUFFIX and are regular files,
 * with the suffix removed (unsorted).  ST_OK when SUB is empty.
 */
enum status storedir_list(struct storedir *sd, const char *sub,
			  const char *suffix, struct strlist *out)
    __attribute__((warn_unused_result));

/*
 * Remove temp files of ours (our name pattern, our uid, regular) older
 * than STOREDIR_STALE_SECONDS from tmp/.  Cheap: tmp/ holds only writes in
 * flight.  Best effort; returns the number removed.
 */
int storedir_clean_temps(struct storedir *sd);

/*
 * Read fd until EOF, cap bytes, or (stop_nl) a read that brought a
 * newline; EINTR is retried.  The bytes read, or -1 with errno set.
 */
ssize_t storedir_read_upto(int fd, void *buf, size_t cap, int stop_nl);

/* A single path component we would build a path from (see above). */
int storedir_name_ok(const char *name);

#endif
