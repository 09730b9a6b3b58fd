/*
 * out.c: see out.h.  The stream is a glibc fopencookie() stream with
 * buffering turned off, so every fwrite/fputc lands directly in secret
 * memory; callers avoid fprintf for secrets (its helper buffer is on the
 * stack).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper/base/log.h"
#include "protocol/out.h"

static ssize_t out_cookie_write(void *cookie, const char *buf, size_t n)
{
	struct out *o = cookie;

	if (secbuf_append(&o->buf, buf, n) < 0) {
		o->overflow = 1;
		return 0; /* fopencookie(3): 0, never negative, on error */
	}
	return (ssize_t)n;
}

static int out_cookie_close(void *cookie)
{
	(void)cookie;
	return 0;
}

FILE *out_open(struct out *o)
{
	cookie_io_functions_t io = {
	    .read = NULL,
	    .write = out_cookie_write,
	    .seek = NULL,
	    .close = out_cookie_close,
	};

	o->overflow = 0;
	o->f = fopencookie(o, "w", io);
	if (!o->f)
		die_oom();
	setvbuf(o->f, NULL, _IONBF, 0);
	return o->f;
}

/* Close the stream; 0 if every write into it succeeded. */
static int out_close(struct out *o)
{
	int bad = 0;

	if (o->f) {
		bad = ferror(o->f);
		if (fclose(o->f) != 0)
			bad = 1;
		o->f = NULL;
	}
	return bad || o->overflow ? -1 : 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

enum status out_commit(struct out *o, int fd)
{
	enum status st = ST_OK;

	if (out_close(o) < 0) {
		st = fail(ST_USAGE,
			  "output larger than %d bytes; nothing printed",
			  OUT_MAX);
		goto out;
	}
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	if (o->buf.len && write_all(fd, o->buf.data, o->buf.len) < 0)
		st = fail(ST_TRANSIENT, "cannot write the output: %s",
			  strerror(errno));
out:
	secbuf_clear(&o->buf);
	return st;
}

void out_discard(struct out *o)
{
	out_close(o);
	secbuf_clear(&o->buf);
}

/* The two-character JSON escape of c, or NULL. */
static const char *short_escape(unsigned char c)
{
	static const char from[] = "\"\\\b\f\n\r\t";
	static const char *const to[] = {"\\\"", "\\\\", "\\b", "\\f",
					 "\\n",	 "\\r",	 "\\t"};
	const char *p = c ? strchr(from, c) : NULL;

	return p ? to[p - from] : NULL;
}

int out_json_string(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];

	if (fputc('"', f) == EOF)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = short_escape(c);

		if (!e && (c < 0x20 || c == 0x7f)) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			e = esc;
		}
		if (e ? fputs(e, f) == EOF : fputc(c, f) == EOF)
			return -1;
	}
	return fputc('"', f) == EOF ? -1 : 0;
}
