#!/bin/sh
# HTTP misbehaviour (security.md 2.5, H-01..H-13) end to end: the real
# `astro-cred store` (a GET of the token), `get` (a renewal, a POST),
# `rotate` and `list --remote` on the release build, against the emulator's
# faults and the peers of tests/t/httpspy.py.  tests/unit/test_api_http.c
# covers the client itself; this is what a user's command does.
#
# Figures (printed as the last comment line): requests and Authorization
# headers that reached a redirect target, commands that ran past their
# time budget (ASTRO_CRED_API_TIMEOUT_MS) + 1 s, and the peak RSS of a
# command fed a 100 MB body, against the same command's peak RSS on a
# normal answer (/usr/bin/time -v).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"
. "$(dirname "$0")/lib-hardening.sh"

REL="$ASTRO_CRED_RELEASE/bin/astro-cred"
SPY="python3 $(dirname "$0")/httpspy.py"
ORG=org-http
BUDGET=2000 # ms, for the commands that are meant to time out
emu_start
EMU_DIR="$TRASH/emu"

emuctl bootstrap --org "$ORG" --print token >"$TRASH/a.tok"
store_req "$TRASH/req.a" "$TRASH/a.tok"
"$REL" store -p a <"$TRASH/req.a" || test_fail 'store the first token'

hangs=0 timed_runs=0
# timed LIMIT_MS CMD...: run CMD (stdin as given), set $rc, $ms, $err;
# a run longer than LIMIT_MS counts as a hang.
timed() {
	limit=$1
	shift
	t0=$(now_ms)
	rc=0
	"$@" >"$TRASH/out" 2>"$TRASH/err" || rc=$?
	ms=$(ms_since "$t0")
	err=$(cat "$TRASH/err")
	timed_runs=$((timed_runs + 1))
	if [ "$ms" -gt "$limit" ]; then
		hangs=$((hangs + 1))
		echo "# HANG: $* took $ms ms (limit $limit)"
	fi
}

# A token in its renewal window (rotate_before=1h > its 3000 s), so that
# every `get` of profile r sends a rotate.
fresh_r() {
	emuctl bootstrap --org "$ORG" --expires-in 3000 --print token \
		>"$TRASH/r.tok"
	store_req "$TRASH/req.r" "$TRASH/r.tok" rotate_before=1h
	"$REL" store -p r <"$TRASH/req.r"
}

# --- H-01 redirects ---------------------------------------------------------
emuctl trap-log --clear >/dev/null
redirects=0 redirect_ok=0 k=0
for target in "$EMU_TRAP_URL/steal" "https://127.0.0.1:$EMU_TRAP_PORT/v1" \
	"http://127.0.0.1:$EMU_TRAP_PORT/plain" "file:///etc/passwd"; do
	for code in 301 302 303 307 308; do
		for cmd in store rotate get; do
			# Smoke: each code and target once, the commands in turn.
			k=$((k + 1))
			[ "${FULL:-0}" = 1 ] ||
				[ $(((k - 1) % 3)) = $((((k - 1) / 3) % 3)) ] ||
				continue
			case $cmd in
			store) op=get in="$TRASH/req.a" args="store -p a" ;;
			rotate) op=rotate in=/dev/null args="rotate -p a" ;;
			get) fresh_r; op=rotate in=/dev/null
			     args="get -p r --format raw" ;;
			esac
			emuctl fault redirect --location "$target" --code $code \
				--op $op >/dev/null
			# shellcheck disable=SC2086
			timed 30000 "$REL" $args <"$in"
			redirects=$((redirects + 1))
			if [ "$rc" != 0 ] && [ ! -s "$TRASH/out" ] &&
			   printf '%s' "$err" | grep -q "HTTP $code (an unexpected redirect, not followed)"; then
				redirect_ok=$((redirect_ok + 1))
			else
				echo "# redirect $code to $target on $cmd: exit $rc: $err"
			fi
			emuctl fault clear >/dev/null
		done
	done
done
trap_hits=$(emuctl trap-log | wc -l)
trap_auth=$(emuctl trap-log | grep -c '"authorization": *true')
test_expect "H-01: $redirects redirects (301..308 to another port, http, file) refused, stdout empty" \
	"[ $redirect_ok = $redirects ]"
test_expect "H-01: the redirect targets saw $trap_hits requests, $trap_auth Authorization headers" \
	"[ $trap_hits = 0 ] && [ $trap_auth = 0 ]"
run_cred get -p a --format raw </dev/null
test_expect 'H-01: after all that, profile a still holds a live token' '
	printf "%s" "$out" >"$TRASH/a.now" && tok_valid "$TRASH/a.now"'

# --- H-02 TLS ------------------------------------------------------------------
# Certificates signed by the emulator's CA (which astro-cred trusts here)
# that are wrong all the same: for another name, and expired; and a
# certificate from a CA nobody trusts.
certs="$TRASH/certs"
mkdir -p "$certs"
(
	cd "$certs" || exit 1
	ossl() { openssl "$@" >/dev/null 2>&1; }
	ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
	for c in wrongname expired; do
		# shellcheck disable=SC2086
		ossl req -new $ec -keyout $c.key -out $c.csr -subj /CN=$c
	done
	printf 'subjectAltName=DNS:wrong.example,IP:10.9.9.9\n' >wrongname.ext
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >expired.ext
	ossl x509 -req -in wrongname.csr -CA "$EMU_DIR/ca.pem" \
		-CAkey "$EMU_DIR/ca.key" -set_serial 0x51 -days 30 \
		-out wrongname.pem -extfile wrongname.ext
	ossl x509 -req -in expired.csr -CA "$EMU_DIR/ca.pem" \
		-CAkey "$EMU_DIR/ca.key" -set_serial 0x52 -days 0 \
		-out expired.pem -extfile expired.ext
	# shellcheck disable=SC2086
	ossl req -x509 $ec -keyout selfsigned.key -out selfsigned.pem \
		-days 30 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1,DNS:localhost
) || test_fail 'make the bad certificates'
sleep 1 # the expired certificate's notAfter is its notBefore

spy_start() { # NAME MODE [ARGS]: start a spy; $spy_port
	d="$TRASH/spy.$1"
	mode=$2
	shift 2
	$SPY "$mode" --dir "$d" --exit-with-parent "$@" 2>"$d.err" &
	at_exit "kill $! 2>/dev/null"
	tries=0
	while [ ! -s "$d/port" ] && [ $tries -lt 100 ]; do
		sleep 0.05
		tries=$((tries + 1))
	done
	spy_port=$(cat "$d/port" 2>/dev/null)
}

tls_refused=0
for c in wrongname expired selfsigned; do
	spy_start "$c" tls --cert "$certs/$c.pem" --key "$certs/$c.key"
	ASTRO_API_URL="https://127.0.0.1:$spy_port/v1" \
		timed 10000 "$REL" store -p tls-$c <"$TRASH/req.a"
	reqs=$(cat "$TRASH/spy.$c/log" 2>/dev/null | grep -c '"request"')
	if [ "$rc" = 5 ] && [ "$reqs" = 0 ]; then
		tls_refused=$((tls_refused + 1))
	else
		echo "# TLS $c: exit $rc, $reqs requests: $err"
	fi
done
ASTRO_CRED_CA_FILE='' timed 10000 "$REL" store -p tls-system <"$TRASH/req.a"
[ "$rc" = 5 ] && tls_refused=$((tls_refused + 1))
test_expect "H-02: wrong name, expired, untrusted CA, system trust only: $tls_refused/4 refused before any request" \
	'[ $tls_refused = 4 ] &&
	 ! "$REL" list --format kv | grep -q "^profile=tls-"'

# --- H-03 http:// --------------------------------------------------------------
ASTRO_API_URL="http://127.0.0.1:$EMU_PORT/v1" timed 10000 \
	"$REL" store -p plain <"$TRASH/req.a"
test_expect 'H-03: an http:// API URL is a usage error before any connection' '
	[ "$rc" = 2 ] && printf "%s" "$err" | grep -q "must be an https:// URL"'

# --- H-04 / H-05 a peer that hangs, a port that drops SYNs, a body that crawls ---------------------
spy_start silent silent
ASTRO_API_URL="https://127.0.0.1:$spy_port/v1" ASTRO_CRED_API_TIMEOUT_MS=$BUDGET \
	timed $((BUDGET + 1000)) "$REL" store -p silent <"$TRASH/req.a"
test_expect "H-04: a silent peer: exit 5 in $ms ms (budget $BUDGET ms)" '[ "$rc" = 5 ]'
# listen_overflows: the kernel's count of SYNs dropped on a full accept queue.
listen_overflows() {
	awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") c = i; n = 1 }
		else print $c }' /proc/net/netstat
}
spy_start blackhole blackhole
drops0=$(listen_overflows)
ASTRO_API_URL="https://127.0.0.1:$spy_port/v1" ASTRO_CRED_API_TIMEOUT_MS=$BUDGET \
	timed $((BUDGET + 1000)) "$REL" store -p blackhole <"$TRASH/req.a"
drops=$(($(listen_overflows) - drops0))
test_expect "H-04: every SYN dropped ($drops dropped by the kernel): exit 5 in $ms ms (budget $BUDGET ms)" '
	[ "$rc" = 5 ] && [ "$drops" -ge 1 ] &&
	printf "%s" "$err" | grep -q -i "timed out\|timeout" &&
	! "$REL" list --format kv | grep -q "^profile=blackhole"'
spy_start slow slow --cert "$EMU_DIR/server.pem" --key "$EMU_DIR/server.key"
ASTRO_API_URL="https://127.0.0.1:$spy_port/v1" ASTRO_CRED_API_TIMEOUT_MS=$BUDGET \
	timed $((BUDGET + 1000)) "$REL" store -p a <"$TRASH/req.a"
test_expect "H-05: a 100-byte body at 2 bytes/s: exit 5 in $ms ms (budget $BUDGET ms)" '
	[ "$rc" = 5 ] && grep -q slow "$TRASH/spy.slow/log"'
emuctl fault slow-body --interval-ms 500 --op rotate >/dev/null
fresh_r
ASTRO_CRED_API_TIMEOUT_MS=$BUDGET timed $((BUDGET + 1000)) \
	"$REL" get -p r --format raw </dev/null
emuctl fault clear >/dev/null
test_expect "H-05: a rotate answer announcing 1 MB, sent slowly: refused at once by the body cap (exit $rc, $ms ms), no token printed" '
	[ "$rc" != 0 ] && [ ! -s "$TRASH/out" ]'

# --- H-06 100 MB bodies -------------------------------------------------------
# peak_rss CMD...: run it under /usr/bin/time -v; $rss (KiB), $rc.
peak_rss() {
	rc=0
	/usr/bin/time -v -o "$TRASH/time" "$@" >"$TRASH/out" 2>"$TRASH/err" ||
		rc=$?
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TRASH/time")
}
peak_rss "$REL" store -p a <"$TRASH/req.a"
base_rss=$rss
max_rss=0 big_ok=0
for how in "" --chunked --gzip; do
	for op in get list; do
		# shellcheck disable=SC2086
		emuctl fault big-body --bytes 100000000 $how --op $op >/dev/null
		case $op in
		get) peak_rss "$REL" store -p a <"$TRASH/req.a" ;;
		list) peak_rss "$REL" list --remote -p a </dev/null ;;
		esac
		emuctl fault clear >/dev/null
		[ "$rss" -gt "$max_rss" ] && max_rss=$rss
		if [ "$rc" != 0 ] && [ "$rc" -lt 90 ] &&
		   [ "$rss" -lt $((base_rss + 8192)) ]; then
			big_ok=$((big_ok + 1))
		else
			echo "# 100 MB body ${how:-with Content-Length} on $op: exit $rc, peak $rss KiB: $(cat "$TRASH/err")"
		fi
	done
done
test_expect "H-06: 100 MB bodies (length, chunked, gzip; get and list): refused 6/6, peak RSS $max_rss KiB (normal answer $base_rss KiB)" \
	"[ $big_ok = 6 ]"

# --- H-07 429 and 503 ---------------------------------------------------------
in2s=$(date -u -d '+2 sec' '+%a, %d %b %Y %H:%M:%S GMT')
retry_ok=0
for v in 2 "$in2s" -5 garbage; do
	emuctl fault status --code 429 --retry-after "$v" --op get >/dev/null
	timed 10000 "$REL" store -p a <"$TRASH/req.a"
	emuctl fault clear >/dev/null
	if [ "$rc" = 0 ]; then
		retry_ok=$((retry_ok + 1))
	else
		echo "# 429 Retry-After '$v': exit $rc: $err"
	fi
done
test_expect "H-07: 429 with Retry-After 2, an HTTP-date, -5, garbage: retried, $retry_ok/4 succeed" \
	'[ $retry_ok = 4 ]'
emuctl fault status --code 429 --retry-after 86400 --op get >/dev/null
timed 2000 "$REL" store -p a <"$TRASH/req.a"
emuctl fault clear >/dev/null
test_expect "H-07: Retry-After 86400: gives up at once ($ms ms), says why" '
	[ "$rc" = 5 ] && printf "%s" "$err" | grep -q "beyond the time budget"'
emuctl log --clear >/dev/null
emuctl fault status --code 503 --count 0 --op get >/dev/null
ASTRO_CRED_API_TIMEOUT_MS=5000 timed 6000 "$REL" store -p a <"$TRASH/req.a"
emuctl fault clear >/dev/null
tries=$(emuctl count get --status 503)
test_expect "H-07: 503 for ever: $tries tries in $ms ms, then exit 5" '
	[ "$rc" = 5 ] && [ "$tries" -ge 2 ] && [ "$tries" -le 3 ]'
fresh_r
emuctl log --clear >/dev/null
emuctl fault status --code 503 --op rotate >/dev/null
timed 10000 "$REL" get -p r --format raw </dev/null
emuctl fault clear >/dev/null
test_expect 'H-07: a 503 on a rotate POST is not retried' '
	[ "$(emuctl count rotate)" = 1 ] && [ "$rc" != 0 ]'

# --- H-08 the rotate answer lost ----------------------------------------------
fresh_r
emuctl log --clear >/dev/null
emuctl fault drop-after-commit --op rotate >/dev/null
timed 10000 "$REL" get -p r --format raw </dev/null
emuctl fault clear >/dev/null
test_expect 'H-08: rotation committed, answer lost: one POST, exit 4 "interrupted", no token' '
	[ "$rc" = 4 ] && [ ! -s "$TRASH/out" ] &&
	[ "$(emuctl count rotate)" = 1 ] &&
	printf "%s" "$err" | grep -q interrupted'

# --- H-09 a 401 on a stored token ---------------------------------------------
fresh_r
r_id=$("$REL" get -p r --format kv </dev/null 2>/dev/null |
	sed -n 's/^token_id=//p')
# That get renewed it; revoke the new token behind astro-cred's back.
emuctl expire "$r_id" >/dev/null
emuctl log --clear >/dev/null
timed 10000 "$REL" get -p r --format raw </dev/null
test_expect 'H-09: a revoked token: one rotate (401), exit 4, no loop' '
	[ "$rc" = 4 ] && [ ! -s "$TRASH/out" ] &&
	[ "$(emuctl count rotate)" = 1 ] && [ "$(emuctl count)" -le 2 ]'

# --- H-10 proxies ---------------------------------------------------------------
spy_start proxy proxy
https_proxy="http://127.0.0.1:$spy_port" NO_PROXY='' no_proxy='' \
	timed 10000 "$REL" store -p a <"$TRASH/req.a"
test_expect 'H-10: https_proxy: works through CONNECT; the proxy sees no token' '
	[ "$rc" = 0 ] &&
	grep -q "\"CONNECT 127.0.0.1:$EMU_PORT HTTP/1.1\"" "$TRASH/spy.proxy/log" &&
	! grep -qi "authorization" "$TRASH/spy.proxy/log" &&
	! grep -q "$(head -c 40 "$TRASH/a.tok")" "$TRASH/spy.proxy/log"'
: >"$TRASH/spy.proxy/log"
https_proxy="http://127.0.0.1:$spy_port" NO_PROXY=127.0.0.1 \
	timed 10000 "$REL" store -p a <"$TRASH/req.a"
test_expect 'H-10: NO_PROXY is honoured' '
	[ "$rc" = 0 ] && [ ! -s "$TRASH/spy.proxy/log" ]'

# --- H-11 ~/.netrc, and the headers we send -------------------------------------
spy_start headers tls --cert "$EMU_DIR/server.pem" --key "$EMU_DIR/server.key"
printf 'default login netrc-user password netrc-secret\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
ASTRO_API_URL="https://127.0.0.1:$spy_port/v1" \
	timed 10000 "$REL" store -p a <"$TRASH/req.a"
rm -f "$HOME/.netrc"
test_expect 'H-11: ~/.netrc is ignored: one Authorization, a Bearer; no Accept-Encoding' '
	grep "\"request\"" "$TRASH/spy.headers/log" >"$TRASH/h" &&
	[ "$(wc -l <"$TRASH/h")" = 1 ] &&
	[ "$(grep -o "Authorization: [A-Za-z]*" "$TRASH/h")" = "Authorization: Bearer" ] &&
	! grep -qi "Basic\|Accept-Encoding\|Cookie" "$TRASH/h"'

# --- H-12 a captive portal ------------------------------------------------------
emuctl fault html --op get >/dev/null
timed 10000 "$REL" store -p portal <"$TRASH/req.a"
emuctl fault clear >/dev/null
test_expect 'H-12: a 200 text/html answer is refused; nothing stored' '
	[ "$rc" != 0 ] && ! "$REL" list --format kv | grep -q "^profile=portal"'
fresh_r
emuctl fault html --op rotate >/dev/null
timed 10000 "$REL" get -p r --format raw </dev/null
emuctl fault clear >/dev/null
test_expect 'H-12: an html answer to a rotate: no token printed' '
	[ "$rc" != 0 ] && [ ! -s "$TRASH/out" ]'

# --- H-13 names that resolve to loopback ----------------------------------------
# Policy (docs/security.md): no address filtering; TLS verification is the
# guard.  localhost is in the emulator's certificate; a name that is not
# fails verification (above, "wrong name").
ASTRO_API_URL="https://localhost:$EMU_PORT/v1" timed 10000 \
	"$REL" store -p a <"$TRASH/req.a"
test_expect 'H-13: a name that resolves to 127.0.0.1 works when the certificate says so' \
	'[ "$rc" = 0 ]'

test_expect "no command ran past its budget + 1 s ($hangs of $timed_runs timed runs)" \
	'[ $hangs = 0 ]'
echo "# summary: $redirects redirects, $trap_hits requests and $trap_auth Authorization headers at redirect targets;" \
	"$hangs of $timed_runs timed runs past budget + 1 s; peak RSS $max_rss KiB with 100 MB bodies (normal $base_rss KiB)"
test_done
