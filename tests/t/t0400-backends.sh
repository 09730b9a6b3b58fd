#!/bin/sh
# One conformance battery run against every backend (git's
# lib-credential.sh / t0303 idea): whatever a store is made of, it keeps
# one record per profile, byte for byte, and agrees on what a profile name
# is.  Driven through tests/backend-tool, which uses backend_find().
. "$(dirname "$0")/lib-keyring.sh"
. "$(dirname "$0")/lib.sh"

keyring_start || test_fail 'gnome-keyring starts'

tool="$ASTRO_CRED_BUILD/tests/backend-tool"
name64=$(printf '%064d' 0 | tr 0 x)
name65="${name64}y"
# Names at the edges of [A-Za-z0-9._-]{1,64}, every punctuation allowed.
good_names="a $name64 - _ ... .hidden trailing. A.b_c-9"
nl='
'

# Record bytes: every byte value once; and RECORD_MAX (backend.h) bytes.
i=0
while [ $i -lt 256 ]; do
	printf "\\$(printf %03o $i)"
	i=$((i + 1))
done >"$TRASH/allbytes"
head -c 8192 /dev/urandom >"$TRASH/largest"
printf 'record-one' >"$TRASH/r1"
printf 'record-two' >"$TRASH/r2"
printf '{"token":"x"}' >"$TRASH/r3"

# get into a file, for records that are not text.
get_to() {
	rc=0
	"$tool" "$1" get "$2" >"$3" 2>"$TRASH/err" || rc=$?
}

battery_basics() {
	b=$1
	run_bt "$b" list
	check_run "$b: list is empty at first" 0 ''
	run_bt "$b" get p1
	check_run "$b: get of a missing profile is 1" 1 ''
	run_bt "$b" erase p1
	check_run "$b: erase of a missing profile is 1" 1 ''
	run_bt "$b" store p1 <"$TRASH/r1"
	check_run "$b: store" 0 ''
	run_bt "$b" get p1
	check_run "$b: get returns what was stored" 0 'record-one'
	run_bt "$b" store p1 <"$TRASH/r2"
	check_run "$b: store over an existing record" 0 ''
	run_bt "$b" get p1
	check_run "$b: get returns the newer record" 0 'record-two'
	run_bt "$b" list
	check_run "$b: an overwrite leaves one entry" 0 'p1'
}

battery_two() {
	b=$1
	run_bt "$b" store p2 <"$TRASH/r3"
	check_run "$b: store a second profile" 0 ''
	run_bt "$b" get p1
	check_run "$b: the first profile is untouched" 0 'record-two'
	run_bt "$b" get p2
	check_run "$b: the second profile has its own record" 0 '{"token":"x"}'
	run_bt "$b" list
	check_run "$b: list shows both" 0 "p1${nl}p2"
	run_bt "$b" erase p1
	check_run "$b: erase" 0 ''
	run_bt "$b" get p1
	check_run "$b: get after erase is 1" 1 ''
	run_bt "$b" erase p1
	check_run "$b: erase again is 1" 1 ''
	run_bt "$b" get p2
	check_run "$b: erase leaves the other profile" 0 '{"token":"x"}'
	run_bt "$b" erase p2
	check_run "$b: erase the second" 0 ''
	run_bt "$b" cycle p3 <"$TRASH/r3"
	check_run "$b: store, get, list, erase, get in one process" 0 ''
}

battery_bytes() {
	b=$1
	run_bt "$b" store bin <"$TRASH/allbytes"
	get_to "$b" bin "$TRASH/got"
	test_expect "$b: every byte value 0..255 comes back" '
		[ "$rc" = 0 ] && cmp "$TRASH/allbytes" "$TRASH/got"'
	run_bt "$b" store big <"$TRASH/largest"
	get_to "$b" big "$TRASH/got"
	test_expect "$b: a record of RECORD_MAX (8192) random bytes comes back" '
		[ "$rc" = 0 ] && cmp "$TRASH/largest" "$TRASH/got"'
	run_bt "$b" erase bin
	run_bt "$b" erase big
	run_bt "$b" list
	check_run "$b: nothing left" 0 ''
}

battery_names() {
	b=$1
	for p in $good_names; do
		printf 'rec:%s' "$p" >"$TRASH/rn"
		run_bt "$b" store "$p" <"$TRASH/rn"
		st=$rc
		run_bt "$b" get "$p"
		test_expect "$b: profile name '$p' is accepted" '
			[ "$st" = 0 ] && [ "$rc" = 0 ] && [ "$out" = "rec:$p" ]'
	done
	for p in "$name65" . .. '' a/b 'a b' 'a:b' "a${nl}b" 'é' /etc \
		'a\b' '*'; do
		run_bt "$b" store "$p" <"$TRASH/r1"
		s1=$rc
		run_bt "$b" get "$p"
		s2=$rc
		run_bt "$b" erase "$p"
		s3=$rc
		shown=$(printf '%s' "$p" | tr '\n\\' '??')
		test_expect "$b: profile name '$shown' is refused (2)" '
			[ "$s1$s2$s3" = 222 ]'
	done
	want=$(printf '%s\n' $good_names | LC_ALL=C sort)
	run_bt "$b" list
	check_run "$b: list shows exactly the accepted names" 0 "$want"
	for p in $good_names; do
		run_bt "$b" erase "$p"
	done
	run_bt "$b" list
	check_run "$b: all erased" 0 ''
}

# The renewal lock (backend.h): exclusive per profile among processes,
# bounded by ASTRO_CRED_LOCK_TIMEOUT, released when the holder dies.
battery_lock() {
	b=$1
	"$tool" "$b" hold held >"$TRASH/hold.out" 2>"$TRASH/hold.err" &
	holder=$!
	for i in $(seq 1 100); do
		[ -s "$TRASH/hold.out" ] && break
		sleep 0.1
	done
	export ASTRO_CRED_LOCK_TIMEOUT=0.5
	run_bt "$b" lock held
	check_run "$b: a held lock: a second taker gives up (5)" 5 '' \
		'gave up after 0.5 s'
	run_bt "$b" lock other
	check_run "$b: another profile is not blocked" 0 ''
	kill -9 "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	export ASTRO_CRED_LOCK_TIMEOUT=5
	run_bt "$b" lock held
	check_run "$b: a killed holder's lock is free at once" 0 ''
	run_bt "$b" lock ..
	check_run "$b: the lock refuses a bad profile name (2)" 2 ''
	unset ASTRO_CRED_LOCK_TIMEOUT
}

for b in keyring file; do
	run_bt "$b" list
	if [ "$rc" != 0 ] && printf '%s' "$err" | grep -q 'not implemented'; then
		test_skip "$b: the $b backend is not implemented on this branch"
		continue
	fi
	ASTRO_CRED_BACKEND=$b
	export ASTRO_CRED_BACKEND
	battery_basics "$b"
	battery_two "$b"
	battery_bytes "$b"
	battery_names "$b"
	battery_lock "$b"
done
test_done
