/*
 * input.h: bounded, time-limited reads of a request from stdin into secret
 * memory, shared by the native and Docker protocols.
 */
#ifndef ASTRO_CRED_INPUT_H
#define ASTRO_CRED_INPUT_H

#include <stddef.h>

#include "helper/base/secmem.h"
#include "helper/base/status.h"

/*
 * Append what fd gives to b until end of input, until complete(b, scanned)
 * says the request is whole (scanned: bytes already looked at by an
 * earlier call; NULL means read to end of input), or until b would go past
 * max bytes or timeout_ms pass (ST_USAGE, one message).  what names the
 * request in messages ("request", "server URL").  b's own ceiling must be
 * at least max + 1: one byte more tells "too long" from "exactly max".
 */
enum status input_read(int fd, struct secbuf *b, size_t max, int timeout_ms,
		       int (*complete)(const struct secbuf *b, size_t scanned),
		       const char *what);

#endif
