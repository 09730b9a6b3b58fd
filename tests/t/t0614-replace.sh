#!/bin/sh
# A replacement (renewal through a parent) keeps what the token was: name,
# description, scope, entity, role and period.  Checked at the API, for a
# token made by `create`, for a pasted token stored with a parent, and for
# an Agent token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
TOOL="$ASTRO_CRED_BUILD/tests/api-tool"
[ -x "$TOOL" ] || { echo "Bail out! $TOOL not built (make test-build)"; exit 1; }
emu_start

ORG=org-replace
WS=ws-replace-1
DEP=dep-replace-1
emuctl map-deployment "$DEP" "$WS" >/dev/null

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
# token_id PROFILE: the profile's token id
token_id() {
	run_cred get -p "$1" --format kv </dev/null
	kv_field token_id
}
# at_api [agent] ID: what the API says of token ID (api-tool kv lines,
# the organization token as bearer), into $TRASH/api
at_api() {
	if [ "$1" = agent ]; then
		"$TOOL" agent-get "$ORG" "$DEP" "$2"
	else
		"$TOOL" get "$ORG" "$1"
	fi <"$TRASH/root.tok" >"$TRASH/api" 2>"$TRASH/api.err"
}
# api_has LINE: the last at_api printed exactly LINE
api_has() {
	grep -qxF -- "$1" "$TRASH/api" ||
		{ echo "missing: $1"; cat "$TRASH/api"; false; }
}

emuctl bootstrap --org "$ORG" --scope ORGANIZATION --print token >"$TRASH/root.tok"
store_tok root "$TRASH/root.tok"
check_run 'store the parent' 0 ''

# --- made by create ----------------------------------------------------
run_cred create -p ws --from root --scope WORKSPACE --entity "$WS" \
	--role WORKSPACE_AUTHOR --expiry-days 2 --name "ws bot" \
	--description "desc here" </dev/null
check_run 'create with a name, description, role and period' 0 ''
old=$(token_id ws)
run_cred rotate -p ws </dev/null
check_run 'rotate: a replacement' 0 ''
new=$(token_id ws)
test_expect 'a new token replaced the old one' '
	[ -n "$new" ] && [ "$new" != "$old" ] &&
	emuctl token-state "$old" | grep -q "\"deleted\": *true"'
test_expect 'it keeps name, description, scope, entity, role and period' '
	at_api "$new" && api_has "name=ws bot" && api_has "description=desc here" &&
	api_has "scope=WORKSPACE" && api_has "expiry_days=2" &&
	api_has "role=WORKSPACE:$WS:WORKSPACE_AUTHOR"'
run_cred rotate -p ws </dev/null
test_expect 'and so does the replacement of the replacement' '
	[ "$rc" = 0 ] && at_api "$(token_id ws)" &&
	api_has "description=desc here" && api_has "name=ws bot"'

# A description of several lines survives the store.
run_cred create -p ws2 --from root --scope WORKSPACE --entity "$WS" \
	--description "$(printf 'line one\n\tline two')" </dev/null
check_run 'create with a two-line description' 0 ''
run_cred rotate -p ws2 </dev/null
# (api-tool prints control characters as \xNN)
test_expect 'the replacement has the same two lines' '
	[ "$rc" = 0 ] && at_api "$(token_id ws2)" &&
	api_has "description=line one\\x0a\\x09line two"'

# --- pasted, with a parent -------------------------------------------------
emuctl bootstrap --org "$ORG" --scope DEPLOYMENT --entity "$DEP" \
	--role DEPLOYMENT_CUSTOM_X --name "pasted dep" --description "from the UI" \
	--expires-in 86400 --print token >"$TRASH/dep.tok"
store_tok dep "$TRASH/dep.tok" parent=root
check_run 'store a pasted Deployment token with parent=root' 0 ''
old=$(token_id dep)
run_cred rotate -p dep </dev/null
new=$(token_id dep)
test_expect 'its replacement keeps name, description, scope, entity and role' '
	[ "$rc" = 0 ] && [ "$new" != "$old" ] && at_api "$new" &&
	api_has "name=pasted dep" && api_has "description=from the UI" &&
	api_has "scope=DEPLOYMENT" && api_has "role=DEPLOYMENT:$DEP:DEPLOYMENT_CUSTOM_X"'

# --- an Agent token --------------------------------------------------------
run_cred create -p ag --from root --scope AGENT --entity "$DEP" \
	--expiry-days 3 --name "agent bot" --description "runs the agent" </dev/null
check_run 'create an Agent token with a description' 0 ''
old=$(token_id ag)
run_cred rotate -p ag </dev/null
new=$(token_id ag)
test_expect 'its replacement keeps name, description and period' '
	[ "$rc" = 0 ] && [ "$new" != "$old" ] && at_api agent "$new" &&
	api_has "name=agent bot" && api_has "description=runs the agent" &&
	api_has "expiry_days=3"'

test_done
