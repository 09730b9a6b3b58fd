/*
 * cmd_common.h: what several verbs share: reading the request on stdin,
 * resolving the profile and --min-ttl, printing a record.
 */
#ifndef ASTRO_CRED_CMD_COMMON_H
#define ASTRO_CRED_CMD_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "helper/life/record.h"
#include "protocol/kv.h"

/*
 * A long option of a verb.  With value it takes an argument, stored in
 * *value; otherwise it sets *flag to 1.  short_name, if not 0, is its
 * one-letter form.
 */
struct cmd_opt {
	const char *name;
	int short_name;
	const char **value;
	int *flag;
};

/*
 * getopt_long(argc, argv, shorts, lo) for verb, with getopt's own messages
 * (which name the verb as the program, without "astro-cred: ") turned
 * off: an unknown option or a missing value is reported through log.h
 * and returned as '?'.
 */
struct option;
int cmd_getopt(int argc, char **argv, const char *shorts,
	       const struct option *lo, const char *verb);

/*
 * Parse argv (argv[0] the verb) with getopt_long against opts (ended by
 * a NULL name) and -v/--verbose; operands are refused.  ST_USAGE after a
 * message (pointing to 'astro-cred VERB --help' for unknown options).
 */
enum status cmd_parse_opts(int argc, char **argv, const char *verb,
			   const struct cmd_opt *opts);

/*
 * Read the key=value request from stdin unless stdin is a terminal (a
 * terminal is never waited on).  ST_USAGE on a malformed request.
 */
enum status cmd_read_request(struct kv *kv);

/* -p wins over the request's profile=, then $ASTRO_CRED_PROFILE, default. */
const char *cmd_profile(const char *opt, const struct kv *kv);

/* --min-ttl wins over min_ttl=; absent is 0.  ST_USAGE when malformed. */
enum status cmd_min_ttl(const char *opt, const struct kv *kv, int64_t *out);

enum out_format { FMT_KV, FMT_JSON, FMT_RAW, FMT_TABLE };
/* Parse --format NAME among the allowed set (bitmask of 1 << FMT_*). */
enum status cmd_format(const char *name, unsigned allowed,
		       enum out_format *out);

/*
 * Print r as `get` does (kv lines then a blank line, one JSON object, or
 * the raw token).  Built in memory and written in one go so that a
 * failure leaves stdout empty.
 */
enum status cmd_print_record(const struct record *r, enum out_format f);

/*
 * If st is ST_NOTFOUND, say that profile holds no credential: the one
 * message every verb gives for it.
 */
void cmd_not_found(enum status st, const char *profile);

/* Write len bytes of buf to stdout entirely, or fail with ST_TRANSIENT. */
enum status cmd_write_stdout(const void *buf, size_t len);

#endif
