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
test_expect 'docker-credential-astro is a link to the binary' '
	[ -L "$DOCKER_CRED" ] && [ "$(readlink "$DOCKER_CRED")" = astro-cred ]'
test_done
