#!/bin/sh
# Concurrency (security.md X-01..X-03) on the release build against the
# emulator, whose rotate kills the old token at once:
#
#  - stampede: STAMPEDE_N processes (default 32) released together through
#    a FIFO, all running `get` on one profile whose token is inside its
#    renewal window, STAMPEDE_RUNS times (default 3), each run on a fresh
#    profile: exactly one rotate per run, every process exits 0 with the
#    same new token, which the API accepts;
#  - a lock holder killed with SIGKILL: a waiting `rotate` proceeds at once
#    (the kernel drops the flock; the waiter polls every 100 ms at most);
#  - a stuck lock holder: waiters give up at ASTRO_CRED_LOCK_TIMEOUT=2
#    with exit 5 and a message.
#
# Full size: STAMPEDE_N=128 STAMPEDE_RUNS=20 (make hardening, or
# tests/hardening/stampede 128 20).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
TOOL="$ASTRO_CRED_BUILD/tests/store-tool"
N=${STAMPEDE_N:-32}
RUNS=${STAMPEDE_RUNS:-3}
ORG=org-stampede
# The holder is a sanitizer build killed on purpose: no leak report.
export ASAN_OPTIONS=detect_leaks=0
emu_start

# --- stampede ---------------------------------------------------------------
# Every token lives 400 s and is stored with rotate_before=99% (a margin
# of 396 s): it is due once it is 5 s old, and its replacement is not due
# for another 4 s, far longer than a run takes.  Mint them all first, wait
# once, then run.
run=1
while [ $run -le "$RUNS" ]; do
	emuctl bootstrap --org "$ORG" --expires-in 400 --print token \
		>"$TRASH/old.$run"
	store_req "$TRASH/req" "$TRASH/old.$run" rotate_before=99%
	"$REL" store -p "s$run" <"$TRASH/req" ||
		test_fail "store the token of run $run"
	run=$((run + 1))
done
sleep 6

# stampede_run R: N gets of profile sR released together; results in
# $TRASH/run.R/{out,err,rc}.I and a verdict line on stdout.
stampede_run() {
	d="$TRASH/run.$1"
	mkdir -p "$d"
	rm -f "$TRASH/go"
	mkfifo "$TRASH/go"
	emuctl log --clear >/dev/null
	i=0 pids=
	while [ $i -lt "$N" ]; do
		(
			exec 3<"$TRASH/go"
			exec 3<&-
			rc=0
			"$REL" get -p "s$1" --format raw </dev/null \
				>"$d/out.$i" 2>"$d/err.$i" || rc=$?
			echo $rc >"$d/rc.$i"
		) &
		pids="$pids $!"
		i=$((i + 1))
	done
	t0=$(now_ms)
	exec 4>"$TRASH/go"
	# Not a bare `wait`: that would also wait for the emulator.
	wait $pids
	exec 4>&-
	ms=$(ms_since "$t0")
	rot=$(emuctl count rotate)
	fails=$(cat "$d"/rc.* | grep -cvx 0)
	errs=$(cat "$d"/err.* | wc -c)
	uniq=$(for f in "$d"/out.*; do cat "$f"; echo; done | sort -u | wc -l)
	new=0 live=0
	same_tok "$d/out.0" "$TRASH/old.$1" || new=1
	tok_valid "$d/out.0" && live=1
	echo "run $1: $N gets in $ms ms, $rot rotate, $fails failed," \
		"$errs bytes on stderr, $uniq distinct outputs, new=$new live=$live"
}

bad_runs=0 rotations='' slowest=0
run=1
while [ $run -le "$RUNS" ]; do
	line=$(stampede_run $run)
	echo "# $line"
	case $line in
	*", 1 rotate, 0 failed, 0 bytes on stderr, 1 distinct outputs, new=1 live=1") ;;
	*) bad_runs=$((bad_runs + 1)) ;;
	esac
	rotations="$rotations $(echo "$line" | sed 's/.*ms, \([0-9]*\) rotate.*/\1/')"
	ms=$(echo "$line" | sed 's/.* in \([0-9]*\) ms.*/\1/')
	[ "$ms" -gt "$slowest" ] && slowest=$ms
	run=$((run + 1))
done
max_rot=$(printf '%s\n' $rotations | sort -n | tail -n 1)
echo "# stampede: $N processes x $RUNS runs: rotations per run max $max_rot," \
	"$bad_runs bad runs, slowest run $slowest ms"
test_expect "stampede $N x $RUNS: one rotate per run, 0 failures, one live token" \
	"[ $bad_runs = 0 ] && [ $max_rot = 1 ]"

# --- a killed lock holder ----------------------------------------------------
emuctl bootstrap --org "$ORG" --print token >"$TRASH/k.tok"
store_req "$TRASH/req" "$TRASH/k.tok"
"$REL" store -p k <"$TRASH/req"

# hold PROFILE SECONDS: store-tool holds the profile lock; $holder is its
# pid once it has printed "locked".
hold() {
	rm -f "$TRASH/held"
	"$TOOL" file lock "$1" "$2" >"$TRASH/held" 2>/dev/null &
	holder=$!
	tries=0
	while ! grep -q locked "$TRASH/held" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 200 ] || return 1
		sleep 0.05
	done
}

hold k 60 || test_fail 'store-tool holds the lock'
at_exit "kill $holder 2>/dev/null"
rc_file="$TRASH/waiter.rc"
rm -f "$rc_file"
( rc=0; "$REL" rotate -p k </dev/null 2>"$TRASH/waiter.err" || rc=$?
  echo $rc >"$rc_file" ) &
waiter=$!
sleep 1
test_expect 'the waiter waits while the lock is held' '[ ! -e "$rc_file" ]'
t0=$(now_ms)
kill -9 "$holder"
wait "$waiter"
kill_ms=$(ms_since "$t0")
echo "# killed holder: the waiter finished $kill_ms ms after the SIGKILL"
test_expect "killed holder: the waiter proceeds at once ($kill_ms ms) and renews" '
	[ "$(cat "$rc_file")" = 0 ] && [ "$kill_ms" -lt 2000 ] &&
	"$REL" get -p k --format raw </dev/null >"$TRASH/k.new" &&
	! same_tok "$TRASH/k.new" "$TRASH/k.tok" && tok_valid "$TRASH/k.new"'

# --- a stuck lock holder -------------------------------------------------------
hold k 60 || test_fail 'store-tool holds the lock again'
at_exit "kill $holder 2>/dev/null"
t0=$(now_ms)
rc=0
ASTRO_CRED_LOCK_TIMEOUT=2 "$REL" rotate -p k </dev/null 2>"$TRASH/stuck.err" ||
	rc=$?
stuck_ms=$(ms_since "$t0")
kill -9 "$holder"
wait "$holder" 2>/dev/null
echo "# stuck holder: the waiter exited $rc after $stuck_ms ms (timeout 2 s)"
test_expect "stuck holder: exit 5 at the 2 s deadline ($stuck_ms ms), with a message" '
	[ "$rc" = 5 ] && [ "$stuck_ms" -ge 1900 ] && [ "$stuck_ms" -lt 6000 ] &&
	grep -q "gave up after 2 s waiting for profile .k." "$TRASH/stuck.err"'
test_expect 'the stuck waiter changed nothing' '
	"$REL" get -p k --format raw </dev/null | cmp -s - "$TRASH/k.new"'
test_done
