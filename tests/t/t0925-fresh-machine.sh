#!/bin/sh
# The two README commands on a fresh machine, without a fresh machine: a
# copy of the tree whose scripts/deps only leaves a marker behind, and a
# PKG_CONFIG that knows no package until that marker exists (as on a
# machine where scripts/deps installs the -dev packages and pkg-config
# itself).  `make demo` and `make check` must pass on their first run, so
# every compile and link must see pkg-config's answers from after the
# deps step.  The test runners in the copy are stubs: what is under test
# is the Makefile, and the build it makes (a real one).
. "$(dirname "$0")/lib.sh"

TOP=$ASTRO_CRED_TOP
SRC=$TRASH/src
LOG=$TRASH/pkg-config.log

mkdir -p "$SRC"
tar -C "$TOP" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$SRC" -xf -
rm -rf "$SRC/build" "$SRC/build-san" "$SRC/build-fuzz"

cat >"$SRC/scripts/deps" <<EOF
#!/bin/sh
# A fresh machine's scripts/deps: after it, the packages exist.
echo "fake deps \$*" >>"$LOG"
touch "$TRASH/installed"
EOF
cat >"$TRASH/pkg-config" <<EOF
#!/bin/sh
# pkg-config of a machine whose -dev packages appear with scripts/deps.
if [ ! -e "$TRASH/installed" ]; then
	echo "before deps: pkg-config \$*" >>"$LOG"
	echo "Package \$* was not found in the pkg-config search path" >&2
	exit 1
fi
echo "after deps: pkg-config \$*" >>"$LOG"
exec pkg-config "\$@"
EOF
for f in tests/run tests/fuzz/run tests/demo/run; do
	printf '#!/bin/sh\necho "stub %s ran"\n' "$f" >"$SRC/$f"
done
chmod +x "$SRC/scripts/deps" "$TRASH/pkg-config" "$SRC/tests/run" \
	"$SRC/tests/fuzz/run" "$SRC/tests/demo/run"

# fresh_make TARGET: make TARGET in the copy as a new user would, with no
# jobserver or flags inherited from the `make check` running this test.
fresh_make() {
	rm -f "$TRASH/installed" "$LOG"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" -j2 "$1" \
		PKG_CONFIG="$TRASH/pkg-config" \
		</dev/null >"$TRASH/make-$1.log" 2>&1 ||
		{ tail -n 30 "$TRASH/make-$1.log"; false; }
}

test_expect 'make demo passes on its first run' 'fresh_make demo'
test_expect 'the demo ran on a build that works' '
	grep -q "stub tests/demo/run ran" "$TRASH/make-demo.log" &&
	"$SRC/build/bin/astro-cred" --version | grep -q "^astro-cred "'
test_expect 'the build asked pkg-config only after the deps step' '
	grep -q "^after deps: pkg-config --cflags" "$LOG" &&
	! grep "^before deps" "$LOG"'

rm -rf "$SRC/build" "$SRC/build-san" "$SRC/build-fuzz"
test_expect 'make check passes on its first run' 'fresh_make check'
test_expect 'it built the sanitizer build and ran the (stub) tests' '
	[ -x "$SRC/build-san/bin/astro-cred" ] &&
	[ -x "$SRC/build/bin/astro-cred" ] &&
	grep -q "stub tests/run ran" "$TRASH/make-check.log" &&
	! grep "^before deps" "$LOG"'

rm -rf "$SRC/build"
test_expect 'make alone still builds (flags found at once)' '
	touch "$TRASH/installed" &&
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" -j2 \
		PKG_CONFIG="$TRASH/pkg-config" </dev/null \
		>"$TRASH/make.log" 2>&1 &&
	[ -x "$SRC/build/bin/astro-cred" ]'

test_done
