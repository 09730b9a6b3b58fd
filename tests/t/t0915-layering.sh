#!/bin/sh
# The layering check (tests/layering, run by make check) holds on the real
# tree, and fails on a copy of it with one forbidden include planted,
# naming the file and the include: a rule nobody checks drifts.
. "$(dirname "$0")/lib.sh"

TOP=$ASTRO_CRED_TOP
CHECK=$TOP/tests/layering

test_expect 'the real tree passes' '
	"$CHECK" "$TOP" >"$TRASH/real.out" 2>&1 && ! [ -s "$TRASH/real.out" ] ||
		{ cat "$TRASH/real.out"; false; }'

# fresh_copy: a pristine copy of the three source folders in $TRASH/tree.
fresh_copy() {
	rm -rf "$TRASH/tree" &&
		mkdir "$TRASH/tree" &&
		cp -R "$TOP/helper" "$TOP/backends" "$TOP/protocol" "$TRASH/tree/"
}

test_expect 'an untouched copy passes' '
	fresh_copy && "$CHECK" "$TRASH/tree"'

# planted FILE LINE PATTERN: with LINE appended to FILE of a fresh copy,
# the check fails and prints a line naming FILE and matching PATTERN.
planted() {
	fresh_copy &&
		printf '%s\n' "$2" >>"$TRASH/tree/$1" &&
		! "$CHECK" "$TRASH/tree" >"$TRASH/planted.out" 2>&1 &&
		grep -F "layering: $1" "$TRASH/planted.out" | grep -q -- "$3" ||
		{ cat "$TRASH/planted.out"; false; }
}

# One planted include per rule: the test's name, the file, the line
# appended to it, and what the check's message must say.
while IFS='|' read -r name file line want; do
	test_expect "$name" 'planted "$file" "$line" "$want"'
done <<'EOF'
protocol/ may not include a backend|protocol/kv.c|#include "backends/storedir.h"|includes "backends/storedir.h": protocol/ may include only
protocol/ may not include the API client|protocol/docker.c|#include "helper/api/api.h"|includes "helper/api/api.h"
backends/ may not include the token's life|backends/sealed.c|#include "helper/life/lifecycle.h"|includes "helper/life/lifecycle.h": backends/ may include
backends/ may not include a command|backends/keyring.c|#include "helper/cmd/cmd.h"|includes "helper/cmd/cmd.h"
backends/ may not include the API client|backends/backend.c|#include "helper/api/net.h"|includes "helper/api/net.h"
the token's life sees no backend header but backend.h|helper/life/lifecycle.c|#include "backends/storedir.h"|includes "backends/storedir.h": helper/life/ may include
a command sees no backend header but backend.h|helper/cmd/cmd_exec.c|#include "backends/sealed_key.h"|includes "backends/sealed_key.h": helper/cmd/ may include
a command sees lifecycle.h, not the life's internals|helper/cmd/cmd_list.c|#include "helper/life/life_int.h"|includes "helper/life/life_int.h"
the token's life does not include a command|helper/life/lifecycle.c|#include "helper/cmd/cmd.h"|includes "helper/cmd/cmd.h"
the API client does not include a command|helper/api/api.c|#include "helper/cmd/cmd_common.h"|includes "helper/cmd/cmd_common.h"
the base layer includes only itself|helper/base/config.c|#include "backends/backend.h"|includes "backends/backend.h": helper/base/ may include only
libcurl stays in net.so|helper/life/record.c|#include <curl/curl.h>|only helper/api/api\*.c (net.so) may use libcurl
OpenSSL stays in net.so, not in its loader|helper/api/net.c|#include <openssl/ssl.h>|only helper/api/api\*.c (net.so)
GLib stays in keyring.so|backends/backend.c|#include <gio/gio.h>|only backends/keyring\*.c (keyring.so) may use GLib
a source file outside the layer folders is refused|helper/stray.c|int stray;|is in no layer folder
EOF
test_done
