/*
 * shell.h: what `astro-cred env` prints, for eval by a shell or for a
 * program reading json or dotenv.
 *
 * Safety rests on two things at once (security.md rule 3, section 2.2):
 *   1. A strict alphabet, checked before anything is written:
 *      SHELL_VALUE_TOKEN  [A-Za-z0-9._-]   (a JWT: base64url and dots)
 *      SHELL_VALUE_TIME   [0-9TZ:-]        (RFC 3339 UTC)
 *      Neither holds a quote, '$', '`', '\', whitespace or a glob
 *      character, so even `eval $(astro-cred env)` without quotes in a
 *      directory full of glob bait cannot change or run anything.
 *   2. Quoting anyway, per shell, every statement ended by ';':
 *      sh, bash, zsh  export NAME='v';        ' becomes '\''
 *      fish           set -gx NAME 'v';       \ and ' become \\ and \'
 *      powershell     $Env:NAME = 'v';        ' becomes ''
 *      json           {"NAME":"v",...}        one object, JSON escapes
 *      dotenv         NAME=v                  bare: see below
 *   dotenv values are written bare, without quotes: readers disagree on
 *   quotes (`docker run --env-file` keeps them as part of the value;
 *   python-dotenv, node's dotenv, compose and systemd strip them), while
 *   every one of them reads an unquoted value of the alphabet above
 *   identically.  A dotenv value outside [A-Za-z0-9._:-] is refused.
 *
 * Unset forms: `unset NAME;`, fish `set -e -g NAME;`, PowerShell
 * `Remove-Item -LiteralPath Env:NAME -ErrorAction SilentlyContinue;`,
 * json `{"NAME":null}`; dotenv has none (refused).
 *
 * Known limit: with IFS=: and the quotes forgotten (`IFS=:; eval $(...)`)
 * the shell splits the time value at its colons; the token has none.
 */
#ifndef ASTRO_CRED_SHELL_H
#define ASTRO_CRED_SHELL_H

#include <stddef.h>
#include <stdio.h>

#include "helper/base/status.h"

#define SHELL_VALUE_MAX 16384 /* bytes of one value */
#define SHELL_NAME_MAX	64    /* bytes of one variable name */

enum shell {
	SHELL_SH,
	SHELL_BASH,
	SHELL_ZSH,
	SHELL_FISH,
	SHELL_POWERSHELL,
	SHELL_JSON,
	SHELL_DOTENV,
};

enum shell_kind {
	SHELL_VALUE_TOKEN, /* [A-Za-z0-9._-] */
	SHELL_VALUE_TIME,  /* [0-9TZ:-], at most 64 bytes */
};

struct shell_var {
	const char *name; /* [A-Z_][A-Z0-9_]* */
	const char *value;
	enum shell_kind kind;
};

/*
 * The --shell names: sh bash zsh fish powershell (or pwsh) json dotenv.
 * ST_USAGE with one message for anything else.
 */
enum status shell_from_name(const char *name, enum shell *out);
/* From the basename of $SHELL; unset or unknown gives SHELL_SH. */
enum shell shell_from_env(void);
/* The canonical name of sh ("sh", "fish", ...). */
const char *shell_name(enum shell sh);

/* 1 if v is non-empty, within its length bound and its kind's alphabet. */
int shell_value_ok(const char *v, enum shell_kind kind);
/* 1 if name is a variable name we emit: [A-Z_][A-Z0-9_]*, bounded. */
int shell_name_ok(const char *name);

/*
 * Write the statements that export vars[0..n) for sh.  Every name and
 * value is checked first: on a refusal (ST_USAGE, one message naming the
 * variable, never showing the value) nothing at all is written.
 */
enum status shell_emit(FILE *out, enum shell sh, const struct shell_var *vars,
		       size_t n);
/* The statements that unset names[0..n); dotenv is refused (ST_USAGE). */
enum status shell_emit_unset(FILE *out, enum shell sh, const char *const *names,
			     size_t n);
/*
 * shell_emit / shell_emit_unset into secret memory, then one write to fd
 * (out.h): on any error fd receives nothing.  What `env` calls.
 */
enum status shell_print(int fd, enum shell sh, const struct shell_var *vars,
			size_t n);
enum status shell_print_unset(int fd, enum shell sh, const char *const *names,
			      size_t n);

/*
 * Write v quoted for sh (for json: a JSON string).  -1, nothing written,
 * when sh cannot represent v (dotenv outside its bare alphabet).  Not a
 * substitute for shell_value_ok(): exported for tests and fuzzers.
 */
int shell_quote(FILE *out, enum shell sh, const char *v);

/*
 * The comment `env` prints instead of the token when stdout is a
 * terminal: every line starts with "# ", so it is harmless under eval;
 * it explains eval "$(astro-cred env)", the fish form (`| source`) or the
 * PowerShell form (`| Invoke-Expression`), and --force.
 */
const char *shell_tty_hint(enum shell sh);

#endif
