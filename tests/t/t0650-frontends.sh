#!/bin/sh
# The ways people and tools reach a token: env (every shell, the terminal
# hint under a real pseudo-terminal), exec (environment, exit status,
# signals, stdin, descriptors) and Docker mode driven by a real client
# nobody here wrote (Debian's python3-dockerpycreds).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
emu_start

emuctl bootstrap --scope ORGANIZATION --expires-in 86400 >"$TRASH/tok"
TOK=$(cat "$TRASH/tok")
printf 'token=%s\n' "$TOK" >"$TRASH/req"
run_cred store -p p <"$TRASH/req"
check_run 'store a token' 0 ''

# --- env -------------------------------------------------------------
run_cred env -p p --shell sh </dev/null
test_expect 'env --shell sh: export statements ending in ;' '
	printf "%s\n" "$out" | grep -qx "export ASTRO_API_TOKEN='"'"'$TOK'"'"';" &&
	printf "%s\n" "$out" |
		grep -Eqx "export ASTRO_API_TOKEN_EXPIRES_AT='"'"'[0-9T:Z-]+'"'"';"'
test_expect 'eval in sh sets both variables, exported' '
	got=$(sh -c "eval \"\$1\"; sh -c '"'"'printf %s \"\$ASTRO_API_TOKEN\"'"'"'" sh "$out") &&
	[ "$got" = "$TOK" ]'
run_cred env -p p --shell fish </dev/null
test_expect 'env --shell fish round-trips through fish' '
	[ "$(fish -c "$out; printf %s \$ASTRO_API_TOKEN")" = "$TOK" ]'
run_cred env -p p --shell json </dev/null
test_expect 'env --shell json is one object of both variables' '
	printf "%s" "$out" | python3 -c "
import json,sys; o=json.load(sys.stdin)
assert o[\"ASTRO_API_TOKEN\"]==\"$TOK\" and \"ASTRO_API_TOKEN_EXPIRES_AT\" in o"'
run_cred env -p p --shell dotenv </dev/null
test_expect 'env --shell dotenv' '
	printf "%s\n" "$out" | grep -qx "ASTRO_API_TOKEN=$TOK"'
SHELL=/usr/bin/fish run_cred env -p p </dev/null
test_expect 'the shell defaults from $SHELL (fish)' '
	printf "%s" "$out" | grep -q "^set -gx ASTRO_API_TOKEN "'
SHELL=/opt/strange/ksh93 run_cred env -p p </dev/null
test_expect 'an unknown $SHELL gets POSIX sh syntax' '
	printf "%s" "$out" | grep -q "^export ASTRO_API_TOKEN="'
run_cred env --unset --shell sh </dev/null
check_run 'env --unset clears both variables' 0 \
	"unset ASTRO_API_TOKEN;
unset ASTRO_API_TOKEN_EXPIRES_AT;"
run_cred env -p nosuch --shell sh </dev/null
check_run 'env of a missing profile: exit 1, stdout empty' 1 '' 'no credential'
run_cred env -p p --shell tcsh </dev/null
check_run 'env with an unknown --shell: exit 2, stdout empty' 2 ''

# A pseudo-terminal on stdout: the token is not printed unless --force.
script -qec "$ASTRO_CRED env -p p --shell sh" /dev/null </dev/null \
	>"$TRASH/tty.out" 2>&1
test_expect 'env to a terminal prints the eval hint, not the token' '
	grep -q "eval" "$TRASH/tty.out" && ! grep -q "$TOK" "$TRASH/tty.out" &&
	! grep -v "^#" "$TRASH/tty.out" | tr -d "\r" | grep -q .'
script -qec "$ASTRO_CRED env -p p --shell sh --force" /dev/null </dev/null \
	>"$TRASH/tty2.out" 2>&1
test_expect 'env --force prints it to a terminal' 'grep -q "$TOK" "$TRASH/tty2.out"'
script -qec "$ASTRO_CRED get -p p --format raw" /dev/null </dev/null \
	>"$TRASH/tty3.out" 2>&1
test_expect 'get --format raw to a terminal prints the hint' '
	! grep -q "$TOK" "$TRASH/tty3.out" && grep -q "eval" "$TRASH/tty3.out"'

# --- exec ------------------------------------------------------------
run_cred exec -p p -- sh -c 'printf %s "$ASTRO_API_TOKEN"' </dev/null
check_run 'exec: the child has the token' 0 "$TOK"
ASTRO_CRED_PASSPHRASE=do-not-leak run_cred exec -p p -- \
	sh -c 'printf %s "${ASTRO_CRED_PASSPHRASE-unset}"' </dev/null
check_run 'exec: ASTRO_CRED_PASSPHRASE never reaches the child' 0 unset
run_cred exec -p p -- sh -c 'printf %s "$ASTRO_API_TOKEN_EXPIRES_AT"' </dev/null
test_expect 'exec: the expiry is set too' '
	printf "%s" "$out" | grep -Eqx "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"'
run_cred exec -p p -- sh -c 'exit 7' </dev/null
check_run 'exec: the exit status is the command'"'"'s own' 7 ''
rc=0
"$ASTRO_CRED" exec -p p -- sh -c 'kill -TERM $$' </dev/null || rc=$?
test_expect 'exec: a signal is the command'"'"'s own (128+15)' '[ "$rc" = 143 ]'
printf 'from stdin' >"$TRASH/stdin"
run_cred exec -p p -- cat <"$TRASH/stdin"
check_run 'exec: the command gets our stdin' 0 'from stdin'
# Start astro-cred with every descriptor above 2 closed (the harness keeps
# pipes of its own open, which come and go), and let the command be ls
# itself, listing its own descriptors: 0, 1, 2 and the 3 it reads the
# directory with.  Anything more would be ours.  (A shell pipeline would
# show its own pipes while it builds them.)
closefds() {
	python3 -c 'import os, sys
os.closerange(3, 65536)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}
rc=0
closefds "$ASTRO_CRED" exec -p p -- ls /proc/self/fd \
	</dev/null >"$TRASH/out" 2>"$TRASH/err" || rc=$?
out=$(tr '\n' ' ' <"$TRASH/out") err=$(cat "$TRASH/err")
check_run 'exec: no descriptor of ours leaks into the child' 0 '0 1 2 3 '
run_cred exec -p p -- no-such-command-here </dev/null
check_run 'exec: a missing command is 127' 127 '' 'cannot run'
run_cred exec -p p </dev/null
check_run 'exec without a command is a usage error' 2 '' 'needs a command'
run_cred exec -p nosuch -- true </dev/null
check_run 'exec of a missing profile: exit 1, nothing run' 1 ''

# --- Docker mode --------------------------------------------------------
mkdir -p "$TRASH/bin"
ln -s "$DOCKER_CRED" "$TRASH/bin/docker-credential-astro"
DOCKER_PATH="$TRASH/bin:$PATH"
pycreds() {
	PATH=$DOCKER_PATH /usr/bin/python3 -c "
import sys, dockerpycreds as d
s = d.Store('astro')
$1" 2>&1
}
printf '%s' "$TOK" >"$TRASH/secret"
test_expect 'dockerpycreds: get of a missing credential raises CredentialsNotFound' '
	pycreds "
try:
    s.get(\"https://images.astronomer.cloud\")
except d.errors.CredentialsNotFound:
    print(\"notfound\")" | grep -qx notfound'
test_expect 'dockerpycreds: store, then get answers user cli and the token' '
	pycreds "
tok = open(\"$TRASH/secret\").read()
s.store(server=\"https://images.astronomer.cloud\", username=\"cli\", secret=tok)
r = s.get(\"https://images.astronomer.cloud\")
assert r[\"Username\"] == \"cli\" and r[\"Secret\"] == tok, r
assert r[\"ServerURL\"] == \"https://images.astronomer.cloud\", r
print(\"ok\")" | grep -qx ok'
run_cred get -p images.astronomer.cloud --format raw </dev/null
check_run 'Docker store kept it as the profile named after the host' 0 "$TOK"

printf 'images.astronomer.cloud\n' >"$TRASH/url"
rc=0
"$DOCKER_CRED" get <"$TRASH/url" >"$TRASH/dget" 2>/dev/null || rc=$?
test_expect 'get answers exact JSON with the ServerURL as given' '
	[ "$rc" = 0 ] && [ "$(cat "$TRASH/dget")" = \
	"{\"ServerURL\":\"images.astronomer.cloud\",\"Username\":\"cli\",\"Secret\":\"$TOK\"}" ]'
rc=0
"$DOCKER_CRED" list </dev/null >"$TRASH/dlist" 2>/dev/null || rc=$?
test_expect 'list shows the host with user cli' '
	[ "$rc" = 0 ] && [ "$(cat "$TRASH/dlist")" = "{\"images.astronomer.cloud\":\"cli\"}" ]'
test_expect 'dockerpycreds: erase, then get is not found' '
	pycreds "
s.erase(\"https://images.astronomer.cloud\")
try:
    s.get(\"https://images.astronomer.cloud\")
except d.errors.CredentialsNotFound:
    print(\"gone\")" | grep -qx gone'
rc=0
"$DOCKER_CRED" get <"$TRASH/url" >"$TRASH/dget" 2>/dev/null || rc=$?
test_expect 'a missing credential: the exact message on stdout, exit 1' '
	[ "$rc" = 1 ] &&
	[ "$(cat "$TRASH/dget")" = "credentials not found in native keychain" ]'

mkdir -p "$XDG_CONFIG_HOME/astro-cred"
printf '[docker]\nimages.astronomer.cloud = p\n' >"$XDG_CONFIG_HOME/astro-cred/config"
rc=0
"$DOCKER_CRED" get <"$TRASH/url" >"$TRASH/dget" 2>/dev/null || rc=$?
test_expect 'the config maps the registry host to another profile' '
	[ "$rc" = 0 ] && grep -q "\"Secret\":\"$TOK\"" "$TRASH/dget"'
rc=0
"$DOCKER_CRED" version >"$TRASH/dver" || rc=$?
test_expect 'version' '[ "$rc" = 0 ] && grep -q "^docker-credential-astro (astro-cred) " "$TRASH/dver"'
printf '{"ServerURL":"images.astronomer.cloud","Username":"cli","Secret":"not a jwt"}' \
	>"$TRASH/bad.json"
rc=0
"$DOCKER_CRED" store <"$TRASH/bad.json" >"$TRASH/dstore" 2>/dev/null || rc=$?
test_expect 'store of a non-token secret fails with exit 1 and stores nothing' '
	[ "$rc" = 1 ] && [ -s "$TRASH/dstore" ] &&
	{ run_cred get -p images.astronomer.cloud </dev/null; [ "$rc" = 1 ]; }'

# --- the config file -------------------------------------------------
printf 'backend = bogus\n' >"$XDG_CONFIG_HOME/astro-cred/config"
( unset ASTRO_CRED_BACKEND; run_cred list </dev/null
  check_run 'config: an unknown backend is a usage error' 2 '' \
	"unknown backend 'bogus' in the config file" ) | tee "$TRASH/sub.tap"
test_count=$((test_count + 1))
grep -q '^ok' "$TRASH/sub.tap" || test_failed=$((test_failed + 1))
run_cred list --format kv </dev/null
check_run 'ASTRO_CRED_BACKEND wins over the config file' 0 "$out"
printf 'backend = file\n[docker\n' >"$XDG_CONFIG_HOME/astro-cred/config"
( unset ASTRO_CRED_BACKEND; run_cred list </dev/null
  check_run 'config: a malformed file is a usage error naming the line' 2 '' \
	'config:2: malformed section header' ) | tee "$TRASH/sub.tap"
test_count=$((test_count + 1))
grep -q '^ok' "$TRASH/sub.tap" || test_failed=$((test_failed + 1))
test_done
