#!/bin/sh
# Power loss on the store's write paths (security.md C-03, section 3.2.1).
# LazyFS is not packaged in Debian and nothing is built from outside
# sources, so its fault model (drop what was not fsynced: clear and torn-op
# faults) is applied ALICE-style to a recorded run instead:
#
#  1. record the real release binary under strace (tests/tools/powerloss.py
#     names the calls) from a copied template store;
#  2. tests/tools/powerloss.py replays the trace through the model (its
#     header: fsync'd data and fsync'd directory entries survive; other
#     directory operations survive as a prefix in program order; other data
#     is kept, lost or torn) and writes every state a power loss at each
#     crash point could leave;
#  3. each state becomes the store, and the real program runs on it.
#
# Scenarios (the store is $TRASH/root/store; the tool's root is $TRASH/root):
#
#   first    `store -p p` into a store directory that does not exist yet
#            (it creates the directory, the key check, profiles/ ...); the
#            regression test of storedir.c's fsync of each new directory's
#            parent, without which the profile could vanish after exit 0
#   store    `store -p p` of token B over a stored token A
#   erase    `erase -p p` of that token A
#   renew    `get -p r` of a token in its renewal window with no parent
#            (rotation in place)
#   replace  the same with a parent profile (create, persist, delete)
#
# The emulator is not rolled back by a local power loss: a crash point
# before the program first connected to the API is checked against the
# server as it was before the run (emuctl snapshot), every later one
# against the server as the whole run left it (which is stricter: the old
# token of a replacement is already deleted); a check that may have changed
# the server (its get reached the API and printed a token it made) is
# followed by `emuctl restore`.  Verdicts:
#
#   first, store, erase: `get -p p` prints the old token or the new one
#       (none: before first, after erase), never a torn or empty profile
#       (the sealed reader refuses a torn file with exit 3: a FAILURE of
#       the write path at the store's own name); once the command exited 0
#       only the new one; then the next store and get work and `list`
#       shows only p;
#   renew: the next get prints a token the API accepts, or (only once the
#       request went out, and before the new token was printed) exits 4
#       with the documented "interrupted" message while the old token
#       really is dead, and storing a new token recovers the profile;
#   replace: the next get prints a token the API accepts;
#   all: that get never opens a temp file (strace), whatever tmp/ holds.
#
# Smoke (make check): crash points right before and after each fsync,
# rename, link, unlink and mkdir, at the connect and at the print, two
# states each (every directory operation kept and pending data cleared;
# only the durable ones and pending data torn).  Everything (every call,
# every state, at most 256 a point):
#
#   FULL=1 tests/run -v tests/t/t0850-powerloss.sh
#
# PL_SCENARIOS="first renew" runs only those.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
API_TOOL="$ASTRO_CRED_BUILD/tests/api-tool"
PL="$ASTRO_CRED_TOP/tests/tools/powerloss.py"
FULL=${FULL:-0}
# The interpreter itself, not a version manager's shim in front of it
# (whose start-up costs more than many a check).
PY=$(python3 -c 'import sys; print(sys.executable)')
emuctl() {
	"$PY" "$EMU_TOP/emuctl" "$@"
}
R="$TRASH/root"
export ASTRO_CRED_DIR="$R/store"
ORG=org-powerloss
WS=ws-powerloss
CALLS=openat,open,creat,write,pwrite64,writev,ftruncate,fsync,fdatasync
CALLS=$CALLS,syncfs,sync,rename,renameat,renameat2,unlink,unlinkat,rmdir
CALLS=$CALLS,mkdir,mkdirat,link,linkat,symlink,symlinkat,close,connect
CALLS=$CALLS,sendto,sendmsg

if ! command -v strace >/dev/null; then
	test_expect 'strace is installed (scripts/deps)' 'false'
	test_done
	exit
fi
test_expect 'the model finds a rename without fsync and an unsynced new directory' \
	"'$PY' '$PL' selftest"
emu_start

# --- templates ---------------------------------------------------------------

# make_template DIR [PROFILE TOKENFILE]...: a root holding fill_store's
# store, kept as a template.
make_template() {
	d=$1
	shift
	rm -rf "$R"
	mkdir -m 700 "$R"
	fill_store "$@" || return 1
	rm -rf "$d"
	cp -a "$R" "$d"
}

# token_claims FILE: the JSON claims of the JWT in FILE, into $_c.
token_claims() {
	_p=$(cut -d. -f2 <"$1" | tr '_-' '/+')
	case $((${#_p} % 4)) in
	2) _p="$_p==" ;;
	3) _p="$_p=" ;;
	esac
	_c=$(printf '%s' "$_p" | base64 -d 2>/dev/null)
}
# claim NAME: a string claim of $_c.
claim() {
	printf '%s' "$_c" | sed -n 's/.*"'"$1"'": *"\([^"]*\)".*/\1/p'
}
# live FILE: the API accepts the token in FILE (tok_valid without the
# start-up of a Python per check): GET of itself by api-tool.
live() {
	[ -s "$1" ] && token_claims "$1" || return 1
	_org=$(claim org_id) _id=$(claim apiTokenId)
	[ -n "$_org" ] && [ -n "$_id" ] &&
		"$API_TOOL" get "$_org" "$_id" <"$1" >/dev/null 2>&1
}

use_root() {
	rm -rf "$R"
	cp -a "$1" "$R"
}

# The checks below are only as good as `live`.
emuctl bootstrap --org "$ORG" --print token >"$TRASH/x.tok"
test_expect 'live tells a live token from a rotated one' '
	live "$TRASH/x.tok" && token_claims "$TRASH/x.tok" &&
	"$API_TOOL" rotate "$(claim org_id)" "$(claim apiTokenId)" \
		<"$TRASH/x.tok" >/dev/null &&
	! live "$TRASH/x.tok"'

# --- scenarios: set-up, the traced command, the verdict ----------------------
# setup_X: the root before the command; run_X CMD...: the command under
# CMD; check_X PHASE: one word, ok-... or why not (PHASE pre, net or done).

setup_first() {
	rm -rf "$R"
	mkdir -m 700 "$R"
}
setup_store() {
	use_root "$TRASH/tpl.store"
}
run_store() {
	"$@" "$REL" store -p p <"$TRASH/req.s-new" >"$TRASH/cmd.out"
}
run_first() {
	run_store "$@"
}

# get_traced PROFILE: `get --format raw` into now.tok, its exit status in
# $rc, and whether it opened a temp file (it must not) in $temp_read.
get_traced() {
	rc=0
	strace -f -qq -o "$TRASH/get.tr" -e trace=open,openat,connect \
		"$REL" get -p "$1" --format raw </dev/null >"$TRASH/now.tok" \
		2>"$TRASH/now.err" || rc=$?
	temp_read=$(grep -F '.acrd-tmp.' "$TRASH/get.tr" |
		grep -cv 'O_CREAT\|O_DIRECTORY')
	grep -q 'connect(.*AF_INET' "$TRASH/get.tr" && ! server_same &&
		echo dirty >"$TRASH/server.dirty"
	return 0
}

# After a get that reached the API: is the server surely as it was?  Yes
# when it printed the token it started from or the traced run's (no
# token was made) or only found the rotation interrupted (it only read).
server_same() {
	case $rc in
	0)
		same_tok "$TRASH/now.tok" "$TRASH/A.tok" ||
			same_tok "$TRASH/now.tok" "$TRASH/cmd.out" ;;
	4) grep -q 'interrupted' "$TRASH/now.err" ;;
	*) false ;;
	esac
}

# The token files OLD and NEW of the scenario (an empty one: no profile).
OLD="$TRASH/s-old.tok"
NEW="$TRASH/s-new.tok"
check_store() {
	get_traced p
	[ "$temp_read" = 0 ] || { echo "read-a-temp-file"; return; }
	case $rc in
	0)
		if [ -s "$OLD" ] && same_tok "$TRASH/now.tok" "$OLD"; then
			state=old
		elif [ -s "$NEW" ] && same_tok "$TRASH/now.tok" "$NEW"; then
			state=new
		else
			echo corrupt
			return
		fi ;;
	1)
		if [ ! -s "$OLD" ]; then
			state=old
		elif [ ! -s "$NEW" ]; then
			state=new
		else
			echo "profile-lost"
			return
		fi ;;
	*) echo "get-exit-$rc"; return ;;
	esac
	[ "$1" != done ] || [ "$state" = new ] || { echo "old-after-exit-0"; return; }
	next_store_works || { echo next-run; return; }
	echo "ok-$state"
}
check_first() {
	check_store "$@"
}
setup_erase() {
	setup_store
}
run_erase() {
	"$@" "$REL" erase -p p </dev/null >"$TRASH/cmd.out"
}
check_erase() {
	check_store "$@"
}

# renew / replace: a fresh token in its renewal window.
setup_renew() {
	use_root "$TRASH/tpl.renew"
	window_profile &&
		emuctl bootstrap --org "$ORG" --expires-in 3000 --print token \
			>"$TRASH/D.tok"
}
setup_replace() {
	use_root "$TRASH/tpl.replace"
	window_profile root
}
run_replace() {
	run_renew "$@"
}
check_renew() {
	get_traced r
	[ "$temp_read" = 0 ] || { echo "read-a-temp-file"; return; }
	if [ "$rc" = 0 ]; then
		live "$TRASH/now.tok" && echo ok-valid ||
			echo "next-get-dead-token"
		return
	fi
	if [ "$rc" != 4 ] || ! grep -q 'interrupted' "$TRASH/now.err"; then
		echo "next-get-exit-$rc"
		return
	fi
	case $1 in
	pre) echo "interrupted-before-the-request"; return ;;
	done) echo "interrupted-after-printing-the-new-token"; return ;;
	esac
	# The interrupted state must be true: the stored token is dead.
	if live "$TRASH/A.tok"; then
		echo "interrupted-but-alive"
		return
	fi
	store_req "$TRASH/req" "$TRASH/D.tok"
	"$REL" store -p r <"$TRASH/req" 2>/dev/null &&
		"$REL" get -p r --format raw </dev/null >"$TRASH/now.tok" \
			2>/dev/null && same_tok "$TRASH/now.tok" "$TRASH/D.tok" ||
		{ echo "no-recovery"; return; }
	echo ok-interrupted
}
check_replace() {
	get_traced r
	[ "$temp_read" = 0 ] || { echo "read-a-temp-file"; return; }
	[ "$rc" = 0 ] || { echo "next-get-exit-$rc"; return; }
	live "$TRASH/now.tok" && echo ok-valid || echo next-get-dead-token
}

# Renewals change the server: before each check, put it back as it was at
# the crash point (see the top of the file) when it is not so already.
# The others need not.
server_at() {
	case $sc in
	renew | replace) ;;
	*) return 0 ;;
	esac
	[ "$server" = "$1" ] && [ ! -e "$TRASH/server.dirty" ] && return
	emuctl restore "$1.$sc" || return 1
	echo restore >>"$TRASH/restores"
	server=$1
	rm -f "$TRASH/server.dirty"
}

# --- record one run, then check every state --------------------------------

# record SC: the traced run from SC's set-up; the root before it is kept
# in pre.SC, the trace in trace.SC, the server before and after as
# snapshots pre.SC and end.SC.
record() {
	"setup_$sc" >/dev/null 2>&1 || { echo "set-up failed"; return 1; }
	rm -rf "$TRASH/pre.$sc"
	cp -a "$R" "$TRASH/pre.$sc"
	server_snap pre || return 1
	rc=0
	"run_$sc" strace -f -y -xx -s 65536 -o "$TRASH/trace.$sc" \
		-e trace="$CALLS" 2>"$TRASH/cmd.err" || rc=$?
	server_snap end || return 1
	[ "$rc" = 0 ] || { echo "the traced run exited $rc"; cat "$TRASH/cmd.err"; return 1; }
	case $sc in
	renew | replace)
		live "$TRASH/cmd.out" || { echo "printed a dead token"; return 1; }
		;;
	esac
	v=$("check_$sc" done)
	echo "reference: $v"
	case $v in ok-new | ok-valid) ;; *) return 1 ;; esac
}
server_snap() {
	case $sc in
	renew | replace) emuctl snapshot "$1.$sc" ;;
	esac
}

# Tokens s-old, s-new, s-next and the template with s-old as p.
store_tokens() {
	for t in s-old s-new s-next; do
		emuctl bootstrap --org "$ORG" --print token >"$TRASH/$t.tok"
		store_req "$TRASH/req.$t" "$TRASH/$t.tok"
	done
	make_template "$TRASH/tpl.store" p "$TRASH/s-old.tok"
}

total_points=0
total_states=0
total_bad=0
for sc in ${PL_SCENARIOS:-first store erase renew replace}; do
	t0=$(date +%s)
	: >"$TRASH/restores"
	case $sc in
	first)
		for t in s-new s-next; do
			emuctl bootstrap --org "$ORG" --print token >"$TRASH/$t.tok"
			store_req "$TRASH/req.$t" "$TRASH/$t.tok"
		done
		: >"$TRASH/s-old.tok" ;;
	store) store_tokens ;;
	erase) { [ -d "$TRASH/tpl.store" ] || store_tokens; } && : >"$NEW" ;;
	renew) make_template "$TRASH/tpl.renew" ;;
	replace)
		emuctl bootstrap --org "$ORG" --print token >"$TRASH/root.tok"
		make_template "$TRASH/tpl.replace" root "$TRASH/root.tok" ;;
	esac >/dev/null || test_fail "$sc: template store"
	test_expect "$sc: a traced run works" "record"
	server=
	rm -rf "$TRASH/pl.$sc"
	summary=$("$PY" "$PL" explore --trace "$TRASH/trace.$sc" --root "$R" \
		--template "$TRASH/pre.$sc" --out "$TRASH/pl.$sc" \
		$([ "$FULL" = 1 ] && echo --full) 2>&1)
	echo "# $sc: $summary"
	# calls C points P distinct D states S unique U capped K
	points=0 unique=0
	case $summary in
	calls\ *)
		set -- $summary
		points=$6 unique=${10} ;;
	esac
	bad=0 outcomes='' temps=0 faulted=0
	while read -r id point phase call variant <&3; do
		use_root "$TRASH/pl.$sc/$id"
		[ -z "$(ls -A "$R/store/tmp" 2>/dev/null | grep -v "^$STALE\$")" ] ||
			temps=$((temps + 1))
		case $variant in *:clear* | *:torn* | *:zero* | *:prefix*)
			faulted=$((faulted + 1)) ;;
		esac
		case $phase in pre) want=pre ;; *) want=end ;; esac
		if server_at $want; then
			verdict=$("check_$sc" "$phase")
		else
			verdict="cannot-restore-the-server"
		fi
		case $verdict in
		ok-*) outcomes="$outcomes $phase:${verdict#ok-}" ;;
		*)
			bad=$((bad + 1))
			echo "# $sc: state $id (after call $point, $call, $phase," \
				"$variant): $verdict"
			;;
		esac
	done 3<"$TRASH/pl.$sc/manifest"
	summ=$([ -z "$outcomes" ] || printf '%s\n' $outcomes | sort | uniq -c |
		awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')
	# (erase writes no data)
	echo "# $sc: $faulted states with lost or torn data, $temps with a" \
		"young temp file; $(wc -l <"$TRASH/restores") server restores;" \
		"$(($(date +%s) - t0)) s"
	test_expect "$sc: $unique states at $points crash points: ${summ:-none}" \
		"[ $bad = 0 ] && [ $unique -gt 0 ] && [ $points -gt 0 ] &&
		 { [ $sc = erase ] || [ $faulted -gt 0 ]; }"
	total_points=$((total_points + points))
	total_states=$((total_states + unique))
	total_bad=$((total_bad + bad))
	case $sc in
	renew | replace)
		test_expect "$sc: states before the request, after it and after the print" "
			for p in pre net done; do
				echo '$outcomes' | grep -q \" \$p:\" || exit 1
			done" ;;
	first | store | erase)
		test_expect "$sc: states before and after the exit" "
			echo '$outcomes' | grep -q ' \(pre\|net\):' &&
			echo '$outcomes' | grep -q ' done:new'" ;;
	esac
done
echo "# power loss: $total_points crash points, $total_states states checked," \
	"$total_bad bad (FULL=$FULL)"
test_done
