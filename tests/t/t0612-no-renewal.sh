#!/bin/sh
# Tokens that cannot be renewed (contract.md section 7, "No renewal
# possible"): rotate=never, and an expired token without a parent.  Their
# token is served while it is valid for --min-ttl, and otherwise every
# front end (get, env, exec, Docker get) exits 4 with nothing on stdout and
# a message naming the cause; never a dead token with exit 0.  `list` says
# `expired` for them, and the messages say what happened: expired, not
# "revoked or rotated elsewhere"; a 503, not a lost answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
emu_start

ORG=org-norenew

# mint SCOPE [EXPIRES_IN] -> prints a bootstrap token
mint() {
	emuctl bootstrap --org "$ORG" --scope "$1" ${2:+--expires-in "$2"} \
		--print token
}
# store_tok PROFILE TOKENFILE [extra kv lines...]
store_tok() {
	p=$1 f=$2
	shift 2
	{ printf 'token=%s\n' "$(cat "$f")"; for l in "$@"; do
		printf '%s\n' "$l"; done; } >"$TRASH/req"
	run_cred store -p "$p" <"$TRASH/req"
}
# kv_field KEY: KEY's value in the kv output $out.
kv_field() {
	printf '%s\n' "$out" | sed -n "s/^$1=//p"
}

# --- rotate=never, expired ---------------------------------------------
mint ORGANIZATION 3 >"$TRASH/never.tok"
store_tok never "$TRASH/never.tok" rotate=never
check_run 'store a 3 s token with rotate=never' 0 ''
run_cred get -p never --format raw </dev/null
check_run 'while valid it is served' 0 "$(cat "$TRASH/never.tok")"
sleep 4
emuctl log --clear >/dev/null
run_cred get -p never </dev/null
check_run 'expired, renewal off: get exits 4, nothing on stdout' 4 '' \
	"profile 'never': token .* expired at .* and renewal is off"
run_cred env -p never --shell sh </dev/null
check_run 'env exits 4 too' 4 '' 'expired at .* renewal is off'
run_cred exec -p never -- sh -c 'echo ran' </dev/null
check_run 'exec exits 4 and runs nothing' 4 '' 'expired at .* renewal is off'
mkdir -p "$XDG_CONFIG_HOME/astro-cred"
printf '[docker]\nimages.astronomer.cloud = never\n' \
	>"$XDG_CONFIG_HOME/astro-cred/config"
rc=0
printf 'images.astronomer.cloud\n' |
	"$DOCKER_CRED" get >"$TRASH/dget" 2>"$TRASH/dget.err" || rc=$?
test_expect 'Docker get: a failure, no secret, the cause on stderr' '
	[ "$rc" != 0 ] && ! grep -q "Secret" "$TRASH/dget" &&
	grep -q "expired at .* renewal is off" "$TRASH/dget.err"'
rm -f "$XDG_CONFIG_HOME/astro-cred/config"
run_cred check -p never </dev/null
check_run 'check agrees: exit 4' 4 ''
test_expect 'nothing asked the API' '[ -z "$(emuctl log)" ]'
run_cred list --format kv </dev/null
test_expect 'list says expired, not ok' '
	[ "$rc" = 0 ] && printf "%s\n" "$out" |
		grep -A8 -x "profile=never" | grep -qx "state=expired"'

# --- rotate=never, --min-ttl beyond what is left --------------------------
# The emulator makes exp = ceil(mint time) + 60; three seconds later at
# most 58 whole seconds are left.
mint ORGANIZATION 60 >"$TRASH/n60.tok"
store_tok n60 "$TRASH/n60.tok" rotate=never
sleep 3
emuctl log --clear >/dev/null
run_cred get -p n60 --min-ttl 59 </dev/null
check_run 'rotate=never, --min-ttl 59 with 58 s left: exit 4' 4 '' \
	'sooner than the 59s asked for, and renewal is off'
run_cred check -p n60 --min-ttl 59 </dev/null
check_run 'check --min-ttl 59 agrees' 4 ''
run_cred get -p n60 --min-ttl 10 --format raw </dev/null
check_run 'with enough left for --min-ttl it is served' 0 "$(cat "$TRASH/n60.tok")"
test_expect 'and the API was never asked' '[ -z "$(emuctl log)" ]'
run_cred list --format kv </dev/null
test_expect 'list says ok for the valid one' '
	printf "%s\n" "$out" | grep -A8 -x "profile=n60" | grep -qx "state=ok"'

# --- no parent, expired: it cannot rotate itself ---------------------------
mint ORGANIZATION 2 >"$TRASH/gone.tok"
store_tok gone "$TRASH/gone.tok"
sleep 3
emuctl log --clear >/dev/null
run_cred get -p gone </dev/null
check_run 'expired without a parent: exit 4, says expired and what to do' 4 '' \
	"token .* expired at .*store a new token \(astro-cred store -p gone\)"
test_expect 'not blamed on a revocation or a restored copy' '
	! printf "%s" "$err" | grep -q "revoked\|rotated elsewhere\|copy"'
test_expect 'no rotate was attempted with the dead token' '
	[ "$(emuctl count rotate)" = 0 ]'
run_cred list --format kv </dev/null
test_expect 'list says expired' '
	printf "%s\n" "$out" | grep -A8 -x "profile=gone" | grep -qx "state=expired"'

# The API may know better than the claims (a token expired early): its
# "token is expired" is reported as such.
mint ORGANIZATION 3600 >"$TRASH/early.tok"
store_tok early "$TRASH/early.tok"
run_cred get -p early </dev/null
emuctl expire "$(kv_field token_id)" >/dev/null
run_cred rotate -p early </dev/null
check_run 'the API says expired: exit 4, reported as expired' 4 '' \
	"token .* expired at .*store a new token"
test_expect 'and not as revoked or rotated elsewhere' '
	! printf "%s" "$err" | grep -q "revoked\|rotated elsewhere"'

# --- a 503 on rotate is a server error, not a lost answer ------------------
mint ORGANIZATION 3600 >"$TRASH/s503.tok"
store_tok s503 "$TRASH/s503.tok"
emuctl fault status --code 503 --op rotate --count 1 >/dev/null
run_cred rotate -p s503 </dev/null
check_run 'a 503 on rotate: exit 5, named as the server error it is' 5 '' \
	'answered the rotation with HTTP 503.*old token still works.*try again'
test_expect 'not as a lost answer' '! printf "%s" "$err" | grep -q "lost"'
emuctl fault clear >/dev/null

test_done
