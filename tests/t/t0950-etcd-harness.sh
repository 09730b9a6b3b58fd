#!/bin/sh
# The etcd harness the fleet store's tests stand on (lib-etcd.sh), checked
# with etcdctl and curl: a 3-member TLS cluster that demands client
# certificates, a member killed, paused and restarted, the leader found; an
# auth cluster whose user is confined to the prefix; a plain-http one; and
# no member left running after a script ends, even one killed with -9.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"

etcd_start --client-cert

test_expect 'three members, each on its own port, all healthy over TLS' '
	[ "$ETCD_N" = 3 ] &&
	n=$(echo "$ASTRO_CRED_ETCD_ENDPOINTS" | tr , "\n" |
		grep -cE "^https://127\.0\.0\.1:[0-9]+\$") && [ "$n" = 3 ] &&
	[ "$(echo "$ASTRO_CRED_ETCD_ENDPOINTS" | tr , "\n" | sort -u | wc -l)" = 3 ] &&
	etcdctl_root endpoint health >"$TRASH/health" 2>&1 &&
	[ "$(grep -c "is healthy" "$TRASH/health")" = 3 ] &&
	[ "$(etcdctl_root member list | grep -c ", started, ")" = 3 ]'
test_expect 'the exports name the CA and the client certificate' '
	[ "$ASTRO_CRED_ETCD_CA_FILE" = "$ETCD_PKI/ca.pem" ] &&
	openssl verify -CAfile "$ASTRO_CRED_ETCD_CA_FILE" \
		"$ASTRO_CRED_ETCD_CERT_FILE" &&
	[ -s "$ASTRO_CRED_ETCD_KEY_FILE" ] &&
	openssl x509 -in "$ETCD_PKI/member.pem" -noout -ext subjectAltName |
		grep -q "IP Address:127.0.0.1" &&
	[ -z "${ASTRO_CRED_ETCD_USER:-}" ] &&
	[ -z "${ASTRO_CRED_ETCD_PASSWORD_FILE:-}" ]'

k=$(printf /astro-cred/harness | base64)
test_expect 'the JSON gateway answers with the client certificate' '
	etcdctl_root put /astro-cred/harness v1 &&
	etcd_curl 2 /v3/kv/range "{\"key\":\"$k\"}" >"$TRASH/range" &&
	tail -n 1 "$TRASH/range" | grep -qx "HTTP 200" &&
	grep -q "\"value\":\"$(printf v1 | base64)\"" "$TRASH/range"'
test_expect 'no client certificate: refused (etcdctl and the gateway)' '
	! ETCDCTL_API=3 etcdctl --endpoints "$(etcd_endpoint 1)" \
		--cacert "$ETCD_PKI/ca.pem" --dial-timeout 2s \
		--command-timeout 3s get /astro-cred/harness \
		>"$TRASH/nocert" 2>&1 &&
	! grep -q v1 "$TRASH/nocert" &&
	! curl -sS --max-time 5 --cacert "$ETCD_PKI/ca.pem" -X POST \
		-d "{\"key\":\"$k\"}" "$(etcd_endpoint 1)/v3/kv/range" \
		>"$TRASH/nocert" 2>&1 &&
	! grep -q "kvs" "$TRASH/nocert"'
test_expect 'a client certificate from another CA: refused' '
	! curl -sS --max-time 5 --cacert "$ETCD_PKI/ca.pem" \
		--cert "$ETCD_PKI/rogue.pem" --key "$ETCD_PKI/rogue.key" -X POST \
		-d "{\"key\":\"$k\"}" "$(etcd_endpoint 1)/v3/kv/range" \
		>"$TRASH/rogue" 2>&1 &&
	! grep -q "kvs" "$TRASH/rogue"'
test_expect 'a client that does not trust the CA refuses the members' '
	! curl -sS --max-time 5 --cert "$ETCD_PKI/client.pem" \
		--key "$ETCD_PKI/client.key" -X POST -d "{\"key\":\"$k\"}" \
		"$(etcd_endpoint 1)/v3/kv/range" >"$TRASH/untrusted" 2>&1 &&
	grep -qi "certificate" "$TRASH/untrusted"'

leader=$(etcd_leader)
test_expect 'etcd_leader names exactly one member' '
	case "$leader" in 1 | 2 | 3) ;; *) false ;; esac &&
	for i in 1 2 3; do
		etcdctl_at $i endpoint status
	done | awk -F", " "\$5 == \"true\"" | wc -l | grep -qx 1'

pid=$(etcd_pid "$leader")
etcd_kill "$leader"
new_leader=$(etcd_wait_leader)
test_expect 'the leader killed with -9: gone, a new leader among the others' '
	! kill -0 "$pid" 2>/dev/null && [ -z "$(etcd_pid "$leader")" ] &&
	[ "$(etcd_running | wc -l)" = 2 ] &&
	[ -n "$new_leader" ] && [ "$new_leader" != "$leader" ]'
test_expect 'the two survivors keep a working quorum' '
	etcdctl_root put /astro-cred/harness v2 &&
	[ "$(etcdctl_root get --print-value-only /astro-cred/harness)" = v2 ]'
etcd_restart "$leader"
restart_rc=$?
test_expect 'the killed member restarts on its data dir and catches up' '
	[ "$restart_rc" = 0 ] && [ -n "$(etcd_pid "$leader")" ] &&
	[ "$(etcdctl_at "$leader" get --consistency=s --print-value-only \
		/astro-cred/harness)" = v2 ]'

# A follower (pausing the leader would start an election: a later test's).
leader=$(etcd_wait_leader)
other=$((leader % 3 + 1))
etcd_pause "$other"
test_expect 'a stopped (SIGSTOP) follower does not answer; the others do' '
	[ "$(ps -o stat= -p "$(etcd_pid "$other")" | cut -c1)" = T ] &&
	! ETCD_CURL_TIMEOUT=2 etcd_curl "$other" /v3/kv/range \
		"{\"key\":\"$k\"}" >"$TRASH/paused" 2>&1 &&
	etcd_curl "$leader" /v3/kv/range "{\"key\":\"$k\"}" | grep -qx "HTTP 200"'
etcd_resume "$other"
test_expect 'SIGCONT: it answers again' '
	etcd_wait_healthy "$other" &&
	etcd_curl "$other" /v3/kv/range "{\"key\":\"$k\"}" | grep -qx "HTTP 200"'

# etcd authentication: a one-member cluster is enough for the roles.
etcd_start -n 1 --auth
test_expect 'auth: the exports name the fleet user and its password file' '
	[ "$ASTRO_CRED_ETCD_USER" = fleet ] &&
	[ "$(stat -c %a "$ASTRO_CRED_ETCD_PASSWORD_FILE")" = 600 ] &&
	[ "$(wc -c <"$ASTRO_CRED_ETCD_PASSWORD_FILE")" -ge 32 ] &&
	[ -z "${ASTRO_CRED_ETCD_CERT_FILE:-}" ] &&
	[ "$ETCD_PREFIX" = /astro-cred/ ]'
test_expect 'auth: the fleet user reads and writes under the prefix' '
	etcdctl_fleet put /astro-cred/a one &&
	[ "$(etcdctl_fleet get --print-value-only /astro-cred/a)" = one ]'
test_expect 'auth: and nothing outside it' '
	etcdctl_root put /elsewhere secret-ish &&
	! etcdctl_fleet put /elsewhere two 2>"$TRASH/denied" &&
	grep -q "permission denied" "$TRASH/denied" &&
	! etcdctl_fleet get /elsewhere 2>"$TRASH/denied" &&
	grep -q "permission denied" "$TRASH/denied" &&
	! etcdctl_fleet put /astro-credX two 2>/dev/null &&
	[ "$(etcdctl_root get --print-value-only /elsewhere)" = secret-ish ]'
test_expect 'auth: no user or a wrong password is refused' '
	! ETCD_AUTH=0 etcdctl_root get /astro-cred/a >"$TRASH/nouser" 2>&1 &&
	grep -q "user name is empty" "$TRASH/nouser" &&
	! ETCD_CTL_EPS=$(etcd_endpoint 1) ETCDCTL_USER=fleet \
		ETCDCTL_PASSWORD=wrong etcd_ctl_base get /astro-cred/a \
		>"$TRASH/wrongpw" 2>&1 &&
	grep -q "authentication failed" "$TRASH/wrongpw"'

etcd_start -n 1 --plain
test_expect 'plain http on loopback: no TLS exports' '
	case "$ASTRO_CRED_ETCD_ENDPOINTS" in http://127.0.0.1:*) ;; *) false ;; esac &&
	[ -z "${ASTRO_CRED_ETCD_CA_FILE:-}" ] &&
	etcdctl_root put /astro-cred/p v && etcd_curl 1 /v3/kv/range \
		"{\"key\":\"$(printf /astro-cred/p | base64)\"}" | grep -qx "HTTP 200"'
test_expect 'etcd_start again replaced the earlier clusters' '
	[ "$(ls "$ETCD_DIR"/m*/pid | wc -l)" = 1 ]'

# Cleanup: a script that ends, and one killed with -9 (its trap never runs:
# the watchdog stops the members).
cat >"$TRASH/child.sh" <<EOF
. "$ASTRO_CRED_TOP/tests/t/lib.sh"
. "$ASTRO_CRED_TOP/tests/t/lib-etcd.sh"
etcd_start -n 1 --plain
[ "\${2:-}" = hang ] && { sleep 600 & echo \$! >"\$1.sleep"; }
etcd_pid 1 >"\$1.tmp" && mv "\$1.tmp" "\$1"
[ "\${2:-}" = hang ] && wait
exit 0
EOF

# gone PID: no such process, or one that is not etcd (a reused pid).
gone() {
	[ -n "$1" ] && ! grep -q etcd "/proc/$1/cmdline" 2>/dev/null
}
test_expect 'a script that exits leaves no member running' '
	TMPDIR=$TRASH sh "$TRASH/child.sh" "$TRASH/child.pid" &&
	p=$(cat "$TRASH/child.pid") && [ -n "$p" ] && gone "$p"'
# (Its TRASH, never removed, goes under ours.)
TMPDIR=$TRASH sh "$TRASH/child.sh" "$TRASH/hang.pid" hang >/dev/null 2>&1 &
child=$!
i=0
while [ ! -s "$TRASH/hang.pid" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
hung=$(cat "$TRASH/hang.pid" 2>/dev/null)
test_expect 'the child cluster runs' '[ -n "$hung" ] && ! gone "$hung"'
kill -9 "$child"
wait "$child" 2>/dev/null
i=0
while ! gone "$hung" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
test_expect 'a script killed with -9 leaves no member running (watchdog)' '
	gone "$hung"'
kill -9 "$(cat "$TRASH/hang.pid.sleep")" 2>/dev/null # the child's sleep

pids=$(for f in "$ETCD_DIR"/m*/pid; do cat "$f"; done)
etcd_stop_all
test_expect 'etcd_stop_all leaves none of our members' '
	[ -n "$pids" ] && for p in $pids; do gone "$p" || exit 1; done'
test_done
