/*
 * kv.h: the native helper protocol of contract.md section 3, git-style
 * `key=value` lines ended by a blank line or end of input.
 *
 * Reader rules (each a protocol error, ST_USAGE, one message on stderr that
 * never shows a value): a line longer than KV_LINE_MAX bytes, a NUL byte,
 * a carriage return anywhere (CRLF line ends included, after git's
 * CVE-2024-52006), a line without '=', an empty key or one outside
 * [a-z_]+, the same key twice (security.md P-08: ambiguity is the attack
 * surface, so we refuse rather than let the first or last win), more than
 * KV_PAIRS_MAX lines, or more than KV_INPUT_MAX bytes in all.  Lines are
 * never split at a buffer size: a long value can never smuggle in a second
 * key (P-05).  Unknown keys are kept (the character rules still apply) and
 * callers ignore them.  Values may contain '=' and any other byte; they
 * live in secret memory because they can be tokens.  An empty value is
 * returned as "": callers must treat it as missing (P-07).
 *
 * Writer rules: a bad key, a value with CR, LF or NUL, or a line the
 * reader would refuse as too long, is refused and nothing of that line is
 * written (P-14).
 */
#ifndef ASTRO_CRED_KV_H
#define ASTRO_CRED_KV_H

#include <stddef.h>
#include <stdio.h>

#include "helper/base/status.h"

/* Bytes in one line, its LF excluded. */
#define KV_LINE_MAX 65536
/* Bytes in one request, the blank line excluded. */
#define KV_INPUT_MAX (1024 * 1024)
/* Attributes in one request. */
#define KV_PAIRS_MAX 256
/* Milliseconds for a whole request, for a stdin that never ends. */
#define KV_READ_TIMEOUT_MS 30000

struct kv_pair {
	const char *key;   /* [a-z_]+, points into kv.mem */
	const char *value; /* NUL-terminated, points into kv.mem */
};

struct kv {
	char *mem; /* secret copy of the request, split in place */
	size_t memlen;
	struct kv_pair *v;
	size_t n;
};
#define KV_INIT                                                                \
	{                                                                      \
		NULL, 0, NULL, 0                                               \
	}

/*
 * Parse the request at the start of buf[0..len): up to the first blank
 * line, or all of it.  Bytes after the blank line are ignored.  *out is
 * (re)initialized: on success it holds the pairs in input order, on error
 * it is empty.  Pure: for unit tests and the fuzzer.
 */
enum status kv_parse(const char *buf, size_t len, struct kv *out);

/*
 * Read a request from fd (stdin) and parse it.  Reads stop at the first
 * blank line (whatever the writer does afterwards) or end of input; a
 * request without its blank line is complete at end of input (P-13).
 * Fails when nothing ends the request within KV_INPUT_MAX bytes or
 * KV_READ_TIMEOUT_MS.  Never call it on a terminal: the caller checks.
 */
enum status kv_read_fd(int fd, struct kv *out);
/* The same with an explicit overall timeout in milliseconds (tests). */
enum status kv_read_fd_timeout(int fd, int timeout_ms, struct kv *out);

/* The value of key, or NULL when absent ("" when given empty). */
const char *kv_get(const struct kv *kv, const char *key);
/* Wipe and free; back to KV_INIT.  Accepts KV_INIT. */
void kv_clear(struct kv *kv);

/* 1 if key is a non-empty [a-z_]+ string of at most KV_LINE_MAX bytes. */
int kv_key_ok(const char *key);

/*
 * Write "key=value\n".  0, or -1 with one message (never showing the
 * value) when the key is bad, the value holds CR, LF or NUL, or the line
 * would exceed KV_LINE_MAX; then nothing of the line is written.  Write
 * into an out.h stream so that a later refusal leaves stdout empty.
 */
int kv_write(FILE *f, const char *key, const char *value);
/* The same for a counted value: a NUL inside value[0..len) is refused. */
int kv_write_mem(FILE *f, const char *key, const void *value, size_t len);
/* The blank line that ends a response. */
int kv_write_end(FILE *f);

#endif
