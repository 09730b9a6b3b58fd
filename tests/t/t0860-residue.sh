#!/bin/sh
# Residual copies of secrets in the process image (security.md M-02), on
# the release binary.  As root, gdb may trace a non-dumpable process
# (CAP_SYS_PTRACE): tests/t/residue.py runs astro-cred under gdb to a
# catchpoint on exit_group (its last moment, after every wipe, free and
# atexit handler) or on execve (exec: before the command replaces us),
# reads every readable mapping in /proc/PID/maps and counts each token
# whole, its payload and its signature part, the key and the passphrase,
# by region: [heap], [stack], arena (the MADV_DONTDUMP sodium_malloc
# mappings: the secret arena), anon (other anonymous mappings), a file's
# data segment.  A whole token is classed by what precedes it
# (an Authorization header, the API's JSON answer, a Secret Service
# message, ASTRO_API_TOKEN=).  gcore then writes a core of the stopped
# process, grepped as a cross-check: it holds exactly what the scan found
# outside the arena, which MADV_DONTDUMP keeps out of any core.
#
# At exit, 0 copies anywhere: where only our code touches the secret (get,
# env, store, a passphrase store, exec whose command is missing) and where
# libcurl and OpenSSL do too (store with the API's check, a renewal: net.so
# makes them wipe what they free and OpenSSL cleanse what it has read,
# helper/api/api_mem.h).  exec: one copy, ASTRO_API_TOKEN=... in the
# environment handed to execve.  Where GDBus touches it (the keyring): 0 in
# the arena and on the stack, no fragments, every copy in a library's
# buffer as its context shows; the counts are printed (docs/security.md
# 3.8 has the table).  Positive controls: stopped at the write of the
# token, the scan finds it in the arena and the core does not; a renewal
# stopped at its write of the new token shows the scan finding that one.
# To find who left a copy: WATCH_HIT=SCENARIO:ADDRESS (a hit's address,
# from $R/SCENARIO.out with KEEP_TRASH=1) logs every write to it.
. "$(dirname "$0")/lib-keyring.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
SCAN="$(cd "$(dirname "$0")" && pwd)/residue.py"
R="$TRASH/residue"
mkdir -p "$R"
unset ASAN_OPTIONS RESIDUE_PATTERNS RESIDUE_NEW RESIDUE_OUT RESIDUE_CORE \
	RESIDUE_STOP RESIDUE_STDIN RESIDUE_STDOUT RESIDUE_WATCH

hex() {
	od -An -v -tx1 | tr -d ' \n'
}

# Can gdb (with python) run astro-cred to a catchpoint and read it, once
# it has made itself non-dumpable?  (As root, CAP_SYS_PTRACE lets it.)
if ! command -v gdb >/dev/null; then
	echo "1..0 # SKIP gdb is not installed (scripts/deps)"
	exit 0
fi
printf 'probe %s\n' "$(printf 'not-there-%s' "$$" | hex)" >"$R/probe.pat"
RESIDUE_PATTERNS="$R/probe.pat" RESIDUE_OUT="$R/probe.out" \
	gdb -batch -nx -x "$SCAN" --args "$REL" --version >"$R/probe.gdb" 2>&1
if ! grep -q '^mappings [1-9]' "$R/probe.out" 2>/dev/null ||
   grep -q '^error' "$R/probe.out"; then
	echo "1..0 # SKIP gdb cannot read a non-dumpable astro-cred here:" \
		"$(cat "$R/probe.out" "$R/probe.gdb" 2>/dev/null | tr '\n' ' ' |
			cut -c1-200)"
	exit 0
fi

# pats FILE TOKENFILE: a scenario's patterns: its token (old, old.payload,
# old.sig), the key and the passphrase.
PASS="residue-passphrase-$(head -c 9 /dev/urandom | hex)"
pats() {
	tok=$(cat "$2")
	{
		printf 'old %s\n' "$(printf %s "$tok" | hex)"
		printf 'old.payload %s\n' \
			"$(printf %s "$tok" | cut -d. -f2 | tr -d '\n' | hex)"
		printf 'old.sig %s\n' \
			"$(printf %s "$tok" | cut -d. -f3 | tr -d '\n' | hex)"
		printf 'key %s\n' "$(hex <"$TRASH/key")"
		printf 'pass %s\n' "$(printf %s "$PASS" | hex)"
	} >"$1"
}

watch_for() {
	case "${WATCH_HIT:-}" in
	"$1":*) echo "${WATCH_HIT#*:}" ;;
	esac
}

# scan NAME TOKENFILE STDIN [VAR=VALUE...] -- ARGS...: astro-cred ARGS
# under gdb, stopped at $STOP; the report in $R/NAME.out, stdout in
# $R/NAME.stdout, the core grep in $R/NAME.core.count.  With $NEW set, the
# token astro-cred prints is a new one, looked for too (new, new.payload,
# new.sig).
STOP=exit_group NEW=
SCENARIOS=
scan() {
	name=$1 tokf=$2 in=$3
	shift 3
	SCENARIOS="$SCENARIOS $name"
	pats "$R/$name.pat" "$tokf"
	vars=
	while [ "$1" != -- ]; do
		vars="$vars $1"
		shift
	done
	shift
	new=${NEW:+$R/$name.stdout}
	# shellcheck disable=SC2086 # vars are VAR=VALUE words
	env $vars RESIDUE_PATTERNS="$R/$name.pat" RESIDUE_OUT="$R/$name.out" \
		RESIDUE_CORE="$R/$name.core" RESIDUE_STOP="$STOP" \
		RESIDUE_STDIN="$in" RESIDUE_STDOUT="$R/$name.stdout" \
		RESIDUE_NEW="$new" RESIDUE_WATCH="$(watch_for "$name")" \
		gdb -batch -nx -x "$SCAN" --args "$REL" "$@" >"$R/$name.gdb" 2>&1
	if [ -s "$R/$name.core" ]; then
		RESIDUE_PATTERNS="$R/$name.pat" RESIDUE_NEW="$new" \
			python3 "$SCAN" core "$R/$name.core" >"$R/$name.core.count"
		rm -f "$R/$name.core"
	fi
	grep -E '^(error|write)' "$R/$name.out" | sed "s/^/# $name: /"
}

# hits SCENARIO [NAME [REGION [CLASS]]]: how many copies the scan found;
# each argument an extended regular expression matched against the whole
# field (default: any).
hits() {
	awk -v n="^(${2:-.*})\$" -v r="^(${3:-.*})\$" -v c="^(${4:-.*})\$" '
		$1 == "count" && $2 ~ n && $3 ~ r && $4 ~ c { s += $5 }
		END { print s + 0 }' "$R/$1.out"
}

# Every region but the arena.
OUT='[^a].*|a[^r].*'

# scanned SCENARIO: the scan ran to its catchpoint and read memory.
scanned() {
	grep -q '^mappings [1-9]' "$R/$1.out" && ! grep -q '^error' "$R/$1.out"
}

emu_start
keyring_start || test_fail 'gnome-keyring starts'

# (a) get of a sealed token: no network.
python3 "$(dirname "$0")/jwt.py" --exp-in 86400 >"$R/a.tok"
store_req "$R/a.req" "$R/a.tok"
"$REL" store -p a --no-verify <"$R/a.req" || test_fail 'store a'
scan get "$R/a.tok" /dev/null -- get -p a --format raw
# (b) env, and exec stopped at execve; exec of a missing command.
scan env "$R/a.tok" /dev/null -- env -p a --shell sh
STOP=execve
scan exec "$R/a.tok" /dev/null -- exec -p a -- /bin/true
STOP=exit_group
scan exec-missing "$R/a.tok" /dev/null -- exec -p a -- "$TRASH/no-such-cmd"
# (c) store of a new token, without and with the API's check.
python3 "$(dirname "$0")/jwt.py" --exp-in 86400 >"$R/c.tok"
store_req "$R/c.req" "$R/c.tok"
scan store "$R/c.tok" "$R/c.req" -- store -p c --no-verify
emuctl bootstrap --print token >"$R/cv.tok"
store_req "$R/cv.req" "$R/cv.tok"
scan store-verify "$R/cv.tok" "$R/cv.req" -- store -p cv
# (d) a renewal: get in the renewal window rotates through the API.
emuctl bootstrap --expires-in 3000 --print token >"$R/d.tok"
store_req "$R/d.req" "$R/d.tok" rotate_before=1h
"$REL" store -p d <"$R/d.req" || test_fail 'store d'
emuctl bootstrap --expires-in 3000 --print token >"$R/dl.tok"
store_req "$R/dl.req" "$R/dl.tok" rotate_before=1h
"$REL" store -p dl <"$R/dl.req" || test_fail 'store dl'
NEW=1
scan renew "$R/d.tok" /dev/null -- get -p d --format raw
# ... and one stopped as it writes the new token out (the control that the
# scan finds a new token; libcurl's handle is not cleaned up yet).
STOP=write-stdout
scan renew-live "$R/dl.tok" /dev/null -- get -p dl --format raw
STOP=exit_group
NEW=
# (e) the keyring backend (GDBus, plain session): store, then get.
python3 "$(dirname "$0")/jwt.py" --exp-in 86400 >"$R/e.tok"
store_req "$R/e.req" "$R/e.tok"
scan kr-store "$R/e.tok" "$R/e.req" ASTRO_CRED_BACKEND=keyring -- \
	store -p e --no-verify
scan kr-get "$R/e.tok" /dev/null ASTRO_CRED_BACKEND=keyring -- \
	get -p e --format raw
# (f) a passphrase store: the first use derives the key from it.
printf '%s\n' "$PASS" >"$R/pass"
chmod 600 "$R/pass"
scan pass-store "$R/c.tok" "$R/c.req" ASTRO_CRED_DIR="$TRASH/pstore" \
	ASTRO_CRED_KEY_FILE= ASTRO_CRED_PASSPHRASE_FILE="$R/pass" -- \
	store -p f --no-verify
# Positive control: get stopped at the write(2) of the token, which is
# then in our arena.
STOP='write'
scan live "$R/a.tok" /dev/null -- get -p a --format raw
STOP=exit_group

# --- what ran -------------------------------------------------------------
test_expect 'every scan ran to its catchpoint and read the process' '
	for s in $SCENARIOS; do
		scanned "$s" || { echo "$s:"; cat "$R/$s.out"; exit 1; }
	done'
test_expect 'get, env and the renewal printed their tokens; store stored' '
	same_tok "$R/get.stdout" "$R/a.tok" &&
	grep -qF "$(cat "$R/a.tok")" "$R/env.stdout" &&
	[ "$("$REL" get -p c --format raw </dev/null)" = "$(cat "$R/c.tok")" ] &&
	[ "$("$REL" get -p cv --format raw </dev/null)" = "$(cat "$R/cv.tok")" ] &&
	same_tok "$R/kr-get.stdout" "$R/e.tok"'
test_expect 'the renewals rotated: new tokens, which the scans looked for' '
	[ -s "$R/renew.stdout" ] && ! same_tok "$R/renew.stdout" "$R/d.tok" &&
	[ -s "$R/renew-live.stdout" ] &&
	! same_tok "$R/renew-live.stdout" "$R/dl.tok" &&
	grep -qx "patterns .* new new.payload new.sig" "$R/renew.out" &&
	grep -qx "patterns .* new new.payload new.sig" "$R/renew-live.out"'
test_expect "positive control: while a renewal writes the new token, the scan finds it in the arena ($(hits renew-live new arena))" '
	[ "$(hits renew-live new arena)" -ge 1 ]'
test_expect 'the passphrase store asked for the passphrase (it has a key check)' '
	[ -f "$TRASH/pstore/keycheck-passphrase.acrd" ]'

# --- nothing left at exit, libcurl's and OpenSSL's buffers included -------
for s in get env store exec-missing pass-store store-verify renew; do
	test_expect "$s: no copy of the token, key or passphrase anywhere at exit ($(hits "$s"))" \
		'[ "$(hits "$s")" = 0 ]'
done
test_expect "exec: at execve, one copy: ASTRO_API_TOKEN=... on the heap, the command's environment ($(hits exec old))" '
	[ "$(hits exec old "\[heap\]" environ)" = 1 ] && [ "$(hits exec old)" = 1 ] &&
	[ "$(hits exec "old\..*" ".*" fragment)" = 0 ] &&
	[ "$(hits exec "key|pass")" = 0 ]'

# --- GDBus: none in the arena or on the stack; the rest is GLib's, which
# cannot be made to wipe what it frees.
for s in kr-store kr-get; do
	ok=dbus
	test_expect "$s: none in the arena or on the stack, no fragments, no key" '
		[ "$(hits "$s" ".*" "arena|\[stack\]")" = 0 ] &&
		[ "$(hits "$s" ".*" ".*" fragment)" = 0 ] &&
		[ "$(hits "$s" "key|pass")" = 0 ]'
	test_expect "$s: each whole copy is in a library's buffer ($ok): $(hits "$s" "old|new")" '
		[ "$(hits "$s" "old|new" ".*" "$ok")" = "$(hits "$s" "old|new")" ]'
done

# --- the arena is seen; the core holds what is outside it -------------------
test_expect "positive control: while get writes the token, the arena holds it ($(hits live old arena))" '
	[ "$(hits live old arena)" -ge 1 ]'
test_expect 'the core (gcore): its memory holds, per pattern, exactly the copies outside the arena' '
	for s in $SCENARIOS; do
		[ -s "$R/$s.core.count" ] || { echo "$s: no core"; exit 1; }
		while read -r _ p _ n _; do
			want=$(awk -v p="$p" "\$1 == \"count\" && \$2 == p &&
				\$3 != \"arena\" { s += \$5 } END { print s + 0 }" \
				"$R/$s.out")
			[ "$n" = "$want" ] ||
				{ echo "$s: $p: $n in the core, $want outside the arena"; exit 1; }
		done <"$R/$s.core.count"
	done'
test_expect 'the core (gcore): the registers hold no piece of a secret at exit or execve' '
	for s in $SCENARIOS; do
		case $s in *live) continue ;; esac
		awk -v s="$s" "\$5 != 0 { print s, \$0; bad = 1 } END { exit bad }" \
			"$R/$s.core.count" || exit 1
	done'
test_expect "positive control: the core of the live get has none of the arena's copies, and greps as the scan counted ($(awk '$2 == "old" { print $3 }' "$R/live.core.count"))" '
	[ "$(awk "\$2 == \"old\" { print \$4 }" "$R/live.core.count")" = \
	  "$(hits live old "$OUT")" ] &&
	[ "$(awk "\$2 == \"old\" { print \$3 }" "$R/live.core.count")" = \
	  "$(awk "\$2 == \"old\" { print \$4 + \$5 }" "$R/live.core.count")" ]'

# The table for docs/security.md 3.8.
for s in $SCENARIOS; do
	awk -v s="$s" '$1 == "count" && ($2 !~ /\./ || $4 == "fragment") {
		t = t " " $2 "@" $3 "(" $4 ")=" $5 } END {
		print "# table " s ":" (t == "" ? " none" : t) }' "$R/$s.out"
done
test_done
