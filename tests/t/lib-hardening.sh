# tests/t/lib-hardening.sh: helpers shared by the hardening tests (t08*),
# sourced after lib.sh and lib-emu.sh.
#
#   tok_valid FILE          the API accepts the token in FILE (GET of itself)
#   same_tok A B            files A and B hold the same token (emuctl ends
#                           its output with a newline, `get --format raw` not)
#   store_req FILE TOK [L]  write a store request for the token in file TOK,
#                           with extra lines L (rotate_before=1h, parent=p)
#   fill_store [PROFILE TOKENFILE]...
#                           a fresh store in $ASTRO_CRED_DIR with the key
#                           check, those profiles (verified with the API,
#                           through $REL) and a stale temp file
#   seed_stale              that stale temp file, $STALE, in tmp/: old
#                           enough for the next write to remove it
#   window_profile [PARENT] profile r in the store: a fresh token in its
#                           renewal window (rotate_before=1h > its 3000 s),
#                           an organization token of $ORG, or with PARENT a
#                           workspace token of $WS made to be replaced through
#                           PARENT; its token in $TRASH/A.tok; then seed_stale
#   run_renew CMD...        `get -p r --format raw` run by CMD (strace ...),
#                           stdout in $TRASH/cmd.out
#   next_store_works        after a fault: storing $TRASH/req.s-next as
#                           profile p works, get gives back s-next.tok, and
#                           p is the only profile listed
#   now_ms                  a monotonic-enough wall clock in milliseconds
#   ms_since T              milliseconds elapsed since now_ms printed T

tok_valid() {
	python3 - "$1" <<'PYEOF'
import base64, json, os, ssl, sys, urllib.error, urllib.request
tok = open(sys.argv[1]).read().strip()
if not tok:
    sys.exit(3)
p = tok.split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
url = "%s/organizations/%s/tokens/%s" % (os.environ["ASTRO_API_URL"],
                                         c["org_id"], c["apiTokenId"])
req = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
ctx = ssl.create_default_context(cafile=os.environ["ASTRO_CRED_CA_FILE"])
try:
    urllib.request.urlopen(req, context=ctx, timeout=10).read()
except urllib.error.HTTPError as e:
    sys.exit(1 if e.code == 401 else 2)
PYEOF
}

same_tok() {
	[ "$(cat "$1")" = "$(cat "$2")" ]
}

store_req() {
	_f=$1 _t=$2
	shift 2
	{ printf 'token=%s\n' "$(cat "$_t")"; for _l in "$@"; do
		printf '%s\n' "$_l"; done; } >"$_f"
}

STALE=".acrd-tmp.0123456789abcdef"

fill_store() {
	rm -rf "$ASTRO_CRED_DIR"
	python3 "$(dirname "$0")/jwt.py" >"$TRASH/dummy.tok"
	store_req "$TRASH/req" "$TRASH/dummy.tok"
	"$REL" store -p dummy --no-verify <"$TRASH/req" &&
		"$REL" erase -p dummy </dev/null || return 1
	while [ $# -ge 2 ]; do
		store_req "$TRASH/req" "$2"
		"$REL" store -p "$1" <"$TRASH/req" || return 1
		shift 2
	done
	seed_stale
}

seed_stale() {
	printf 'stale' >"$ASTRO_CRED_DIR/tmp/$STALE"
	touch -d '-5 min' "$ASTRO_CRED_DIR/tmp/$STALE"
}

window_profile() {
	if [ -n "${1:-}" ]; then
		emuctl bootstrap --org "$ORG" --scope WORKSPACE --entity "$WS" \
			--expires-in 3000 --print token >"$TRASH/A.tok"
		store_req "$TRASH/req" "$TRASH/A.tok" rotate_before=1h "parent=$1"
	else
		emuctl bootstrap --org "$ORG" --expires-in 3000 --print token \
			>"$TRASH/A.tok"
		store_req "$TRASH/req" "$TRASH/A.tok" rotate_before=1h
	fi
	"$REL" store -p r <"$TRASH/req" && seed_stale
}

run_renew() {
	"$@" "$REL" get -p r --format raw </dev/null >"$TRASH/cmd.out"
}

next_store_works() {
	"$REL" store -p p <"$TRASH/req.s-next" 2>/dev/null &&
		"$REL" get -p p --format raw </dev/null >"$TRASH/now.tok" \
			2>/dev/null && same_tok "$TRASH/now.tok" "$TRASH/s-next.tok" &&
		[ "$("$REL" list --format kv 2>/dev/null | grep '^profile=')" = \
			profile=p ]
}

now_ms() {
	date +%s%3N
}

ms_since() {
	echo $(($(now_ms) - $1))
}
