# tests/t/lib-emu.sh: the local Astro API emulator for shell tests.
# Source it after lib.sh, then at the top level of the script (not inside
# test_expect, whose subshell would lose the exports):
#
#   emu_start [EMULATOR ARGS...]   start tests/emulator/emulator.py with state
#                                  dir $TRASH/emu (or $EMU_STATE_DIR), wait
#                                  for its port (20 s), export ASTRO_API_URL,
#                                  ASTRO_CRED_CA_FILE, EMU_URL, EMU_TRAP_URL,
#                                  EMU_PID, and stop it at exit.  Bails out
#                                  of the whole test script if it cannot.
#   emuctl ARGS...                 the control client (tests/emulator/emuctl)
#
# Secrets from `emuctl bootstrap` go to stdout only: put them in a file or a
# pipe, never in the argv of the program under test.
EMU_TOP="$ASTRO_CRED_TOP/tests/emulator"

emu_start() {
	emu_dir=${EMU_STATE_DIR:-$TRASH/emu}
	mkdir -p "$emu_dir"
	python3 "$EMU_TOP/emulator.py" --state-dir "$emu_dir" \
		--exit-with-parent "$@" \
		>"$emu_dir/stdout" 2>"$emu_dir/stderr" &
	EMU_PID=$!
	at_exit "kill $EMU_PID 2>/dev/null; wait $EMU_PID 2>/dev/null"
	emu_tries=0
	while [ ! -s "$emu_dir/port" ]; do
		if ! kill -0 "$EMU_PID" 2>/dev/null || [ $emu_tries -ge 400 ]; then
			echo "Bail out! the emulator did not start"
			sed 's/^/# /' "$emu_dir/stderr"
			exit 1
		fi
		emu_tries=$((emu_tries + 1))
		sleep 0.05
	done
	EMU_PORT=$(cat "$emu_dir/port")
	EMU_TRAP_PORT=$(cat "$emu_dir/trap_port")
	export EMU_PID EMU_PORT EMU_TRAP_PORT
	export EMU_URL="https://127.0.0.1:$EMU_PORT"
	export EMU_TRAP_URL="https://127.0.0.1:$EMU_TRAP_PORT"
	export ASTRO_API_URL="$EMU_URL/v1"
	export ASTRO_CRED_CA_FILE="$emu_dir/ca.pem"
}

emuctl() {
	"$EMU_TOP/emuctl" "$@"
}
