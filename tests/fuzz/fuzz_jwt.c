/*
 * fuzz_jwt: tokens through jwt_claims().  Properties: an accepted token is
 * of the token alphabet with exactly two dots; the ids it yields are of
 * the id alphabet; has_exp agrees with exp; a refused one leaves the
 * claims zeroed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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
	/* Silence our diagnostics (the stream), not fd 2 (sanitizers). */
	stderr = fopen("/dev/null", "w");
	return 0;
}

static int id_alpha(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_-") == strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct jwt_claims zero;
	struct jwt_claims c;
	char *tok;
	size_t dots = 0;

	if (size > JWT_TOKEN_MAX + 16)
		return 0;
	tok = malloc(size + 1);
	memcpy(tok, data, size);
	tok[size] = '\0';
	if (jwt_claims(tok, &c) == ST_OK) {
		for (const char *p = tok; *p; p++)
			dots += *p == '.';
		if (!jwt_alphabet_ok(tok) || dots != 2)
			abort();
		if (!id_alpha(c.token_id) || !id_alpha(c.org_id) ||
		    !id_alpha(c.workspace_id) || !id_alpha(c.deployment_id) ||
		    !id_alpha(c.organization_id))
			abort();
		if (c.has_exp != (c.exp != 0))
			abort();
	} else if (memcmp(&c, &zero, sizeof(c))) {
		abort();
	}
	free(tok);
	return 0;
}
