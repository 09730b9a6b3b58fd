#!/bin/sh
# The program's outside: dispatch, --help, --version, exit codes, hardening.
. "$(dirname "$0")/lib.sh"

run_cred --version
check_run 'version' 0 "astro-cred 0.1.0"
run_cred version
check_run 'version verb' 0 "astro-cred 0.1.0"
run_cred
check_run 'no command is a usage error' 2 '' 'usage: astro-cred'
run_cred frobnicate
check_run 'unknown command is a usage error' 2 '' "unknown command 'frobnicate'"
run_cred --help
test_expect '--help lists every verb' '
	for v in get store erase list rotate create env exec check version; do
		printf "%s" "$out" | grep -q "^  $v " || { echo "missing $v"; exit 1; }
	done'
for v in get store erase list rotate create env exec check; do
	run_cred "$v" --help
	test_expect "$v --help prints its usage" '
		[ "$rc" = 0 ] && printf "%s" "$out" | grep -q "^usage: astro-cred $v"'
done
# Option errors are diagnostics like any other (contract 2): on stderr,
# every line prefixed "astro-cred: ", naming the verb and the option.
# getopt's own messages named the verb as if it were the program.
for v in get store erase list rotate create env exec check; do
	for o in --bogus -Z -p --verbose=1; do
		run_cred "$v" $o </dev/null
		test_expect "$v $o: exit 2, every stderr line prefixed, the option named" '
			[ "$rc" = 2 ] && [ -z "$out" ] && [ -n "$err" ] &&
			! printf "%s\n" "$err" | grep -v "^astro-cred: " &&
			printf "%s" "$err" | grep -q -- "^astro-cred: $v: .*.${o%%=*}."'
	done
done
run_cred get --bogus </dev/null
check_run 'the message says what was wrong and where to look' 2 '' \
	"^astro-cred: get: unrecognized option '--bogus'; see 'astro-cred get --help'\$"
run_cred get -p </dev/null
check_run 'a missing value is named as such' 2 '' \
	"^astro-cred: get: option '-p' needs a value"
test_expect 'docker-credential-astro is a link to the binary' '
	[ -L "$DOCKER_CRED" ] && [ "$(readlink "$DOCKER_CRED")" = astro-cred ]'
test_done
