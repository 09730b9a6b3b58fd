/*
 * fuzz_record: the stored-record decoder, record_decode() (the bytes a
 * backend hands back after decryption; a damaged or hostile store).
 * Properties: no crash or leak; a refused record leaves the struct empty
 * (no token); an accepted one has a non-empty token and a valid profile
 * name, re-encodes with record_encode(), and that encoding decodes to the
 * same fields (every byte of the struct, the token by value) and
 * re-encodes to the same bytes (the writer's form is canonical).
 */
#include <stdint.h>
#include <string.h>

#include "backends/backend.h"
#include "helper/life/record.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a and b hold the same fields: compare with the token pointers masked. */
static void same_record(struct record *a, struct record *b)
{
	char *ta = a->token, *tb = b->token;
	int same;

	PROPERTY(ta && tb && !strcmp(ta, tb));
	a->token = b->token = NULL;
	same = !memcmp(a, b, sizeof(*a));
	a->token = ta;
	b->token = tb;
	PROPERTY(same);
}

static void roundtrip(struct record *r)
{
	/* Numbers like 1e3 grow when printed: leave room past RECORD_MAX. */
	struct secbuf enc = SECBUF_INIT(4 * RECORD_MAX);
	struct secbuf enc2 = SECBUF_INIT(4 * RECORD_MAX);
	struct record again;

	record_init(&again);
	PROPERTY(record_encode(r, &enc) == ST_OK);
	PROPERTY(record_decode(enc.data, enc.len, &again) == ST_OK);
	same_record(r, &again);
	PROPERTY(record_encode(&again, &enc2) == ST_OK);
	PROPERTY(enc.len == enc2.len && !memcmp(enc.data, enc2.data, enc.len));
	record_clear(&again);
	secbuf_clear(&enc);
	secbuf_clear(&enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record r;
	char *buf;

	fuzz_setup();
	if (size > RECORD_MAX)
		return 0;
	/* record_decode wants buf[len] == '\0', as backends' secbufs have. */
	buf = malloc(size + 1);
	PROPERTY(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	record_init(&r);
	if (record_decode((const unsigned char *)buf, size, &r) != ST_OK) {
		static const struct record zero;

		PROPERTY(!memcmp(&r, &zero, sizeof(r)));
	} else {
		PROPERTY(r.token && *r.token && profile_name_ok(r.profile));
		roundtrip(&r);
	}
	record_clear(&r);
	free(buf);
	return 0;
}
