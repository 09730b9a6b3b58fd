#!/bin/sh
# make demo's script (tests/demo/run) on the build under test: it runs to
# the end, every step shows what it announces, and it leaves nothing
# behind.  The forced renewal must show a new token id and the emulator's
# create and delete every time, not two runs in three.
. "$(dirname "$0")/lib.sh"

DEMO=$ASTRO_CRED_TOP/tests/demo/run
rc=0
TMPDIR=$TRASH ASTRO_CRED_DEMO_BIN=$ASTRO_CRED_RELEASE/bin "$DEMO" \
	</dev/null >"$TRASH/demo.out" 2>"$TRASH/demo.err" || rc=$?
# The step headers are bold: drop the escapes.
sed 's/\x1b\[[0-9;]*m//g' "$TRASH/demo.out" >"$TRASH/demo.txt"
# section TITLE: the lines of the step whose header starts with TITLE
section() {
	awk -v t="== $1" 'index($0, "== ") == 1 { on = index($0, t) == 1; next }
		on' "$TRASH/demo.txt"
}

test_expect 'the demo runs to the end, exit 0' '
	[ "$rc" = 0 ] && grep -q "^== Done" "$TRASH/demo.txt" ||
	{ tail -n 20 "$TRASH/demo.txt" "$TRASH/demo.err"; false; }'
test_expect 'it prints no whole token' '
	! grep -Eq "eyJ[A-Za-z0-9_-]{20,}" "$TRASH/demo.txt" "$TRASH/demo.err"'

section "A renewal forced by --min-ttl" >"$TRASH/renewal.txt"
old=$(sed -n 's/^ *token id: \([A-Za-z0-9_-]*\) -> \([A-Za-z0-9_-]*\)$/\1/p' \
	"$TRASH/renewal.txt")
new=$(sed -n 's/^ *token id: \([A-Za-z0-9_-]*\) -> \([A-Za-z0-9_-]*\)$/\2/p' \
	"$TRASH/renewal.txt")
test_expect 'the forced renewal shows a new token id' '
	[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ] ||
	{ cat "$TRASH/renewal.txt"; false; }'
test_expect 'the id it printed before is the old one, in the get step' '
	section "get: served" | grep -q "token_id=$old\$"'
test_expect 'the renewal step prints the new token as json' '
	grep -q "\"tokenId\":\"$new\"" "$TRASH/renewal.txt"'
test_expect 'and the emulator lines: create a token, delete one' '
	grep -Eq "^ +POST +/v1/organizations/demo-org/tokens +200$" \
		"$TRASH/renewal.txt" &&
	grep -Eq "^ +DELETE +/v1/organizations/demo-org/tokens/[A-Za-z0-9_-]+ +204$" \
		"$TRASH/renewal.txt" ||
	{ cat "$TRASH/renewal.txt"; false; }'
test_expect 'the one deleted is the old token' '
	[ -n "$old" ] &&
	grep -Eq "^ +DELETE +/v1/organizations/demo-org/tokens/$old +204$" \
		"$TRASH/renewal.txt"'

section "8 concurrent gets" >"$TRASH/crowd.txt"
test_expect 'the concurrent gets: one token, one rotation' '
	grep -q "distinct tokens printed by the 8 processes: 1$" "$TRASH/crowd.txt" &&
	grep -q "rotations the API saw: 1$" "$TRASH/crowd.txt"'
test_expect 'list and Docker mode show their profiles' '
	section "list: what is stored" | grep -q "^ *ci " &&
	section "Docker mode" | grep -q "\"Username\":\"cli\""'
test_expect 'the demo removed its temporary directory' '
	! ls -d "$TRASH"/astro-cred-demo.* 2>/dev/null'

test_done
