#!/bin/sh
# Crash safety of the sealed file write path (security.md C-01, C-02), with
# strace fault injection on a real store-tool process:
#  - SIGKILL at the Nth openat/write/fsync/close/rename/fdatasync, N = 1..
#    until the injection no longer fires: afterwards the profile file is
#    byte-identical to the old one or a complete new one (it opens to the new
#    record), and the next run works;
#  - ENOSPC and EIO on the Nth write/fsync/rename: exit 3 naming the errno,
#    no temp file left, the old file intact (except a failed fsync of the
#    directory, which comes after the rename: then the new file is in place
#    and the message says it may not survive a crash).
. "$(dirname "$0")/lib.sh"

TOOL="$ASTRO_CRED_BUILD/tests/store-tool"
# LeakSanitizer cannot run under ptrace; the suite's other tests cover leaks.
export ASAN_OPTIONS=detect_leaks=0
S="$ASTRO_CRED_DIR"
TPL="$TRASH/template"
printf 'OLD-record' >"$TRASH/old"
printf 'NEW-record' >"$TRASH/new"
printf 'NEXT-record' >"$TRASH/next"
"$TOOL" file store p <"$TRASH/old"
cp -a "$S" "$TPL"

if ! command -v strace >/dev/null; then
	test_expect 'strace is installed (scripts/deps)' 'false'
	test_done
	exit
fi

# The system calls behind a name (rename(3) is renameat or renameat2).
calls() {
	case $1 in
	rename) echo rename,renameat,renameat2 ;;
	*) echo "$1" ;;
	esac
}

reset_store() {
	rm -rf "$S"
	cp -a "$TPL" "$S"
}

# After a fault: old bytes, or a complete file holding the new record.
old_or_new() {
	if cmp -s "$S/profiles/p.acrd" "$TPL/profiles/p.acrd"; then
		echo old
	elif [ "$("$TOOL" file get p 2>/dev/null)" = NEW-record ]; then
		echo new
	else
		echo corrupt
	fi
}

next_run_works() {
	"$TOOL" file store p <"$TRASH/next" 2>/dev/null &&
		[ "$("$TOOL" file get p 2>/dev/null)" = NEXT-record ] &&
		[ "$("$TOOL" file list 2>/dev/null)" = p ]
}

total=0
summary=
for sc in openat write fsync close rename fdatasync; do
	fired=0 bad=0 old=0 new=0 n=1
	while :; do
		reset_store
		strace -f -qq -o "$TRASH/trace" -e trace="$(calls $sc)" \
			-e inject="$(calls $sc)":signal=KILL:when=$n \
			"$TOOL" file store p <"$TRASH/new" >/dev/null 2>&1
		grep -q 'killed by SIGKILL' "$TRASH/trace" || break
		fired=$((fired + 1))
		state=$(old_or_new)
		case $state in
		old) old=$((old + 1)) ;;
		new) new=$((new + 1)) ;;
		esac
		if [ "$state" = corrupt ] || ! next_run_works; then
			bad=$((bad + 1))
			echo "# SIGKILL at $sc #$n: $state"
		fi
		n=$((n + 1))
	done
	total=$((total + fired))
	summary="$summary $sc=$fired"
	test_expect "SIGKILL at each of $fired ${sc} calls: old ($old) or new ($new), next run works" \
		"[ $bad = 0 ]"
done
echo "# SIGKILL points fired:$summary (total $total)"
test_expect 'the kill points cover the write path' '
	[ $total -ge 10 ] && ! echo "$summary" | grep -Eq " (write|fsync|rename)=0"'

# Errors.  "fired" is what strace marks as (INJECTED).
errs=0
for e in ENOSPC EIO; do
	for sc in write fsync rename; do
		n=1
		while :; do
			reset_store
			rc=0
			strace -f -qq -o "$TRASH/trace" -e trace="$(calls $sc)" \
				-e inject="$(calls $sc)":error=$e:when=$n \
				"$TOOL" file store p <"$TRASH/new" \
				>/dev/null 2>"$TRASH/err" || rc=$?
			grep -q INJECTED "$TRASH/trace" || break
			errs=$((errs + 1))
			state=$(old_or_new)
			after_rename=0
			grep -q 'fsync of the directory' "$TRASH/err" &&
				after_rename=1
			test_expect "$e on $sc #$n: exit 3 naming $e, no temp file, $state file" "
				[ $rc = 3 ] && grep -q '($e)' '$TRASH/err' &&
				[ -z \"\$(ls -A '$S/tmp')\" ] &&
				{ [ $state = old ] ||
				  { [ $after_rename = 1 ] && [ $state = new ]; }; } &&
				next_run_works"
			n=$((n + 1))
		done
	done
done
echo "# error injection points fired: $errs"
test_expect 'errors were injected at write, fsync and rename' '[ $errs -ge 8 ]'
test_done
