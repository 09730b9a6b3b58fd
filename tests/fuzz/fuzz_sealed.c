/*
 * fuzz_sealed: the ACRD v1 reader on arbitrary bytes (libFuzzer).
 *
 * Properties, with the vectors' fixed raw key and profile "default" (the
 * corpus is tests/vectors/sealed, so valid inputs are reachable):
 *  - no crash, no sanitizer report, whatever the input;
 *  - a rejected file yields no partial output: the buffer is empty, freed;
 *  - a header that parses re-encodes to the same 64 bytes;
 *  - an accepted file re-seals, with its own header and nonce, to exactly
 *    the input bytes (the format is canonical: no malleable encodings).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backends/sealed_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key[SEALED_KEY_LEN];

static void setup(void)
{
	static int done;

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	for (int i = 0; i < SEALED_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	done = 1;
}

static void check_header(const uint8_t *data, size_t size)
{
	struct sealed_header h;
	uint8_t enc[SEALED_HEADER_LEN];

	if (sealed_parse_header(data, size, &h) != SEALED_OK)
		return;
	sealed_encode_header(&h, enc);
	if (memcmp(enc, data, SEALED_HEADER_LEN))
		abort();
}

static void check_reseal(const uint8_t *data, size_t size,
			 const struct secbuf *rec)
{
	static uint8_t out[SEALED_FILE_MAX];
	struct sealed_header h;
	size_t n = 0;

	if (sealed_parse_header(data, size, &h) != SEALED_OK)
		abort(); /* accepted, so the header must parse */
	if (sealed_seal(&h, key, "default", rec->data, rec->len, out,
			sizeof(out), &n) != SEALED_OK ||
	    n != size || memcmp(out, data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secbuf rec = SECBUF_INIT(RECORD_MAX);
	enum sealed_err e;

	setup();
	check_header(data, size);
	e = sealed_open(data, size, key, "default", &rec);
	if (e != SEALED_OK) {
		if (rec.len != 0 || rec.data != NULL)
			abort(); /* partial output from a rejected file */
		return 0;
	}
	check_reseal(data, size, &rec);
	secbuf_clear(&rec);
	return 0;
}
