/*
 * shell.c: see shell.h.  Values are written with fputc/fputs, never
 * through printf, so no formatted copy of a token is left in a stack
 * buffer of stdio.
 */
#include <stdlib.h>
#include <string.h>

#include "helper/base/log.h"
#include "protocol/out.h"
#include "protocol/shell.h"

#define SHELL_TIME_MAX 64

static const struct {
	const char *name;
	enum shell sh;
} shell_names[] = {
    {"sh", SHELL_SH},
    {"bash", SHELL_BASH},
    {"zsh", SHELL_ZSH},
    {"fish", SHELL_FISH},
    {"powershell", SHELL_POWERSHELL},
    {"pwsh", SHELL_POWERSHELL},
    {"json", SHELL_JSON},
    {"dotenv", SHELL_DOTENV},
};
#define N_SHELL_NAMES (sizeof(shell_names) / sizeof(shell_names[0]))

static int lookup(const char *name, enum shell *out)
{
	size_t i;

	for (i = 0; i < N_SHELL_NAMES; i++)
		if (!strcmp(name, shell_names[i].name)) {
			*out = shell_names[i].sh;
			return 0;
		}
	return -1;
}

enum status shell_from_name(const char *name, enum shell *out)
{
	if (lookup(name, out) < 0)
		return fail(ST_USAGE,
			    "unknown shell '%s' (sh, bash, zsh, "
			    "fish, powershell, json, dotenv)",
			    name);
	return ST_OK;
}

enum shell shell_from_env(void)
{
	const char *s = getenv("SHELL"), *base;
	enum shell sh;

	if (!s)
		return SHELL_SH;
	base = strrchr(s, '/');
	base = base ? base + 1 : s;
	/* json and dotenv name formats, not shells: never guessed. */
	if (lookup(base, &sh) < 0 || sh == SHELL_JSON || sh == SHELL_DOTENV)
		return SHELL_SH;
	return sh;
}

const char *shell_name(enum shell sh)
{
	size_t i;

	for (i = 0; i < N_SHELL_NAMES; i++)
		if (shell_names[i].sh == sh)
			return shell_names[i].name;
	return "sh";
}

static int token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int time_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == 'T' || c == 'Z' || c == ':' ||
	       c == '-';
}

int shell_value_ok(const char *v, enum shell_kind kind)
{
	size_t max =
	    kind == SHELL_VALUE_TIME ? SHELL_TIME_MAX : SHELL_VALUE_MAX;
	size_t n, i;

	if (!v)
		return 0;
	n = strnlen(v, max + 1);
	if (!n || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (kind == SHELL_VALUE_TIME ? !time_char(c) : !token_char(c))
			return 0;
	}
	return 1;
}

int shell_name_ok(const char *name)
{
	size_t n, i;

	if (!name)
		return 0;
	n = strnlen(name, SHELL_NAME_MAX + 1);
	if (!n || n > SHELL_NAME_MAX || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

/* dotenv's bare values: the union of both alphabets, nothing else. */
static int dotenv_ok(const char *v)
{
	if (!*v)
		return 0;
	for (; *v; v++)
		if (!token_char((unsigned char)*v) && *v != ':')
			return 0;
	return 1;
}

/* POSIX single quotes: everything literal; ' becomes '\''. */
static int quote_posix(FILE *f, const char *v)
{
	if (fputc('\'', f) == EOF)
		return -1;
	for (; *v; v++)
		if (*v == '\'' ? fputs("'\\''", f) == EOF : fputc(*v, f) == EOF)
			return -1;
	return fputc('\'', f) == EOF ? -1 : 0;
}

/* fish single quotes: \\ and \' are the only escapes. */
static int quote_fish(FILE *f, const char *v)
{
	if (fputc('\'', f) == EOF)
		return -1;
	for (; *v; v++) {
		if ((*v == '\\' || *v == '\'') && fputc('\\', f) == EOF)
			return -1;
		if (fputc(*v, f) == EOF)
			return -1;
	}
	return fputc('\'', f) == EOF ? -1 : 0;
}

/*
 * PowerShell single quotes: a quote is escaped by doubling it, and
 * PowerShell also takes U+2018..U+201B as single quotes (UTF-8 E2 80
 * 98..9B), so those are doubled too.
 */
static int quote_powershell(FILE *f, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	if (fputc('\'', f) == EOF)
		return -1;
	for (; *p; p++) {
		if (*p == '\'' && fputc('\'', f) == EOF)
			return -1;
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x98 &&
		    p[2] <= 0x9b) {
			if (fwrite(p, 1, 3, f) != 3 || fwrite(p, 1, 3, f) != 3)
				return -1;
			p += 2;
			continue;
		}
		if (fputc(*p, f) == EOF)
			return -1;
	}
	return fputc('\'', f) == EOF ? -1 : 0;
}

int shell_quote(FILE *out, enum shell sh, const char *v)
{
	switch (sh) {
	case SHELL_FISH:
		return quote_fish(out, v);
	case SHELL_POWERSHELL:
		return quote_powershell(out, v);
	case SHELL_JSON:
		return out_json_string(out, v);
	case SHELL_DOTENV:
		if (!dotenv_ok(v))
			return -1;
		return fputs(v, out) == EOF ? -1 : 0;
	default:
		return quote_posix(out, v);
	}
}

static const char *kind_alphabet(enum shell_kind kind)
{
	return kind == SHELL_VALUE_TIME ? "[0-9TZ:-]" : "[A-Za-z0-9._-]";
}

/* Check every name and value before anything is written. */
static enum status check_vars(const struct shell_var *vars, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!shell_name_ok(vars[i].name))
			return fail(ST_USAGE,
				    "refusing to print a variable "
				    "whose name is not [A-Z_][A-Z0-9_]*");
		if (!vars[i].value || !*vars[i].value)
			return fail(ST_USAGE,
				    "refusing to print %s: empty "
				    "value",
				    vars[i].name);
		if (!shell_value_ok(vars[i].value, vars[i].kind))
			return fail(ST_USAGE,
				    "refusing to print %s: its value "
				    "is longer than allowed or has a character "
				    "outside %s",
				    vars[i].name, kind_alphabet(vars[i].kind));
	}
	return ST_OK;
}

/* The text before and after the quoted value of one statement. */
static void statement_parts(enum shell sh, const char **pre, const char **mid,
			    const char **end)
{
	switch (sh) {
	case SHELL_FISH:
		*pre = "set -gx ", *mid = " ", *end = ";\n";
		break;
	case SHELL_POWERSHELL:
		*pre = "$Env:", *mid = " = ", *end = ";\n";
		break;
	case SHELL_DOTENV:
		*pre = "", *mid = "=", *end = "\n";
		break;
	default:
		*pre = "export ", *mid = "=", *end = ";\n";
	}
}

static int emit_json(FILE *f, const struct shell_var *vars,
		     const char *const *names, size_t n)
{
	size_t i;

	if (fputc('{', f) == EOF)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = vars ? vars[i].name : names[i];

		if ((i && fputc(',', f) == EOF) ||
		    out_json_string(f, name) < 0 || fputc(':', f) == EOF)
			return -1;
		if (vars ? out_json_string(f, vars[i].value) < 0
			 : fputs("null", f) == EOF)
			return -1;
	}
	return fputs("}\n", f) == EOF ? -1 : 0;
}

static int emit_statements(FILE *f, enum shell sh, const struct shell_var *vars,
			   size_t n)
{
	const char *pre, *mid, *end;
	size_t i;

	statement_parts(sh, &pre, &mid, &end);
	for (i = 0; i < n; i++)
		if (fputs(pre, f) == EOF || fputs(vars[i].name, f) == EOF ||
		    fputs(mid, f) == EOF ||
		    shell_quote(f, sh, vars[i].value) < 0 ||
		    fputs(end, f) == EOF)
			return -1;
	return 0;
}

enum status shell_emit(FILE *out, enum shell sh, const struct shell_var *vars,
		       size_t n)
{
	enum status st = check_vars(vars, n);
	int r;

	if (st != ST_OK)
		return st;
	r = sh == SHELL_JSON ? emit_json(out, vars, NULL, n)
			     : emit_statements(out, sh, vars, n);
	if (r < 0)
		return fail(ST_TRANSIENT, "cannot write the variables");
	return ST_OK;
}

static int emit_unset_statements(FILE *f, enum shell sh,
				 const char *const *names, size_t n)
{
	const char *pre = "unset ", *end = ";\n";
	size_t i;

	if (sh == SHELL_FISH)
		pre = "set -e -g ";
	else if (sh == SHELL_POWERSHELL)
		pre = "Remove-Item -LiteralPath Env:",
		end = " -ErrorAction SilentlyContinue;\n";
	for (i = 0; i < n; i++)
		if (fputs(pre, f) == EOF || fputs(names[i], f) == EOF ||
		    fputs(end, f) == EOF)
			return -1;
	return 0;
}

enum status shell_emit_unset(FILE *out, enum shell sh, const char *const *names,
			     size_t n)
{
	size_t i;
	int r;

	if (sh == SHELL_DOTENV)
		return fail(ST_USAGE, "dotenv has no way to unset a variable");
	for (i = 0; i < n; i++)
		if (!shell_name_ok(names[i]))
			return fail(ST_USAGE,
				    "refusing to unset a variable "
				    "whose name is not [A-Z_][A-Z0-9_]*");
	r = sh == SHELL_JSON ? emit_json(out, NULL, names, n)
			     : emit_unset_statements(out, sh, names, n);
	if (r < 0)
		return fail(ST_TRANSIENT, "cannot write the variables");
	return ST_OK;
}

enum status shell_print(int fd, enum shell sh, const struct shell_var *vars,
			size_t n)
{
	struct out o = OUT_INIT;
	enum status st = shell_emit(out_open(&o), sh, vars, n);

	if (st != ST_OK) {
		out_discard(&o);
		return st;
	}
	return out_commit(&o, fd);
}

enum status shell_print_unset(int fd, enum shell sh, const char *const *names,
			      size_t n)
{
	struct out o = OUT_INIT;
	enum status st = shell_emit_unset(out_open(&o), sh, names, n);

	if (st != ST_OK) {
		out_discard(&o);
		return st;
	}
	return out_commit(&o, fd);
}

#define HINT_HEAD                                                              \
	"# astro-cred env prints commands that set ASTRO_API_TOKEN (and\n"     \
	"# ASTRO_API_TOKEN_EXPIRES_AT); it does not show the token on a\n"     \
	"# terminal.  "
#define HINT_TAIL "# Add --force to print it here anyway.\n"

const char *shell_tty_hint(enum shell sh)
{
	switch (sh) {
	case SHELL_FISH:
		return HINT_HEAD
		    "To set them in this shell, run:\n"
		    "#   astro-cred env --shell fish | source\n" HINT_TAIL;
	case SHELL_POWERSHELL:
		return HINT_HEAD "To set them in this shell, run:\n"
				 "#   astro-cred env --shell powershell | "
				 "Invoke-Expression\n" HINT_TAIL;
	case SHELL_JSON:
		return HINT_HEAD "Pipe the JSON to the program that reads "
				 "it:\n#   astro-cred env --shell json | "
				 "PROGRAM\n" HINT_TAIL;
	case SHELL_DOTENV:
		return HINT_HEAD
		    "Hand the lines to the program that reads "
		    "them, e.g.\n#   docker run --env-file <(astro-cred env "
		    "--shell dotenv) IMAGE\n" HINT_TAIL;
	default:
		return HINT_HEAD "To set them in this shell, run:\n"
				 "#   eval \"$(astro-cred env)\"\n" HINT_TAIL;
	}
}
