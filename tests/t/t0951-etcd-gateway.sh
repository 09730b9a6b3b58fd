#!/bin/sh
# The facts of docs/fleet.md §1 that the fleet store is built on, checked
# with curl against real etcd members (Debian's etcd 3.4): if an etcd
# behaves otherwise, this fails, not the fleet.  Each test names its
# section of docs/fleet.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"

# gw I PATH [JSON [CURL ARGS]]: POST to member I; the body goes to
# $TRASH/b and the HTTP status to $status.
gw() {
	etcd_curl "$@" >"$TRASH/gw.out" 2>"$TRASH/gw.err"
	status=$(tail -n 1 "$TRASH/gw.out" | sed -n 's/^HTTP //p')
	sed '$d' "$TRASH/gw.out" >"$TRASH/b"
}
# jx EXPR: a Python expression over the last body, d (and b64d, b64e).
# The interpreter itself, not a wrapper script in PATH (pyenv's shims cost
# a quarter of a second a call).
PY=$(python3 -c 'import sys; print(sys.executable)')
jx() {
	"$PY" -c '
import base64, json, sys
b64d = lambda s: base64.b64decode(s, validate=True).decode()
b64e = lambda s: base64.b64encode(s.encode()).decode()
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$TRASH/b" "$1"
}
is() { [ "$(jx "$1")" = True ]; }
b64() { printf %s "$1" | base64 -w0; }
int64s='lambda *v: all(isinstance(x, str) and x.isdigit() for x in v)'

etcd_start
K=$(b64 /astro-cred/v1/records/ci)

gw 1 /v3/kv/put "{\"key\":\"$K\",\"value\":\"$(b64 v1)\"}"
gw 2 /v3/kv/range "{\"key\":\"$K\"}"
test_expect '§1.2: int64 and uint64 fields are strings of digits' '
	[ "$status" = 200 ] &&
	is "($int64s)(d[\"header\"][\"cluster_id\"], d[\"header\"][\"member_id\"],
		d[\"header\"][\"revision\"], d[\"count\"],
		d[\"kvs\"][0][\"mod_revision\"], d[\"kvs\"][0][\"create_revision\"],
		d[\"kvs\"][0][\"version\"])" &&
	is "b64d(d[\"kvs\"][0][\"value\"]) == \"v1\""'
gw 1 /v3/kv/range "{\"key\":\"$(b64 /astro-cred/none)\"}"
test_expect '§1.2: a missing key answers the header alone (no kvs, no count)' '
	[ "$status" = 200 ] && is "sorted(d) == [\"header\"]"'
gw 1 /v3/kv/put "{\"key\":\"$(b64 /astro-cred/empty)\"}"
gw 1 /v3/kv/range "{\"key\":\"$(b64 /astro-cred/empty)\"}"
test_expect '§1.2: an empty value, no lease: the fields are left out' '
	is "\"value\" not in d[\"kvs\"][0] and \"lease\" not in d[\"kvs\"][0]"'

gw 1 /v3/kv/range "{\"key\":\"$K\"}"
mod=$(jx 'd["kvs"][0]["mod_revision"]')
cas() {
	gw 1 /v3/kv/txn "{\"compare\":[{\"key\":\"$K\",\"target\":\"MOD\",
		\"result\":\"EQUAL\",\"mod_revision\":\"$mod\"}],
		\"success\":[{\"request_put\":{\"key\":\"$K\",\"value\":\"$(b64 v2)\"}}]
		$1}"
}
cas ''
test_expect '§1.3: a txn that succeeds: succeeded, the put response' '
	[ "$status" = 200 ] && is "d[\"succeeded\"] is True" &&
	is "list(d[\"responses\"][0]) == [\"response_put\"]"'
cas ",\"failure\":[{\"request_range\":{\"key\":\"$K\"}}]"
test_expect '§1.3: a failed txn leaves out succeeded, answers the failure branch' '
	[ "$status" = 200 ] && is "\"succeeded\" not in d" &&
	is "b64d(d[\"responses\"][0][\"response_range\"][\"kvs\"][0][\"value\"]) == \"v2\""'
cas ''
test_expect '§1.3: a failed txn with no failure branch: the header alone' '
	[ "$status" = 200 ] && is "sorted(d) == [\"header\"]"'

gw 1 /v3/lease/grant '{"TTL":1}'
test_expect '§1.4: the smallest lease TTL is 2 s' '
	[ "$status" = 200 ] && is "d[\"TTL\"] == \"2\" and ($int64s)(d[\"ID\"])"'
gw 1 /v3/lease/grant '{"TTL":60}'
L=$(jx 'd["ID"]')
gw 2 /v3/lease/keepalive "{\"ID\":\"$L\"}"
test_expect '§1.4: a keepalive answer is wrapped in result' '
	[ "$status" = 200 ] &&
	is "d[\"result\"][\"ID\"] == \"$L\" and d[\"result\"][\"TTL\"] == \"60\""'
gw 1 /v3/lease/revoke "{\"ID\":\"$L\"}"
gw 1 /v3/lease/keepalive "{\"ID\":\"$L\"}"
test_expect '§1.4: a keepalive of a gone lease: 200, no TTL' '
	[ "$status" = 200 ] &&
	is "d[\"result\"][\"ID\"] == \"$L\" and \"TTL\" not in d[\"result\"]"'
gw 1 /v3/lease/timetolive "{\"ID\":\"$L\"}"
test_expect '§1.4: timetolive of a gone lease: TTL -1' '
	[ "$status" = 200 ] && is "d[\"TTL\"] == \"-1\""'

# Locks.  lock NAME LEASE [MEMBER]
N=/astro-cred/v1/locks/ci
lock() {
	gw "${3:-1}" /v3/lock/lock "{\"name\":\"$(b64 "$1")\",\"lease\":\"$2\"}"
}
lease() {
	gw 1 /v3/lease/grant "{\"TTL\":$1}"
	jx 'd["ID"]'
}
keys_under() {
	gw 1 /v3/kv/range "{\"key\":\"$(b64 "$1/")\",\"range_end\":\"$(b64 "${1}0")\",\"keys_only\":true}"
	jx '" ".join(b64d(k["key"]) for k in d.get("kvs", []))'
}
L1=$(lease 60)
lock "$N" "$L1"
lk1=$(jx 'b64d(d["key"])')
test_expect '§1.5: the lock key is NAME/<lease in lower-case hex>' '
	[ "$status" = 200 ] && [ "$lk1" = "$N/$(printf %x "$L1")" ] &&
	[ "$(keys_under "$N")" = "$lk1" ]'
lock "$N" "$L1" 3
test_expect '§1.5: locking again with the same lease: the same key at once' '
	[ "$status" = 200 ] && [ "$(jx "b64d(d[\"key\"])")" = "$lk1" ]'
L2=$(lease 60)
ETCD_CURL_TIMEOUT=1 lock "$N" "$L2"
test_expect '§1.5: a waiter that gives up leaves no key behind' '
	[ "$status" = 000 ] && [ "$(keys_under "$N")" = "$lk1" ]'

# A waiter whose lease expires while it waits (its lease: 3 s, no
# keepalive) is granted a key that no longer exists when the holder
# releases.  The wait ends on the lease being gone, not on a clock.
L3=$(lease 3)
ETCD_CURL_TIMEOUT=60 etcd_curl 2 /v3/lock/lock \
	"{\"name\":\"$(b64 "$N")\",\"lease\":\"$L3\"}" >"$TRASH/waiter" 2>&1 &
waiter=$!
i=0
until gw 1 /v3/lease/timetolive "{\"ID\":\"$L3\"}" &&
	[ "$(jx 'd.get("TTL")')" = -1 ]; do
	[ $i -lt 300 ] || break
	i=$((i + 1))
	sleep 0.1
done
gw 1 /v3/lock/unlock "{\"key\":\"$(b64 "$lk1")\"}"
wait "$waiter"
sed '$d' "$TRASH/waiter" >"$TRASH/b"
gone_key=$(jx 'b64d(d["key"])')
test_expect '§1.5: 3.4 grants a lock whose key is already gone' '
	tail -n 1 "$TRASH/waiter" | grep -qx "HTTP 200" &&
	[ "$gone_key" = "$N/$(printf %x "$L3")" ] &&
	[ -z "$(keys_under "$N")" ]'
gw 1 /v3/kv/txn "{\"compare\":[{\"key\":\"$(b64 "$gone_key")\",\"target\":\"CREATE\",
	\"result\":\"GREATER\",\"create_revision\":\"0\"}],
	\"success\":[{\"request_put\":{\"key\":\"$K\",\"value\":\"$(b64 fenced)\"}}]}"
test_expect '§2.3: a txn comparing that key exists fails: the fence holds' '
	[ "$status" = 200 ] && is "\"succeeded\" not in d"'

gw 1 /v3/kv/range "{\"key\":\"$K\"}" -H "Authorization: x"
test_expect '§1.6: any Authorization header without etcd auth: 401, code 16' '
	[ "$status" = 401 ] && is "d[\"code\"] == 16"'
gw 1 /v3/auth/authenticate '{"name":"root","password":"x"}'
test_expect '§1.6: authenticate without etcd auth: 412, code 9' '
	[ "$status" = 412 ] && is "d[\"code\"] == 9"'

head -c 1600000 /dev/zero | base64 -w0 >"$TRASH/v"
{ printf '{"key":"%s","value":"' "$K"; cat "$TRASH/v"; printf '"}'; } >"$TRASH/put"
gw 1 /v3/kv/put @"$TRASH/put"
test_expect '§1.7: a request over --max-request-bytes: 400, code 3' '
	[ "$status" = 400 ] && is "d[\"code\"] == 3 and \"too large\" in d[\"message\"]"'
head -c 3000000 /dev/zero | base64 -w0 >"$TRASH/v"
{ printf '{"key":"%s","value":"' "$K"; cat "$TRASH/v"; printf '"}'; } >"$TRASH/put"
gw 1 /v3/kv/put @"$TRASH/put"
test_expect '§1.7: over the gRPC limit: 429 (not a transient 429), code 8' '
	[ "$status" = 429 ] && is "d[\"code\"] == 8 and \"larger than max\" in d[\"message\"]"'

# No quorum: two of three members killed.
leader=$(etcd_wait_leader)
s=$((leader % 3 + 1))
etcd_kill "$leader"
etcd_kill $((s % 3 + 1))
gw "$s" /v3/kv/range "{\"key\":\"$K\",\"serializable\":true}"
test_expect '§1.8: without a quorum a serializable read still answers' '
	[ "$status" = 200 ] && is "b64d(d[\"kvs\"][0][\"value\"]) == \"v2\""'
ETCD_CURL_TIMEOUT=3 gw "$s" /v3/kv/range "{\"key\":\"$K\"}"
test_expect '§1.8: a linearizable read does not (no answer within 3 s)' '
	[ "$status" != 200 ] && ! grep -q kvs "$TRASH/b"'

# etcd authentication: one member.
etcd_start -n 1 --auth
pw=$(cat "$ASTRO_CRED_ETCD_PASSWORD_FILE")
printf '{"name":"fleet","password":"%s"}' "$pw" >"$TRASH/auth"
gw 1 /v3/auth/authenticate @"$TRASH/auth"
tok=$(jx 'd["token"]')
in_k=$(b64 /astro-cred/x)
gw 1 /v3/kv/range "{\"key\":\"$in_k\"}" -H "Authorization: $tok"
test_expect '§1.6: the token goes in Authorization as it is' '
	[ -n "$tok" ] && [ "$status" = 200 ]'
gw 1 /v3/kv/range "{\"key\":\"$in_k\"}" -H "Authorization: Bearer $tok"
test_expect '§1.6: "Bearer TOKEN" is refused: 401, code 16' '
	[ "$status" = 401 ] && is "d[\"code\"] == 16"'
gw 1 /v3/kv/range "{\"key\":\"$in_k\"}"
test_expect '§1.6: no token: 400, code 3, user name is empty' '
	[ "$status" = 400 ] && is "d[\"code\"] == 3 and \"user name is empty\" in d[\"message\"]"'
gw 1 /v3/auth/authenticate '{"name":"fleet","password":"wrong"}'
test_expect '§1.6: a wrong password: 400 (not 401), code 3' '
	[ "$status" = 400 ] && is "d[\"code\"] == 3 and \"authentication failed\" in d[\"message\"]"'
gw 1 /v3/kv/range "{\"key\":\"$(b64 /elsewhere)\"}" -H "Authorization: $tok"
test_expect '§1.6: outside the role: 403, code 7' '
	[ "$status" = 403 ] && is "d[\"code\"] == 7"'
gw 1 /v3/lease/grant '{"TTL":30}' -H "Authorization: $tok"
AL=$(jx 'd["ID"]')
gw 1 /v3/lock/lock "{\"name\":\"$(b64 /elsewhere/lock)\",\"lease\":\"$AL\"}" \
	-H "Authorization: $tok"
test_expect '§1.5/1.6: the lock service says permission denied with 500, code 2' '
	[ "$status" = 500 ] && is "d[\"code\"] == 2 and \"permission denied\" in d[\"message\"]"'
# Simple tokens are 16 letters: sixteen digits before the same index make
# one etcd never issued.  (A larger index would make the member wait until
# it has applied that index: docs/fleet.md §1.6.)
gw 1 /v3/kv/range "{\"key\":\"$in_k\"}" -H "Authorization: 0000000000000000.${tok#*.}"
test_expect '§1.6: a token etcd does not know: 401, code 16 (authenticate again)' '
	[ "$status" = 401 ] && is "d[\"code\"] == 16"'
gw 1 /v3/auth/authenticate @"$TRASH/auth"
gw 1 /v3/kv/range "{\"key\":\"$in_k\"}" -H "Authorization: $(jx 'd["token"]')"
test_expect '§1.6: a second token works beside the first' '[ "$status" = 200 ]'
rm -f "$TRASH/auth"
test_done
