#!/bin/sh
# The sealed file backend through tests/tools/store-tool: files and modes,
# refusals (ssh-style), key sources, the kernel keyring cache, stale temp
# files, concurrency, locks, and 10,000 profiles.
. "$(dirname "$0")/lib.sh"

TOOL="$ASTRO_CRED_BUILD/tests/store-tool"
VECGEN="$ASTRO_CRED_BUILD/tests/sealed-vectors"
S="$ASTRO_CRED_DIR"
CANARY="pass-CANARY-$$-word"
export ASTRO_CRED_KEY_CACHE_SECONDS=0 ASTRO_CRED_LOCK_TIMEOUT=10
ALLERR="$TRASH/all-stderr"
: >"$ALLERR"

# st [VAR=VALUE...] stool ARGS...: run store-tool (file backend) with stdin
# as given; sets out, err, rc.  No controlling terminal (setsid), so
# nothing can prompt.  Assignments go through env(1): a prefix assignment
# to a shell function may outlive the call in some shells.
mkdir "$TRASH/bin"
printf '#!/bin/sh\nexec "%s" file "$@"\n' "$TOOL" >"$TRASH/bin/stool"
chmod +x "$TRASH/bin/stool"
PATH="$TRASH/bin:$PATH"
st() {
	rc=0
	setsid -w env "$@" >"$TRASH/out" 2>"$TRASH/err" || rc=$?
	out=$(cat "$TRASH/out")
	err=$(cat "$TRASH/err")
	cat "$TRASH/err" >>"$ALLERR"
}
# input DATA: the next st's stdin, as a file (a pipe would run st in a subshell).
input() { printf '%s' "$1" >"$TRASH/in"; }

mode() { stat -c %a "$1"; }

test_expect 'vectors regenerate byte for byte' '
	mkdir "$TRASH/vec" && "$VECGEN" "$TRASH/vec" &&
	diff -r "$TRASH/vec" "$ASTRO_CRED_TOP/tests/vectors/sealed"'

# F-01: modes whatever the umask.
(umask 000 && printf 'rec-a' | setsid -w "$TOOL" file store a) 2>>"$ALLERR"
test_expect 'store under umask 000: directories 0700, files 0600' '
	for d in "$S" "$S/profiles" "$S/locks" "$S/tmp"; do
		[ "$(mode "$d")" = 700 ] || { echo "$d $(mode "$d")"; exit 1; }
	done
	for f in "$S/profiles/a.acrd" "$S/locks/a.lock" \
		"$S/keycheck-keyfile.acrd"; do
		[ "$(mode "$f")" = 600 ] || { echo "$f $(mode "$f")"; exit 1; }
	done'

st stool get a
check_run 'get returns the record' 0 'rec-a'
printf 'x\000y\nz\377' >"$TRASH/binrec"
setsid -w "$TOOL" file store bin <"$TRASH/binrec"
test_expect 'records are opaque bytes (NUL, newline, 0xff)' '
	setsid -w "$TOOL" file get bin >"$TRASH/binrec.out" &&
	cmp "$TRASH/binrec" "$TRASH/binrec.out"'
st stool get nope
check_run 'get of a missing profile: exit 1' 1 ''
st stool list
check_run 'list' 0 "a
bin"
st stool erase bin
check_run 'erase' 0 ''
st stool erase bin
check_run 'erase of a missing profile: exit 1' 1 ''
st stool get '../x'
check_run 'a bad profile name is a usage error' 2 ''
head -c 8192 /dev/zero | tr '\0' x >"$TRASH/max"
st stool store big <"$TRASH/max"
check_run 'a record of RECORD_MAX bytes is stored' 0 ''
test_expect 'and read back whole' '
	setsid -w "$TOOL" file get big | cmp - "$TRASH/max"'
printf 'y' >>"$TRASH/max"
st stool store big2 <"$TRASH/max"
check_run 'a record over RECORD_MAX is refused' 2 '' 'too large'

# F-02..F-06: refusals, never a silent chmod.
P="$S/profiles"
chmod 644 "$P/a.acrd"
st stool get a
check_run 'a 0644 profile file is refused' 3 '' 'permissions 0644 .* too open'
test_expect 'and left as it was' '[ "$(mode "$P/a.acrd")" = 644 ]'
chmod 640 "$P/a.acrd"
st stool get a
check_run 'a 0640 profile file is refused' 3 '' 'permissions 0640'
chmod 600 "$P/a.acrd"
if [ "$(id -u)" = 0 ]; then
	cp -p "$P/a.acrd" "$P/other.acrd"
	chown 65534:65534 "$P/other.acrd"
	st stool get other
	check_run 'a file of another user is refused' 3 '' 'owned by uid 65534'
	rm -f "$P/other.acrd"
fi
ln -s "$P/a.acrd" "$P/link.acrd"
st stool get link
check_run 'a symlink is refused' 3 '' 'symbolic link'
ln -s /nonexistent "$P/dangling.acrd"
st stool get dangling
check_run 'a dangling symlink is refused' 3 '' 'symbolic link'
mkfifo "$P/fifo.acrd"
rc=0
timeout 20 setsid -w "$TOOL" file get fifo >/dev/null 2>"$TRASH/err" || rc=$?
test_expect 'a FIFO is refused without hanging' '
	[ $rc = 3 ] && grep -q "a FIFO" "$TRASH/err"'
mkdir "$P/dir.acrd"
st stool get dir
check_run 'a directory is refused' 3 '' 'a directory'
rm -rf "$P/link.acrd" "$P/dangling.acrd" "$P/fifo.acrd" "$P/dir.acrd"
mkdir -m 775 "$TRASH/gw"
st ASTRO_CRED_DIR="$TRASH/gw/store" stool get a
check_run 'a group-writable parent is refused' 3 '' 'group- or world-writable'
chmod 755 "$S"
st stool get a
check_run 'a store directory open to others is refused' 3 '' 'permissions 0755 .* too open'
chmod 700 "$S"
head -c 100 "$P/a.acrd" >"$P/short.acrd"
chmod 600 "$P/short.acrd"
st stool get short
check_run 'a truncated file is refused' 3 '' 'impossible size'
cp "$P/a.acrd" "$P/moved.acrd"
st stool get moved
check_run 'a file copied to another profile is refused' 3 '' 'wrong key or passphrase, or the file was altered'
python3 - "$P/a.acrd" "$P/flip.acrd" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[200] ^= 1
open(sys.argv[2], 'wb').write(b)
PY
chmod 600 "$P/flip.acrd"
st stool get flip
check_run 'a flipped bit is refused, nothing on stdout' 3 '' 'altered'
rm -f "$P/short.acrd" "$P/moved.acrd" "$P/flip.acrd"

# Key files.
head -c 32 /dev/urandom >"$TRASH/key2"
chmod 600 "$TRASH/key2"
st ASTRO_CRED_KEY_FILE="$TRASH/key2" stool get a
check_run 'wrong key: exit 3' 3 '' 'wrong key'
st ASTRO_CRED_KEY_FILE="$TRASH/key2" stool store a </dev/null
check_run 'storing with another key is refused' 3 '' "not this store's key"
st stool get a
check_run 'and the profile is unchanged' 0 'rec-a'
od -An -v -tx1 "$ASTRO_CRED_KEY_FILE" | tr -d ' \n' >"$TRASH/key.hex"
echo >>"$TRASH/key.hex"
chmod 600 "$TRASH/key.hex"
st ASTRO_CRED_KEY_FILE="$TRASH/key.hex" stool get a
check_run 'the same key as 64 hex digits and a newline' 0 'rec-a'
head -c 33 /dev/urandom >"$TRASH/key33"
chmod 600 "$TRASH/key33"
st ASTRO_CRED_KEY_FILE="$TRASH/key33" stool get a
check_run 'a 33-byte key file is refused' 3 '' 'exactly 32 bytes'
chmod 644 "$TRASH/key2"
st ASTRO_CRED_KEY_FILE="$TRASH/key2" stool get a
check_run 'a key file open to others is refused' 3 '' 'permissions 0644 .*key file'
st ASTRO_CRED_KEY_FILE="$TRASH" stool get a
check_run 'a directory as key file is refused' 3 '' 'not a regular file'
st ASTRO_CRED_KEY_FILE="$TRASH/missing" stool get a
check_run 'a missing key file: exit 3' 3 '' 'cannot open key file'
if [ "$(id -u)" = 0 ]; then
	cp -p "$ASTRO_CRED_KEY_FILE" "$TRASH/key.other"
	chown 65534 "$TRASH/key.other"
	st ASTRO_CRED_KEY_FILE="$TRASH/key.other" stool get a
	check_run 'a key file of another user is refused' 3 '' 'owned by uid 65534'
fi
st ASTRO_CRED_KEY_FILE= stool get a
check_run 'a key-file profile without a key file' 3 '' 'sealed with a key file'

# Passphrases, in a store of their own.
PS="$TRASH/pstore"
unset ASTRO_CRED_KEY_FILE
export ASTRO_CRED_DIR="$PS"
input 'rec-p'
st ASTRO_CRED_PASSPHRASE="$CANARY" stool store p <"$TRASH/in"
check_run 'store with ASTRO_CRED_PASSPHRASE' 0 ''
test_expect 'the file header says Argon2id, ops 2, 64 MiB' '
	[ "$(od -An -tx1 -j9 -N1 "$PS/profiles/p.acrd" | tr -d " ")" = 01 ] &&
	[ "$(od -An -tu4 -j12 -N4 "$PS/profiles/p.acrd" | tr -d " ")" = 2 ] &&
	[ "$(od -An -tu4 -j16 -N4 "$PS/profiles/p.acrd" | tr -d " ")" = 65536 ]'
test_expect 'one salt per store: the key check and the profile share it' '
	[ "$(od -An -tx1 -j20 -N16 "$PS/profiles/p.acrd")" = \
	  "$(od -An -tx1 -j20 -N16 "$PS/keycheck-passphrase.acrd")" ]'
printf '%s\nsecond line\n' "$CANARY" >"$TRASH/pass"
chmod 600 "$TRASH/pass"
st ASTRO_CRED_PASSPHRASE_FILE="$TRASH/pass" stool get p
check_run 'get with ASTRO_CRED_PASSPHRASE_FILE (first line)' 0 'rec-p'
chmod 640 "$TRASH/pass"
st ASTRO_CRED_PASSPHRASE_FILE="$TRASH/pass" stool get p
check_run 'a passphrase file open to others is refused' 3 '' 'permissions 0640 .*passphrase file'
chmod 600 "$TRASH/pass"
rc=0
ASTRO_CRED_PASSPHRASE_FILE=/dev/stdin setsid -w "$TOOL" file get p \
	>"$TRASH/out" 2>>"$ALLERR" <<EOP || rc=$?
$CANARY
EOP
test_expect 'a passphrase from a pipe (/dev/stdin)' '
	[ $rc = 0 ] && [ "$(cat "$TRASH/out")" = rec-p ]'
st ASTRO_CRED_PASSPHRASE=wrong-one stool get p
check_run 'a wrong passphrase: exit 3, one generic message' 3 '' 'wrong key or passphrase'
st ASTRO_CRED_PASSPHRASE=wrong-one stool store p </dev/null
check_run 'storing with another passphrase is refused' 3 '' "passphrase is not this store's"
st ASTRO_CRED_PASSPHRASE="$CANARY" stool get p
check_run 'and the profile is unchanged' 0 'rec-p'
st stool get p
check_run 'no key, no terminal: exit 3' 3 ''
test_expect 'the message lists every way to give a key' '
	for w in ASTRO_CRED_KEY_FILE ASTRO_CRED_PASSPHRASE_FILE \
		ASTRO_CRED_PASSPHRASE /dev/tty; do
		printf "%s" "$err" | grep -q "$w" || { echo "no $w"; exit 1; }
	done'
st ASTRO_CRED_KEY_FILE="$TRASH/key" stool get p
check_run 'a passphrase profile needs the passphrase even with a key file' 3 '' 'no key for the sealed file store'
input 'rec-both'
st ASTRO_CRED_KEY_FILE="$TRASH/key" ASTRO_CRED_PASSPHRASE="$CANARY" \
	stool store both <"$TRASH/in"
test_expect 'key file and passphrase both given: the key file wins' '
	[ $rc = 0 ] &&
	[ "$(od -An -tx1 -j9 -N1 "$PS/profiles/both.acrd" | tr -d " ")" = 00 ]'

# The kernel keyring cache.
export ASTRO_CRED_KEY_CACHE_SECONDS=120
st ASTRO_CRED_PASSPHRASE="$CANARY" stool get p
check_run 'a get with the passphrase fills the cache' 0 'rec-p'
st ASTRO_CRED_VERBOSE=1 stool get p
check_run 'cache hit: no passphrase needed' 0 'rec-p' 'cached in the kernel keyring'
test_expect 'no Argon2id on a cache hit' '! printf "%s" "$err" | grep -q Argon2id'
input 'rec-q'
st stool store q <"$TRASH/in"
check_run 'a store of another profile uses the cached key too' 0 ''
st stool get q
check_run 'and reads back' 0 'rec-q'
st ASTRO_CRED_KEY_CACHE_SECONDS=0 stool get p
check_run 'ASTRO_CRED_KEY_CACHE_SECONDS=0 does not consult the cache' 3 '' 'no key'
st ASTRO_CRED_DIR="$TRASH/pstore2" ASTRO_CRED_PASSPHRASE="$CANARY" stool store p </dev/null
st ASTRO_CRED_DIR="$TRASH/pstore2" stool get p
check_run 'another store (another salt) has its own cache entry' 0 ''
export ASTRO_CRED_KEY_CACHE_SECONDS=0

# The terminal prompt, through a pseudo-terminal (script).  Input is sent
# after a pause: the prompt flushes anything typed ahead (TCSAFLUSH).
if command -v script >/dev/null; then
	rc=0
	(sleep 2; printf '%s\n' "$CANARY"; sleep 3) |
		timeout 30 script -qec "$TOOL file get p >'$TRASH/tty.out'" \
			"$TRASH/tty.log" >/dev/null 2>&1 || rc=$?
	test_expect 'prompt on /dev/tty: the record on stdout, nothing else' '
		[ "$(cat "$TRASH/tty.out")" = rec-p ]'
	test_expect 'the prompt went to the terminal, with echo off' '
		grep -q "passphrase for" "$TRASH/tty.log" &&
		! grep -q "$CANARY" "$TRASH/tty.log"'
fi

# Stale temp files (F-14).
export ASTRO_CRED_DIR="$S" ASTRO_CRED_KEY_FILE="$TRASH/key"
touch -d '2 minutes ago' "$S/tmp/.acrd-tmp.0123456789abcdef" \
	"$S/tmp/other-file"
touch "$S/tmp/.acrd-tmp.fedcba9876543210"
input 'rec-t'
st stool store t <"$TRASH/in"
test_expect 'a store removes our stale temp files, only those' '
	[ ! -e "$S/tmp/.acrd-tmp.0123456789abcdef" ] &&
	[ -e "$S/tmp/.acrd-tmp.fedcba9876543210" ] &&
	[ -e "$S/tmp/other-file" ]'
st stool get t
check_run 'and temp files are never read as a profile' 0 'rec-t'
rm -f "$S/tmp/.acrd-tmp.fedcba9876543210" "$S/tmp/other-file"

# X-05: profiles in parallel, and racing first writers of a new store.
for i in $(seq 1 20); do
	printf "A$i" | setsid -w "$TOOL" file store "pa$i" 2>>"$ALLERR" &
	printf "B$i" | setsid -w "$TOOL" file store "pb$i" 2>>"$ALLERR" &
done
wait
test_expect 'two writers of different profiles at once lose neither' '
	for i in $(seq 1 20); do
		[ "$(setsid -w "$TOOL" file get "pa$i")" = "A$i" ] &&
		[ "$(setsid -w "$TOOL" file get "pb$i")" = "B$i" ] ||
			{ echo "lost pa$i or pb$i"; exit 1; }
	done'
for r in 1 2 3; do
	d="$TRASH/race$r"
	for w in x y; do
		printf "$w" | ASTRO_CRED_DIR="$d" ASTRO_CRED_KEY_FILE= \
			ASTRO_CRED_PASSPHRASE="$CANARY" \
			setsid -w "$TOOL" file store "$w" 2>>"$ALLERR" &
	done
	wait
done
test_expect 'two first writers of a new passphrase store agree on its salt' '
	for r in 1 2 3; do
		for w in x y; do
			got=$(ASTRO_CRED_DIR="$TRASH/race$r" ASTRO_CRED_KEY_FILE= \
				ASTRO_CRED_PASSPHRASE="$CANARY" \
				setsid -w "$TOOL" file get "$w")
			[ "$got" = "$w" ] || { echo "race$r $w: $got"; exit 1; }
		done
		[ "$(od -An -tx1 -j20 -N16 "$TRASH/race$r/profiles/x.acrd")" = \
		  "$(od -An -tx1 -j20 -N16 "$TRASH/race$r/profiles/y.acrd")" ] ||
			{ echo "race$r: two salts"; exit 1; }
	done'

# Locks (X-02, X-03).
setsid -w "$TOOL" file lock held 30 >"$TRASH/lock.out" 2>>"$ALLERR" &
holder=$!
for i in $(seq 1 100); do
	[ -s "$TRASH/lock.out" ] && break
	sleep 0.1
done
st ASTRO_CRED_LOCK_TIMEOUT=0.5 stool store held </dev/null
check_run 'a held profile lock times out: exit 5' 5 '' 'gave up after 0.5 s'
input 'other'
st ASTRO_CRED_LOCK_TIMEOUT=0.5 stool store notheld <"$TRASH/in"
check_run 'another profile is not blocked' 0 ''
kill -9 $holder 2>/dev/null
wait $holder 2>/dev/null
input 'h'
st ASTRO_CRED_LOCK_TIMEOUT=5 stool store held <"$TRASH/in"
check_run 'a killed holder releases the lock at once' 0 ''

# 10,000 profiles: a get reads one file, whatever their number.
export ASTRO_CRED_DIR="$TRASH/many"
input 'first'
st stool store first <"$TRASH/in"
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$TRASH/get1.trace" "$TOOL" file get first >/dev/null 2>&1
"$TOOL" file fill 10000 p 2>>"$ALLERR"
test_expect '10,000 profiles stored' '
	[ "$(ls "$TRASH/many/profiles" | wc -l)" = 10001 ]'
st stool get p9999
check_run 'get among 10,000 profiles' 0 'record of p9999'
st stool get first
check_run 'get of the first profile' 0 'first'
test_expect 'list shows all 10,001' '
	[ "$(setsid -w "$TOOL" file list | wc -l)" = 10001 ]'
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$TRASH/get2.trace" "$TOOL" file get first >/dev/null 2>&1
test_expect 'a get makes the same system calls with 1 or 10,001 profiles' '
	! grep -q getdents "$TRASH/get2.trace" &&
	a=$(wc -l <"$TRASH/get1.trace") && b=$(wc -l <"$TRASH/get2.trace") &&
	echo "syscalls: $a and $b" && [ "$a" -eq "$b" ]'

test_expect 'no secret in any message' '! grep -q "$CANARY" "$ALLERR"'
test_done
