#!/bin/sh
# The retries contract 7 promises, through astro-cred itself: a 429 with
# Retry-After on a POST (the server did not act) is waited out within the
# budget and succeeds, create and rotate alike; a 503 on a DELETE (sending
# it again cannot do more) is retried; a POST that may have reached the
# server's logic (a 5xx, a lost answer) is never sent twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
emu_start

ORG=org-retries
WS=ws-retries-1

store_tok() {
	p=$1 f=$2
	shift 2
	{ printf 'token=%s\n' "$(cat "$f")"; for l in "$@"; do
		printf '%s\n' "$l"; done; } >"$TRASH/req"
	run_cred store -p "$p" <"$TRASH/req"
}
kv_field() {
	printf '%s\n' "$out" | sed -n "s/^$1=//p"
}
token_id() {
	run_cred get -p "$1" --format kv </dev/null
	kv_field token_id
}
fresh() {
	emuctl fault clear >/dev/null
	emuctl log --clear >/dev/null
}

emuctl bootstrap --org "$ORG" --scope ORGANIZATION --print token >"$TRASH/root.tok"
store_tok root "$TRASH/root.tok"
check_run 'store the parent' 0 ''

# --- create: 429 is waited out; 503 is not resent ---------------------------
fresh
emuctl fault status --code 429 --retry-after 1 --op create --count 1 >/dev/null
run_cred create -p c1 --from root --scope WORKSPACE --entity "$WS" </dev/null
check_run 'create answered 429 Retry-After: 1: waited out, exit 0' 0 ''
test_expect 'sent twice: the 429, then the create that worked' '
	[ "$(emuctl count create --status 429)" = 1 ] &&
	[ "$(emuctl count create --status 200)" = 1 ] &&
	[ "$(emuctl count create)" = 2 ]'
test_expect 'and the profile holds the one token created' '
	id=$(token_id c1) && [ -n "$id" ] &&
	emuctl token-state "$id" | grep -q "\"valid\": *true"'

fresh
emuctl fault status --code 429 --retry-after 10 --op create --count 1 >/dev/null
ASTRO_CRED_API_TIMEOUT_MS=3000 run_cred create -p c2 --from root \
	--scope WORKSPACE --entity "$WS" </dev/null
check_run 'a Retry-After beyond the budget: exit 5 at once, says why' 5 '' \
	'HTTP 429.*retry after 10 s, beyond the time budget'
test_expect 'sent once, nothing stored' '
	[ "$(emuctl count create)" = 1 ] &&
	{ run_cred get -p c2 </dev/null; [ "$rc" = 1 ]; }'

fresh
emuctl fault status --code 503 --op create --count 1 >/dev/null
run_cred create -p c3 --from root --scope WORKSPACE --entity "$WS" </dev/null
check_run 'create answered 503: exit 5' 5 ''
test_expect 'a POST that may have acted is not sent again' '
	[ "$(emuctl count create)" = 1 ]'

# --- rotate: 429 is waited out; 503 and a lost answer are not resent --------
emuctl bootstrap --org "$ORG" --scope ORGANIZATION --expires-in 3600 \
	--print token >"$TRASH/r.tok"
store_tok r "$TRASH/r.tok"
fresh
emuctl fault status --code 429 --retry-after 1 --op rotate --count 1 >/dev/null
run_cred rotate -p r </dev/null
check_run 'rotate answered 429 Retry-After: 1: waited out, exit 0' 0 '' \
	"now holds token"
test_expect 'one 429, one rotation, and the new token is served' '
	[ "$(emuctl count rotate --status 429)" = 1 ] &&
	[ "$(emuctl count rotate --status 200)" = 1 ] &&
	run_cred get -p r --format raw </dev/null && [ "$rc" = 0 ] &&
	[ "$out" != "$(cat "$TRASH/r.tok")" ]'

fresh
emuctl fault status --code 503 --op rotate --count 1 >/dev/null
run_cred rotate -p r </dev/null
check_run 'rotate answered 503: exit 5' 5 ''
test_expect 'the rotate was sent once' '[ "$(emuctl count rotate)" = 1 ]'

fresh
emuctl fault drop-after-commit --op rotate --count 1 >/dev/null
run_cred rotate -p r </dev/null
test_expect 'a lost rotate answer: never sent again' '
	[ "$rc" = 4 ] && [ "$(emuctl count rotate)" = 1 ]'

# --- DELETE: a 503 is retried -------------------------------------------------
run_cred create -p d1 --from root --scope WORKSPACE --entity "$WS" </dev/null
d1=$(token_id d1)
fresh
emuctl fault status --code 503 --op delete --count 1 >/dev/null
run_cred erase -p d1 --revoke </dev/null
check_run 'erase --revoke answered 503 once: retried, exit 0' 0 ''
test_expect 'the DELETE went twice, the token is gone, the profile too' '
	[ "$(emuctl count delete --status 503)" = 1 ] &&
	[ "$(emuctl count delete --status 204)" = 1 ] &&
	emuctl token-state "$d1" | grep -q "\"deleted\": *true" &&
	{ run_cred get -p d1 </dev/null; [ "$rc" = 1 ]; }'

run_cred create -p d2 --from root --scope WORKSPACE --entity "$WS" </dev/null
d2=$(token_id d2)
fresh
emuctl fault status --code 503 --op delete --count 1 >/dev/null
run_cred rotate -p d2 </dev/null
check_run 'a replacement whose DELETE answered 503 once: exit 0, no warning' 0 '' \
	'now holds token'
test_expect 'the old token is deleted, no orphan left for later' '
	[ "$(emuctl count delete --status 204)" = 1 ] &&
	emuctl token-state "$d2" | grep -q "\"deleted\": *true" &&
	! printf "%s" "$err" | grep -q "not deleted"'

test_done
