/*
 * test_shell.c: env's emitter: shell names, the alphabets, each shell's
 * statements and quoting, unset forms, refusals that print nothing (the S
 * cases of security.md 2.2 that a unit test reaches; t0500 runs real
 * shells).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "protocol/shell.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

#define TOK "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_x"
#define EXP "2026-11-29T04:37:12Z"

static const struct shell_var both[] = {
    {"ASTRO_API_TOKEN", TOK, SHELL_VALUE_TOKEN},
    {"ASTRO_API_TOKEN_EXPIRES_AT", EXP, SHELL_VALUE_TIME},
};
static const char *const names[] = {"ASTRO_API_TOKEN",
				    "ASTRO_API_TOKEN_EXPIRES_AT"};

static void test_names(void)
{
	static const struct {
		const char *name;
		enum shell sh;
	} t[] = {
	    {"sh", SHELL_SH},
	    {"bash", SHELL_BASH},
	    {"zsh", SHELL_ZSH},
	    {"fish", SHELL_FISH},
	    {"powershell", SHELL_POWERSHELL},
	    {"pwsh", SHELL_POWERSHELL},
	    {"json", SHELL_JSON},
	    {"dotenv", SHELL_DOTENV},
	};
	enum shell sh;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sh = SHELL_SH;
		ok(shell_from_name(t[i].name, &sh) == ST_OK && sh == t[i].sh,
		   "--shell %s", t[i].name);
	}
	capture_begin();
	ok(shell_from_name("csh", &sh) == ST_USAGE, "--shell csh refused");
	ok(shell_from_name("Bash", &sh) == ST_USAGE, "names are exact");
	ok(shell_from_name("", &sh) == ST_USAGE, "empty name refused");
	capture_end(err, sizeof(err));
	ok(strstr(err, "unknown shell 'csh'") != NULL, "message names it");
	is_str(shell_name(SHELL_POWERSHELL), "powershell", "canonical name");
	is_str(shell_name(SHELL_DOTENV), "dotenv", "dotenv's name");
}

static void env_is(const char *value, enum shell want, const char *name)
{
	if (value)
		setenv("SHELL", value, 1);
	else
		unsetenv("SHELL");
	is_int(shell_from_env(), want, "$SHELL %s", name);
}

static void test_from_env(void)
{
	env_is("/bin/bash", SHELL_BASH, "/bin/bash");
	env_is("/usr/bin/zsh", SHELL_ZSH, "/usr/bin/zsh");
	env_is("/usr/local/bin/fish", SHELL_FISH, "fish");
	env_is("/opt/microsoft/powershell/7/pwsh", SHELL_POWERSHELL, "pwsh");
	env_is("fish", SHELL_FISH, "without a directory");
	env_is("/bin/dash", SHELL_SH, "dash gets sh");
	env_is("/bin/tcsh", SHELL_SH, "unknown gets sh");
	env_is("/usr/bin/json", SHELL_SH, "a format name is never guessed");
	env_is("/bin/", SHELL_SH, "empty basename");
	env_is("", SHELL_SH, "empty");
	env_is(NULL, SHELL_SH, "unset");
}

static void test_alphabet(void)
{
	char v[SHELL_VALUE_MAX + 2];
	int c, good_tok = 1, good_time = 1;

	for (c = 1; c < 256; c++) {
		int tok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			  c == '-';
		int tim = (c >= '0' && c <= '9') || c == 'T' || c == 'Z' ||
			  c == ':' || c == '-';
		char s[4] = {'a', (char)c, '1', '\0'};
		char t[4] = {'1', (char)c, 'Z', '\0'};

		if (shell_value_ok(s, SHELL_VALUE_TOKEN) != tok)
			good_tok = 0;
		if (shell_value_ok(t, SHELL_VALUE_TIME) != tim)
			good_time = 0;
	}
	ok(good_tok, "token alphabet is exactly [A-Za-z0-9._-] (bytes 1..255)");
	ok(good_time, "time alphabet is exactly [0-9TZ:-] (bytes 1..255)");
	ok(shell_value_ok(TOK, SHELL_VALUE_TOKEN), "a JWT");
	ok(shell_value_ok(EXP, SHELL_VALUE_TIME), "an RFC 3339 time");
	ok(!shell_value_ok(EXP, SHELL_VALUE_TOKEN), "':' is not in a token");
	ok(!shell_value_ok("", SHELL_VALUE_TOKEN), "empty refused");
	ok(!shell_value_ok(NULL, SHELL_VALUE_TOKEN), "NULL refused");
	memset(v, 'a', sizeof(v));
	v[SHELL_VALUE_MAX] = '\0';
	ok(shell_value_ok(v, SHELL_VALUE_TOKEN), "SHELL_VALUE_MAX bytes");
	v[SHELL_VALUE_MAX] = 'a';
	v[SHELL_VALUE_MAX + 1] = '\0';
	ok(!shell_value_ok(v, SHELL_VALUE_TOKEN), "one more refused");
	memset(v, '1', 65);
	v[64] = '\0';
	ok(shell_value_ok(v, SHELL_VALUE_TIME), "64-byte time");
	v[64] = '1';
	v[65] = '\0';
	ok(!shell_value_ok(v, SHELL_VALUE_TIME), "65-byte time refused");
	ok(shell_name_ok("ASTRO_API_TOKEN") && shell_name_ok("_X1"),
	   "variable names");
	ok(!shell_name_ok("1X") && !shell_name_ok("a") && !shell_name_ok("") &&
	       !shell_name_ok("A-B") && !shell_name_ok("A B") &&
	       !shell_name_ok(NULL),
	   "bad variable names refused");
}

/* Run shell_emit (or unset) into memory; return what it wrote. */
static char *emit(enum shell sh, const struct shell_var *vars,
		  const char *const *unset, size_t n, enum status *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*st = vars ? shell_emit(f, sh, vars, n)
		   : shell_emit_unset(f, sh, unset, n);
	fclose(f);
	return buf;
}

static void emits(enum shell sh, const char *want)
{
	enum status st;
	char *got = emit(sh, both, NULL, 2, &st);

	ok(st == ST_OK, "%s: emitted", shell_name(sh));
	is_str(got, want, "%s: statements, exactly", shell_name(sh));
	free(got);
}

static void test_emit(void)
{
	const char *posix = "export ASTRO_API_TOKEN='" TOK "';\n"
			    "export ASTRO_API_TOKEN_EXPIRES_AT='" EXP "';\n";

	emits(SHELL_SH, posix);
	emits(SHELL_BASH, posix);
	emits(SHELL_ZSH, posix);
	emits(SHELL_FISH, "set -gx ASTRO_API_TOKEN '" TOK "';\n"
			  "set -gx ASTRO_API_TOKEN_EXPIRES_AT '" EXP "';\n");
	emits(SHELL_POWERSHELL,
	      "$Env:ASTRO_API_TOKEN = '" TOK "';\n"
	      "$Env:ASTRO_API_TOKEN_EXPIRES_AT = '" EXP "';\n");
	emits(SHELL_JSON, "{\"ASTRO_API_TOKEN\":\"" TOK "\","
			  "\"ASTRO_API_TOKEN_EXPIRES_AT\":\"" EXP "\"}\n");
	emits(SHELL_DOTENV, "ASTRO_API_TOKEN=" TOK "\n"
			    "ASTRO_API_TOKEN_EXPIRES_AT=" EXP "\n");
}

static void unsets(enum shell sh, const char *want)
{
	enum status st;
	char *got = emit(sh, NULL, names, 2, &st);

	ok(st == ST_OK, "%s: unset emitted", shell_name(sh));
	is_str(got, want, "%s: unset statements, exactly", shell_name(sh));
	free(got);
}

static void test_unset(void)
{
	const char *posix = "unset ASTRO_API_TOKEN;\n"
			    "unset ASTRO_API_TOKEN_EXPIRES_AT;\n";
	static const char *const bad[] = {"ASTRO_API_TOKEN", "X;rm"};
	enum status st;
	char *got, err[512];

	unsets(SHELL_SH, posix);
	unsets(SHELL_BASH, posix);
	unsets(SHELL_ZSH, posix);
	unsets(SHELL_FISH, "set -e -g ASTRO_API_TOKEN;\n"
			   "set -e -g ASTRO_API_TOKEN_EXPIRES_AT;\n");
	unsets(SHELL_POWERSHELL,
	       "Remove-Item -LiteralPath Env:ASTRO_API_TOKEN "
	       "-ErrorAction SilentlyContinue;\n"
	       "Remove-Item -LiteralPath Env:ASTRO_API_TOKEN_EXPIRES_AT "
	       "-ErrorAction SilentlyContinue;\n");
	unsets(SHELL_JSON, "{\"ASTRO_API_TOKEN\":null,"
			   "\"ASTRO_API_TOKEN_EXPIRES_AT\":null}\n");
	capture_begin();
	got = emit(SHELL_DOTENV, NULL, names, 2, &st);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && !*got && one_line(err),
	   "dotenv: unset refused, nothing written");
	free(got);
	capture_begin();
	got = emit(SHELL_SH, NULL, bad, 2, &st);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && !*got, "unset of a bad name: nothing written");
	free(got);
}

/* vars[1] carries a hostile value: every shell refuses, writes nothing. */
static void refuses(const char *name, const char *value, enum shell_kind k)
{
	struct shell_var v[2] = {both[0],
				 {"ASTRO_API_TOKEN_EXPIRES_AT", value, k}};
	int all = 1, sh;

	for (sh = SHELL_SH; sh <= SHELL_DOTENV; sh++) {
		char err[1024], *got;
		enum status st;

		capture_begin();
		got = emit((enum shell)sh, v, NULL, 2, &st);
		capture_end(err, sizeof(err));
		if (st != ST_USAGE || *got || !one_line(err) ||
		    !strstr(err, "ASTRO_API_TOKEN_EXPIRES_AT") ||
		    (*value && strstr(err, value)))
			all = 0;
		free(got);
	}
	ok(all, "%s: refused by every shell, nothing written", name);
}

static void test_refusals(void)
{
	struct shell_var badname[1] = {{"A;B", "x", SHELL_VALUE_TOKEN}};
	enum status st;
	char *got, err[512];

	refuses("S-01 x'$(touch ./pwned)'", "x'$(touch ./pwned)'",
		SHELL_VALUE_TOKEN);
	refuses("backticks", "a`touch pwned`", SHELL_VALUE_TOKEN);
	refuses("semicolon", "a;touch pwned", SHELL_VALUE_TOKEN);
	refuses("newline", "a\ntouch pwned", SHELL_VALUE_TOKEN);
	refuses("glob", "ab*", SHELL_VALUE_TOKEN);
	refuses("space", "a b", SHELL_VALUE_TOKEN);
	refuses("double quote", "a\"b", SHELL_VALUE_TOKEN);
	refuses("backslash", "a\\b", SHELL_VALUE_TOKEN);
	refuses("dollar", "$HOME", SHELL_VALUE_TOKEN);
	refuses("tilde", "~", SHELL_VALUE_TOKEN);
	refuses("high byte", "a\xe2\x80\x98", SHELL_VALUE_TOKEN);
	refuses("empty", "", SHELL_VALUE_TOKEN);
	refuses("time with a space", "2026-11-29 04:37:12Z", SHELL_VALUE_TIME);
	refuses("time with a letter", "2026-11-29t04:37:12z", SHELL_VALUE_TIME);
	capture_begin();
	got = emit(SHELL_SH, badname, NULL, 1, &st);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && !*got, "bad variable name refused");
	free(got);
}

static char *quoted(enum shell sh, const char *v, int *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*r = shell_quote(f, sh, v);
	fclose(f);
	return buf;
}

static void quotes(enum shell sh, const char *v, const char *want)
{
	char label[64];
	size_t i;
	int r;
	char *got = quoted(sh, v, &r);

	for (i = 0; v[i] && i < sizeof(label) - 1; i++)
		label[i] = (v[i] > 0x20 && v[i] < 0x7f) ? v[i] : '?';
	label[i] = '\0';
	ok(r == 0, "%s quotes '%s'", shell_name(sh), label);
	is_str(got, want, "%s quoting of '%s'", shell_name(sh), label);
	free(got);
}

/* Quoting holds for values the alphabet would refuse (defense in depth). */
static void test_quote(void)
{
	char *got;
	int r;

	quotes(SHELL_SH, "a'b", "'a'\\''b'");
	quotes(SHELL_SH, "'", "''\\'''");
	quotes(SHELL_BASH, "$(x)`y`\\\n*", "'$(x)`y`\\\n*'");
	quotes(SHELL_FISH, "a'b\\c", "'a\\'b\\\\c'");
	quotes(SHELL_FISH, "$x(y)*", "'$x(y)*'");
	quotes(SHELL_POWERSHELL, "a'b", "'a''b'");
	quotes(SHELL_POWERSHELL,
	       "a\xe2\x80\x98"
	       "b\xe2\x80\x99",
	       "'a\xe2\x80\x98\xe2\x80\x98"
	       "b\xe2\x80\x99\xe2\x80\x99'");
	quotes(SHELL_POWERSHELL, "$(x)", "'$(x)'");
	quotes(SHELL_JSON, "a\"b\\\n", "\"a\\\"b\\\\\\n\"");
	quotes(SHELL_DOTENV, "a.b-c_d:9", "a.b-c_d:9");
	got = quoted(SHELL_DOTENV, "a b", &r);
	ok(r < 0 && !*got,
	   "dotenv cannot hold a space: refused, nothing written");
	free(got);
	got = quoted(SHELL_DOTENV, "'x'", &r);
	ok(r < 0 && !*got, "dotenv refuses quotes");
	free(got);
}

static void test_print(void)
{
	struct shell_var bad[2] = {
	    both[0], {"ASTRO_API_TOKEN_EXPIRES_AT", "a b", SHELL_VALUE_TIME}};
	char got[512], err[512];
	int p[2];
	ssize_t n;

	if (pipe(p) < 0)
		abort();
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	is_int(shell_print(p[1], SHELL_SH, both, 2), ST_OK, "shell_print");
	n = read(p[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	is_str(got,
	       "export ASTRO_API_TOKEN='" TOK "';\n"
	       "export ASTRO_API_TOKEN_EXPIRES_AT='" EXP "';\n",
	       "shell_print wrote the statements");
	capture_begin();
	is_int(shell_print(p[1], SHELL_SH, bad, 2), ST_USAGE,
	       "shell_print refuses");
	capture_end(err, sizeof(err));
	n = read(p[0], got, sizeof(got));
	ok(n < 0 && errno == EAGAIN, "S-04: a refusal writes nothing at all");
	is_int(shell_print_unset(p[1], SHELL_FISH, names, 1), ST_OK,
	       "shell_print_unset");
	n = read(p[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	is_str(got, "set -e -g ASTRO_API_TOKEN;\n", "unset printed");
	capture_begin();
	is_int(shell_print_unset(p[1], SHELL_DOTENV, names, 1), ST_USAGE,
	       "dotenv unset refused");
	capture_end(err, sizeof(err));
	n = read(p[0], got, sizeof(got));
	ok(n < 0 && errno == EAGAIN, "and writes nothing");
	close(p[0]);
	close(p[1]);
}

/* Every line of a hint is a comment; it names the right command. */
static void hint_has(enum shell sh, const char *want)
{
	const char *h = shell_tty_hint(sh), *p;
	int comments = 1;

	for (p = h; *p; p = strchr(p, '\n') + 1) {
		if (strncmp(p, "# ", 2) && strncmp(p, "#\n", 2))
			comments = 0;
		if (!strchr(p, '\n'))
			break;
	}
	ok(comments && h[strlen(h) - 1] == '\n', "%s hint: only comment lines",
	   shell_name(sh));
	ok(strstr(h, want) != NULL, "%s hint shows %s", shell_name(sh), want);
	ok(strstr(h, "--force") != NULL, "%s hint mentions --force",
	   shell_name(sh));
}

static void test_hints(void)
{
	hint_has(SHELL_SH, "eval \"$(astro-cred env)\"");
	hint_has(SHELL_BASH, "eval \"$(astro-cred env)\"");
	hint_has(SHELL_ZSH, "eval \"$(astro-cred env)\"");
	hint_has(SHELL_FISH, "astro-cred env --shell fish | source");
	hint_has(SHELL_POWERSHELL,
		 "astro-cred env --shell powershell | Invoke-Expression");
	hint_has(SHELL_JSON, "astro-cred env --shell json");
	hint_has(SHELL_DOTENV, "astro-cred env --shell dotenv");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_names();
	test_from_env();
	test_alphabet();
	test_emit();
	test_unset();
	test_refusals();
	test_quote();
	test_print();
	test_hints();
	return done_testing();
}
