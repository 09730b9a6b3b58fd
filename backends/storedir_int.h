/*
 * storedir_int.h: what the store directory's own files share
 * (storedir.c, storedir_io.c, storedir_list.c) and the local lock
 * (profile_lock.c), whose lock files live in the store.  Not for the
 * other backends; outside backends/ tests/layering refuses it.
 */
#ifndef ASTRO_CRED_STOREDIR_INT_H
#define ASTRO_CRED_STOREDIR_INT_H

#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "backends/storedir.h"

/* In-flight writes: tmp/.acrd-tmp.<16 hex>. */
#define TEMP_PREFIX	".acrd-tmp."
#define TEMP_PREFIX_LEN (sizeof(TEMP_PREFIX) - 1)
#define TEMP_HEX	16
#define TEMP_NAME_LEN	(TEMP_PREFIX_LEN + TEMP_HEX)

/* "No space left on device (ENOSPC)": the message names the errno. */
#define ERRFMT	  "%s (%s)"
#define ERRARG(e) strerror(e), storedir_errname(e)

/* The errno's symbolic name ("ENOSPC"). */
const char *storedir_errname(int e);

/* geteuid() once: the hit path makes as few system calls as it can. */
uid_t storedir_uid(void);

/* The descriptor of SUB (created and checked once), or -1 after a message. */
int storedir_subdir_fd(struct storedir *sd, const char *sub);

/* "<store>/SUB/NAME" (either may be NULL) into buf, for messages. */
void storedir_mkpath(char *buf, size_t n, const struct storedir *sd,
		     const char *sub, const char *name);

/*
 * The checks on an open file of the store (path for messages): regular,
 * ours, no group or other bits, size in [min, max] (into *size).
 */
enum status storedir_check_file(int fd, const char *path, size_t min,
				size_t max, size_t *size);

/* An openat() failure: ST_NOTFOUND for ENOENT, else ST_STORE and why. */
enum status storedir_open_error(int e, const char *path);

#endif
