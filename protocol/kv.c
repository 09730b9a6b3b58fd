/*
 * kv.c: see kv.h.  The request is copied once into secret memory and split
 * in place; the pairs point into that copy, so a request costs one
 * sodium_malloc however many attributes it has.
 */
#include <stdlib.h>
#include <string.h>

#include "helper/base/log.h"
#include "helper/base/secmem.h"
#include "protocol/input.h"
#include "protocol/kv.h"

static int key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static int key_span_ok(const char *k, size_t n)
{
	size_t i;

	if (!n || n > KV_LINE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!key_char((unsigned char)k[i]))
			return 0;
	return 1;
}

int kv_key_ok(const char *key)
{
	return key && key_span_ok(key, strnlen(key, KV_LINE_MAX + 1));
}

/*
 * Length of the request's content: everything before the first blank line
 * (its last LF included), or all of buf when there is none.
 */
static size_t request_length(const char *buf, size_t len)
{
	const char *p;

	if (len && buf[0] == '\n')
		return 0;
	p = memmem(buf, len, "\n\n", 2);
	return p ? (size_t)(p - buf) + 1 : len;
}

void kv_clear(struct kv *kv)
{
	if (kv->mem)
		secmem_wipe(kv->mem, kv->memlen);
	secmem_free(kv->mem);
	free(kv->v);
	kv->mem = NULL;
	kv->memlen = 0;
	kv->v = NULL;
	kv->n = 0;
}

const char *kv_get(const struct kv *kv, const char *key)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (!strcmp(kv->v[i].key, key))
			return kv->v[i].value;
	return NULL;
}

/* Check one line (no LF) and split it in place; fail() on error. */
static enum status parse_line(struct kv *kv, char *line, size_t n,
			      size_t lineno)
{
	char *eq;
	size_t i;

	if (n > KV_LINE_MAX)
		return fail(ST_USAGE,
			    "malformed request: line %zu is longer "
			    "than %d bytes",
			    lineno, KV_LINE_MAX);
	if (memchr(line, '\0', n))
		return fail(ST_USAGE,
			    "malformed request: line %zu contains "
			    "a NUL byte",
			    lineno);
	if (memchr(line, '\r', n))
		return fail(ST_USAGE,
			    "malformed request: line %zu contains "
			    "a carriage return (CR is refused, CRLF line ends "
			    "included)",
			    lineno);
	eq = memchr(line, '=', n);
	if (!eq)
		return fail(ST_USAGE,
			    "malformed request: line %zu is not "
			    "key=value",
			    lineno);
	if (eq == line)
		return fail(ST_USAGE,
			    "malformed request: line %zu has an "
			    "empty key",
			    lineno);
	if (!key_span_ok(line, (size_t)(eq - line)))
		return fail(ST_USAGE,
			    "malformed request: line %zu has a key "
			    "outside [a-z_]+",
			    lineno);
	*eq = '\0';
	line[n] = '\0';
	for (i = 0; i < kv->n; i++)
		if (!strcmp(kv->v[i].key, line))
			return fail(ST_USAGE,
				    "malformed request: key '%s' "
				    "given twice",
				    line);
	if (kv->n == KV_PAIRS_MAX)
		return fail(ST_USAGE,
			    "malformed request: more than %d "
			    "attributes",
			    KV_PAIRS_MAX);
	kv->v[kv->n].key = line;
	kv->v[kv->n].value = eq + 1;
	kv->n++;
	return ST_OK;
}

enum status kv_parse(const char *buf, size_t len, struct kv *out)
{
	struct kv kv = KV_INIT;
	enum status st = ST_OK;
	size_t n = request_length(buf, len), pos = 0, lineno = 0;

	*out = kv;
	if (n > KV_INPUT_MAX)
		return fail(ST_USAGE, "malformed request: larger than %d bytes",
			    KV_INPUT_MAX);
	kv.mem = secmem_strndup(buf, n);
	kv.memlen = n + 1;
	kv.v = xcalloc(KV_PAIRS_MAX, sizeof(*kv.v));
	while (pos < n) {
		char *line = kv.mem + pos;
		char *lf = memchr(line, '\n', n - pos);
		size_t ll = lf ? (size_t)(lf - line) : n - pos;

		st = parse_line(&kv, line, ll, ++lineno);
		if (st != ST_OK)
			goto out;
		pos += ll + 1;
	}
out:
	if (st != ST_OK)
		kv_clear(&kv);
	*out = kv;
	return st;
}

/* 1 once b holds a blank line: a leading LF or two LFs in a row. */
static int has_blank_line(const struct secbuf *b, size_t scanned)
{
	size_t from = scanned ? scanned - 1 : 0;

	if (!b->len)
		return 0;
	if (b->data[0] == '\n')
		return 1;
	return memmem(b->data + from, b->len - from, "\n\n", 2) != NULL;
}

enum status kv_read_fd_timeout(int fd, int timeout_ms, struct kv *out)
{
	struct secbuf b = SECBUF_INIT(KV_INPUT_MAX + 1);
	enum status st;

	*out = (struct kv)KV_INIT;
	st = input_read(fd, &b, KV_INPUT_MAX, timeout_ms, has_blank_line,
			"request");
	if (st == ST_OK)
		st = kv_parse(b.data ? (char *)b.data : "", b.len, out);
	secbuf_clear(&b);
	return st;
}

enum status kv_read_fd(int fd, struct kv *out)
{
	return kv_read_fd_timeout(fd, KV_READ_TIMEOUT_MS, out);
}

static int value_ok(const char *key, const char *value, size_t len)
{
	if (!kv_key_ok(key))
		return error("refusing to write an attribute with a key "
			     "outside [a-z_]+");
	if (memchr(value, '\0', len))
		return error("refusing to write '%s': its value contains a "
			     "NUL byte",
			     key);
	if (memchr(value, '\n', len) || memchr(value, '\r', len))
		return error("refusing to write '%s': its value contains a "
			     "line break",
			     key);
	if (strlen(key) + 1 + len > KV_LINE_MAX)
		return error("refusing to write '%s': line longer than %d "
			     "bytes",
			     key, KV_LINE_MAX);
	return 0;
}

int kv_write_mem(FILE *f, const char *key, const void *value, size_t len)
{
	if (value_ok(key, value, len) < 0)
		return -1;
	if (fputs(key, f) == EOF || fputc('=', f) == EOF ||
	    (len && fwrite(value, 1, len, f) != len) || fputc('\n', f) == EOF)
		return error("cannot write the response");
	return 0;
}

int kv_write(FILE *f, const char *key, const char *value)
{
	return kv_write_mem(f, key, value, strlen(value));
}

int kv_write_end(FILE *f)
{
	if (fputc('\n', f) == EOF)
		return error("cannot write the response");
	return 0;
}
