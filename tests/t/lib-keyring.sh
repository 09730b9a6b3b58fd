# tests/t/lib-keyring.sh: a Secret Service of this test script's own.
#
# tests/run starts one gnome-keyring for the whole suite, and prove runs
# scripts in parallel: a script that lists every item, or locks the
# collection, would see or break the others.  Source this BEFORE lib.sh:
# it re-runs the script inside a private session bus (session-bus.conf:
# no D-Bus activation, so no Secret Service appears unless we start one).  Then, after lib.sh:
#
#   keyring_start      a fresh gnome-keyring, login collection unlocked
#   keyring_lock       lock the login collection (org.freedesktop.Secret.Service.Lock)
#   keyring_unlock     unlock it again, by replacing the daemon with one
#                      started with the password (gnome-keyring-daemon
#                      --replace --unlock): the items must come back from disk
#   run_cmd CMD...     run any command; sets $out, $err, $rc like run_cred
#                      (and leaves them in $TRASH/out, $TRASH/err)
#   run_bt BACKEND VERB [PROFILE] <input
#                      run_cmd tests/backend-tool ...
if [ -z "${ASTRO_CRED_PRIVATE_BUS:-}" ]; then
	ASTRO_CRED_PRIVATE_BUS=1
	export ASTRO_CRED_PRIVATE_BUS
	exec dbus-run-session \
		--config-file="$(cd "$(dirname "$0")" && pwd)/session-bus.conf" \
		-- "$0" "$@"
fi

KEYRING_PASSWORD=test-password
KEYRING_LOGIN=/org/freedesktop/secrets/collection/login

# The daemon keeps its files under $TRASH/keyring, apart from $HOME.
keyring_daemon() {
	printf '%s' "$KEYRING_PASSWORD" |
		HOME="$TRASH/keyring" XDG_DATA_HOME="$TRASH/keyring/data" \
			XDG_RUNTIME_DIR="$TRASH/keyring/run" \
			gnome-keyring-daemon "$@" --unlock --components=secrets \
			>/dev/null 2>&1
}

# PID of whoever owns org.freedesktop.secrets on our private bus.
keyring_pid() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus \
		org.freedesktop.DBus.GetConnectionUnixProcessID \
		string:org.freedesktop.secrets 2>/dev/null |
		awk '/uint32/ { print $2 }'
}

keyring_stop() {
	kp=$(keyring_pid)
	[ -n "$kp" ] && kill "$kp" 2>/dev/null
	return 0
}

# The daemon returns before it owns its bus name: wait for the name
# (10 s at most), or a fast first client finds no Secret Service.
keyring_start() {
	mkdir -p "$TRASH/keyring/data" "$TRASH/keyring/run"
	chmod 700 "$TRASH/keyring/run"
	keyring_daemon || return 1
	at_exit keyring_stop
	for _i in $(seq 1 100); do
		[ -n "$(keyring_pid)" ] && return 0
		sleep 0.1
	done
	return 1
}

keyring_lock() {
	dbus-send --session --print-reply --dest=org.freedesktop.secrets \
		/org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
		"array:objpath:$KEYRING_LOGIN" >/dev/null
}

# "false" or "true", from the collection's Locked property.
keyring_locked() {
	dbus-send --session --print-reply --dest=org.freedesktop.secrets \
		"$KEYRING_LOGIN" org.freedesktop.DBus.Properties.Get \
		string:org.freedesktop.Secret.Collection string:Locked \
		2>/dev/null | awk '/boolean/ { print $3 }'
}

keyring_unlock() {
	keyring_daemon --replace || return 1
	# The new daemon takes the bus name over; wait for it (10 s at most).
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ "$(keyring_locked)" = false ] && return 0
		sleep 0.5
	done
	return 1
}

run_cmd() {
	rc=0
	"$@" >"$TRASH/out" 2>"$TRASH/err" || rc=$?
	out=$(cat "$TRASH/out")
	err=$(cat "$TRASH/err")
}

run_bt() {
	run_cmd "$ASTRO_CRED_BUILD/tests/backend-tool" "$@"
}

# A TAP skip for a test point that cannot run here.
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count # skip $1"
}
