/*
 * fuzz_api_json: API response bodies through every mapping (a token as
 * v1 and v1beta1, with and without the secret; a list page; an error).
 * Properties beyond "no crash, no leak": an accepted token has every
 * required field, an id of the id alphabet and a secret (if any) of the
 * token alphabet; a refused one holds nothing; an error message never
 * holds a control byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "helper/api/api_json.h"
#include "helper/base/jwt.h"
#include "helper/base/secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (sodium_init() < 0)
		abort();
	secmem_json_hooks();
	/*
	 * Our diagnostics go through the stderr stream; silence the stream
	 * but not fd 2, where sanitizer reports and libFuzzer still write.
	 */
	stderr = fopen("/dev/null", "w");
	return 0;
}

static void check_token(const struct api_token *t, int ok,
			const struct api_json_opts *o)
{
	if (!ok) {
		if (t->id || t->name || t->token || t->roles)
			abort(); /* a refused token holds nothing */
		return;
	}
	if (!t->id || !t->name || !t->description || !t->short_token ||
	    !t->scope || !t->kind)
		abort();
	if (!api_id_ok(t->id))
		abort();
	if (o->want_secret && (!t->token || !jwt_alphabet_ok(t->token)))
		abort();
	for (size_t i = 0; i < t->nroles; i++)
		if (!t->roles[i].entity_id || !t->roles[i].role)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct api_json_opts opts[] = {
	    {0, 0, NULL}, {0, 1, NULL}, {1, 0, NULL}, {1, 1, NULL}};
	struct api_token_list l = API_TOKEN_LIST_INIT;
	struct api_error e;
	int64_t total, offset;
	size_t count;
	char *buf;

	if (size > API_BODY_MAX)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct api_token t;
		int r = api_json_parse_token(buf, size, &opts[i], &t);

		check_token(&t, r == 0, &opts[i]);
		api_token_clear(&t);
	}
	if (api_json_parse_page(buf, size, &opts[0], &l, &total, &offset,
				&count) == 0 &&
	    (count != l.n || total < 0 || offset < 0))
		abort();
	api_token_list_clear(&l);
	api_json_parse_error(buf, size, &e);
	for (const char *p = e.message; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	free(buf);
	return 0;
}
