/*
 * log.h: diagnostics.  Everything goes to stderr prefixed "astro-cred: ",
 * one line per message, with control characters escaped (an API error
 * message or a profile name can carry ESC sequences) and capped in length.
 * Never pass a secret to these functions.
 */
#ifndef ASTRO_CRED_LOG_H
#define ASTRO_CRED_LOG_H

#include <stddef.h>

#include "helper/base/status.h"

#define LOG_LINE_MAX 1024

/* Print a message; return -1 so that `return error(...)` reads naturally. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a message; return the status given, for `return fail(ST_X, ...)`. */
enum status fail(enum status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only when --verbose (or ASTRO_CRED_VERBOSE=1) is in force. */
void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_set_verbose(int on);
int log_is_verbose(void);
/* Out of memory and nothing else: print and exit 5. */
_Noreturn void die_oom(void);

/*
 * Copy at most dstlen-1 bytes of src into dst with every byte outside
 * printable ASCII written as \xNN, for echoing untrusted text.
 */
void log_sanitize(char *dst, size_t dstlen, const char *src);

#endif
