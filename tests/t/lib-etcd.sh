# tests/t/lib-etcd.sh: real etcd members (Debian's etcd-server 3.4) on
# loopback for shell tests.  Source it after lib.sh, then call etcd_start at
# the top level of the script (not inside test_expect, whose subshell would
# lose the exports and could not wait for the members):
#
#   etcd_start [-n N] [--plain] [--client-cert] [--auth]
#       start an N-member cluster (default 3) and wait for every member to be
#       healthy (ETCD_WAIT_S seconds, default 30); bails out of the whole
#       script if it cannot.  Ports are picked at random among free ones
#       (several scripts run at once) and the start is retried if one was
#       taken meanwhile.  Data and logs live in $ETCD_DIR ($TRASH/etcd).
#         default        TLS from a CA made now (ca.pem), one server
#                        certificate for 127.0.0.1 (also the peers'),
#                        peer TLS with peer client certificates
#         --plain        plain http:// on loopback instead of TLS
#         --client-cert  members demand a client certificate signed by the CA
#         --auth         etcd authentication: a root user, and a user "fleet"
#                        whose role "fleet" can read and write only the keys
#                        under $ETCD_PREFIX ($ASTRO_CRED_ETCD_PREFIX when
#                        lib-etcd.sh is sourced, else /astro-cred/);
#                        passwords in 0600 files
#       Exports what astro-cred reads: ASTRO_CRED_ETCD_ENDPOINTS, and as
#       they apply ASTRO_CRED_ETCD_CA_FILE, ASTRO_CRED_ETCD_CERT_FILE and
#       _KEY_FILE (the client certificate, only with --client-cert),
#       ASTRO_CRED_ETCD_USER and _PASSWORD_FILE (the fleet user, only with
#       --auth).  Sets (not exported) ETCD_N, ETCD_SCHEME, ETCD_DIR, ETCD_PKI,
#       ETCD_PREFIX, ETCD_ROOT_PASSWORD_FILE.  A second etcd_start replaces
#       the first cluster; everything is stopped at exit.
#
#   etcd_endpoint I          the client URL of member I (1..N)
#   etcd_pid I               its process id (empty if not running)
#   etcdctl_root ARGS...     etcdctl against every member, with the CA and the
#                            client certificate under TLS, as root with --auth
#   etcdctl_at I ARGS...     the same against member I only
#   etcdctl_fleet ARGS...    etcdctl as the fleet user (--auth), with the
#                            client certificate if there is one
#   etcd_curl I PATH [JSON [CURL ARGS...]]
#                            POST JSON (default {}) to the gateway of member
#                            I, with the CA and (--client-cert) the client
#                            certificate; body on stdout, then a last line
#                            "HTTP NNN"; extra CURL ARGS go before the URL
#   etcd_kill I              kill -9 member I and reap it
#   etcd_pause I / etcd_resume I   SIGSTOP / SIGCONT member I
#   etcd_restart I           start member I again on its data dir, wait until
#                            it is healthy
#   etcd_leader              the index of the member that leads (asks every
#                            running member; fails if none leads)
#   etcd_wait_leader         the same, waiting (ETCD_WAIT_S) for an election
#   etcd_wait_healthy [I...] wait (bounded by ETCD_WAIT_S) until the given
#                            members (default: every running one) are healthy
#   etcd_stop_all            stop every member (also run at exit)
#
# Secrets (the passwords) go through files and the environment of etcdctl,
# never through argv.
ETCD_DIR="$TRASH/etcd"
ETCD_PKI="$ETCD_DIR/pki"
ETCD_WAIT_S=${ETCD_WAIT_S:-30}
ETCD_N=0
ETCD_SCHEME=https
ETCD_CLIENT_CERT=0
ETCD_AUTH=0
ETCD_WATCHDOG=
ETCD_ROOT_PASSWORD_FILE="$ETCD_DIR/root.password"
ETCD_PREFIX=${ASTRO_CRED_ETCD_PREFIX:-/astro-cred/}
unset ASTRO_CRED_ETCD_ENDPOINTS ASTRO_CRED_ETCD_CA_FILE \
	ASTRO_CRED_ETCD_CERT_FILE ASTRO_CRED_ETCD_KEY_FILE \
	ASTRO_CRED_ETCD_USER ASTRO_CRED_ETCD_PASSWORD_FILE \
	ETCDCTL_USER ETCDCTL_PASSWORD ETCDCTL_ENDPOINTS ETCDCTL_CACERT \
	ETCDCTL_CERT ETCDCTL_KEY ETCDCTL_API
at_exit etcd_stop_all

etcd_bail() {
	echo "Bail out! $1"
	for _l in "$ETCD_DIR"/m*/log; do
		[ -f "$_l" ] && tail -n 5 "$_l" | sed "s|^|# ${_l#"$ETCD_DIR"/}: |"
	done
	exit 1
}

etcd_openssl() {
	(cd "$ETCD_PKI" && openssl "$@") >/dev/null 2>"$ETCD_PKI/openssl.err" ||
		etcd_bail "openssl $1 failed: $(cat "$ETCD_PKI/openssl.err")"
}

# etcd_cert NAME CN EXT CA: a P-256 key and a certificate signed by CA.
etcd_cert() {
	printf '%b' "$3" >"$ETCD_PKI/$1.ext"
	etcd_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
	etcd_openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" \
		-set_serial "0x$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
		-days 2 -out "$1.pem" -extfile "$1.ext"
	chmod 600 "$ETCD_PKI/$1.key"
}

etcd_ca() {
	etcd_openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
}

# The CA, one certificate for every member (server and peer: both uses),
# a client certificate, and a client certificate from another CA.
etcd_make_pki() {
	[ -s "$ETCD_PKI/ca.pem" ] && return 0
	mkdir -p "$ETCD_PKI"
	chmod 700 "$ETCD_PKI"
	etcd_ca ca "astro-cred etcd test CA"
	etcd_ca other-ca "astro-cred etcd test CA (untrusted)"
	ku="basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
	etcd_cert member "127.0.0.1" \
		"${ku}extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n" ca
	etcd_cert client "astro-cred-test-client" \
		"${ku}extendedKeyUsage=clientAuth\n" ca
	etcd_cert rogue "astro-cred-test-client" \
		"${ku}extendedKeyUsage=clientAuth\n" other-ca
}

# A random port in [20000, 32000): below Linux's ephemeral range, so no
# outgoing connection takes it, and not listening now.  Another script may
# still pick it at the same moment; etcd_start retries then.
etcd_free_port() {
	while :; do
		_p=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 + 20000))
		case " $etcd_taken " in *" $_p "*) continue ;; esac
		ss -Htan "sport = :$_p" | grep -q . && continue
		etcd_taken="$etcd_taken $_p"
		echo "$_p"
		return
	done
}

etcd_endpoint() {
	echo "$ETCD_SCHEME://127.0.0.1:$(cat "$ETCD_DIR/m$1/client_port")"
}

etcd_pid() {
	_pid=$(cat "$ETCD_DIR/m$1/pid" 2>/dev/null) || return 0
	kill -0 "$_pid" 2>/dev/null && echo "$_pid"
	return 0
}

# etcd_run I: start member I in the background (same flags on a restart:
# etcd ignores the --initial-* ones once its data dir exists).
etcd_run() {
	_m="$ETCD_DIR/m$1"
	_cp=$(cat "$_m/client_port")
	_pp=$(cat "$_m/peer_port")
	set -- --name "m$1" --data-dir "$_m/data" \
		--listen-client-urls "$ETCD_SCHEME://127.0.0.1:$_cp" \
		--advertise-client-urls "$ETCD_SCHEME://127.0.0.1:$_cp" \
		--listen-peer-urls "$ETCD_SCHEME://127.0.0.1:$_pp" \
		--initial-advertise-peer-urls "$ETCD_SCHEME://127.0.0.1:$_pp" \
		--initial-cluster "$(cat "$ETCD_DIR/initial_cluster")" \
		--initial-cluster-token "$(cat "$ETCD_DIR/token")" \
		--initial-cluster-state new \
		--logger zap --log-outputs stderr --log-level warn
	if [ "$ETCD_SCHEME" = https ]; then
		set -- "$@" --cert-file "$ETCD_PKI/member.pem" \
			--key-file "$ETCD_PKI/member.key" \
			--peer-cert-file "$ETCD_PKI/member.pem" \
			--peer-key-file "$ETCD_PKI/member.key" \
			--peer-trusted-ca-file "$ETCD_PKI/ca.pem" \
			--peer-client-cert-auth
		# etcd 3.4 demands a client certificate whenever it has a
		# --trusted-ca-file, with or without --client-cert-auth.
		[ "$ETCD_CLIENT_CERT" = 1 ] && set -- "$@" --client-cert-auth \
			--trusted-ca-file "$ETCD_PKI/ca.pem"
	fi
	etcd "$@" </dev/null >>"$_m/log" 2>&1 &
	echo $! >"$_m/pid"
}

# The members die with this script even if it is killed with -9 (its EXIT
# trap then never runs): a watchdog polls the script's pid.
etcd_watchdog() {
	(
		while kill -0 "$1" 2>/dev/null; do sleep 1; done
		for _f in "$ETCD_DIR"/m*/pid; do
			kill -9 "$(cat "$_f")" 2>/dev/null
		done
	) </dev/null >/dev/null 2>&1 &
	ETCD_WATCHDOG=$!
}

etcd_healthy() {
	etcd_curl_get "$1" /health 2>/dev/null | grep -q '"health":"true"'
}

etcd_curl_get() {
	_url="$(etcd_endpoint "$1")$2"
	if [ "$ETCD_SCHEME" = https ]; then
		curl -sS --max-time 2 --cacert "$ETCD_PKI/ca.pem" \
			--cert "$ETCD_PKI/client.pem" --key "$ETCD_PKI/client.key" \
			"$_url"
	else
		curl -sS --max-time 2 "$_url"
	fi
}

etcd_running() {
	_i=1
	while [ "$_i" -le "$ETCD_N" ]; do
		[ -n "$(etcd_pid "$_i")" ] && echo "$_i"
		_i=$((_i + 1))
	done
}

# 0 when healthy; 1 when one of them exited; 2 when the time ran out.
etcd_wait_healthy() {
	[ $# -gt 0 ] || set -- $(etcd_running)
	_end=$(($(date +%s) + ETCD_WAIT_S))
	for _i in "$@"; do
		until etcd_healthy "$_i"; do
			for _j in "$@"; do
				[ -n "$(etcd_pid "$_j")" ] || return 1
			done
			[ "$(date +%s)" -lt "$_end" ] || return 2
			sleep 0.1
		done
	done
	return 0
}

etcd_ctl_base() {
	set -- --endpoints "$ETCD_CTL_EPS" --dial-timeout 2s \
		--command-timeout 5s "$@"
	if [ "$ETCD_SCHEME" = https ]; then
		set -- --cacert "$ETCD_PKI/ca.pem" --cert "$ETCD_PKI/client.pem" \
			--key "$ETCD_PKI/client.key" "$@"
	fi
	ETCDCTL_API=3 etcdctl "$@"
}

etcd_all_endpoints() {
	_eps=
	for _i in $(seq 1 "$ETCD_N"); do
		_eps="$_eps${_eps:+,}$(etcd_endpoint "$_i")"
	done
	echo "$_eps"
}

etcdctl_root() {
	ETCD_CTL_EPS=$(etcd_all_endpoints)
	etcd_ctl_as_root "$@"
}

etcdctl_at() {
	ETCD_CTL_EPS=$(etcd_endpoint "$1")
	shift
	etcd_ctl_as_root "$@"
}

etcd_ctl_as_root() {
	if [ "$ETCD_AUTH" = 1 ]; then
		ETCDCTL_USER=root ETCDCTL_PASSWORD=$(cat "$ETCD_ROOT_PASSWORD_FILE") \
			etcd_ctl_base "$@"
	else
		etcd_ctl_base "$@"
	fi
}

etcdctl_fleet() {
	ETCD_CTL_EPS=$(etcd_all_endpoints)
	ETCDCTL_USER=fleet ETCDCTL_PASSWORD=$(cat "$ETCD_DIR/fleet.password") \
		etcd_ctl_base "$@"
}

etcd_curl() {
	_i=$1 _path=$2 _body=${3:-'{}'}
	shift 2
	[ $# -gt 0 ] && shift
	set -- -sS --max-time "${ETCD_CURL_TIMEOUT:-10}" -X POST \
		-w '\nHTTP %{http_code}\n' -d "$_body" "$@"
	if [ "$ETCD_SCHEME" = https ]; then
		set -- --cacert "$ETCD_PKI/ca.pem" "$@"
		[ "$ETCD_CLIENT_CERT" = 1 ] &&
			set -- --cert "$ETCD_PKI/client.pem" \
				--key "$ETCD_PKI/client.key" "$@"
	fi
	curl "$@" "$(etcd_endpoint "$_i")$_path"
}

etcd_kill() {
	_pid=$(etcd_pid "$1")
	[ -n "$_pid" ] || return 0
	kill -9 "$_pid"
	wait "$_pid" 2>/dev/null
	return 0
}

etcd_pause() {
	kill -STOP "$(etcd_pid "$1")"
}

etcd_resume() {
	kill -CONT "$(etcd_pid "$1")"
}

etcd_restart() {
	etcd_kill "$1"
	etcd_run "$1"
	etcd_wait_healthy "$1"
}

etcd_leader() {
	for _i in $(etcd_running); do
		# endpoint, ID, version, db size, is leader, ...
		if etcdctl_at "$_i" endpoint status 2>/dev/null |
			awk -F', ' '$5 == "true" { found = 1 } END { exit !found }'; then
			echo "$_i"
			return 0
		fi
	done
	return 1
}

# etcd_wait_leader: wait (bounded by ETCD_WAIT_S) until a running member
# leads; print its index.
etcd_wait_leader() {
	_end=$(($(date +%s) + ETCD_WAIT_S))
	until etcd_leader; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

etcd_stop_all() {
	[ -n "$ETCD_WATCHDOG" ] && kill -9 "$ETCD_WATCHDOG" 2>/dev/null
	for _f in "$ETCD_DIR"/m*/pid; do
		[ -f "$_f" ] || continue
		_pid=$(cat "$_f")
		kill -9 "$_pid" 2>/dev/null && wait "$_pid" 2>/dev/null
		rm -f "$_f"
	done
	[ -n "$ETCD_WATCHDOG" ] && wait "$ETCD_WATCHDOG" 2>/dev/null
	ETCD_WATCHDOG=
	return 0
}

# One try at starting the cluster: 0 healthy, 1 a port was taken, 2 other.
etcd_try_start() {
	etcd_taken=
	_ic=
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n' >"$ETCD_DIR/token"
	for _i in $(seq 1 "$ETCD_N"); do
		rm -rf "$ETCD_DIR/m$_i"
		mkdir -p "$ETCD_DIR/m$_i"
		etcd_free_port >"$ETCD_DIR/m$_i/client_port"
		etcd_free_port >"$ETCD_DIR/m$_i/peer_port"
		_ic="$_ic${_ic:+,}m$_i=$ETCD_SCHEME://127.0.0.1:$(cat "$ETCD_DIR/m$_i/peer_port")"
	done
	echo "$_ic" >"$ETCD_DIR/initial_cluster"
	for _i in $(seq 1 "$ETCD_N"); do etcd_run "$_i"; done
	etcd_wait_healthy $(seq 1 "$ETCD_N") && return 0
	_r=$?
	etcd_stop_all
	if [ $_r = 1 ] && grep -q "address already in use" "$ETCD_DIR"/m*/log; then
		return 1
	fi
	return 2
}

# Users and roles, then authentication on.  Passwords go to etcdctl on
# stdin (--interactive=false) and in ETCDCTL_PASSWORD, never in argv.
etcd_setup_auth() {
	for _u in root fleet; do
		od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$ETCD_DIR/$_u.password"
		chmod 600 "$ETCD_DIR/$_u.password"
	done
	{
		etcdctl_root user add root --interactive=false \
			<"$ETCD_ROOT_PASSWORD_FILE" &&
			etcdctl_root user grant-role root root &&
			etcdctl_root role add fleet &&
			etcdctl_root role grant-permission fleet --prefix=true \
				readwrite "$ETCD_PREFIX" &&
			etcdctl_root user add fleet --interactive=false \
				<"$ETCD_DIR/fleet.password" &&
			etcdctl_root user grant-role fleet fleet &&
			etcdctl_root auth enable
	} >"$ETCD_DIR/auth.log" 2>&1 || etcd_bail "etcd auth set-up failed: $(
		tail -n 3 "$ETCD_DIR/auth.log")"
	ETCD_AUTH=1
}

etcd_start() {
	ETCD_N=3 ETCD_SCHEME=https ETCD_CLIENT_CERT=0 ETCD_AUTH=0
	_auth=0
	while [ $# -gt 0 ]; do
		case $1 in
		-n) ETCD_N=$2; shift ;;
		--plain) ETCD_SCHEME=http ;;
		--client-cert) ETCD_CLIENT_CERT=1 ;;
		--auth) _auth=1 ;;
		*) etcd_bail "etcd_start: unknown option $1" ;;
		esac
		shift
	done
	etcd_stop_all
	rm -rf "$ETCD_DIR"/m*
	mkdir -p "$ETCD_DIR"
	[ "$ETCD_SCHEME" = https ] && etcd_make_pki
	_try=1
	until etcd_try_start; do
		[ $? = 1 ] && [ $_try -lt 5 ] ||
			etcd_bail "the etcd cluster did not become healthy"
		_try=$((_try + 1))
	done
	etcd_watchdog $$
	[ "$_auth" = 1 ] && etcd_setup_auth
	etcd_export
}

etcd_export() {
	unset ASTRO_CRED_ETCD_CA_FILE ASTRO_CRED_ETCD_CERT_FILE \
		ASTRO_CRED_ETCD_KEY_FILE ASTRO_CRED_ETCD_USER \
		ASTRO_CRED_ETCD_PASSWORD_FILE
	ASTRO_CRED_ETCD_ENDPOINTS=$(etcd_all_endpoints)
	export ASTRO_CRED_ETCD_ENDPOINTS
	if [ "$ETCD_SCHEME" = https ]; then
		export ASTRO_CRED_ETCD_CA_FILE="$ETCD_PKI/ca.pem"
	fi
	if [ "$ETCD_CLIENT_CERT" = 1 ]; then
		export ASTRO_CRED_ETCD_CERT_FILE="$ETCD_PKI/client.pem"
		export ASTRO_CRED_ETCD_KEY_FILE="$ETCD_PKI/client.key"
	fi
	if [ "$ETCD_AUTH" = 1 ]; then
		export ASTRO_CRED_ETCD_USER=fleet
		export ASTRO_CRED_ETCD_PASSWORD_FILE="$ETCD_DIR/fleet.password"
	fi
}
