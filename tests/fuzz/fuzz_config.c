/*
 * fuzz_config: the config file parser, config_parse() (security.md 9:
 * "config/URL parsing").  Properties: no crash or leak; a refused file
 * keeps nothing; an accepted one has at most one entry per line, every
 * key non-empty, and no key or value holds a control character other
 * than TAB, or starts or ends with a blank; the last entry of a key is
 * what config_lookup() returns; re-emitting the entries as `key = value`
 * lines (when no key could read back as a comment, a section header or a
 * split at '=') parses back to the same entries in the same order.
 */
#include <stdint.h>
#include <string.h>

#include "helper/base/config.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void check_text(const char *s, int nonempty)
{
	size_t n = strlen(s);

	PROPERTY(!nonempty || n > 0);
	PROPERTY(n == 0 || (!is_blank(s[0]) && !is_blank(s[n - 1])));
	for (const char *p = s; *p; p++)
		PROPERTY((unsigned char)*p >= 0x20 || *p == '\t');
	PROPERTY(!memchr(s, 0x7f, n));
}

/* Can every key be written back as a plain `key = value` line? */
static int emittable(const struct config *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key[0] == '#' || c->v[i].key[0] == '[' ||
		    strchr(c->v[i].key, '='))
			return 0;
	return 1;
}

static void roundtrip(const struct config *c)
{
	struct config again;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	PROPERTY(f != NULL);
	for (size_t i = 0; i < c->n; i++)
		fprintf(f, "%s = %s\n", c->v[i].key, c->v[i].value);
	fclose(f);
	if (len <= CONFIG_MAX) {
		PROPERTY(config_parse(buf, len, "fuzz", &again) == ST_OK);
		PROPERTY(again.n == c->n);
		for (size_t i = 0; i < c->n; i++) {
			PROPERTY(!strcmp(again.v[i].key, c->v[i].key));
			PROPERTY(!strcmp(again.v[i].value, c->v[i].value));
		}
		config_clear(&again);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	size_t lines = 1;

	fuzz_setup();
	if (config_parse((const char *)data, size, "fuzz", &c) != ST_OK) {
		PROPERTY(c.n == 0 && c.v == NULL);
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	PROPERTY(c.n <= lines);
	for (size_t i = 0; i < c.n; i++) {
		check_text(c.v[i].key, 1);
		check_text(c.v[i].value, 0);
	}
	if (c.n)
		PROPERTY(config_lookup(&c, c.v[c.n - 1].key) ==
			 c.v[c.n - 1].value);
	if (emittable(&c))
		roundtrip(&c);
	config_clear(&c);
	config_clear(&c);
	return 0;
}
