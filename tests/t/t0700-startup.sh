#!/bin/sh
# Start-up cost is part of the design (helper/base/module.h): a cache-hit get
# from the sealed file must load neither libcurl nor libsecret.  Checked on
# the release build with LD_DEBUG=libs, which shows every library loaded,
# dlopen()ed ones included.  A stale token must load the net module: the
# positive control that shows the check can fail.
. "$(dirname "$0")/lib.sh"
REL="$ASTRO_CRED_RELEASE/bin/astro-cred"

python3 "$(dirname "$0")/jwt.py" --exp-in 86400 >"$TRASH/tok"
{ printf 'token='; cat "$TRASH/tok"; echo; } >"$TRASH/req"
LD_DEBUG=libs "$REL" store -p hit --no-verify <"$TRASH/req" 2>"$TRASH/store.libs"
store_rc=$?
test_expect 'store --no-verify works' '[ "$store_rc" = 0 ] &&
	"$REL" get -p hit --format raw </dev/null | cmp -s - "$TRASH/tok"'
test_expect 'store --no-verify loads neither libcurl nor libsecret' '
	grep -q "calling init" "$TRASH/store.libs" &&
	! grep -E "libcurl|libsecret|net\.so|keyring\.so" "$TRASH/store.libs"'

LD_DEBUG=libs "$REL" get -p hit </dev/null >/dev/null 2>"$TRASH/get.libs"
test_expect 'a cache-hit get loads neither libcurl nor libsecret' '
	grep -q "calling init" "$TRASH/get.libs" &&
	! grep -E "libcurl|libsecret|libgio|net\.so|keyring\.so" "$TRASH/get.libs"'
test_expect 'the executable itself links only libsodium and cJSON (and libc)' '
	ldd "$REL" | grep -v -E "linux-vdso|ld-linux|libc\.so|libsodium|libcjson|libm\.so" |
		{ ! grep .; }'

# Positive control: a token inside its renewal window needs the network.
python3 "$(dirname "$0")/jwt.py" --exp-in 100 --iat-ago 1000 >"$TRASH/stale"
{ printf 'token='; cat "$TRASH/stale"; echo; } |
	"$REL" store -p stale --no-verify
ASTRO_API_URL=https://127.0.0.1:9/v1 ASTRO_CRED_API_TIMEOUT_MS=500 \
	LD_DEBUG=libs "$REL" get -p stale </dev/null >/dev/null 2>"$TRASH/stale.libs"
test_expect 'a stale token loads the net module (libcurl)' '
	grep -q "net\.so" "$TRASH/stale.libs" && grep -q libcurl "$TRASH/stale.libs"'
# The modules take libsodium from the executable (linked statically by
# default): a symbol it lacks would fail the dlopen.
test_expect 'the net module resolves every symbol it needs' '
	grep -q "calling init: .*net\.so" "$TRASH/stale.libs" &&
	! grep -q "cannot load module" "$TRASH/stale.libs"'
test_done
