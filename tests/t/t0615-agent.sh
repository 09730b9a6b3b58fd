#!/bin/sh
# A pasted Agent token, end to end: `store` recognises it as AGENT (its
# claims name its deployment and that deployment's workspace) and verifies
# it on its agent-tokens path, with no detour through /tokens and no
# spurious 404.  Without a parent it is served while valid, with a warning
# in its renewal window, and exit 4 once expired or short of --min-ttl;
# with one it is renewed by replacement (create, persist, delete), never
# rotated.  Under an ASTRO_API_URL ending in /iam/v1beta1, agent tokens
# are the platform API's: /platform/v1beta1/.../agent-tokens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
emu_start

ORG=org-agent
DEP=dep-agent-1
WS=ws-agent-1
emuctl map-deployment "$DEP" "$WS" >/dev/null

# store_tok PROFILE TOKENFILE [extra kv lines...]
store_tok() {
	p=$1 f=$2
	shift 2
	{ printf 'token=%s\n' "$(cat "$f")"; for l in "$@"; do
		printf '%s\n' "$l"; done; } >"$TRASH/req"
	run_cred store -p "$p" <"$TRASH/req"
}
# check_quiet NAME: the last run exited 0 and printed nothing at all.
check_quiet() {
	if [ "$rc" = 0 ] && [ -z "$out" ] && [ -z "$err" ]; then
		test_ok "$1"
	else
		test_fail "$1" "exit $rc" "stdout: $out" "stderr: $err"
	fi
}
kv_field() {
	printf '%s\n' "$out" | sed -n "s/^$1=//p"
}
# agent [EXPIRES_IN]: a pasted Agent token (as Astro's UI gives one)
agent() {
	emuctl bootstrap-agent --org "$ORG" --deployment "$DEP" \
		${1:+--expires-in "$1"} --name pasted-agent --print token
}
# ops: the operations the emulator saw since the last clear, one a line
ops() {
	emuctl log | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e["op"], e["status"], e["path"])'
}

emuctl bootstrap --org "$ORG" --scope ORGANIZATION --print token >"$TRASH/root.tok"
store_tok root "$TRASH/root.tok"
check_run 'store the organization token that will act as parent' 0 ''

# --- store ------------------------------------------------------------
agent 3600 >"$TRASH/a1.tok"
emuctl log --clear >/dev/null
store_tok a1 "$TRASH/a1.tok"
check_quiet 'store a pasted Agent token: exit 0, no message at all'
test_expect 'verified once, on its agent-tokens path; /tokens never asked' '
	ops >"$TRASH/ops" &&
	[ "$(grep -c . "$TRASH/ops")" = 1 ] &&
	grep -q "^agent_get 200 /v1/organizations/$ORG/deployments/$DEP/agent-tokens/" \
		"$TRASH/ops"'
run_cred get -p a1 --format kv </dev/null
test_expect 'recorded as AGENT, with its deployment and workspace' '
	[ "$rc" = 0 ] && [ "$(kv_field scope)" = AGENT ] &&
	[ "$(kv_field deployment)" = "$DEP" ] &&
	[ "$(kv_field workspace)" = "$WS" ]'
a1_id=$(kv_field token_id)

# --- no parent: served while valid, with a warning in its window ----------
emuctl log --clear >/dev/null
{ printf 'token=%s\n' "$(cat "$TRASH/a1.tok")"; printf 'rotate_before=2h\n'; } \
	>"$TRASH/req"
run_cred store -p a1 <"$TRASH/req"
check_run 'store it again with a window longer than its life' 0 ''
emuctl log --clear >/dev/null
run_cred get -p a1 --format raw </dev/null
check_run 'in its renewal window without a parent: served, with a warning' 0 \
	"$(cat "$TRASH/a1.tok")" \
	'warning: .*will not be renewed: an Agent token is renewed only by replacement through a parent'
test_expect 'the warning says how: store it again with a parent' '
	printf "%s" "$err" | grep -q "store it again with parent=PROFILE, a profile that may manage the Agent tokens of deployment $DEP"'
test_expect 'and nothing was tried at the API (no rotate, no 404)' '
	[ -z "$(emuctl log)" ]'
# exp - now is at most 3601 (exp is the mint time rounded up).
run_cred get -p a1 --min-ttl 3602 </dev/null
check_run 'short of --min-ttl without a parent: exit 4, nothing on stdout' 4 '' \
	'sooner than the 3602s asked for, and an Agent token is renewed only by replacement.*store it again with parent=PROFILE'
run_cred rotate -p a1 </dev/null
check_run 'rotate without a parent: exit 4, says a parent is needed' 4 '' \
	'Agent token is renewed only by replacement, which needs a parent'
test_expect 'still no rotate sent, ever' '[ "$(emuctl count rotate)" = 0 ]'

agent 2 >"$TRASH/a2.tok"
store_tok a2 "$TRASH/a2.tok"
check_run 'store a 2 s Agent token' 0 ''
sleep 3
emuctl log --clear >/dev/null
run_cred get -p a2 </dev/null
check_run 'expired without a parent: exit 4, nothing on stdout' 4 '' \
	"token .* expired at .* and an Agent token is renewed only by replacement.*store a new token with parent=PROFILE"
test_expect 'no call was made' '[ -z "$(emuctl log)" ]'
run_cred list --format kv </dev/null
test_expect 'list says expired' '
	printf "%s\n" "$out" | grep -A8 -x "profile=a2" | grep -qx "state=expired"'

# --- with a parent: replaced, never rotated ----------------------------------
agent 3600 >"$TRASH/a3.tok"
store_tok a3 "$TRASH/a3.tok" parent=root
check_quiet 'store a pasted Agent token with parent=root'
run_cred get -p a3 --format kv </dev/null
a3_id=$(kv_field token_id)
emuctl log --clear >/dev/null
run_cred rotate -p a3 </dev/null
check_run 'rotate with a parent: exit 0' 0 ''
run_cred get -p a3 --format kv </dev/null
a3_new=$(kv_field token_id)
test_expect 'a replacement: agent create then agent delete, a new id' '
	[ "$(emuctl count agent_create --status 200)" = 1 ] &&
	[ "$(emuctl count agent_delete --status 204)" = 1 ] &&
	[ "$(emuctl count rotate)" = 0 ] &&
	[ -n "$a3_new" ] && [ "$a3_new" != "$a3_id" ] &&
	[ "$(kv_field scope)" = AGENT ] &&
	emuctl token-state "$a3_id" | grep -q "\"deleted\": *true"'
test_expect 'the new one keeps the name and deployment' '
	emuctl token-state "$a3_new" | python3 -c "
import json, sys; s = json.load(sys.stdin)
assert s[\"agent\"] and s[\"name\"] == \"pasted-agent\", s
assert s[\"entityId\"] == \"$DEP\" and s[\"valid\"], s"'

# --- v1beta1: agent tokens under /platform/v1beta1 ----------------------------
export ASTRO_API_URL="$EMU_URL/iam/v1beta1"
TOOL="$ASTRO_CRED_BUILD/tests/api-tool"
emuctl log --clear >/dev/null
test_expect 'v1beta1, the API client alone: agent create and get' '
	"$TOOL" agent-create "$ORG" "$DEP" --name beta-agent <"$TRASH/root.tok" \
		>"$TRASH/api" &&
	id=$(sed -n "s/^id=//p" "$TRASH/api") && [ -n "$id" ] &&
	"$TOOL" agent-get "$ORG" "$DEP" "$id" <"$TRASH/root.tok" >/dev/null &&
	[ "$(ops | grep -c " /platform/v1beta1/organizations/$ORG/deployments/$DEP/agent-tokens")" = 2 ]'
agent 3600 >"$TRASH/b1.tok"
emuctl log --clear >/dev/null
store_tok b1 "$TRASH/b1.tok" parent=root
check_quiet 'v1beta1: store an Agent token with a parent'
run_cred rotate -p b1 </dev/null
check_run 'v1beta1: replace it' 0 ''
run_cred erase -p b1 --revoke </dev/null
check_run 'v1beta1: erase --revoke it' 0 ''
test_expect 'v1beta1: every agent-token call went to /platform/v1beta1' '
	ops >"$TRASH/ops" &&
	grep -q "^agent_get 200 /platform/v1beta1/organizations/$ORG/deployments/$DEP/agent-tokens/" "$TRASH/ops" &&
	grep -q "^agent_create 200 /platform/v1beta1/" "$TRASH/ops" &&
	[ "$(grep -c "^agent_delete 204 /platform/v1beta1/" "$TRASH/ops")" = 2 ] &&
	! grep -v " /platform/v1beta1/" "$TRASH/ops"'
run_cred list --remote -p root --agent --deployment "$DEP" --format kv </dev/null
test_expect 'v1beta1: list --remote --agent works' '
	[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -qx "token_id=$a3_new"'
run_cred get -p root --format raw </dev/null
test_expect 'v1beta1: the /tokens paths stay under /iam/v1beta1' '
	emuctl log --clear >/dev/null &&
	printf "token=%s\n" "$(emuctl bootstrap --org "$ORG" --scope WORKSPACE \
		--entity "$WS" --print token)" >"$TRASH/req" &&
	run_cred store -p w1 <"$TRASH/req" && [ "$rc" = 0 ] &&
	[ "$(ops | grep -c "^get 200 /iam/v1beta1/organizations/$ORG/tokens/")" = 1 ]'

test_done
