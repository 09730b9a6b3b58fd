#!/bin/sh
# env's output under real shells (security.md 2.2, S-01..S-06): the
# differential round trip of more than 10,000 values through bash, dash,
# busybox ash, zsh and fish, quoted and with the quotes forgotten, in a directory of
# glob-bait files.  The heavy lifting is in env_quoting.py; this script
# sets up the sandbox, checks a few cases by hand, and turns the results
# into TAP.
. "$(dirname "$0")/lib.sh"

EMIT="$ASTRO_CRED_BUILD/tests/env-emit"
SANDBOX="$TRASH/sandbox"
WORK="$TRASH/work"
mkdir -p "$SANDBOX" "$WORK"
# Files an unquoted, globbing eval would pick up (the [measured] case of
# security.md: token ab* became abZZZ), and a few more.
for f in "ASTRO_API_TOKEN='abZZZ';" "ASTRO_API_TOKEN=abZZZ;" \
	"export ASTRO_API_TOKEN='abZZZ';" '*' '?' '[a]' a ab abZZZ Z -n export; do
	: >"$SANDBOX/$f"
done

for sh in bash dash zsh fish python3; do
	test_expect "$sh is installed" "command -v $sh"
done
test_expect 'busybox ash is installed' 'busybox ash -c :' 

# By hand, the examples of security.md 2.2.
printf "%s" "x'\$(touch ./pwned)'" >"$WORK/s01"
printf "%s" "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln" >"$WORK/jwt"
test_expect 'S-01: refused, exit 2, stdout empty, no pwned' '
	cd "$SANDBOX" && rc=0 && "$EMIT" sh "$WORK/s01" >"$WORK/o" 2>"$WORK/e" ||
	rc=$?; [ "$rc" = 2 ] && [ ! -s "$WORK/o" ] && [ ! -e pwned ] &&
	[ "$(wc -l <"$WORK/e")" = 1 ] && ! grep -q touch "$WORK/e"'
test_expect 'S-03: eval $(...) in the bait directory keeps the token' '
	cd "$SANDBOX" && eval $("$EMIT" sh "$WORK/jwt") &&
	[ "$ASTRO_API_TOKEN" = "$(cat "$WORK/jwt")" ] &&
	[ "$ASTRO_API_TOKEN_EXPIRES_AT" = 2026-11-29T04:37:12Z ]'
test_expect 'output is exactly the two export statements' '
	"$EMIT" sh "$WORK/jwt" >"$WORK/o" &&
	printf "export ASTRO_API_TOKEN='"'"'%s'"'"';\nexport ASTRO_API_TOKEN_EXPIRES_AT='"'"'2026-11-29T04:37:12Z'"'"';\n" \
		"$(cat "$WORK/jwt")" | cmp - "$WORK/o"'
test_expect '--unset output unsets under eval' '
	export ASTRO_API_TOKEN=x ASTRO_API_TOKEN_EXPIRES_AT=y &&
	eval "$("$EMIT" --unset sh "$WORK/jwt")" &&
	[ -z "${ASTRO_API_TOKEN+set}${ASTRO_API_TOKEN_EXPIRES_AT+set}" ]'
test_expect 'fish --unset output unsets under source' '
	"$EMIT" --unset fish "$WORK/jwt" >"$WORK/u.fish" &&
	ASTRO_API_TOKEN=x fish -c "source $WORK/u.fish; set -q ASTRO_API_TOKEN; and exit 1; exit 0"'

# The round trip.  Each line of the report becomes one test point.
python3 "$(dirname "$0")/env_quoting.py" "$EMIT" "$SANDBOX" "$WORK" \
	>"$WORK/report" 2>"$WORK/report.err"
prc=$?
while IFS='	' read -r res name; do
	case "$res" in
	ok) test_ok "$name" ;;
	"not ok") test_fail "$name" ;;
	\#*) printf '%s\n' "$res${name:+	$name}" ;;
	esac
done <"$WORK/report"
test_expect 'the round-trip driver ran to the end' '
	[ "$prc" = 0 ] && [ ! -s "$WORK/report.err" ] &&
	grep -q "^#   [0-9]* values in all" "$WORK/report" ||
	{ cat "$WORK/report.err"; false; }'
test_expect 'at least 10,000 values went through the shells' '
	n=$(sed -n "s/^#   \([0-9]*\) values in all.*/\1/p" "$WORK/report") &&
	[ "$n" -ge 10000 ]'
test_expect 'no pwned file anywhere in the test directory' '
	[ -z "$(find "$TRASH" -name "pwned*")" ]'
test_done
