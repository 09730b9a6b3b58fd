#!/bin/sh
# The leak canary (security.md L-01, L-02, L-05, L-07): an end-to-end run
# through every command (store, get in every format, env in every shell,
# exec, Docker mode, list, list --remote, check, rotate, create, erase
# --revoke, both backends) and through error paths (bad input, a wrong
# key, a damaged store, a dead network, a refused, malformed or revoked
# token), all with --verbose diagnostics on, then a scan for every token
# value the run handled.
#
# Tokens: a canary JWT from tests/t/jwt.py whose jti is
# ACRD_CANARY_<random> (stored with --no-verify), and every token the
# emulator minted, rotated or created during the run (read back through
# `get --format raw`, the intended channel).  Patterns: each token whole,
# its payload and its signature part alone, and the canary string.
#
# Sinks scanned (every hit is a failure):
#  - the stderr of every command, and the stdout of the commands whose
#    stdout is not a token channel (store, list, check, erase, ...);
#  - every file under $TRASH written during the run (HOME, XDG dirs,
#    TMPDIR, the logs below) except the store itself, the keyring
#    daemon's files, the emulator's state and the test's own inputs and
#    intended outputs; and new files under /tmp;
#  - argv and environment of every process exec'd by astro-cred or by the
#    test's astro-cred runs (strace -f -e trace=execve -v), except the
#    command `exec` runs on purpose;
#  - argv of every process on the machine, sampled from /proc/*/cmdline
#    every few milliseconds for the whole run, and the environment of
#    every astro-cred process and its children seen there;
#  - core files: none may appear (astro-cred is killed with SIGSEGV once
#    while it waits on a lock).
# Intended channels, not scanned: get/env/Docker get stdout, exec's child,
# the store, the keyring.  Positive controls show the scan finds the token
# where it is meant to be.
. "$(dirname "$0")/lib-keyring.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
DOCK="$ASTRO_CRED_RELEASE/bin/docker-credential-astro"
ORG=org-canary
L="$TRASH/logs"      # scanned
I="$TRASH/intended"  # token channels: not scanned
SEC="$TRASH/secrets" # the test's own token files: not scanned
mkdir -p "$L" "$I" "$SEC" "$TRASH/tmp"
export TMPDIR="$TRASH/tmp" ASTRO_CRED_VERBOSE=1
touch "$TRASH/start-marker"
keyring_start || test_fail 'gnome-keyring starts'
emu_start

if ! command -v strace >/dev/null; then
	test_expect 'strace is installed (scripts/deps)' 'false'
	test_done
	exit
fi

# cred NAME [-i] BIN ARGS... <in: one astro-cred run under strace
# (execve of it and of every child, with environments); stdout to the
# intended directory with -i, else to the scanned logs.
runs=0
cred() {
	name=$1
	shift
	dest="$L"
	if [ "$1" = -i ]; then
		dest="$I"
		shift
	fi
	runs=$((runs + 1))
	rc=0
	strace -f -qq -v -s 65536 -e trace=execve -o "$L/$name.execve" \
		"$@" >"$dest/$name.out" 2>"$L/$name.err" || rc=$?
	echo "$rc" >"$L/$name.rc"
}

# learn FILE: add the token in FILE to the patterns (whole, payload,
# signature).
learn() {
	tok=$(cat "$1")
	[ -n "$tok" ] || return 0
	printf '%s\n' "$tok" >>"$SEC/patterns"
	printf '%s\n' "$tok" | cut -d. -f2 >>"$SEC/patterns"
	printf '%s\n' "$tok" | cut -d. -f3 >>"$SEC/patterns"
}

# --- the tokens ---------------------------------------------------------------
CANARY="ACRD_CANARY_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$CANARY" >"$SEC/patterns"
python3 "$(dirname "$0")/jwt.py" --org "$ORG" --jti "$CANARY" >"$SEC/canary"
learn "$SEC/canary"
emuctl bootstrap --org "$ORG" --print token >"$SEC/root"
emuctl bootstrap --org "$ORG" --expires-in 3000 --print token >"$SEC/due"
emuctl bootstrap --org "$ORG" --expires-in 3000 --print token >"$SEC/revoked"
emuctl bootstrap --org "$ORG" --print token >"$SEC/dock"
for t in root due revoked dock; do learn "$SEC/$t"; done
req() { # NAME TOKENFILE [LINES]: a store request in $SEC
	n=$1 t=$2
	shift 2
	store_req "$SEC/req.$n" "$t" "$@"
}
req canary "$SEC/canary"
req root "$SEC/root"
req due "$SEC/due" rotate_before=1h
req revoked "$SEC/revoked" rotate_before=1h
printf 'token=%s!\n' "$(cat "$SEC/canary")" >"$SEC/req.bad-alphabet"
printf 'token=%s\n' "$(cut -d. -f2- "$SEC/canary")" >"$SEC/req.two-parts"
printf 'token=%s\rorg=x\n' "$(cat "$SEC/canary")" >"$SEC/req.cr"
printf '{"ServerURL":"images.example.com","Username":"cli","Secret":"%s"}' \
	"$(cat "$SEC/dock")" >"$SEC/docker.store"
printf '{"ServerURL":"images.example.com","Username":"cli","Secret":"%s\\u0000x"}' \
	"$(cat "$SEC/canary")" >"$SEC/docker.bad"

# The test made the canary with it in jwt.py's argv: sample from here on.
# The /proc sampler: every distinct cmdline on the machine, and the
# environment of astro-cred processes and their children.
python3 - "$L" "$TRASH/stop-sampler" "$ASTRO_CRED_RELEASE/bin" \
	>"$L/sampler.out" 2>&1 <<'EOF' &
import os, sys, time
out, stop, bindir = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3])
cmdlines, environs, ours, passes = set(), set(), set(), 0

def exe(pid):
    try:
        return os.path.realpath("/proc/%s/exe" % pid)
    except OSError:
        return ""

def ppid(pid):
    try:
        for line in open("/proc/%s/status" % pid):
            if line.startswith("PPid:"):
                return line.split()[1]
    except OSError:
        pass
    return "0"

while not os.path.exists(stop):
    passes += 1
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read()
        except OSError:
            continue
        cmdlines.add(cmd)
        mine = exe(pid).startswith(bindir)
        if mine or exe(ppid(pid)).startswith(bindir):
            if b"CANARY_EXEC_CHILD" in cmd:
                continue
            ours.add(pid)
            try:
                environs.add(open("/proc/%s/environ" % pid, "rb").read())
            except OSError:
                pass
    time.sleep(0.002)
with open(os.path.join(out, "sampled-cmdlines"), "wb") as f:
    f.write(b"\n".join(c.replace(b"\0", b" ") for c in cmdlines))
with open(os.path.join(out, "sampled-environs"), "wb") as f:
    f.write(b"\n".join(e.replace(b"\0", b"\n") for e in environs))
print("passes=%d cmdlines=%d astro_cred_processes=%d environs=%d"
      % (passes, len(cmdlines), len(ours), len(environs)))
EOF
sampler=$!
at_exit "touch '$TRASH/stop-sampler'"

# --- the run: file backend ------------------------------------------------------
cred store-canary "$REL" store -p canary --no-verify <"$SEC/req.canary"
cred store-canary-verify "$REL" store -p canary2 <"$SEC/req.canary"
cred store-bad-alphabet "$REL" store -p bad --no-verify <"$SEC/req.bad-alphabet"
cred store-two-parts "$REL" store -p bad --no-verify <"$SEC/req.two-parts"
cred store-cr "$REL" store -p bad --no-verify <"$SEC/req.cr"
# The token is never an argument: refused (the test passes a decoy).
cred store-argv "$REL" store -p bad eyJhbGciOi.not-a-token.decoy </dev/null
cred store-root "$REL" store -p root <"$SEC/req.root"
cred store-due "$REL" store -p due <"$SEC/req.due"
cred store-revoked "$REL" store -p revoked <"$SEC/req.revoked"
for f in kv json raw; do
	cred "get-$f" -i "$REL" get -p canary --format "$f" </dev/null
done
for sh in sh bash zsh fish powershell json dotenv; do
	cred "env-$sh" -i "$REL" env -p canary --shell "$sh" </dev/null
done
cred env-unset "$REL" env --unset </dev/null
cred exec -i "$REL" exec -p canary -- sh -c \
	'printf %s "$ASTRO_API_TOKEN"' CANARY_EXEC_CHILD </dev/null
cred exec-missing "$REL" exec -p canary -- /nonexistent/cmd CANARY_EXEC_CHILD \
	</dev/null
# A nested exec runs inside exec's child (the token is in its environment
# on purpose); the marker after -- tags it.
cred exec-nested -i "$REL" exec -p canary -- sh -c \
	'"$1" exec -p canary -- true CANARY_EXEC_CHILD' CANARY_EXEC_CHILD "$REL" \
	</dev/null
cred check "$REL" check -p canary --min-ttl 1d </dev/null
cred list "$REL" list </dev/null
cred list-json "$REL" list --format json </dev/null
cred get-due -i "$REL" get -p due --format raw </dev/null
learn "$I/get-due.out"
cred rotate-due "$REL" rotate -p due </dev/null
cred get-due2 -i "$REL" get -p due --format raw </dev/null
learn "$I/get-due2.out"
cred list-remote "$REL" list --remote -p root --format json </dev/null
cred create-ws "$REL" create -p ws --from root --scope WORKSPACE \
	--entity ws-canary --role WORKSPACE_MEMBER --expiry-days 1 </dev/null
cred get-ws -i "$REL" get -p ws --format raw </dev/null
learn "$I/get-ws.out"
cred rotate-ws "$REL" rotate -p ws </dev/null
cred get-ws2 -i "$REL" get -p ws --format raw </dev/null
learn "$I/get-ws2.out"
cred create-agent "$REL" create -p agent --from root --scope AGENT \
	--entity dep-canary --expiry-days 1 </dev/null
cred get-agent -i "$REL" get -p agent --format raw </dev/null
learn "$I/get-agent.out"
cred erase-agent "$REL" erase -p agent --revoke </dev/null

# Errors around tokens.
rid=$("$REL" get -p revoked --format kv </dev/null 2>/dev/null |
	sed -n 's/^token_id=//p')
"$REL" get -p revoked --format raw </dev/null >"$I/get-revoked.out" 2>/dev/null
learn "$I/get-revoked.out"
emuctl expire "$rid" >/dev/null
cred get-revoked2 -i "$REL" get -p revoked --format raw </dev/null
cred rotate-canary "$REL" rotate -p canary </dev/null
emuctl fault drop-after-commit --op rotate >/dev/null
cred get-due-lost -i "$REL" get -p due --format raw </dev/null
emuctl fault clear >/dev/null
emuctl fault html --op get >/dev/null
cred store-portal "$REL" store -p portal <"$SEC/req.root"
emuctl fault status --code 500 --op list --count 0 >/dev/null
cred list-remote-500 "$REL" list --remote -p root </dev/null
emuctl fault clear >/dev/null
ASTRO_API_URL=https://127.0.0.1:9/v1 cred store-offline "$REL" store -p off \
	<"$SEC/req.root"
emuctl bootstrap --org "$ORG" --expires-in 3000 --print token >"$SEC/due3"
learn "$SEC/due3"
req due3 "$SEC/due3" rotate_before=1h
cred store-due3 "$REL" store -p due3 <"$SEC/req.due3"
ASTRO_API_URL=https://127.0.0.1:9/v1 cred get-offline -i "$REL" get -p due3 \
	--format raw </dev/null
head -c 32 /dev/urandom >"$SEC/otherkey"
chmod 600 "$SEC/otherkey"
ASTRO_CRED_KEY_FILE="$SEC/otherkey" cred get-wrong-key -i "$REL" get \
	-p canary </dev/null
cp -a "$ASTRO_CRED_DIR" "$SEC/store-copy"
printf 'X' | dd of="$ASTRO_CRED_DIR/profiles/canary.acrd" bs=1 seek=100 \
	conv=notrunc 2>/dev/null
cred get-damaged -i "$REL" get -p canary </dev/null
rm -rf "$ASTRO_CRED_DIR"
cp -a "$SEC/store-copy" "$ASTRO_CRED_DIR"

# Docker mode.
cred docker-store "$DOCK" store <"$SEC/docker.store"
cred docker-store-bad "$DOCK" store <"$SEC/docker.bad"
printf 'images.example.com' >"$SEC/docker.host"
cred docker-get -i "$DOCK" get <"$SEC/docker.host"
cred docker-list "$DOCK" list </dev/null
printf 'nosuch.example.com' >"$SEC/docker.nosuch"
cred docker-get-missing -i "$DOCK" get <"$SEC/docker.nosuch"
cred docker-erase "$DOCK" erase <"$SEC/docker.host"

# The keyring backend.
export ASTRO_CRED_BACKEND=keyring
cred kr-store "$REL" store -p krcanary --no-verify <"$SEC/req.canary"
cred kr-get -i "$REL" get -p krcanary --format raw </dev/null
cred kr-list "$REL" list </dev/null
cred kr-erase "$REL" erase -p krcanary </dev/null
export ASTRO_CRED_BACKEND=file

# L-07: SIGSEGV while astro-cred waits on a lock: no core file anywhere.
"$ASTRO_CRED_BUILD/tests/store-tool" file lock canary 30 >"$L/holder.out" \
	2>/dev/null &
holder=$!
at_exit "kill $holder 2>/dev/null"
tries=0
until grep -q locked "$L/holder.out" 2>/dev/null || [ $tries -ge 100 ]; do
	sleep 0.05
	tries=$((tries + 1))
done
mkdir -p "$TRASH/cwd"
# shellcheck disable=SC3045 # dash and bash have ulimit -c
(cd "$TRASH/cwd" && ulimit -c unlimited &&
	exec "$REL" rotate -p canary </dev/null >/dev/null 2>&1) &
waiter=$!
sleep 0.5
kill -SEGV "$waiter"
wait "$waiter" 2>/dev/null
segv_rc=$?
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# Positive control: an ordinary process does leave a core here.
# shellcheck disable=SC3045 # dash and bash have ulimit -c
# shellcheck disable=SC3045
(cd "$TRASH/cwd" && ulimit -c unlimited && exec sleep 5) 2>/dev/null &
ctl=$!
sleep 0.2
kill -SEGV "$ctl"
wait "$ctl" 2>/dev/null
ctl_cores=$(find "$TRASH/cwd" -name 'core*' | wc -l)
find "$TRASH/cwd" -name 'core*' -delete

touch "$TRASH/stop-sampler"
wait "$sampler"
sampled=$(cat "$L/sampler.out")
echo "# sampler: $sampled"

# --- the scan ----------------------------------------------------------------------
sort -u "$SEC/patterns" | grep -v '^$' >"$SEC/patterns.u"
npat=$(wc -l <"$SEC/patterns.u")
# exec's own child gets the token on purpose: its execve line is not a sink.
for f in "$L"/*.execve; do
	grep -v CANARY_EXEC_CHILD "$f" >"$f.scan"
	rm -f "$f"
done
# Every file of the run, less the intended places.
find "$TRASH" -type f -newer "$TRASH/start-marker" \
	! -path "$ASTRO_CRED_DIR/*" ! -path "$SEC/*" ! -path "$I/*" \
	! -path "$TRASH/keyring/*" ! -path "$TRASH/emu/*" \
	! -path "$TRASH/certs/*" >"$SEC/files"
find /tmp -maxdepth 4 -type f -newer "$TRASH/start-marker" -size -20M \
	! -path "$TRASH/*" 2>/dev/null >>"$SEC/files"
nfiles=$(wc -l <"$SEC/files")
hits=$(tr '\n' '\0' <"$SEC/files" |
	xargs -0 grep -l -F -f "$SEC/patterns.u" 2>/dev/null)
nhits=$(printf '%s' "$hits" | grep -c .)
for h in $hits; do
	echo "# canary hit in $h: $(grep -o -F -f "$SEC/patterns.u" "$h" |
		head -n 1 | cut -c1-12)..."
done
cores=$(find "$TRASH" /tmp -maxdepth 3 -name 'core*' -type f \
	-newer "$TRASH/start-marker" 2>/dev/null | wc -l)
echo "# canary: $runs astro-cred runs, $npat patterns, $nfiles files scanned (stderr, non-token stdout, execve argv+env, sampled cmdlines+environs, everything written), $nhits hits, $cores core files"

test_expect "0 unintended hits in $nfiles scanned files" '[ "$nhits" = 0 ]'
test_expect 'positive control: the token is in the intended outputs' '
	grep -q -F -f "$SEC/patterns.u" "$I/get-raw.out" &&
	grep -q -F -f "$SEC/patterns.u" "$I/env-sh.out" &&
	grep -q -F -f "$SEC/patterns.u" "$I/exec.out" &&
	grep -q -F -f "$SEC/patterns.u" "$I/docker-get.out"'
test_expect 'positive control: exec child environment carried the token (seen by strace)' '
	cat "$L"/exec.execve.scan >/dev/null &&
	strace -f -qq -v -s 65536 -e trace=execve -o "$SEC/exec.trace" \
		"$REL" exec -p canary -- sh -c "true" CANARY_EXEC_CHILD </dev/null &&
	grep CANARY_EXEC_CHILD "$SEC/exec.trace" | grep -q -F -f "$SEC/patterns.u"'
test_expect 'the renewals, creations and Docker store really happened' '
	! same_tok "$I/get-due.out" "$SEC/due" &&
	[ -s "$I/get-ws.out" ] && [ -s "$I/get-agent.out" ] &&
	[ "$(cat "$L/docker-store.rc")" = 0 ] && [ "$(cat "$L/kr-store.rc")" = 0 ]'
test_expect 'the error paths failed as they should' '
	for n in store-canary-verify store-bad-alphabet store-two-parts store-cr \
		store-argv exec-missing get-revoked2 get-due-lost store-portal \
		list-remote-500 store-offline get-wrong-key get-damaged \
		docker-store-bad; do
		[ "$(cat "$L/$n.rc")" != 0 ] || { echo "$n exited 0"; exit 1; }
		[ -s "$L/$n.err" ] || { echo "$n: silent"; exit 1; }
	done'
test_expect 'the sampler saw astro-cred processes' '
	echo "$sampled" | grep -q "astro_cred_processes=[1-9]"'
test_expect "SIGSEGV: astro-cred died of it ($segv_rc) and left no core (the control left $ctl_cores)" \
	'[ "$segv_rc" = 139 ] && [ "$cores" = 0 ] && [ "$ctl_cores" -ge 1 ]'
test_done
