#!/bin/sh
# The token lifecycle against the emulator: store, get in every format,
# renewal by min_ttl, by policy and by `rotate`, exactly one renewal under
# concurrency, lost answers, crashes at every step, replacement through a
# parent, agent tokens, create and erase --revoke.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
emu_start

ORG=org-life

# mint SCOPE [EXPIRES_IN] [ENTITY] -> prints a bootstrap token
mint() {
	emuctl bootstrap --org "$ORG" --scope "$1" \
		${2:+--expires-in "$2"} ${3:+--entity "$3"} --print token
}

# store_tok PROFILE TOKENFILE [extra kv lines...]
store_tok() {
	p=$1 f=$2
	shift 2
	# $(...) drops the token file's trailing newline: a blank line
	# would end the request before the extra attributes.
	{ printf 'token=%s\n' "$(cat "$f")"; for l in "$@"; do
		printf '%s\n' "$l"; done; } >"$TRASH/req"
	run_cred store -p "$p" <"$TRASH/req"
}

mint ORGANIZATION >"$TRASH/root.tok"
store_tok root "$TRASH/root.tok"
check_run 'store an organization token' 0 ''

run_cred get -p root </dev/null
test_expect 'get prints kv with the token and its facts' '
	printf "%s\n" "$out" | grep -qx "token=$(cat "$TRASH/root.tok")" &&
	printf "%s\n" "$out" | grep -qx "profile=root" &&
	printf "%s\n" "$out" | grep -qx "scope=ORGANIZATION" &&
	printf "%s\n" "$out" | grep -qx "organization=$ORG" &&
	! printf "%s\n" "$out" | grep -q "^expires_at="'
run_cred get -p root --format raw </dev/null
check_run 'get --format raw prints the token alone' 0 "$(cat "$TRASH/root.tok")"
run_cred get -p root --format json </dev/null
test_expect 'get --format json has camelCase facts' '
	printf "%s" "$out" | python3 -c "
import json,sys; o=json.load(sys.stdin)
assert o[\"profile\"]==\"root\" and o[\"scope\"]==\"ORGANIZATION\", o
assert o[\"organizationId\"]==\"$ORG\" and \"expiresAt\" not in o, o
assert o[\"token\"]==open(\"$TRASH/root.tok\").read().strip()"'
run_cred get -p root --format raw </dev/null
root_kv_raw=$out
run_cred_in 'profile=root\n\n' get --format raw
check_run 'profile from the request' 0 "$root_kv_raw"
test_expect 'no network for a fresh token' '[ "$(emuctl count rotate)" = 0 ]'

run_cred_in 'token=not-a-jwt\n' store -p bad
check_run 'malformed token refused' 2 '' 'not an Astro API token'
mint ORGANIZATION 1 >"$TRASH/short.tok"
sleep 2
store_tok expired "$TRASH/short.tok"
check_run 'expired token refused' 4 '' 'expired'
run_cred_in 'profile=x\n\n' get -p nosuch
check_run 'unknown profile is exit 1' 1 '' "no credential stored for profile 'nosuch'"
test_expect 'nothing was stored for refused tokens' '
	run_cred list --format kv; ! printf "%s" "$out" | grep -q "profile=bad\|profile=expired"'

# --- renewal in place (no parent) ------------------------------------
mint ORGANIZATION 400 >"$TRASH/a.tok"
store_tok a "$TRASH/a.tok"
check_run 'store a token that lives 400 s' 0 ''
emuctl log --clear >/dev/null
run_cred get -p a --format raw --min-ttl 60 </dev/null
check_run 'min_ttl well within what is left: no renewal' 0 "$(cat "$TRASH/a.tok")"
run_cred get -p a --format raw --min-ttl 2h </dev/null
check_run 'min_ttl beyond the whole lifetime: exit 4, no renewal' 4 '' \
	'longer than the token.s whole lifetime'
test_expect 'no rotate was sent' '[ "$(emuctl count rotate)" = 0 ]'
sleep 3
run_cred get -p a --format raw --min-ttl 399 </dev/null
test_expect 'min_ttl above what is left renews: one rotate, new token' '
	[ "$rc" = 0 ] && [ -n "$out" ] && [ "$out" != "$(cat "$TRASH/a.tok")" ] &&
	[ "$(emuctl count rotate --status 200)" = 1 ]'
new_a=$out
run_cred get -p a --format raw </dev/null
check_run 'the renewed token is served from the store' 0 "$new_a"
store_tok a-old "$TRASH/a.tok"
check_run 'the old token is dead at the API (401 -> exit 4)' 4 ''

mint ORGANIZATION 400 >"$TRASH/p.tok"
store_tok pol "$TRASH/p.tok" rotate_before=399
sleep 3
emuctl log --clear >/dev/null
run_cred get -p pol --format raw </dev/null
test_expect 'per-profile policy rotate_before renews on a plain get' '
	[ "$rc" = 0 ] && [ "$out" != "$(cat "$TRASH/p.tok")" ] &&
	[ "$(emuctl count rotate --status 200)" = 1 ]'
mint ORGANIZATION 400 >"$TRASH/d.tok"
store_tok dflt "$TRASH/d.tok"
run_cred get -p dflt --format raw </dev/null
check_run 'default policy: a fresh short-lived token is not renewed' 0 \
	"$(cat "$TRASH/d.tok")"
store_tok never "$TRASH/d.tok" rotate=never
check_run 'store with rotate=never' 0 ''
run_cred_in 'token=x\nrotate=sometimes\n' store -p bad2
check_run 'a bad rotate value is a usage error' 2 '' 'rotate'
run_cred_in 'token=x\nrotate_before=abc\n' store -p bad2
check_run 'a bad rotate_before is a usage error' 2 '' 'rotate_before'

emuctl log --clear >/dev/null
run_cred rotate -p a </dev/null
test_expect 'rotate renews now' '[ "$rc" = 0 ] &&
	[ "$(emuctl count rotate --status 200)" = 1 ]'

# --- rollback: an older sealed file put back (security.md F-12) ----------
# The format has no counter, so the old file opens; what matters is that
# its superseded token meets the API's 401 on the next renewal, exit 4
# with one attempt (no loop), and that storing a live token recovers.
mint ORGANIZATION 3600 >"$TRASH/rb.tok"
store_tok rb "$TRASH/rb.tok"
cp "$ASTRO_CRED_DIR/profiles/rb.acrd" "$TRASH/rb.acrd.old"
run_cred rotate -p rb </dev/null
run_cred get -p rb --format raw </dev/null
rb_new=$out
test_expect 'rollback set-up: rotated, the old token is dead' '
	[ "$rc" = 0 ] && [ -n "$rb_new" ] && [ "$rb_new" != "$(cat "$TRASH/rb.tok")" ]'
cp "$TRASH/rb.acrd.old" "$ASTRO_CRED_DIR/profiles/rb.acrd"
run_cred get -p rb --format raw </dev/null
check_run 'F-12: the restored older file opens (no counter in the format)' 0 \
	"$(cat "$TRASH/rb.tok")"
emuctl log --clear >/dev/null
run_cred rotate -p rb </dev/null
check_run 'F-12: renewing its superseded token: exit 4, the API refused it' 4 '' \
	'revoked or rotated elsewhere.*store a live token: astro-cred store -p rb'
test_expect 'F-12: one rotate attempt, answered 401, no loop' '
	[ "$(emuctl count rotate)" = 1 ] &&
	[ "$(emuctl count rotate --status 401)" = 1 ]'
# The emulator makes exp = ceil(mint time) + 3600 and iat = floor(mint
# time); astro-cred counts whole seconds.  Two seconds after minting,
# floor(now) > ceil(mint time), so less than an hour is surely left, and
# the hour is not longer than the whole lifetime (3600 or 3601 s): this
# get must renew.
sleep 2
run_cred get -p rb --format raw --min-ttl 1h </dev/null
check_run 'F-12: a get that must renew: exit 4, nothing on stdout' 4 ''
test_expect 'F-12: still no more than one attempt per invocation' '
	[ "$(emuctl count rotate)" = 2 ]'
printf '%s\n' "$rb_new" >"$TRASH/rb-new.tok"
store_tok rb "$TRASH/rb-new.tok"
run_cred get -p rb --format raw </dev/null
check_run 'F-12: storing the live token recovers the profile' 0 "$rb_new"

# --- single flight -----------------------------------------------------
for round in 1 2 3; do
	mint ORGANIZATION 400 >"$TRASH/c.tok"
	store_tok crowd "$TRASH/c.tok"
	sleep 3
	emuctl log --clear >/dev/null
	i=0 pids=
	while [ $i -lt 64 ]; do
		"$ASTRO_CRED" get -p crowd --format raw --min-ttl 399 </dev/null \
			>"$TRASH/crowd.$i" 2>"$TRASH/crowd.$i.err" ||
			echo "exit $?" >>"$TRASH/crowd.$i.err" &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Not a bare `wait`: that would also wait for the emulator.
	wait $pids
	test_expect "64 concurrent gets, round $round: one renewal, one token" '
		[ "$(emuctl count rotate)" = 1 ] &&
		[ "$(cat "$TRASH"/crowd.*.err | wc -c)" = 0 ] &&
		[ "$(i=0; while [ $i -lt 64 ]; do cat "$TRASH/crowd.$i"; echo;
			i=$((i + 1)); done | sort -u | wc -l)" = 1 ] &&
		[ -s "$TRASH/crowd.0" ] &&
		[ "$(cat "$TRASH/crowd.0")" != "$(cat "$TRASH/c.tok")" ]'
done

# --- lost answer without a parent ------------------------------------
mint ORGANIZATION 3600 >"$TRASH/l.tok"
store_tok lost "$TRASH/l.tok"
emuctl log --clear >/dev/null
emuctl fault drop-after-commit --op rotate --count 1 >/dev/null
run_cred rotate -p lost </dev/null
check_run 'lost rotation answer: exit 4 and how to recover' 4 '' \
	'interrupted.*Recover by storing a new token'
run_cred get -p lost </dev/null
check_run 'every later get: exit 4, nothing on stdout' 4 '' 'interrupted'
emuctl fault clear >/dev/null
test_expect 'the POST was sent once' '[ "$(emuctl count rotate)" = 1 ]'
mint ORGANIZATION 3600 >"$TRASH/l2.tok"
store_tok lost "$TRASH/l2.tok"
run_cred get -p lost --format raw </dev/null
check_run 'storing a new token recovers the profile' 0 "$(cat "$TRASH/l2.tok")"

mint ORGANIZATION 3600 >"$TRASH/n.tok"
store_tok nochange "$TRASH/n.tok"
emuctl fault status --code 503 --op rotate --count 1 >/dev/null
run_cred rotate -p nochange </dev/null
check_run 'a 503 on rotate: exit 5, no retry of the POST' 5 ''
emuctl fault clear >/dev/null
run_cred get -p nochange --format raw </dev/null
check_run 'and the old token is still served' 0 "$(cat "$TRASH/n.tok")"

# --- kill -9 at each step, no parent ------------------------------------
for point in before_call after_answer after_persist; do
	mint ORGANIZATION 3600 >"$TRASH/k.tok"
	store_tok kill "$TRASH/k.tok"
	ASTRO_CRED_TEST_CRASH=$point "$ASTRO_CRED" rotate -p kill \
		</dev/null >/dev/null 2>&1
	run_cred get -p kill --format raw </dev/null
	case $point in
	before_call)
		check_run "killed $point: old token still served" 0 \
			"$(cat "$TRASH/k.tok")" ;;
	after_answer)
		check_run "killed $point: interrupted, never a dead token" 4 '' \
			'interrupted' ;;
	after_persist)
		test_expect "killed $point: new token served" '
			[ "$rc" = 0 ] && [ -n "$out" ] &&
			[ "$out" != "$(cat "$TRASH/k.tok")" ]' ;;
	esac
done

# --- replacement through a parent ---------------------------------------
run_cred create -p ws --from root --scope WORKSPACE --entity ws-1 \
	--role WORKSPACE_MEMBER --expiry-days 1 </dev/null
check_run 'create a workspace token from a parent' 0 ''
run_cred get -p ws --format kv </dev/null
test_expect 'it is stored with its scope and entity' '
	printf "%s\n" "$out" | grep -qx "scope=WORKSPACE" &&
	printf "%s\n" "$out" | grep -qx "workspace=ws-1" &&
	printf "%s\n" "$out" | grep -q "^expires_at="'
ws_id=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
emuctl log --clear >/dev/null
run_cred rotate -p ws </dev/null
run_cred get -p ws --format kv </dev/null
ws_id2=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
test_expect 'with a parent, rotate replaces: create then delete, new id' '
	[ "$(emuctl count create --status 200)" = 1 ] &&
	[ "$(emuctl count delete --status 204)" = 1 ] &&
	[ "$(emuctl count rotate)" = 0 ] && [ "$ws_id" != "$ws_id2" ] &&
	emuctl token-state "$ws_id" | grep -q "\"deleted\": *true"'

emuctl fault drop-after-commit --op create --count 1 >/dev/null
run_cred rotate -p ws </dev/null
check_run 'lost answer with a parent: exit 5' 5 ''
emuctl fault clear >/dev/null
emuctl log --clear >/dev/null
run_cred get -p ws --format kv </dev/null
ws_id3=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
test_expect 'the next get recovers with no manual step, orphan deleted' '
	[ "$rc" = 0 ] && emuctl token-state "$ws_id3" | grep -q "\"valid\": *true" &&
	[ "$(emuctl count delete --status 204)" = 1 ] &&
	[ "$(emuctl count create)" = 0 ]'

for point in before_call after_answer after_persist; do
	ASTRO_CRED_TEST_CRASH=$point "$ASTRO_CRED" rotate -p ws \
		</dev/null >/dev/null 2>&1
	run_cred get -p ws --format kv </dev/null
	tid=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
	test_expect "with a parent, killed $point: next get has a valid token" '
		[ "$rc" = 0 ] && emuctl token-state "$tid" |
			grep -q "\"valid\": *true"'
done

# --- agent tokens ------------------------------------------------------
run_cred create -p agent --from root --scope AGENT --entity dep-1 \
	--expiry-days 1 </dev/null
check_run 'create an agent token' 0 ''
run_cred get -p agent --format kv </dev/null
ag_id=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
emuctl log --clear >/dev/null
run_cred rotate -p agent </dev/null
test_expect 'agent renewal is a replacement' '[ "$rc" = 0 ] &&
	[ "$(emuctl count agent_create --status 200)" = 1 ] &&
	[ "$(emuctl count agent_delete --status 204)" = 1 ] &&
	[ "$(emuctl count rotate)" = 0 ]'

run_cred create -p dep --from root --scope DEPLOYMENT --entity dep-1 \
	</dev/null
check_run 'create a deployment token' 0 ''
run_cred create -p org2 --from root --scope ORGANIZATION </dev/null
check_run 'create an organization token' 0 ''
run_cred create -p org2 --from root --scope ORGANIZATION </dev/null
check_run 'create refuses an existing profile' 2 '' 'already exists'
run_cred create -p x --from root --scope BOGUS </dev/null
check_run 'create refuses an unknown scope' 2 '' 'scope'

run_cred get -p dep --format kv </dev/null
dep_id=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
run_cred erase -p dep --revoke </dev/null
check_run 'erase --revoke' 0 ''
test_expect 'the token is deleted at the API and forgotten here' '
	emuctl token-state "$dep_id" | grep -q "\"deleted\": *true" &&
	{ run_cred get -p dep </dev/null; [ "$rc" = 1 ]; }'
run_cred erase -p dep </dev/null
check_run 'erase of a missing profile is exit 1' 1 ''

# --- list --remote: the audit view -------------------------------------
run_cred get -p ws --format kv </dev/null
ws_now=$(printf '%s\n' "$out" | sed -n 's/^token_id=//p')
run_cred list --remote -p root --format kv </dev/null
test_expect 'list --remote shows the organization tokens, marking ours' '
	[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -qx "token_id=$ws_now" &&
	printf "%s\n" "$out" | grep -A5 -x "token_id=$ws_now" |
		grep -qx "profile=ws" &&
	! printf "%s" "$out" | grep -q "eyJ"'
run_cred list --remote -p root --workspace ws-1 --format json </dev/null
test_expect 'list --remote --workspace filters (json)' '
	[ "$rc" = 0 ] && printf "%s" "$out" | python3 -c "
import json,sys; a=json.load(sys.stdin)
assert a and all(t[\"scope\"]==\"WORKSPACE\" for t in a), a"'
run_cred list --remote -p root --org-only --format kv </dev/null
test_expect 'list --remote --org-only lists only organization tokens' '
	[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -q "^scope=ORGANIZATION" &&
	! printf "%s\n" "$out" | grep -q "^scope=WORKSPACE"'
run_cred list --remote -p root --agent --deployment dep-1 --format kv </dev/null
test_expect 'list --remote --agent lists the deployment agent tokens' '
	[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -qx "profile=agent"'
run_cred list --remote -p root --agent </dev/null
check_run 'list --remote --agent needs --deployment' 2 '' 'deployment'
run_cred list --workspace x </dev/null
check_run 'filters without --remote are a usage error' 2 ''
run_cred list --format kv </dev/null
test_expect 'list (local) never prints a token' '
	[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -qx "profile=root" &&
	! printf "%s" "$out" | grep -q "eyJ"'

run_cred check -p root </dev/null
check_run 'check: a never-expiring token is valid' 0 ''
run_cred check -p ws --min-ttl 2d </dev/null
check_run 'check --min-ttl beyond expiry is exit 4' 4 ''
run_cred check -p nosuch </dev/null
check_run 'check of a missing profile is exit 1' 1 ''

test_done
