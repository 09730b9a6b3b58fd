#!/bin/sh
# The Astro API client (net.so) against the emulator over real HTTPS, through
# tests/tools/api-tool: every token operation, pagination, v1beta1, status
# mapping, retries, and the hostile-server cases of security.md 2.5 (H-01..
# H-12): redirects, TLS trust, timeouts, slow and huge bodies, captive
# portals, lost answers to a rotate.  The bearer always travels on stdin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
umask 077
TOOL="$ASTRO_CRED_BUILD/tests/api-tool"
[ -x "$TOOL" ] || { echo "Bail out! $TOOL not built (make test-build)"; exit 1; }
emu_start
emu_dir=${EMU_STATE_DIR:-$TRASH/emu}

ORG=clorgapitest0000000000001
ORG2=clorgapipages000000000001
WS=clwsapitest00000000000001
DEP=cldepapitest0000000000001

# api TOKENFILE ARGS...: api-tool with the token on stdin (and $API_ENV, one
# VAR=VALUE, in its environment if set); sets out, err, rc, ms (wall-clock
# milliseconds).  Every stderr is also kept in $TRASH/all.err.
API_ENV=
api() {
	api_tok=$1
	shift
	rc=0
	t0=$(date +%s%N)
	if [ -n "$API_ENV" ]; then
		env "$API_ENV" "$TOOL" "$@" <"$api_tok" >"$TRASH/out" \
			2>"$TRASH/err" || rc=$?
	else
		"$TOOL" "$@" <"$api_tok" >"$TRASH/out" 2>"$TRASH/err" || rc=$?
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	out=$(cat "$TRASH/out")
	err=$(cat "$TRASH/err")
	cat "$TRASH/err" >>"$TRASH/all.err"
}
# field KEY: the first KEY= value of the last output.
field() {
	printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n 1
}
# jget FILE KEY: a top-level string of a JSON file.
jget() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
# boot NAME ARGS...: bootstrap a token; $TRASH/NAME.tok, NAME_ID=id.
boot() {
	boot_name=$1
	shift
	emuctl "$@" --print json >"$TRASH/$boot_name.json" || return 1
	jget "$TRASH/$boot_name.json" token >"$TRASH/$boot_name.tok"
	eval "${boot_name}_ID=\$(jget \"\$TRASH/$boot_name.json\" id)"
}
# leaks FILE: does the last stderr hold the token in FILE?
leaks() {
	grep -qF -- "$(cat "$1")" "$TRASH/err"
}
# expect NAME CONDITION: a test point on the last api run.
expect() {
	test_expect "$1" "$2"
}

boot org bootstrap --scope ORGANIZATION --org $ORG
emuctl map-deployment $DEP $WS

# ---------------------------------------------------------------- operations
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'get: the organization token describes itself' '
	[ "$rc" = 0 ] && [ "$(field id)" = "$org_ID" ] &&
	[ "$(field scope)" = ORGANIZATION ] && [ "$(field kind)" = STANDARD ] &&
	[ -n "$(field start_at)" ] && [ -z "$(field token)" ] && [ -z "$err" ]'
test_expect 'get: one request, its Bearer accepted' '
	[ "$(emuctl count get)" = 1 ] &&
	emuctl log | grep "\"op\": *\"get\"" | grep -q "\"auth\": *\"ok\""'

api "$TRASH/org.tok" create $ORG --scope WORKSPACE --entity $WS \
	--role WORKSPACE_MEMBER --name ws-one --description 'two
lines' --expiry-days 30
printf '%s\n' "$(field token)" >"$TRASH/ws.tok"
ws_ID=$(field id)
expect 'create: a workspace token with its secret' '
	[ "$rc" = 0 ] && [ -n "$ws_ID" ] && [ "$(field scope)" = WORKSPACE ] &&
	[ -n "$(field token)" ] && [ -n "$(field end_at)" ] &&
	[ "$(field expiry_days)" = 30 ] &&
	[ "$(field description)" = "two\\x0alines" ] &&
	printf "%s\n" "$out" | grep -q "^role=WORKSPACE:$WS:WORKSPACE_MEMBER$"'
api "$TRASH/ws.tok" claims
expect 'create: the new secret is a JWT naming the token and workspace' '
	[ "$rc" = 0 ] && [ "$(field token_id)" = "$ws_ID" ] &&
	[ "$(field org_id)" = $ORG ] && [ "$(field workspace_id)" = $WS ] &&
	[ "$(field has_exp)" = 1 ]'
api "$TRASH/ws.tok" get $ORG "$ws_ID"
expect 'create: the new token authenticates' '
	[ "$rc" = 0 ] && [ "$(field id)" = "$ws_ID" ]'

cp "$TRASH/ws.tok" "$TRASH/ws-old.tok"
api "$TRASH/org.tok" rotate $ORG "$ws_ID"
printf '%s\n' "$(field token)" >"$TRASH/ws.tok"
expect 'rotate: same id, a new secret' '
	[ "$rc" = 0 ] && [ "$(field id)" = "$ws_ID" ] &&
	[ -n "$(field token)" ] && ! cmp -s "$TRASH/ws.tok" "$TRASH/ws-old.tok"'
api "$TRASH/ws-old.tok" get $ORG "$ws_ID"
expect 'rotate: the old secret is refused (401 -> exit 4, token not echoed)' '
	[ "$rc" = 4 ] && [ "$(field http_status)" = 401 ] &&
	printf "%s" "$err" | grep -q "HTTP 401" && ! leaks "$TRASH/ws-old.tok"'
api "$TRASH/ws.tok" get $ORG "$ws_ID"
expect 'rotate: the new secret works' '[ "$rc" = 0 ]'

api "$TRASH/org.tok" get clorgsomeoneelse000000001 "$ws_ID"
expect 'another organization: 403 -> exit 4' '
	[ "$rc" = 4 ] && [ "$(field http_status)" = 403 ] &&
	printf "%s" "$err" | grep -q "requestId"'
printf 'e30.e30.c2ln\n' >"$TRASH/junk.tok"
api "$TRASH/junk.tok" get $ORG "$org_ID"
expect 'a token the API does not know: exit 4' '[ "$rc" = 4 ]'
api "$TRASH/org.tok" get $ORG clnosuchtoken000000000001
expect 'unknown token id: 404 -> exit 6 with the API message' '
	[ "$rc" = 6 ] && [ "$(field http_status)" = 404 ] &&
	[ -n "$(field message)" ] && [ -n "$(field request_id)" ]'
api "$TRASH/org.tok" create $ORG --scope WORKSPACE --entity $WS \
	--role NO_SUCH_ROLE --name bad
expect 'create refused by the API (400): exit 6' '
	[ "$rc" = 6 ] && [ "$(field http_status)" = 400 ] &&
	[ "$(field maybe_committed)" = 0 ]'
api "$TRASH/org.tok" create $ORG --scope WORKSPACE --role WORKSPACE_MEMBER \
	--name no-entity
expect 'create without the entity: refused locally, nothing sent (exit 2)' '
	[ "$rc" = 2 ] && [ "$(emuctl count create)" = 2 ]'
emuctl log --clear
api "$TRASH/org.tok" get $ORG '../../x'
expect 'an id with path characters: exit 2, nothing sent' '
	[ "$rc" = 2 ] && [ "$(emuctl count)" = 0 ]'
api "$TRASH/org.tok" get "$ORG?x=1" "$org_ID"
expect 'an organization with query characters: exit 2, nothing sent' '
	[ "$rc" = 2 ] && [ "$(emuctl count)" = 0 ]'

api "$TRASH/org.tok" delete $ORG "$ws_ID"
expect 'delete: 204' '[ "$rc" = 0 ] && [ "$(field http_status)" = 204 ]'
api "$TRASH/org.tok" get $ORG "$ws_ID"
expect 'delete: the token is gone (404 -> exit 6)' '[ "$rc" = 6 ]'
api "$TRASH/ws.tok" get $ORG "$ws_ID"
expect 'delete: its secret is refused (exit 4)' '[ "$rc" = 4 ]'

# ---------------------------------------------------------------- pagination
boot org2 bootstrap --scope ORGANIZATION --org $ORG2
for i in 1 2 3 4; do
	api "$TRASH/org2.tok" create $ORG2 --scope WORKSPACE --entity $WS \
		--role WORKSPACE_MEMBER --name "page-$i"
	[ "$rc" = 0 ] || echo "# create page-$i failed: $err"
done
emuctl log --clear
api "$TRASH/org2.tok" list $ORG2 --page-size 2
expect 'list: every page (5 tokens in pages of 2 = 3 requests)' '
	[ "$rc" = 0 ] && [ "$(field count)" = 5 ] &&
	[ "$(printf "%s\n" "$out" | grep -c "^id=")" = 5 ] &&
	[ "$(printf "%s\n" "$out" | grep "^id=" | sort -u | wc -l)" = 5 ] &&
	[ "$(emuctl count list)" = 3 ]'
test_expect 'list: offsets 0, 2, 4 with limit 2' '
	emuctl log | python3 -c "
import json, sys
qs = [json.loads(l)[\"query\"] for l in sys.stdin if l.strip()]
print(qs)
assert len(qs) == 3
for q, off in zip(qs, (\"0\", \"2\", \"4\")):
    assert \"offset=\" + off in q and \"limit=2\" in q, q
"'
api "$TRASH/org2.tok" list $ORG2
expect 'list: default page size, one request' '
	[ "$rc" = 0 ] && [ "$(field count)" = 5 ] && [ "$(emuctl count list)" = 4 ]'
api "$TRASH/org2.tok" list $ORG2 --org-only
expect 'list: organization tokens only' '
	[ "$rc" = 0 ] && [ "$(field count)" = 1 ] &&
	[ "$(field id)" = "$org2_ID scope=ORGANIZATION" ]'
api "$TRASH/org2.tok" list $ORG2 --workspace $WS --page-size 3
expect 'list: a workspace filter' '
	[ "$rc" = 0 ] && [ "$(field count)" = 4 ] &&
	! printf "%s\n" "$out" | grep -q ORGANIZATION'
api "$TRASH/org2.tok" list $ORG2 --kind BOGUS
expect 'list: a bad kind is refused locally (exit 2)' '[ "$rc" = 2 ]'

# ---------------------------------------------------------------- v1beta1
save_url=$ASTRO_API_URL
export ASTRO_API_URL="$EMU_URL/iam/v1beta1/"
api "$TRASH/org2.tok" get $ORG2 "$org2_ID"
expect 'v1beta1: get maps "type" to the scope' '
	[ "$rc" = 0 ] && [ "$(field scope)" = ORGANIZATION ]'
api "$TRASH/org2.tok" create $ORG2 --scope WORKSPACE --entity $WS \
	--role WORKSPACE_MEMBER --name beta-one
beta_ID=$(field id)
expect 'v1beta1: create sends "type"' '
	[ "$rc" = 0 ] && [ "$(field scope)" = WORKSPACE ] && [ -n "$(field token)" ]'
api "$TRASH/org2.tok" list $ORG2 --page-size 4
expect 'v1beta1: list' '[ "$rc" = 0 ] && [ "$(field count)" = 6 ]'
api "$TRASH/org2.tok" rotate $ORG2 "$beta_ID"
expect 'v1beta1: rotate' '[ "$rc" = 0 ] && [ "$(field id)" = "$beta_ID" ]'
api "$TRASH/org2.tok" delete $ORG2 "$beta_ID"
expect 'v1beta1: delete' '[ "$rc" = 0 ] && [ "$(field http_status)" = 204 ]'
test_expect 'v1beta1: every request went to /iam/v1beta1' '
	[ "$(emuctl log | grep -c "/iam/v1beta1/organizations")" = 6 ]'
export ASTRO_API_URL="$save_url"

# ---------------------------------------------------------------- agent tokens
api "$TRASH/org.tok" agent-create $ORG $DEP --name agent-one --expiry-days 7
printf '%s\n' "$(field token)" >"$TRASH/agent.tok"
agent_ID=$(field id)
expect 'agent-create: a secret for the deployment' '
	[ "$rc" = 0 ] && [ -n "$agent_ID" ] && [ -n "$(field token)" ] &&
	[ "$(field agent_deployment)" = $DEP ]'
api "$TRASH/agent.tok" agent-get $ORG $DEP "$agent_ID"
expect 'agent-get: the agent token reads itself' '
	[ "$rc" = 0 ] && [ "$(field id)" = "$agent_ID" ]'
api "$TRASH/org.tok" agent-list $ORG $DEP --page-size 1
expect 'agent-list' '
	[ "$rc" = 0 ] && [ "$(field count)" = 1 ] &&
	[ "$(field id)" = "$agent_ID scope=DEPLOYMENT" ]'
api "$TRASH/agent.tok" get $ORG "$org_ID"
expect 'an agent token cannot read other tokens (exit 4)' '[ "$rc" = 4 ]'
api "$TRASH/org.tok" agent-delete $ORG $DEP "$agent_ID"
expect 'agent-delete: 204' '[ "$rc" = 0 ] && [ "$(field http_status)" = 204 ]'
api "$TRASH/agent.tok" agent-get $ORG $DEP "$agent_ID"
expect 'agent-delete: its secret is refused' '[ "$rc" = 4 ]'

# ---------------------------------------------------------------- retries
emuctl fault clear
emuctl log --clear
emuctl fault status --code 429 --retry-after 1 --op get --count 1
api "$TRASH/org.tok" get $ORG "$org_ID"
expect '429 with Retry-After: 1 is waited out and succeeds (H-07)' '
	[ "$rc" = 0 ] && [ "$(emuctl count get)" = 2 ] && [ "$ms" -ge 900 ]'
emuctl fault status --code 503 --op get --count 2
api "$TRASH/org.tok" get $ORG "$org_ID"
expect '503 twice without Retry-After: backoff, third try succeeds' '
	[ "$rc" = 0 ] && [ "$(emuctl count get)" = 5 ]'
for ra in -5 garbage '1.5' ''; do
	emuctl log --clear
	emuctl fault status --code 429 --retry-after "$ra" --op get --count 1
	api "$TRASH/org.tok" get $ORG "$org_ID"
	expect "Retry-After '$ra' is ignored, backoff retries" '
		[ "$rc" = 0 ] && [ "$(emuctl count get)" = 2 ] && [ "$ms" -lt 5000 ]'
done
emuctl log --clear
emuctl fault status --code 429 --retry-after \
	"$(LC_ALL=C date -u -d '+2 seconds' '+%a, %d %b %Y %H:%M:%S GMT')" \
	--op get --count 1
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'Retry-After as an HTTP-date is honoured' '
	[ "$rc" = 0 ] && [ "$(emuctl count get)" = 2 ] && [ "$ms" -ge 900 ]'
emuctl log --clear
emuctl fault status --code 429 --retry-after 86400 --op get --count 1
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'Retry-After: 86400 -> give up at once with a clear message (exit 5)' '
	[ "$rc" = 5 ] && [ "$(emuctl count get)" = 1 ] && [ "$ms" -lt 5000 ] &&
	printf "%s" "$err" | grep -q "HTTP 429.*retry after 86400 s, beyond"'
emuctl fault clear
emuctl log --clear
emuctl fault status --code 500 --op get --count 0
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'GET with 500s: 3 tries, then exit 5' '
	[ "$rc" = 5 ] && [ "$(emuctl count get)" = 3 ] &&
	[ "$(field http_status)" = 500 ] &&
	printf "%s" "$err" | grep -q "HTTP 500: injected failure (requestId "'
emuctl fault clear
emuctl log --clear
emuctl fault status --code 500 --op list --count 1
api "$TRASH/org2.tok" list $ORG2 --page-size 2
expect 'list: a 500 on one page is retried, the list completes' '
	[ "$rc" = 0 ] && [ "$(field count)" = 5 ] && [ "$(emuctl count list)" = 4 ]'
emuctl fault status --code 404 --op get --count 0
emuctl log --clear
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'a 404 is final: one try, exit 6' '
	[ "$rc" = 6 ] && [ "$(emuctl count get)" = 1 ]'
emuctl fault clear

# ---------------------------------------------------------------- POSTs are never resent
api "$TRASH/org.tok" create $ORG --scope WORKSPACE --entity $WS \
	--role WORKSPACE_MEMBER --name victim
printf '%s\n' "$(field token)" >"$TRASH/victim.tok"
victim_ID=$(field id)
emuctl log --clear
emuctl fault status --code 500 --op rotate --count 0
api "$TRASH/org.tok" rotate $ORG "$victim_ID"
expect 'rotate with a 500: sent once, exit 5, maybe_committed' '
	[ "$rc" = 5 ] && [ "$(emuctl count rotate)" = 1 ] &&
	[ "$(field maybe_committed)" = 1 ]'
emuctl fault clear
emuctl log --clear
emuctl fault status --code 429 --retry-after 1 --op rotate --count 1
api "$TRASH/org.tok" rotate $ORG "$victim_ID"
expect 'rotate with a 429 (the server did not act): waited out, sent again' '
	[ "$rc" = 0 ] && [ "$(emuctl count rotate --status 429)" = 1 ] &&
	[ "$(emuctl count rotate --status 200)" = 1 ]'
emuctl fault clear
emuctl log --clear
emuctl fault status --code 429 --retry-after 1 --op rotate --count 0
api "$TRASH/org.tok" rotate $ORG "$victim_ID"
expect 'rotate with a 429 every time: exit 5 after the tries, not committed' '
	[ "$rc" = 5 ] && [ "$(emuctl count rotate --status 429)" = 3 ] &&
	[ "$(field maybe_committed)" = 0 ]'
emuctl fault clear
for mode in rst fin; do
	emuctl log --clear
	emuctl fault drop-after-commit --op rotate --mode $mode
	api "$TRASH/org.tok" rotate $ORG "$victim_ID"
	expect "rotate, answer lost ($mode): exit 5, maybe_committed, sent once (H-08)" '
		[ "$rc" = 5 ] && [ "$(field maybe_committed)" = 1 ] &&
		[ "$(emuctl count rotate)" = 1 ] &&
		printf "%s" "$err" | grep -q "may have taken effect"'
done
api "$TRASH/victim.tok" get $ORG "$victim_ID"
expect 'and the server did rotate: the old secret is dead' '[ "$rc" = 4 ]'
test_expect 'the emulator counted exactly the rotations sent' '
	emuctl token-state "$victim_ID" | grep -q "\"rotations\": *3"'
emuctl log --clear
emuctl fault drop-after-commit --op create
api "$TRASH/org.tok" create $ORG --scope WORKSPACE --entity $WS \
	--role WORKSPACE_MEMBER --name lost
expect 'create, answer lost: exit 5, maybe_committed, sent once' '
	[ "$rc" = 5 ] && [ "$(field maybe_committed)" = 1 ] &&
	[ "$(emuctl count create)" = 1 ]'
emuctl log --clear
emuctl fault drop-after-commit --op get --count 1
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'a GET whose answer is lost is simply retried' '
	[ "$rc" = 0 ] && [ "$(emuctl count get)" = 2 ]'
emuctl fault clear

# ---------------------------------------------------------------- redirects (H-01)
emuctl trap-log --clear
n=0
# Each code to another port (the trap); 302 also to http://, file:// and the
# same server.
for redir in "301 $EMU_TRAP_URL/v1/organizations/$ORG/tokens/$org_ID" \
	"302 $EMU_TRAP_URL/v1/organizations/$ORG/tokens/$org_ID" \
	"303 $EMU_TRAP_URL/v1/x" "307 $EMU_TRAP_URL/v1/x" "308 $EMU_TRAP_URL/v1/x" \
	"302 http://127.0.0.1:$EMU_TRAP_PORT/v1/x" "302 file:///etc/passwd" \
	"302 $EMU_URL/v1/organizations/$ORG/tokens/$org_ID"; do
	emuctl fault redirect --code "${redir%% *}" --location "${redir#* }" \
		--op get
	api "$TRASH/org.tok" get $ORG "$org_ID"
	if [ "$rc" = 5 ] && printf "%s" "$err" | grep -q "redirect" &&
		! leaks "$TRASH/org.tok"; then
		n=$((n + 1))
	else
		echo "# $redir: rc=$rc err=$err"
	fi
done
test_expect 'every 3xx (5 codes; 4 kinds of target) is an error, exit 5' '
	[ "$n" = 8 ]'
test_expect 'the redirect target saw 0 requests and 0 Authorization headers' '
	[ -z "$(emuctl trap-log)" ]'
emuctl fault clear

# ---------------------------------------------------------------- TLS (H-02, H-03)
save_ca=$ASTRO_CRED_CA_FILE
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=other -days 2 -keyout "$TRASH/other.key" \
	-out "$TRASH/other.pem" 2>/dev/null
API_ENV="ASTRO_CRED_CA_FILE=$TRASH/other.pem"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'a CA that did not sign the server: TLS failure, exit 5' '
	[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "TLS"'
API_ENV="ASTRO_CRED_CA_FILE="
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'the system trust alone does not trust the emulator: exit 5' '[ "$rc" = 5 ]'
API_ENV="ASTRO_CRED_CA_FILE=$TRASH/missing.pem"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'a missing CA file: exit 2' '[ "$rc" = 2 ]'
API_ENV="ASTRO_API_URL=https://localhost:$EMU_PORT/v1"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'the certificate names localhost too: works' '[ "$rc" = 0 ]'
for url in "http://127.0.0.1:$EMU_PORT/v1" "ftp://127.0.0.1/v1" \
	"https://user:pw@127.0.0.1:$EMU_PORT/v1" "https://127.0.0.1:$EMU_PORT/v1?x=1" \
	"127.0.0.1:$EMU_PORT/v1" "https:///v1"; do
	emuctl log --clear
	API_ENV="ASTRO_API_URL=$url"
	api "$TRASH/org.tok" get $ORG "$org_ID"
	expect "base URL '$url' refused (exit 2), nothing sent (H-03)" '
		[ "$rc" = 2 ] && [ "$(emuctl count)" = 0 ] &&
		printf "%s" "$err" | grep -q "ASTRO_API_URL"'
done
API_ENV=

# A server of our own with the emulator's CA: a certificate for another name
# (H-02), and misbehaviour the emulator does not offer: a trickle of chunked
# body (slowloris, H-05) and a flood of headers.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=wrong.invalid -keyout "$TRASH/wrong.key" \
	-out "$TRASH/wrong.csr" 2>/dev/null
printf 'subjectAltName=DNS:wrong.invalid\n' >"$TRASH/wrong.ext"
openssl x509 -req -in "$TRASH/wrong.csr" -CA "$emu_dir/ca.pem" \
	-CAkey "$emu_dir/ca.key" -set_serial 7 -days 2 -extfile "$TRASH/wrong.ext" \
	-out "$TRASH/wrong.pem" 2>/dev/null
cat >"$TRASH/rogue.py" <<'EOF'
import socket, ssl, sys, threading, time
mode, cert, key, portfile = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.create_server(("127.0.0.1", 0))
open(portfile + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
def serve(c):
    try:
        s = ctx.wrap_socket(c, server_side=True)
        s.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if mode == "slowloris":
            s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            while True:
                s.sendall(b"1\r\n \r\n")
                time.sleep(1)
        elif mode == "headers":
            s.sendall(head + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 100)
                                      for i in range(400)) + b"\r\n{}")
        else:
            s.sendall(head + b"Content-Length: 2\r\n\r\n{}")
        s.close()
    except Exception:
        pass
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# rogue MODE CERT KEY: start one; sets ROGUE_URL.
rogue() {
	rm -f "$TRASH/rogue.port"
	python3 "$TRASH/rogue.py" "$1" "$2" "$3" "$TRASH/rogue.port" &
	rogue_pid=$!
	at_exit "kill $rogue_pid 2>/dev/null"
	i=0
	while [ ! -s "$TRASH/rogue.port" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	ROGUE_URL="https://127.0.0.1:$(cat "$TRASH/rogue.port")/v1"
}
# unrogue: stop it and go back to the emulator.
unrogue() {
	kill $rogue_pid
	API_ENV=
}
rogue plain "$TRASH/wrong.pem" "$TRASH/wrong.key"
API_ENV="ASTRO_API_URL=$ROGUE_URL"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'a trusted CA but a certificate for another name: exit 5' '
	[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "TLS"'
unrogue
rogue plain "$emu_dir/server.pem" "$emu_dir/server.key"
API_ENV="ASTRO_API_URL=$ROGUE_URL"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'the rogue server itself speaks valid TLS (control)' '
	[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "field .id. is missing"'
unrogue

# ---------------------------------------------------------------- bounds (H-04..H-06, H-12)
export ASTRO_CRED_API_TIMEOUT_MS=2000
emuctl fault latency --ms 6000 --op get --count 0
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'latency beyond the budget: exit 5 within budget + 1 s' '
	[ "$rc" = 5 ] && [ "$ms" -lt 3000 ] &&
	printf "%s" "$err" | grep -q "in time\|budget"'
emuctl fault clear
emuctl fault latency --ms 6000 --op rotate --count 1
api "$TRASH/org.tok" rotate $ORG "$victim_ID"
expect 'a rotate timing out after sending: exit 5, maybe_committed' '
	[ "$rc" = 5 ] && [ "$ms" -lt 3000 ] && [ "$(field maybe_committed)" = 1 ]'
emuctl fault clear
emuctl fault slow-body --interval-ms 1000 --op get
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'slow body announcing 1 MiB (emulator): refused by the length cap' '
	[ "$rc" = 5 ] && [ "$ms" -lt 3000 ] &&
	printf "%s" "$err" | grep -q "exceeds 64 KiB"'
emuctl fault clear
rogue slowloris "$emu_dir/server.pem" "$emu_dir/server.key"
API_ENV="ASTRO_API_URL=$ROGUE_URL"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'slowloris, chunked with no length: exit 5 within budget + 1 s (H-05)' '
	[ "$rc" = 5 ] && [ "$ms" -lt 3000 ]'
unrogue
rogue headers "$emu_dir/server.pem" "$emu_dir/server.key"
API_ENV="ASTRO_API_URL=$ROGUE_URL"
api "$TRASH/org.tok" get $ORG "$org_ID"
expect '40 KiB of response headers: refused at the header cap' '
	[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "headers exceed"'
unrogue
unset ASTRO_CRED_API_TIMEOUT_MS

api "$TRASH/org.tok" --rss get $ORG "$org_ID"
base_rss=$(field maxrss_kb)
for variant in "" --chunked --gzip; do
	emuctl fault big-body --bytes 100000000 $variant --op get
	api "$TRASH/org.tok" --rss get $ORG "$org_ID"
	expect "100 MB body ${variant:-with Content-Length}: refused at the cap, memory bounded (H-06)" '
		[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "exceeds 64 KiB" &&
		[ "$(field maxrss_kb)" -lt $((base_rss + 16384)) ] && [ "$ms" -lt 10000 ]'
	emuctl fault clear
done

emuctl fault html --op get
api "$TRASH/org.tok" get $ORG "$org_ID"
expect 'a captive portal (200 text/html): refused, exit 5 (H-12)' '
	[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "not JSON" &&
	! printf "%s" "$out" | grep -q "^id="'
emuctl fault html --op rotate
api "$TRASH/org.tok" rotate $ORG "$victim_ID"
expect 'a captive portal answering a rotate: maybe_committed' '
	[ "$rc" = 5 ] && [ "$(field maybe_committed)" = 1 ]'
emuctl fault clear

# ---------------------------------------------------------------- hygiene
printf 'machine 127.0.0.1 login netrcuser password netrcpass\ndefault login d password d\n' \
	>"$HOME/.netrc"
emuctl log --clear
api "$TRASH/org.tok" get $ORG "$org_ID"
expect '~/.netrc is ignored: one Bearer, no Basic (H-11)' '
	[ "$rc" = 0 ] && emuctl log | grep -q "\"auth\": *\"ok\"" &&
	! emuctl log | grep -q "multiple"'
rm -f "$HOME/.netrc"
printf 'abc def\n' >"$TRASH/space.tok"
emuctl log --clear
api "$TRASH/space.tok" get $ORG "$org_ID"
expect 'a bearer with a space (header injection): exit 2, nothing sent' '
	[ "$rc" = 2 ] && [ "$(emuctl count)" = 0 ] && ! leaks "$TRASH/space.tok"'
test_expect 'no secret ever reached stderr in any of these runs (L-01)' '
	for t in org org2 ws ws-old victim agent; do
		[ -s "$TRASH/$t.tok" ] || { echo "no $t.tok"; exit 1; }
		! grep -qF -- "$(cat "$TRASH/$t.tok")" "$TRASH/all.err" ||
			{ echo "$t leaked"; exit 1; }
	done'

test_done
