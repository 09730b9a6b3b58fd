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

test_expect 'protocol/ may not include a backend' '
	planted protocol/kv.c "#include \"backends/storedir.h\"" \
		"includes \"backends/storedir.h\": protocol/ may include only"'
test_expect 'protocol/ may not include the API client' '
	planted protocol/docker.c "#include \"helper/api/api.h\"" \
		"includes \"helper/api/api.h\""'
test_expect 'backends/ may not include the token'"'"'s life' '
	planted backends/sealed.c "#include \"helper/life/lifecycle.h\"" \
		"includes \"helper/life/lifecycle.h\": backends/ may include"'
test_expect 'backends/ may not include the API client or a command' '
	planted backends/keyring.c "#include \"helper/cmd/cmd.h\"" \
		"includes \"helper/cmd/cmd.h\"" &&
	planted backends/backend.c "#include \"helper/api/net.h\"" \
		"includes \"helper/api/net.h\""'
test_expect 'the token'"'"'s life sees no backend header but backend.h' '
	planted helper/life/lifecycle.c "#include \"backends/storedir.h\"" \
		"includes \"backends/storedir.h\": helper/life/ may include"'
test_expect 'a command sees no backend header but backend.h' '
	planted helper/cmd/cmd_exec.c "#include \"backends/sealed_key.h\"" \
		"includes \"backends/sealed_key.h\": helper/cmd/ may include"'
test_expect 'a command sees lifecycle.h, not the life'"'"'s internals' '
	planted helper/cmd/cmd_list.c "#include \"helper/life/life_int.h\"" \
		"includes \"helper/life/life_int.h\""'
test_expect 'nothing includes upward into the commands' '
	planted helper/life/lifecycle.c "#include \"helper/cmd/cmd.h\"" \
		"includes \"helper/cmd/cmd.h\"" &&
	planted helper/api/api.c "#include \"helper/cmd/cmd_common.h\"" \
		"includes \"helper/cmd/cmd_common.h\""'
test_expect 'the base layer includes only itself' '
	planted helper/base/config.c "#include \"backends/backend.h\"" \
		"includes \"backends/backend.h\": helper/base/ may include only"'
test_expect 'libcurl stays in net.so' '
	planted helper/life/record.c "#include <curl/curl.h>" \
		"only helper/api/api\*.c (net.so) may use libcurl" &&
	planted helper/api/net.c "#include <openssl/ssl.h>" \
		"only helper/api/api\*.c (net.so)"'
test_expect 'GLib stays in keyring.so' '
	planted backends/backend.c "#include <gio/gio.h>" \
		"only backends/keyring\*.c (keyring.so) may use GLib"'
test_expect 'a source file outside the layer folders is refused' '
	planted helper/stray.c "int stray;" "is in no layer folder"'
test_done
