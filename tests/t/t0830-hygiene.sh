#!/bin/sh
# Process hygiene (security.md L-07, L-08, L-09, M-03, M-04; section 8) on
# the release build, while astro-cred waits on a held profile lock:
#  - its core size limit is 0 (/proc/PID/limits);
#  - it is not dumpable: another process of the same user can neither read
#    /proc/PID/environ nor ptrace(PTRACE_ATTACH) it (EPERM), while both
#    work on an ordinary process of that user (the positive control);
#  - exec's child inherits no descriptor of ours; it works with
#    RLIMIT_MEMLOCK 0.
#
# The suite runs as root in CI, and root (CAP_SYS_PTRACE, CAP_DAC_OVERRIDE)
# reads any environ and attaches to any process, dumpable or not.  So the
# same-user checks run with both sides as `nobody` (setpriv), the waiting
# astro-cred started by the attacking process itself (a descendant, which
# even Yama's ptrace_scope=1 would allow): only non-dumpability can refuse
# it.  As root we show what root can do, and that is all we claim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
TOOL="$ASTRO_CRED_BUILD/tests/store-tool"
export ASAN_OPTIONS=detect_leaks=0

python3 "$(dirname "$0")/jwt.py" --exp-in 86400 >"$TRASH/tok"
{ printf 'token='; cat "$TRASH/tok"; echo; } >"$TRASH/req"

# --- as the current user (root in CI) ---------------------------------------
"$REL" store -p p --no-verify <"$TRASH/req" || test_fail 'store'

# wait_on_lock: store-tool holds p's lock, astro-cred rotate waits on it.
"$TOOL" file lock p 60 >"$TRASH/held" 2>/dev/null &
holder=$!
at_exit "kill $holder 2>/dev/null"
tries=0
until grep -q locked "$TRASH/held" 2>/dev/null || [ $tries -ge 100 ]; do
	sleep 0.05
	tries=$((tries + 1))
done
"$REL" rotate -p p </dev/null >/dev/null 2>&1 &
waiter=$!
at_exit "kill $waiter 2>/dev/null"
sleep 0.5
test_expect 'astro-cred is waiting on the lock' 'kill -0 $waiter'
test_expect 'its core size limit is 0 (soft and hard)' '
	grep -E "^Max core file size +0 +0 " /proc/$waiter/limits'
if [ "$(id -u)" = 0 ]; then
	root_env=no
	cat /proc/$waiter/environ >/dev/null 2>&1 && root_env=yes
	echo "# as root: reading its environ: $root_env (CAP_SYS_PTRACE bypasses dumpable=0; expected)"
fi
kill $waiter $holder 2>/dev/null
wait $waiter $holder 2>/dev/null

# --- as nobody, against nobody ------------------------------------------------
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 ||
   ! command -v setpriv >/dev/null; then
	echo "# not root or no nobody/setpriv: the same-user checks are skipped"
	test_done
	exit
fi
NB="$TRASH/nobody"
chmod 711 "$TRASH"
mkdir -p "$NB"
cp "$TRASH/req" "$NB/req"
head -c 32 /dev/urandom >"$NB/key"
chmod 600 "$NB/key"
# nobody may not be able to reach the checkout (CI can clone under a 0700
# directory): run copies of the release binary, its modules and the tool.
mkdir -p "$NB/bin" "$NB/lib"
cp "$REL" "$NB/bin/astro-cred"
cp -r "$ASTRO_CRED_RELEASE/lib/astro-cred" "$NB/lib/"
cp "$TOOL" "$NB/bin/store-tool"
REL="$NB/bin/astro-cred" TOOL="$NB/bin/store-tool"
chown -R nobody:nogroup "$NB"
chmod 700 "$NB"
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME="$NB" XDG_DATA_HOME="$NB/data" XDG_CONFIG_HOME="$NB/config" \
		XDG_RUNTIME_DIR="$NB/run" ASTRO_CRED_DIR="$NB/store" \
		ASTRO_CRED_KEY_FILE="$NB/key" ASTRO_CRED_BACKEND=file \
		ASAN_OPTIONS=detect_leaks=0 "$@"
}
as_nobody "$REL" store -p p --no-verify <"$NB/req" ||
	test_fail 'store as nobody'

# The attacker (nobody) holds the lock, starts astro-cred (nobody) and a
# control process (nobody), then tries environ and PTRACE_ATTACH on each.
as_nobody python3 - "$TOOL" "$REL" >"$TRASH/probe" 2>&1 <<'EOF'
import ctypes, errno, os, subprocess, sys, time
tool, rel = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
PTRACE_ATTACH, PTRACE_DETACH = 16, 17

def probe(name, pid):
    owner = os.stat("/proc/%d/environ" % pid).st_uid
    try:
        open("/proc/%d/environ" % pid, "rb").read()
        env = "read"
    except OSError as e:
        env = errno.errorcode[e.errno]
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        os.waitpid(pid, 0)
        libc.ptrace(PTRACE_DETACH, pid, None, None)
        tr = "attached"
    else:
        tr = errno.errorcode[ctypes.get_errno()]
    print("%s owner=%d environ=%s ptrace=%s" % (name, owner, env, tr))

holder = subprocess.Popen([tool, "file", "lock", "p", "60"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
holder.stdout.readline()
waiter = subprocess.Popen([rel, "rotate", "-p", "p"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
control = subprocess.Popen(["sleep", "60"])
time.sleep(0.5)
print("waiting=%s" % (waiter.poll() is None))
probe("astro-cred", waiter.pid)
probe("control", control.pid)
for p in (waiter, control, holder):
    p.kill()
    p.wait()
EOF
sed 's/^/# nobody: /' "$TRASH/probe"
test_expect 'nobody: astro-cred was waiting on the lock while probed' '
	grep -qx "waiting=True" "$TRASH/probe"'
test_expect 'nobody: its /proc files are root-owned (non-dumpable); another nobody process cannot read its environ (EACCES) or attach (EPERM)' '
	grep -qx "astro-cred owner=0 environ=EACCES ptrace=EPERM" "$TRASH/probe"'
test_expect 'nobody: the control (an ordinary nobody process) is nobody-owned, readable and attachable' '
	grep -qx "control owner=65534 environ=read ptrace=attached" "$TRASH/probe"'

# --- descriptors and memlock ---------------------------------------------------
# The same shell started directly is the control: whatever descriptors
# the test harness passes down show in both.  The token is due, so exec
# first renews it: the lock, the store and the network have all been used.
emu_start
emuctl bootstrap --expires-in 3000 --print token >"$TRASH/due.tok"
store_req "$TRASH/req.due" "$TRASH/due.tok" rotate_before=1h
"$REL" store -p due <"$TRASH/req.due"
emuctl log --clear >/dev/null
"$REL" exec -p due -- sh -c 'ls /proc/$$/fd' </dev/null >"$TRASH/fds" 2>&1
test_expect 'exec renewed the token before running the child' '
	[ "$(emuctl count rotate --status 200)" = 1 ]'
sh -c 'ls /proc/$$/fd' </dev/null >"$TRASH/fds.ctl" 2>&1
test_expect "exec's child has the descriptors it would have without astro-cred ($(tr '\n' ' ' <"$TRASH/fds"))" '
	cmp -s "$TRASH/fds" "$TRASH/fds.ctl"'
test_expect 'works with RLIMIT_MEMLOCK 0 (sodium_malloc without mlock)' '
	(ulimit -l 0 && "$REL" get -p p --format raw </dev/null) |
		cmp -s - "$TRASH/tok"'
test_done
