# tests/t/lib.sh: a small TAP library for shell tests, in the spirit of
# git's t/test-lib.sh and lib-credential.sh.  Source it, then:
#
#   test_expect 'name' 'commands'    one test point; passes if commands exit 0
#   run_cred CMD... <input           runs astro-cred; sets $out, $err, $rc
#   check_run 'name' RC 'OUT' [ERR-REGEX]  asserts on the last run_cred
#   test_done
#
# Every test script gets a fresh HOME, XDG dirs and ASTRO_CRED_DIR under
# $TRASH (removed at the end), and a generated 32-byte key file, so the
# sealed file backend works with no prompt.
set -u
: "${ASTRO_CRED_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${ASTRO_CRED_BUILD:=$ASTRO_CRED_TOP/build-san}"
: "${ASTRO_CRED_RELEASE:=$ASTRO_CRED_TOP/build}"
ASTRO_CRED="$ASTRO_CRED_BUILD/bin/astro-cred"
DOCKER_CRED="$ASTRO_CRED_BUILD/bin/docker-credential-astro"

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/astro-cred-test.XXXXXX")
export HOME="$TRASH/home" XDG_DATA_HOME="$TRASH/data" \
	XDG_CONFIG_HOME="$TRASH/config" XDG_RUNTIME_DIR="$TRASH/run"
export ASTRO_CRED_DIR="$TRASH/store"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset ASTRO_CRED_PROFILE ASTRO_CRED_PASSPHRASE ASTRO_CRED_PASSPHRASE_FILE \
	ASTRO_CRED_CONFIG ASTRO_API_URL ASTRO_CRED_CA_FILE ASTRO_API_TOKEN
head -c 32 /dev/urandom >"$TRASH/key"
chmod 600 "$TRASH/key"
export ASTRO_CRED_KEY_FILE="$TRASH/key"
export ASTRO_CRED_BACKEND="${ASTRO_CRED_BACKEND:-file}"

test_count=0
test_failed=0
test_cleanups=
trap 'test_cleanup_all' EXIT

test_cleanup_all() {
	[ -n "${KEEP_TRASH:-}" ] && { echo "# kept $TRASH"; return; }
	eval "$test_cleanups"
	rm -rf "$TRASH"
}

# Register a command to run at exit (emulator shutdown and the like).
at_exit() {
	test_cleanups="$1; $test_cleanups"
}

test_ok() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1"
}

test_fail() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	echo "not ok $test_count - $1"
	shift
	for l in "$@"; do printf '#   %s\n' "$l"; done
}

test_expect() {
	if (eval "$2") >"$TRASH/expect.out" 2>&1; then
		test_ok "$1"
	else
		test_fail "$1" "$(sed 's/^/  /' "$TRASH/expect.out" | tail -n 20)"
	fi
}

# run_cred ARGS... : run astro-cred with stdin as given; capture all.
run_cred() {
	rc=0
	"$ASTRO_CRED" "$@" >"$TRASH/out" 2>"$TRASH/err" || rc=$?
	out=$(cat "$TRASH/out")
	err=$(cat "$TRASH/err")
}

# run_cred_in INPUT ARGS... : run_cred with INPUT (printf %b) on stdin.
# (A pipeline into run_cred would run it in a subshell and lose $rc.)
run_cred_in() {
	printf '%b' "$1" >"$TRASH/in"
	shift
	run_cred "$@" <"$TRASH/in"
}

# check_run NAME WANT_RC WANT_OUT [ERR_REGEX]
check_run() {
	msgs=
	[ "$rc" = "$2" ] || msgs="exit status $rc, want $2"
	[ "$out" = "$3" ] || msgs="$msgs; stdout '$out', want '$3'"
	if [ $# -ge 4 ] && ! printf '%s' "$err" | grep -Eq -- "$4"; then
		msgs="$msgs; stderr '$err' does not match /$4/"
	fi
	if [ -z "$msgs" ]; then
		test_ok "$1"
	else
		test_fail "$1" "$msgs" "stderr: $err"
	fi
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}
