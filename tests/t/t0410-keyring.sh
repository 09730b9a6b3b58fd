#!/bin/sh
# The keyring backend's own promises (security.md 2.10, contract.md 7):
# what other tools see of our items (K-03), other applications' items
# (K-05), no bus and a service that never answers (K-01, K-02), a locked
# collection, the choice `auto` makes, and GLib staying out of runs that
# do not need it.
. "$(dirname "$0")/lib-keyring.sh"
. "$(dirname "$0")/lib.sh"

keyring_start || test_fail 'gnome-keyring starts'

tool="$ASTRO_CRED_BUILD/tests/backend-tool"
fake="$ASTRO_CRED_BUILD/tests/fake-secret-service"
nl='
'
ASTRO_CRED_BACKEND=keyring
export ASTRO_CRED_BACKEND

# Milliseconds since the epoch (GNU date).
now_ms() {
	date +%s%N | cut -c1-13
}

# run_cmd [VAR=VALUE...] CMD... with no session bus at all: no address, an
# empty runtime dir, and an X display set, which is when GLib would try
# dbus-launch.
nobus() {
	run_cmd env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$TRASH/run" \
		DISPLAY=:77 "$@"
}

# --- K-03: what secret-tool (any other client) sees -----------------------
canary="CANARY-$$-not-an-attribute"
printf '{"token":"%s"}' "$canary" >"$TRASH/rec"
run_bt keyring store k03 <"$TRASH/rec"
check_run 'store a record' 0 ''
secret-tool search --all profile k03 >"$TRASH/st" 2>&1
test_expect 'K-03: the label names the profile' '
	grep -qx "label = Astro API token (k03)" "$TRASH/st"'
test_expect 'K-03: the schema is ours' '
	grep -qx "schema = io.astronomer.astro-cred.v1" "$TRASH/st"'
test_expect 'K-03: the attributes are exactly profile and kind' '
	[ "$(grep "^attribute\." "$TRASH/st" | LC_ALL=C sort)" = \
	  "attribute.kind = record${nl}attribute.profile = k03" ]'
test_expect 'K-03: the record is the secret' '
	grep -q "^secret = .*$canary" "$TRASH/st"'
test_expect 'K-03: the record is in no label or attribute' '
	! grep -v "^secret = " "$TRASH/st" | grep -q "$canary"'

# --- K-05: items of other applications ------------------------------------
printf 'foreign' | secret-tool store --label=foreign profile k05 kind record
printf 'partial' | secret-tool store --label=partial \
	xdg:schema io.astronomer.astro-cred.v1 profile k05b
run_bt keyring get k05
check_run 'K-05: an item of another schema is not ours' 1 ''
run_bt keyring get k05b
check_run 'K-05: an item lacking one of our attributes is not ours' 1 ''
run_bt keyring list
check_run 'K-05: list shows only our items' 0 'k03'
printf 'ours' >"$TRASH/rec"
run_bt keyring store k05 <"$TRASH/rec"
run_bt keyring get k05
check_run 'K-05: ours is found beside the other one' 0 'ours'
run_bt keyring erase k05
check_run 'K-05: erase ours' 0 ''
test_expect "K-05: erase left the other application's item alone" '
	[ "$(secret-tool lookup profile k05 kind record)" = foreign ]'

# --- records we cannot hold are refused, not cut ---------------------------
head -c 8193 /dev/zero | tr '\0' x >"$TRASH/rec"
run_bt keyring store big <"$TRASH/rec"
check_run 'a record over RECORD_MAX is refused (2)' 2 '' 'larger than 8192'
run_bt keyring get big
check_run '... and nothing was stored' 1 ''

# --- auto, with a Secret Service ------------------------------------------
for i in 1 2 3; do
	run_cmd env ASTRO_CRED_BACKEND=auto ASTRO_CRED_VERBOSE=1 "$tool" - which
	check_run "auto picks the keyring when it answers (run $i)" 0 keyring \
		'backend: keyring \(auto\)'
done
run_cmd env ASTRO_CRED_BACKEND= "$tool" - which
check_run 'an empty ASTRO_CRED_BACKEND means auto' 0 keyring
run_cmd env ASTRO_CRED_BACKEND=Keyring "$tool" - which
check_run 'an unknown backend name is a usage error' 2 '' \
	"unknown backend 'Keyring'"

# --- the bus found through $XDG_RUNTIME_DIR/bus ---------------------------
bus_path=$(printf '%s' "$DBUS_SESSION_BUS_ADDRESS" |
	sed -n 's/^unix:path=\([^,;]*\).*/\1/p')
if [ -S "$bus_path" ]; then
	# A runtime dir whose name needs D-Bus address escaping.
	xdg="$TRASH/x dg%1,;"
	mkdir -p "$xdg"
	ln -s "$bus_path" "$xdg/bus"
	run_cmd env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$xdg" \
		"$tool" keyring get k03
	check_run 'no address but $XDG_RUNTIME_DIR/bus: that bus is used' 0 \
		"{\"token\":\"$canary\"}"
else
	test_skip 'the session bus is not a path socket here'
fi

# --- K-01: no session bus --------------------------------------------------
for verb in get store erase list; do
	profile=k03
	[ "$verb" = list ] && profile=
	t0=$(now_ms)
	# shellcheck disable=SC2086 # no profile for list
	nobus "$tool" keyring "$verb" $profile </dev/null
	t1=$(now_ms)
	check_run "K-01: no bus: $verb exits 3" 3 '' 'no D-Bus session bus'
	test_expect "K-01: no bus: $verb answers within 5 s" \
		'[ $((t1 - t0)) -lt 5000 ]'
done
if strace -f -qq -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace: leak checks off here only.
	noleak="ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0"
	nobus "$noleak" strace -f -qq -e trace=execve -o "$TRASH/trace" \
		"$tool" keyring get k03
	test_expect 'K-01: no bus: nothing is executed (no dbus-launch)' '
		[ "$rc" = 3 ] && [ "$(grep -c execve "$TRASH/trace")" = 1 ] &&
		grep -q "backend-tool" "$TRASH/trace"'
	run_cmd env "$noleak" DBUS_SESSION_BUS_ADDRESS=autolaunch: \
		strace -f -qq -e trace=execve -o "$TRASH/trace" \
		"$tool" keyring get k03
	test_expect 'K-01: an autolaunch: address is refused, nothing executed' '
		[ "$rc" = 3 ] && [ "$(grep -c execve "$TRASH/trace")" = 1 ] &&
		printf "%s" "$err" | grep -q "never starts"'
else
	test_skip 'strace cannot trace here'
	test_skip 'strace cannot trace here'
fi
for i in 1 2 3; do
	nobus ASTRO_CRED_BACKEND=auto ASTRO_CRED_VERBOSE=1 "$tool" - which
	check_run "no bus: auto picks the file, and says so (run $i)" 0 file \
		'backend: file \(auto\)'
done

# --- a bus without a Secret Service; K-02: one that never answers ----------
# A bus of its own (no D-Bus activation, see session-bus.conf).  First
# nobody owns org.freedesktop.secrets; then fake-secret-service owns it and
# drops every call.
dbus-run-session --config-file="$ASTRO_CRED_TOP/tests/t/session-bus.conf" \
	-- sh -c '
	tool=$1 fake=$2 dir=$3
	"$tool" keyring get k03 >"$dir/none.out" 2>"$dir/none.err"
	echo $? >"$dir/none.rc"
	ASTRO_CRED_BACKEND=auto "$tool" - which >"$dir/none.which" 2>&1
	"$fake" >"$dir/fake.out" 2>&1 &
	fp=$!
	i=0
	while ! grep -q ready "$dir/fake.out" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	t0=$(date +%s%N | cut -c1-13)
	"$tool" keyring get k03 >"$dir/hung.out" 2>"$dir/hung.err"
	echo $? >"$dir/hung.rc"
	t1=$(date +%s%N | cut -c1-13)
	echo $((t1 - t0)) >"$dir/hung.ms"
	ASTRO_CRED_BACKEND=auto "$tool" - which >"$dir/hung.which" 2>&1
	kill $fp' sh "$tool" "$fake" "$TRASH" 2>/dev/null
test_expect 'no Secret Service on the bus: exit 3, nothing printed' '
	[ "$(cat "$TRASH/none.rc")" = 3 ] && [ ! -s "$TRASH/none.out" ] &&
	grep -q "no Secret Service on the session bus" "$TRASH/none.err"'
test_expect 'no Secret Service on the bus: auto picks the file' '
	[ "$(cat "$TRASH/none.which")" = file ]'
test_expect 'K-02: the fake service owned the name' '
	grep -qx ready "$TRASH/fake.out"'
test_expect 'K-02: a service that never answers: exit 3, nothing printed' '
	[ "$(cat "$TRASH/hung.rc")" = 3 ] && [ ! -s "$TRASH/hung.out" ] &&
	grep -q "did not answer" "$TRASH/hung.err"'
test_expect 'K-02: ... after the deadline, within 6 s' '
	ms=$(cat "$TRASH/hung.ms") && [ "$ms" -ge 2500 ] && [ "$ms" -lt 6000 ]'
test_expect 'K-02: auto passes over a service that never answers' '
	[ "$(cat "$TRASH/hung.which")" = file ]'

# --- a locked collection ---------------------------------------------------
printf 'locked-record' >"$TRASH/rec"
run_bt keyring store lk <"$TRASH/rec"
check_run 'store before locking' 0 ''
keyring_lock
test_expect 'the login collection is now locked' '
	[ "$(keyring_locked)" = true ]'
run_bt keyring get lk
check_run 'locked: get exits 3 (not 1), nothing printed' 3 '' 'is locked'
run_bt keyring store lk2 <"$TRASH/rec"
check_run 'locked: store exits 3' 3 '' 'is locked'
run_bt keyring erase lk
check_run 'locked: erase exits 3' 3 '' 'is locked'
run_bt keyring list
check_run 'locked: list exits 3' 3 '' 'is locked'
run_cmd env ASTRO_CRED_BACKEND=auto "$tool" - which
check_run 'locked: auto still picks the keyring' 0 keyring
test_expect 'unlock the collection' 'keyring_unlock'
run_bt keyring get lk
check_run 'after unlock the record is still there' 0 'locked-record'
run_bt keyring get lk2
check_run 'after unlock: nothing was stored while locked' 1 ''

# --- GLib only in runs that use the keyring (helper/base/module.h) --------------
LD_DEBUG=libs ASTRO_CRED_BACKEND=file "$tool" - list >/dev/null \
	2>"$TRASH/ld"
test_expect 'backend file: GLib is not loaded' '
	grep -q "calling init" "$TRASH/ld" &&
	! grep -Eq "libgio|libsecret" "$TRASH/ld"'
nobus LD_DEBUG=libs ASTRO_CRED_BACKEND=auto "$tool" - which
test_expect 'auto without a bus: GLib is not loaded' '
	[ "$out" = file ] && ! grep -Eq "libgio|libsecret" "$TRASH/err"'
LD_DEBUG=libs "$tool" keyring list >/dev/null 2>"$TRASH/ld"
test_expect 'backend keyring: GLib is loaded (the checks above can fail)' '
	grep -q "libgio-2.0.so" "$TRASH/ld"'
test_expect 'astro-cred itself does not link libsecret or GLib' '
	readelf -d "$ASTRO_CRED" >"$TRASH/elf" &&
	grep -q NEEDED "$TRASH/elf" &&
	! grep -Eq "libsecret|libglib|libgio" "$TRASH/elf"'
test_expect 'keyring.so links GLib (GDBus), not libsecret' '
	readelf -d "$ASTRO_CRED_BUILD/lib/astro-cred/keyring.so" >"$TRASH/elf" &&
	grep NEEDED "$TRASH/elf" | grep -q libgio &&
	! grep -q libsecret "$TRASH/elf"'

# Without its module (a copy of the tool far from ../lib/astro-cred).
mkdir -p "$TRASH/bin"
cp "$tool" "$TRASH/bin/backend-tool"
rc=0
"$TRASH/bin/backend-tool" keyring get k03 >"$TRASH/out" 2>"$TRASH/err" ||
	rc=$?
test_expect 'no keyring module: exit 3 with the reason' '
	[ "$rc" = 3 ] && [ ! -s "$TRASH/out" ] &&
	grep -q "cannot load module" "$TRASH/err"'
test_expect 'no keyring module: auto picks the file' '
	[ "$(ASTRO_CRED_BACKEND=auto "$TRASH/bin/backend-tool" - which \
		2>/dev/null)" = file ]'

test_done
