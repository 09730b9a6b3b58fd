/*
 * out.h: the payload channel.  Whatever a command prints on stdout (kv
 * lines, Docker's JSON, env statements) is first assembled in secret memory
 * through an ordinary FILE *, then written with one call, or not at all.
 * So on any error stdout stays empty by construction, and the token never
 * sits in stdio's own (unwiped) buffers: the stream is unbuffered and
 * appends straight into a secbuf.
 *
 *	struct out o = OUT_INIT;
 *	FILE *f = out_open(&o);
 *	if (kv_write(f, "token", tok) < 0) { out_discard(&o); return ...; }
 *	return out_commit(&o, STDOUT_FILENO);
 */
#ifndef ASTRO_CRED_OUT_H
#define ASTRO_CRED_OUT_H

#include <stdio.h>

#include "helper/base/secmem.h"
#include "helper/base/status.h"

/* Ceiling of one command's payload; writing past it makes commit fail. */
#define OUT_MAX (1024 * 1024)

struct out {
	struct secbuf buf;
	FILE *f;
	int overflow;
};
#define OUT_INIT                                                               \
	{                                                                      \
		SECBUF_INIT(OUT_MAX), NULL, 0                                  \
	}

/* Open o->f, an unbuffered stream that appends to o's secret buffer. */
FILE *out_open(struct out *o);
/*
 * Close the stream and write everything to fd in one go (short writes and
 * EINTR handled), then wipe.  Nothing is written if any write into the
 * stream failed (ST_USAGE); a failing fd gives ST_TRANSIENT.  One message.
 */
enum status out_commit(struct out *o, int fd);
/* Close, wipe and free without writing anything; accepts a closed out. */
void out_discard(struct out *o);

/*
 * Write s as a JSON string literal: quotes, backslash-escaped '"' and '\',
 * \b \f \n \r \t, other C0 controls and DEL as \u00XX; other bytes as
 * they are.  0 or -1 (stream error).
 */
int out_json_string(FILE *f, const char *s);

#endif
