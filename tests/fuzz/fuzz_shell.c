/*
 * fuzz_shell: env's emitter.  Input: one byte picking the shell, one the
 * kind of value, then the value.  Properties: a value outside its alphabet
 * is refused and nothing is written; an accepted value is written as
 * exactly the expected statements around the value, and nothing else.
 * Beyond the alphabet, the quoting itself (which the alphabet makes
 * redundant) is checked for every byte string: a reference parser for each
 * shell's quotes reads back exactly the value, with nothing left unquoted.
 */
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#include "protocol/shell.h"
#include "tests/fuzz/fuzz_quiet.h"

static char *emitted(enum shell sh, const struct shell_var *v, size_t *len,
		     enum status *st)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	*st = shell_emit(f, sh, v, 1);
	fclose(f);
	return buf;
}

static int oracle(const char *v, enum shell_kind kind)
{
	const char *alpha = kind == SHELL_VALUE_TIME
				? "0123456789TZ:-"
				: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				  "nopqrstuvwxyz0123456789._-";
	size_t n = strlen(v);

	return n && n <= (kind == SHELL_VALUE_TIME ? 64 : SHELL_VALUE_MAX) &&
	       strspn(v, alpha) == n;
}

static void check_emit(enum shell sh, enum shell_kind kind, const char *v)
{
	static const char *const pre[] = {
	    [SHELL_SH] = "export X='",
	    [SHELL_BASH] = "export X='",
	    [SHELL_ZSH] = "export X='",
	    [SHELL_FISH] = "set -gx X '",
	    [SHELL_POWERSHELL] = "$Env:X = '",
	    [SHELL_JSON] = "{\"X\":\"",
	    [SHELL_DOTENV] = "X=",
	};
	static const char *const post[] = {
	    [SHELL_SH] = "';\n",	 [SHELL_BASH] = "';\n",
	    [SHELL_ZSH] = "';\n",	 [SHELL_FISH] = "';\n",
	    [SHELL_POWERSHELL] = "';\n", [SHELL_JSON] = "\"}\n",
	    [SHELL_DOTENV] = "\n",
	};
	struct shell_var var = {"X", v, kind};
	size_t len, lp = strlen(pre[sh]), lv = strlen(v);
	enum status st;
	char *out = emitted(sh, &var, &len, &st);

	if (!oracle(v, kind)) {
		PROPERTY(st == ST_USAGE && len == 0);
	} else {
		PROPERTY(st == ST_OK);
		PROPERTY(len == lp + lv + strlen(post[sh]));
		PROPERTY(!memcmp(out, pre[sh], lp));
		PROPERTY(!memcmp(out + lp, v, lv));
		PROPERTY(!strcmp(out + lp + lv, post[sh]));
	}
	free(out);
}

static char *quoted(enum shell sh, const char *v, int *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	*r = shell_quote(f, sh, v);
	fclose(f);
	return buf;
}

/* POSIX: '...' runs and \x outside them; any other unquoted byte fails. */
static int unquote_posix(const char *q, char *o)
{
	while (*q) {
		if (*q == '\'') {
			const char *e = strchr(q + 1, '\'');

			if (!e)
				return -1;
			memcpy(o, q + 1, (size_t)(e - q - 1));
			o += e - q - 1;
			q = e + 1;
		} else if (*q == '\\' && q[1]) {
			*o++ = q[1];
			q += 2;
		} else {
			return -1;
		}
	}
	*o = '\0';
	return 0;
}

/* fish: one '...' with \\ and \' as escapes; other \x stays as is. */
static int unquote_fish(const char *q, char *o)
{
	if (*q++ != '\'')
		return -1;
	for (; *q && *q != '\''; q++) {
		if (*q == '\\' && (q[1] == '\\' || q[1] == '\''))
			q++;
		*o++ = *q;
	}
	*o = '\0';
	return *q == '\'' && q[1] == '\0' ? 0 : -1;
}

/* PowerShell's single-quote characters: ' and U+2018..U+201B. */
static size_t ps_quote_len(const unsigned char *p)
{
	if (*p == '\'')
		return 1;
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x98 && p[2] <= 0x9b)
		return 3;
	return 0;
}

/* PowerShell: one '...'; a quote character followed by another is the
 * second one, literally (its tokenizer); a lone one ends the string. */
static int unquote_powershell(const char *q, char *o)
{
	const unsigned char *p = (const unsigned char *)q;
	size_t a, b;

	if (*p++ != '\'')
		return -1;
	for (;;) {
		if (!*p)
			return -1;
		a = ps_quote_len(p);
		if (!a) {
			*o++ = (char)*p++;
			continue;
		}
		b = ps_quote_len(p + a);
		if (!b)
			break;
		memcpy(o, p + a, b);
		o += b;
		p += a + b;
	}
	*o = '\0';
	return p[1] == '\0' ? 0 : -1;
}

static void check_quote(const char *v)
{
	size_t n = strlen(v);
	char *back = xmalloc(n + 1), *q;
	cJSON *j;
	int r;

	q = quoted(SHELL_SH, v, &r);
	PROPERTY(r == 0 && unquote_posix(q, back) == 0 && !strcmp(back, v));
	free(q);
	q = quoted(SHELL_FISH, v, &r);
	PROPERTY(r == 0 && unquote_fish(q, back) == 0 && !strcmp(back, v));
	free(q);
	q = quoted(SHELL_POWERSHELL, v, &r);
	PROPERTY(r == 0 && unquote_powershell(q, back) == 0 &&
		 !strcmp(back, v));
	free(q);
	q = quoted(SHELL_JSON, v, &r);
	j = cJSON_ParseWithLengthOpts(q, strlen(q) + 1, NULL, 1);
	PROPERTY(r == 0 && cJSON_IsString(j) && !strcmp(j->valuestring, v));
	cJSON_Delete(j);
	free(q);
	q = quoted(SHELL_DOTENV, v, &r);
	PROPERTY(r == 0 ? !strcmp(q, v) && *v &&
			      strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
					"klmnopqrstuvwxyz0123456789._:-") == n
			: *q == '\0');
	free(q);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum shell sh;
	enum shell_kind kind;
	char *v;

	fuzz_setup();
	if (size < 2)
		return 0;
	sh = (enum shell)(data[0] % (SHELL_DOTENV + 1));
	kind = data[1] & 1 ? SHELL_VALUE_TIME : SHELL_VALUE_TOKEN;
	v = xstrndup((const char *)data + 2, size - 2);
	check_emit(sh, kind, v);
	check_quote(v);
	free(v);
	return 0;
}
