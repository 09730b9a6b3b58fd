/*
 * fuzz_kv: the native protocol reader and writer (security.md 10).
 * Properties: no crash or leak; an accepted request has no more keys than
 * LF + 1; every key is [a-z_]+ and no value holds CR or LF; re-emitting
 * the pairs with the writer gives back the request's bytes exactly (up to
 * the LF of a last line ended by end of input), so no line was split or
 * merged (a long line never turns into a second key); those canonical
 * bytes parse back to the same pairs and re-emit identically.  A refused
 * request keeps nothing.
 */
#include <stdint.h>
#include <string.h>

#include "protocol/kv.h"
#include "tests/fuzz/fuzz_quiet.h"

static char *emit(const struct kv *kv, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	size_t i;

	for (i = 0; i < kv->n; i++)
		PROPERTY(kv_write(f, kv->v[i].key, kv->v[i].value) == 0);
	PROPERTY(kv_write_end(f) == 0);
	fclose(f);
	return buf;
}

static void same_pairs(const struct kv *a, const struct kv *b)
{
	size_t i;

	PROPERTY(a->n == b->n);
	for (i = 0; i < a->n; i++) {
		PROPERTY(!strcmp(a->v[i].key, b->v[i].key));
		PROPERTY(!strcmp(a->v[i].value, b->v[i].value));
	}
}

/* The request's bytes: up to the first blank line, or all of them. */
static size_t content_len(const uint8_t *data, size_t size)
{
	const uint8_t *p;

	if (size && data[0] == '\n')
		return 0;
	p = memmem(data, size, "\n\n", 2);
	return p ? (size_t)(p - data) + 1 : size;
}

/* out (pairs + blank line) is the request itself, byte for byte. */
static void same_bytes(const uint8_t *data, size_t size, const char *out,
		       size_t len)
{
	size_t cl = content_len(data, size), body = len - 1;

	PROPERTY(len >= 1 && out[body] == '\n');
	PROPERTY(!memcmp(data, out, cl < body ? cl : body));
	PROPERTY(cl == body ||
		 (cl + 1 == body && out[cl] == '\n' && data[cl - 1] != '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv kv, again, third;
	size_t lf = 0, i, len1, len2;
	char *out1, *out2;

	fuzz_setup();
	if (kv_parse((const char *)data, size, &kv) != ST_OK) {
		PROPERTY(kv.n == 0 && kv.mem == NULL);
		return 0;
	}
	for (i = 0; i < size; i++)
		lf += data[i] == '\n';
	PROPERTY(kv.n <= lf + 1);
	for (i = 0; i < kv.n; i++) {
		PROPERTY(kv_key_ok(kv.v[i].key));
		PROPERTY(!strpbrk(kv.v[i].value, "\r\n"));
		PROPERTY(kv_get(&kv, kv.v[i].key) == kv.v[i].value);
	}
	out1 = emit(&kv, &len1);
	same_bytes(data, size, out1, len1);
	PROPERTY(kv_parse(out1, len1, &again) == ST_OK);
	same_pairs(&kv, &again);
	out2 = emit(&again, &len2);
	PROPERTY(len1 == len2 && !memcmp(out1, out2, len1));
	PROPERTY(kv_parse(out2, len2, &third) == ST_OK);
	same_pairs(&kv, &third);
	free(out1);
	free(out2);
	kv_clear(&kv);
	kv_clear(&again);
	kv_clear(&third);
	return 0;
}
