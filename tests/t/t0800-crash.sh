#!/bin/sh
# Crash and fault injection on the real `astro-cred` (security.md C-01,
# C-02, C-04), with strace on the release build against the emulator:
#
#   store      `store -p p` of token B over a stored token A
#   renew      `get -p r` of a token in its renewal window with no parent
#              (rotation in place)
#   replace    the same with a parent profile (create, persist, delete)
#
# For each, SIGKILL at the Nth openat/write/fsync/fdatasync/rename/unlink/
# close (strace -e inject=SYSCALL:signal=KILL:when=N), then ENOSPC and EIO
# at the Nth write/fsync/rename.  After every fault:
#   store:   the profile holds A or B, and the next store and get work;
#   renew:   the next get prints a token the API accepts, or exits 4 with
#            the documented "interrupted" message, and then the stored
#            token really is dead at the API (never a silently dead token);
#            storing a new token recovers the profile;
#   replace: the next get prints a token the API accepts;
#   and a command that reports success (exit 0) printed a live token.
#
# Smoke (default, in make check): every point of write, fsync, fdatasync,
# rename and unlink, and the openat/close points on the store's tmp/
# directory and the temp files in it, picked from a fault-free reference
# trace; ENOSPC on write and rename, EIO on fsync.  FULL=1: N = 1, 2,
# ... for every system call until the injection no longer fires (library
# loading, the CA file, sockets: everything):
#
#   FULL=1 tests/run tests/t/t0800-crash.sh
#
# The store template holds a stale temp file (older than the 60 s limit),
# so each successful write's clean-up unlink is among the points too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
FULL=${FULL:-0}
S="$ASTRO_CRED_DIR"
ORG=org-crash
WS=ws-crash

if ! command -v strace >/dev/null; then
	test_expect 'strace is installed (scripts/deps)' 'false'
	test_done
	exit
fi
emu_start

# --- helpers -------------------------------------------------------------

# Each class of call and the system calls behind it.
calls() {
	case $1 in
	rename) echo rename,renameat,renameat2 ;;
	unlink) echo unlink,unlinkat ;;
	*) echo "$1" ;;
	esac
}

# make_template DIR [PROFILE TOKENFILE]...: fill_store, kept as a template.
make_template() {
	d=$1
	shift
	fill_store "$@" || return 1
	rm -rf "$d"
	cp -a "$S" "$d"
}

reset_store() {
	rm -rf "$S"
	cp -a "$1" "$S"
}

# Temp files left in tmp/ other than the stale seed.
young_temps() {
	find "$S/tmp" -mindepth 1 ! -name "$STALE" | wc -l
}

# --- scenario set-up and checks ------------------------------------------
# setup_X: the state before the traced command; run_X: the command itself
# (under strace, given as the first arguments); check_X RC: the verdict,
# one word: ok, or the reason it failed.

setup_store() {
	reset_store "$TRASH/tpl.store"
}
run_store() {
	"$@" "$REL" store -p p <"$TRASH/req.s-new" >"$TRASH/cmd.out"
}
check_store() {
	rc=0
	"$REL" get -p p --format raw </dev/null >"$TRASH/now.tok" \
		2>"$TRASH/now.err" || rc=$?
	[ "$rc" = 0 ] || { echo "get-exit-$rc"; return; }
	if same_tok "$TRASH/now.tok" "$TRASH/s-old.tok"; then
		[ "$1" != 0 ] || { echo "exit-0-but-old"; return; }
		state=old
	elif same_tok "$TRASH/now.tok" "$TRASH/s-new.tok"; then
		state=new
	else
		echo corrupt
		return
	fi
	next_store_works || { echo next-run; return; }
	echo "ok-$state"
}

# renew / replace: a fresh token in its renewal window for every point.
setup_renew() {
	reset_store "$TRASH/tpl.renew"
	window_profile
}
setup_replace() {
	reset_store "$TRASH/tpl.replace"
	window_profile root
}
run_replace() {
	run_renew "$@"
}
# What the traced command printed, if it claimed success, must be live.
claimed_ok() {
	[ "$1" != 0 ] || tok_valid "$TRASH/cmd.out"
}
check_renew() {
	claimed_ok "$1" || { echo "exit-0-dead-token"; return; }
	rc=0
	"$REL" get -p r --format raw </dev/null >"$TRASH/now.tok" \
		2>"$TRASH/now.err" || rc=$?
	if [ "$rc" = 0 ]; then
		tok_valid "$TRASH/now.tok" && echo ok-valid ||
			echo "next-get-dead-token"
		return
	fi
	if [ "$rc" != 4 ] || ! grep -q 'interrupted' "$TRASH/now.err"; then
		echo "next-get-exit-$rc"
		return
	fi
	# The interrupted state must be true: the stored token is dead.
	if tok_valid "$TRASH/A.tok"; then
		echo "interrupted-but-alive"
		return
	fi
	emuctl bootstrap --org "$ORG" --expires-in 3000 --print token \
		>"$TRASH/D.tok"
	store_req "$TRASH/req" "$TRASH/D.tok"
	"$REL" store -p r <"$TRASH/req" 2>/dev/null &&
		"$REL" get -p r --format raw </dev/null >"$TRASH/now.tok" \
			2>/dev/null && same_tok "$TRASH/now.tok" "$TRASH/D.tok" ||
		{ echo "no-recovery"; return; }
	echo ok-interrupted
}
check_replace() {
	claimed_ok "$1" || { echo "exit-0-dead-token"; return; }
	rc=0
	"$REL" get -p r --format raw </dev/null >"$TRASH/now.tok" \
		2>"$TRASH/now.err" || rc=$?
	[ "$rc" = 0 ] || { echo "next-get-exit-$rc"; return; }
	tok_valid "$TRASH/now.tok" && echo ok-valid || echo next-get-dead-token
}

# --- the reference run and the points to try -----------------------------

# reference SCENARIO: a fault-free traced run; its trace lists the calls.
reference() {
	"setup_$1" || return 1
	rc=0
	"run_$1" strace -f -y -qq -o "$TRASH/ref.$1" \
		-e trace=openat,write,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat,close \
		2>/dev/null || rc=$?
	v=$("check_$1" "$rc")
	echo "exit $rc, $v"
	[ "$rc" = 0 ] && { [ "$v" = ok-new ] || [ "$v" = ok-valid ]; }
}

# points SCENARIO CLASS: the N to try (smoke: see the top of the file).
points() {
	awk -v want="$(calls "$2")" -v dir="$S" -v full="$FULL" -v cls="$2" '
		BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
		{
			name = $2; sub(/\(.*/, "", name)
			if (!(name in ok)) next
			k++
			if (full == 1 || (cls != "openat" && cls != "close") ||
			    index($0, dir "/tmp") > 0)
				print k
		}' "$TRASH/ref.$1"
}

# --- SIGKILL ---------------------------------------------------------------

total_kills=0
kill_summary=
for sc in store renew replace; do
	case $sc in
	store)
		for t in s-old s-new s-next; do
			emuctl bootstrap --org "$ORG" --print token >"$TRASH/$t.tok"
			store_req "$TRASH/req.$t" "$TRASH/$t.tok"
		done
		make_template "$TRASH/tpl.store" p "$TRASH/s-old.tok" ;;
	renew) make_template "$TRASH/tpl.renew" ;;
	replace)
		emuctl bootstrap --org "$ORG" --print token >"$TRASH/root.tok"
		make_template "$TRASH/tpl.replace" root "$TRASH/root.tok" ;;
	esac || test_fail "$sc: template store"
	test_expect "$sc: a fault-free traced run works" "reference $sc"
	fired_sc=0
	for cls in openat write fsync fdatasync rename unlink close; do
		fired=0 bad=0 outcomes=''
		# Walk the points; in FULL mode keep going past the reference
		# count until the injection no longer fires.
		list=$(points "$sc" "$cls")
		n=0
		while :; do
			if [ "$FULL" = 1 ]; then
				n=$((n + 1))
			else
				n=$(printf '%s\n' $list | awk -v p="$n" '$1 > p { print; exit }')
				[ -n "$n" ] || break
			fi
			"setup_$sc" >/dev/null 2>&1 || { bad=$((bad + 1)); break; }
			rc=0
			"run_$sc" strace -f -qq -o "$TRASH/trace" \
				-e trace="$(calls "$cls")" \
				-e inject="$(calls "$cls")":signal=KILL:when=$n \
				2>/dev/null || rc=$?
			if ! grep -q 'killed by SIGKILL' "$TRASH/trace"; then
				[ "$FULL" = 1 ] && break
				continue
			fi
			fired=$((fired + 1))
			verdict=$("check_$sc" 137)
			case $verdict in
			ok-*) outcomes="$outcomes ${verdict#ok-}" ;;
			*)
				bad=$((bad + 1))
				echo "# $sc: SIGKILL at $cls #$n: $verdict"
				;;
			esac
		done
		summ=$([ -z "$outcomes" ] || printf '%s\n' $outcomes | sort | uniq -c |
			awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')
		test_expect "$sc: SIGKILL at $fired ${cls} points: ${summ:-none fired}" \
			"[ $bad = 0 ]"
		fired_sc=$((fired_sc + fired))
		kill_summary="$kill_summary $sc.$cls=$fired"
	done
	total_kills=$((total_kills + fired_sc))
	echo "# $sc: $fired_sc SIGKILL points fired"
done
echo "# SIGKILL points fired:$kill_summary (total $total_kills, FULL=$FULL)"
test_expect 'the kill points cover the write path of every scenario' '
	for sc in store renew replace; do
		for c in write fsync rename; do
			echo "$kill_summary" | grep -q " $sc.$c=[1-9]" || exit 1
		done
	done'

# --- ENOSPC and EIO --------------------------------------------------------
total_errs=0
for sc in store renew replace; do
	errs=0 bad=0 outcomes='' named=0
	for e in ENOSPC EIO; do
		for cls in write fsync rename; do
			# Smoke: the errno each call meets most in practice.
			[ "$FULL" = 1 ] || case $e.$cls in
				ENOSPC.write | ENOSPC.rename | EIO.fsync) ;;
				*) continue ;;
				esac
			n=1
			while :; do
				"setup_$sc" >/dev/null 2>&1 || { bad=$((bad + 1)); break; }
				rc=0
				"run_$sc" strace -f -qq -o "$TRASH/trace" \
					-e trace="$(calls "$cls")" \
					-e inject="$(calls "$cls")":error=$e:when=$n \
					2>"$TRASH/cmd.err" || rc=$?
				grep -q INJECTED "$TRASH/trace" || break
				errs=$((errs + 1))
				verdict=$("check_$sc" "$rc")
				temps=$(young_temps)
				case $verdict in
				ok-*) outcomes="$outcomes ${verdict#ok-}" ;;
				*) bad=$((bad + 1))
				   echo "# $sc: $e at $cls #$n (exit $rc): $verdict" ;;
				esac
				if [ "$temps" != 0 ]; then
					bad=$((bad + 1))
					echo "# $sc: $e at $cls #$n: $temps temp files left"
				fi
				# A failure says why; count those naming the errno.
				if [ "$rc" != 0 ]; then
					if grep -q "($e)" "$TRASH/cmd.err"; then
						named=$((named + 1))
					elif ! grep -q 'astro-cred: ' "$TRASH/cmd.err"; then
						bad=$((bad + 1))
						echo "# $sc: $e at $cls #$n: exit $rc, silent"
					fi
				fi
				n=$((n + 1))
			done
		done
	done
	summ=$([ -z "$outcomes" ] || printf '%s\n' $outcomes | sort | uniq -c |
		awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')
	echo "# $sc: $errs error points, $named failures named the errno"
	test_expect "$sc: ENOSPC/EIO at $errs write/fsync/rename points: ${summ:-none}" \
		"[ $bad = 0 ] && [ $errs -ge 4 ]"
	total_errs=$((total_errs + errs))
done
echo "# error injection points fired: $total_errs"
test_done
