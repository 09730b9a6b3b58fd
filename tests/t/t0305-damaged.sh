#!/bin/sh
# Damage that must not hide what is intact.  `list` shows every readable
# profile even when one is damaged (that one as `corrupt`, never its
# contents), then exits 3, with the sealed file and with the keyring.  A
# damaged key-check file is not blamed on the key: reads go on working,
# `store` says the key-check file is damaged and how to repair it, and the
# repair (removing it) keeps every profile; a wrong key is still refused,
# before and after.
. "$(dirname "$0")/lib-keyring.sh"
. "$(dirname "$0")/lib.sh"

S=$ASTRO_CRED_DIR
P=$S/profiles
JWT="python3 $(dirname "$0")/jwt.py"

# store_nv PROFILE: store a fresh (unverified) token; its text in $TRASH/PROFILE.tok
store_nv() {
	$JWT --exp-in 3600 >"$TRASH/$1.tok"
	printf 'token=%s\n' "$(cat "$TRASH/$1.tok")" >"$TRASH/req"
	run_cred store -p "$1" --no-verify <"$TRASH/req"
}
# flip FILE OFFSET: flip one bit of FILE in place
flip() {
	python3 - "$1" "$2" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[int(sys.argv[2])] ^= 1
open(sys.argv[1], 'wb').write(b)
PY
}
# row PROFILE KEY: KEY's value in the kv block of PROFILE in $out
row() {
	printf '%s\n' "$out" | awk -v p="$1" -v k="$2" '
		$0 == "profile=" p { on = 1; next }
		$0 == "" { on = 0 }
		on && index($0, k "=") == 1 { print substr($0, length(k) + 2) }'
}

# --- list with one damaged profile (sealed file) ------------------------
for p in a b c; do
	store_nv $p
	check_run "store profile $p" 0 ''
done
flip "$P/b.acrd" 200
run_cred list --format kv </dev/null
check_run 'list: exit 3 with one damaged profile' 3 "$out" \
	"1 profile could not be read.*corrupt.*astro-cred erase -p NAME"
test_expect 'the damaged profile is named on stderr' '
	printf "%s" "$err" | grep -q "cannot open profile .b."'
test_expect 'the readable ones are listed as ok' '
	[ "$(row a state)" = ok ] && [ "$(row c state)" = ok ] &&
	[ -n "$(row a token_id)" ] && [ -n "$(row c token_id)" ]'
test_expect 'the damaged one as corrupt, with nothing from its contents' '
	[ "$(row b state)" = corrupt ] && [ "$(row b backend)" = file ] &&
	[ -z "$(row b token_id)" ] && [ -z "$(row b scope)" ]'
test_expect 'no token value anywhere' '! printf "%s" "$out$err" | grep -q "eyJ"'
run_cred list </dev/null
test_expect 'the table too: every profile, b as corrupt, exit 3' '
	[ "$rc" = 3 ] && printf "%s\n" "$out" | grep -q "^a .* ok *$" &&
	printf "%s\n" "$out" | grep -q "^b .* corrupt *$" &&
	printf "%s\n" "$out" | grep -q "^c .* ok *$"'
run_cred list --format json </dev/null
test_expect 'and json' '
	[ "$rc" = 3 ] && printf "%s" "$out" | python3 -c "
import json, sys; a = json.load(sys.stdin)
s = {o[\"profile\"]: o[\"state\"] for o in a}
assert s == {\"a\": \"ok\", \"b\": \"corrupt\", \"c\": \"ok\"}, s
assert set(a[1]) == {\"profile\", \"backend\", \"state\"}, a[1]"'
run_cred get -p a --format raw </dev/null
check_run 'the others still serve their tokens' 0 "$(cat "$TRASH/a.tok")"
run_cred erase -p b </dev/null
check_run 'erase forgets the damaged profile' 0 '' 'cannot be read; forgetting it'
run_cred list --format kv </dev/null
check_run 'once the damaged profile is erased, list exits 0' 0 "$out"

# --- a damaged key-check file --------------------------------------------
K=$S/keycheck-keyfile.acrd
cp "$K" "$TRASH/keycheck.good"
flip "$K" 200
run_cred get -p a --format raw </dev/null
check_run 'damaged key check: reads still work' 0 "$(cat "$TRASH/a.tok")"
store_nv d
check_run 'store: exit 3, the key-check file named as damaged, not the key' 3 '' \
	"key-check file '$K' is damaged: the key opens the store's profiles"
test_expect 'the message says how to repair it without losing profiles' '
	printf "%s" "$err" | grep -q "remove it (rm .$K.).*no profile is lost" &&
	! printf "%s" "$err" | grep -q "not this store.s key"'
test_expect 'nothing was stored' '[ ! -e "$P/d.acrd" ]'
head -c 32 /dev/urandom >"$TRASH/wrong.key"
chmod 600 "$TRASH/wrong.key"
ASTRO_CRED_KEY_FILE=$TRASH/wrong.key store_nv d
check_run 'a wrong key is still called a wrong key' 3 '' \
	"not this store's key"
rm "$K"
ASTRO_CRED_KEY_FILE=$TRASH/wrong.key store_nv d
check_run 'after the repair a wrong key cannot make a new key check' 3 '' \
	"does not open the store's profiles"
test_expect 'and made none' '[ ! -e "$K" ] && [ ! -e "$P/d.acrd" ]'
store_nv d
check_run 'after the repair, store with the right key works' 0 ''
test_expect 'a new key-check file, and every profile readable' '
	[ -s "$K" ] && ! cmp -s "$K" "$TRASH/keycheck.good" &&
	for p in a c d; do
		run_cred get -p $p --format raw </dev/null &&
		[ "$rc" = 0 ] && [ "$out" = "$(cat "$TRASH/$p.tok")" ] || exit 1
	done'
flip "$K" 2
store_nv e
check_run 'a damaged header is named too, with the repair' 3 '' \
	"key-check file '$K' is damaged .*remove it"

# --- the same with a passphrase store --------------------------------------
export ASTRO_CRED_DIR="$TRASH/pstore" ASTRO_CRED_PASSPHRASE_FILE="$TRASH/pass"
unset ASTRO_CRED_KEY_FILE
export ASTRO_CRED_KEY_CACHE_SECONDS=0
printf 'correct horse\n' >"$TRASH/pass"
chmod 600 "$TRASH/pass"
store_nv pa
check_run 'passphrase store: store a profile' 0 ''
PK=$ASTRO_CRED_DIR/keycheck-passphrase.acrd
salt() { dd if="$1" bs=1 skip=20 count=16 2>/dev/null | od -An -tx1; }
old_salt=$(salt "$PK")
flip "$PK" 200
store_nv pb
check_run 'passphrase store: a damaged key check is named as such' 3 '' \
	"key-check file '$PK' is damaged: the key opens"
printf 'wrong horse\n' >"$TRASH/pass"
store_nv pb
check_run 'a wrong passphrase is still called wrong' 3 '' \
	"passphrase is not this store's"
rm "$PK"
store_nv pb
check_run 'after the repair a wrong passphrase cannot make a new key check' 3 '' \
	"passphrase does not open the store's profiles"
printf 'correct horse\n' >"$TRASH/pass"
store_nv pb
check_run 'after the repair the right passphrase stores' 0 ''
test_expect 'the new key check keeps the store salt, every profile reads' '
	[ "$(salt "$PK")" = "$old_salt" ] &&
	[ "$(salt "$ASTRO_CRED_DIR/profiles/pb.acrd")" = "$old_salt" ] &&
	run_cred get -p pa --format raw </dev/null && [ "$rc" = 0 ] &&
	[ "$out" = "$(cat "$TRASH/pa.tok")" ]'
unset ASTRO_CRED_PASSPHRASE_FILE
export ASTRO_CRED_DIR="$S" ASTRO_CRED_KEY_FILE="$TRASH/key"

# --- list with one damaged record (keyring) --------------------------------
if keyring_start; then
	export ASTRO_CRED_BACKEND=keyring
	for p in ka kc; do
		store_nv $p
		check_run "keyring: store $p" 0 ''
	done
	printf '{"v":1,"broken":' >"$TRASH/garbage"
	run_bt keyring store kb <"$TRASH/garbage"
	test_expect 'keyring: a damaged record is in place' '[ "$rc" = 0 ]'
	run_cred list --format kv </dev/null
	test_expect 'keyring: list shows all three, kb corrupt, exit 3' '
		[ "$rc" = 3 ] && [ "$(row ka state)" = ok ] &&
		[ "$(row kc state)" = ok ] && [ "$(row kb state)" = corrupt ] &&
		[ "$(row kb backend)" = keyring ] && [ -z "$(row kb token_id)" ]'
	export ASTRO_CRED_BACKEND=file
else
	test_fail 'gnome-keyring starts'
fi

test_done
