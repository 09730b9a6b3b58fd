#!/bin/sh
# The local Astro API emulator that every API test trusts: lib-emu.sh,
# emuctl, and (through tests/emulator/test_emulator.py) every operation,
# validation rule, permission, expiry and fault.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-emu.sh"

emu_start

test_expect 'emu_start exports the URLs and the CA' '
	[ "$ASTRO_API_URL" = "https://127.0.0.1:$EMU_PORT/v1" ] &&
	[ "$EMU_URL" = "https://127.0.0.1:$EMU_PORT" ] &&
	[ "$EMU_TRAP_URL" = "https://127.0.0.1:$EMU_TRAP_PORT" ] &&
	[ "$EMU_TRAP_PORT" != "$EMU_PORT" ] &&
	[ "$ASTRO_CRED_CA_FILE" = "$TRASH/emu/ca.pem" ] &&
	grep -q "BEGIN CERTIFICATE" "$ASTRO_CRED_CA_FILE"'
test_expect 'the pid file names the running emulator' '
	[ "$(cat "$TRASH/emu/pid")" = "$EMU_PID" ] && kill -0 "$EMU_PID"'
test_expect 'the server certificate is for 127.0.0.1 and localhost' '
	openssl verify -CAfile "$ASTRO_CRED_CA_FILE" "$TRASH/emu/server.pem" &&
	openssl x509 -in "$TRASH/emu/server.pem" -noout -ext subjectAltName |
		grep -q "IP Address:127.0.0.1, DNS:localhost"'
test_expect 'emuctl health' '[ "$(emuctl health)" = ok ]'

emuctl bootstrap >"$TRASH/tok"
test_expect 'emuctl bootstrap prints a JWT on stdout' '
	grep -Eq "^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\$" "$TRASH/tok"'
emuctl bootstrap --scope DEPLOYMENT --entity cldeptest --expires-in 600 \
	--print json >"$TRASH/dep.json"
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
	<"$TRASH/dep.json")
test_expect 'emuctl bootstrap --print json: the whole token object' '
	grep -q "\"scope\": \"DEPLOYMENT\"" "$TRASH/dep.json" &&
	grep -q "\"endAt\"" "$TRASH/dep.json" &&
	grep -q "\"token\": \"ey" "$TRASH/dep.json"'
test_expect 'emuctl bootstrap --print id' '
	emuctl bootstrap --print id | grep -Eq "^cl[a-z0-9]{23}\$"'
test_expect 'emuctl bootstrap-agent' '
	emuctl bootstrap-agent --org clorgx --deployment cldepx --print json |
		grep -q "\"token\": \"ey"'
# json_field KEY <JSON: prints one top-level field, as JSON.
json_field() {
	python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"
}
test_expect 'emuctl token-state' '
	emuctl token-state "$id" >"$TRASH/st" &&
	[ "$(json_field exists <"$TRASH/st")" = true ] &&
	[ "$(json_field valid <"$TRASH/st")" = true ] &&
	[ "$(json_field rotations <"$TRASH/st")" = 0 ] &&
	[ "$(json_field deleted <"$TRASH/st")" = false ] &&
	json_field expiresAt <"$TRASH/st" | grep -Eq "^\"[0-9-]{10}T[0-9:]{8}Z\"\$"'
test_expect 'emuctl expire, then token-state says not valid' '
	emuctl expire "$id" &&
	[ "$(emuctl token-state "$id" | json_field valid)" = false ]'
test_expect 'emuctl log --clear empties the log and prints nothing' '
	[ -z "$(emuctl log --clear)" ] && [ "$(emuctl count)" = 0 ]'
test_expect 'emuctl fault, fault list, fault clear' '
	emuctl fault status --code 503 --retry-after 2 --op rotate &&
	emuctl fault list | grep -q "\"retryAfter\": \"2\"" &&
	emuctl fault clear && emuctl fault list | grep -q "\"faults\": \[\]"'
test_expect 'emuctl fails on an unknown token' '! emuctl token-state clnosuch'
test_expect 'emuctl fails on a fault without its option' '
	! emuctl fault latency 2>/dev/null'
test_expect 'emuctl fails without EMU_URL' '
	! env -u EMU_URL "$EMU_TOP/emuctl" health 2>/dev/null'

# The API battery, folded into this script's TAP stream.
EMU_TAP_EMBED=1 python3 "$EMU_TOP/test_emulator.py" >"$TRASH/py.out" 2>&1
complete=no
while IFS= read -r line; do
	case $line in
	"ok - "*) test_ok "${line#ok - }" ;;
	"not ok - "*) test_fail "${line#not ok - }" ;;
	"# test_emulator.py complete") complete=yes ;;
	*) printf '#%s\n' "${line#\#}" ;;
	esac
done <"$TRASH/py.out"
test_expect 'test_emulator.py ran to the end' '[ "$complete" = yes ]'

# A process that has exited but is not yet reaped is a zombie (Z).
gone() {
	[ ! -e "/proc/$1" ] || grep -q ") Z " "/proc/$1/stat"
}
test_expect 'the emulator stops on SIGTERM and removes its port file' '
	kill "$EMU_PID" && n=0 &&
	while ! gone "$EMU_PID" && [ $n -lt 300 ]; do
		sleep 0.1; n=$((n + 1)); done &&
	gone "$EMU_PID" && [ ! -e "$TRASH/emu/port" ]'
test_done
