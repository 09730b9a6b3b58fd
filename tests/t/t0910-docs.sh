#!/bin/sh
# The manual page and the --help texts agree; the completions for bash, zsh
# and fish load and complete verbs, options, values and profile names.
. "$(dirname "$0")/lib.sh"

TOP=$ASTRO_CRED_TOP
MAN=$TOP/docs/astro-cred.1
COMP=$TOP/completions
export LC_ALL=C.UTF-8
VERBS='get store erase list rotate create env exec check version'

# The page as plain text, wide enough that no synopsis has to wrap.
groff -man -Tutf8 -P-cbou -rLL=300n "$MAN" >"$TRASH/man.txt" 2>/dev/null

# man_section NAME: the body of one section of the rendered page.
man_section() {
	awk -v s="$1" '/^[A-Z]/ { on = ($0 == s); next } on' "$TRASH/man.txt"
}

# Synopsis entries, one a line with single spaces: from --help (an entry
# starts at "usage: " or "   or: ", continues on indented lines and ends at
# the first blank line), and from the page (an entry is a paragraph).
help_entries() {
	awk '/^$/ { exit }
	     /^(usage|   or): / { if (e != "") print e; e = substr($0, 8); next }
	     { e = e " " $0 }
	     END { if (e != "") print e }' |
		tr -s ' \t' '  ' | sed 's/^ //; s/ $//'
}
man_entries() {
	man_section SYNOPSIS |
		awk 'BEGIN { RS = "" } { gsub(/[ \t\n]+/, " "); sub(/^ /, "");
		     sub(/ $/, ""); print }' | grep '^astro-cred '
}

test_expect 'groff -ww renders the page without a warning' '
	groff -ww -man -Tutf8 "$MAN" >/dev/null 2>"$TRASH/groff.err" &&
	! [ -s "$TRASH/groff.err" ] || { cat "$TRASH/groff.err"; false; }'

test_expect 'man -l renders the page' '
	MANWIDTH=80 man -l "$MAN" >"$TRASH/man80.txt" 2>"$TRASH/man.err" &&
	grep -q "^SYNOPSIS" "$TRASH/man80.txt" &&
	grep -q "^EXIT STATUS" "$TRASH/man80.txt"'

test_expect 'the page has every section' '
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS PROTOCOL RENEWAL \
		ENVIRONMENT FILES CONFIGURATION "DOCKER MODE" "EXIT STATUS" \
		SECURITY EXAMPLES "SEE ALSO"; do
		grep -qx "$s" "$TRASH/man.txt" || { echo "no $s"; exit 1; }
	done'

# FILES says what each module links: ask the modules themselves.
test_expect 'FILES names the libraries the modules link, and no other' '
	man_section FILES | tr -s " \n" "  " >"$TRASH/files.txt" &&
	REL=$ASTRO_CRED_RELEASE/lib/astro-cred &&
	readelf -d "$REL/net.so" "$REL/keyring.so" >"$TRASH/needed.txt" &&
	grep -q "libcurl" "$TRASH/needed.txt" && grep -q "libcurl" "$TRASH/files.txt" &&
	grep -q "libgio" "$TRASH/needed.txt" && grep -q "gio" "$TRASH/files.txt" &&
	{ grep -q "libsecret" "$TRASH/needed.txt" ||
		! grep -q "backend (libsecret\|(libsecret)" "$TRASH/files.txt"; } &&
	grep -q "does not use libsecret" "$TRASH/files.txt"'

test_expect 'every verb has its subsection under COMMANDS' '
	man_section COMMANDS >"$TRASH/commands.txt" &&
	for v in $VERBS; do
		grep -Eq "^   $v( |\$)" "$TRASH/commands.txt" ||
			{ echo "no subsection for $v"; exit 1; }
	done'

# Debian renders a bare "-" as an ASCII hyphen, other systems as U+2010,
# which breaks copy and paste: the synopsis must write every dash as \-.
unescaped_dashes() {
	sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$MAN" |
		grep -n -e '^-' -e '[^\\]-'
}
test_expect 'every dash in the SYNOPSIS source is \-' '! unescaped_dashes'

man_entries >"$TRASH/man.entries"
test_expect 'the page has one synopsis per form of each verb' '
	[ "$(wc -l <"$TRASH/man.entries")" -eq 11 ] || {
		cat "$TRASH/man.entries"; false; }'
: >"$TRASH/help.all"
for v in $VERBS; do
	"$ASTRO_CRED" help "$v" | help_entries >"$TRASH/help.$v"
	cat "$TRASH/help.$v" >>"$TRASH/help.all"
	test_expect "$v --help synopsis is word for word the page's" '
		[ -s "$TRASH/help.$v" ] &&
		while IFS= read -r e; do
			grep -Fxq -- "$e" "$TRASH/man.entries" ||
				{ echo "not in the page: $e"; exit 1; }
		done <"$TRASH/help.$v"'
done
test_expect 'every synopsis of the page is some verb'"'"'s --help' '
	while IFS= read -r e; do
		grep -Fxq -- "$e" "$TRASH/help.all" ||
			{ echo "in no --help: $e"; exit 1; }
	done <"$TRASH/man.entries"'
test_expect 'a verb'"'"'s --help and help VERB print the same' '
	for v in get list exec; do
		"$ASTRO_CRED" $v --help >"$TRASH/a" &&
		"$ASTRO_CRED" help $v >"$TRASH/b" && cmp "$TRASH/a" "$TRASH/b" ||
			exit 1
	done'

test_expect 'EXIT STATUS names every exit code 0 to 6' '
	man_section "EXIT STATUS" >"$TRASH/exit.txt" &&
	for c in 0 1 2 3 4 5 6; do
		grep -Eq "^ +$c +[A-Z]" "$TRASH/exit.txt" ||
			{ echo "no exit code $c"; exit 1; }
	done'

test_expect 'ENVIRONMENT describes every variable of the contract' '
	man_section ENVIRONMENT >"$TRASH/env.txt" &&
	for e in ASTRO_CRED_PROFILE ASTRO_CRED_BACKEND ASTRO_CRED_DIR \
		ASTRO_CRED_KEY_FILE ASTRO_CRED_PASSPHRASE_FILE \
		ASTRO_CRED_PASSPHRASE ASTRO_CRED_CONFIG ASTRO_API_URL \
		ASTRO_CRED_CA_FILE ASTRO_CRED_KEY_CACHE_SECONDS \
		ASTRO_CRED_LOCK_TIMEOUT ASTRO_CRED_VERBOSE \
		ASTRO_CRED_API_TIMEOUT_MS ASTRO_API_TOKEN \
		ASTRO_API_TOKEN_EXPIRES_AT; do
		grep -Eq "^ {7}$e( |\$)" "$TRASH/env.txt" ||
			{ echo "no entry for $e"; exit 1; }
	done'

# A stand-in astro-cred for the completions: `list --format kv` prints
# profiles (and a token line and a malformed name, neither of which may be
# offered); anything else fails.
mkdir -p "$TRASH/fake"
cat >"$TRASH/fake/astro-cred" <<'EOF'
#!/bin/sh
[ "$*" = "list --format kv" ] || exit 2
printf 'profile=ci\nscope=DEPLOYMENT\ntoken=SECRETTOKEN\n\n'
printf 'profile=admin\nscope=ORGANIZATION\n\nprofile=bad name\n\n'
EOF
chmod +x "$TRASH/fake/astro-cred"

# The options a verb's --help synopsis names, sorted, one a line.
synopsis_options() {
	tr ' []|' '\n\n\n\n' <"$TRASH/help.$1" | grep -E '^--?[a-z]' |
		grep -v -- '^--help$' | sort -u
}

# ---- bash ----
# bash_complete WORDS...: run the completion function on that command line
# (the last word is the one being completed); print COMPREPLY, one a line.
bash_complete() {
	PATH="$TRASH/fake:$PATH" bash --norc --noprofile -c '
		. "$1/astro-cred.bash" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_astro_cred
		printf "%s\n" "${COMPREPLY[@]}"' bash "$COMP" "$@"
}
# same FILE WORDS...: the file holds exactly these lines, in any order.
same() {
	f=$1
	shift
	printf '%s\n' "$@" | sort >"$TRASH/want"
	sort "$f" >"$TRASH/got"
	cmp -s "$TRASH/want" "$TRASH/got" || {
		echo "want:" $(cat "$TRASH/want")
		echo "got: " $(cat "$TRASH/got")
		false
	}
}

test_expect 'bash: the completion is registered' '
	bash --norc --noprofile -c ". \"$COMP/astro-cred.bash\" &&
		complete -p astro-cred && complete -p docker-credential-astro" \
		>"$TRASH/o" &&
	grep -q "complete -F _astro_cred astro-cred\$" "$TRASH/o"'
test_expect 'bash: the verbs' '
	bash_complete astro-cred "" >"$TRASH/o" && same "$TRASH/o" $VERBS'
test_expect 'bash: a verb by prefix' '
	bash_complete astro-cred ch >"$TRASH/o" && same "$TRASH/o" check'
test_expect 'bash: --format values after get and list' '
	bash_complete astro-cred get --format "" >"$TRASH/o" &&
	same "$TRASH/o" kv json raw &&
	bash_complete astro-cred list --format "" >"$TRASH/o" &&
	same "$TRASH/o" table kv json'
test_expect 'bash: --shell and --scope values' '
	bash_complete astro-cred env --shell "" >"$TRASH/o" &&
	same "$TRASH/o" sh bash zsh fish powershell json dotenv &&
	bash_complete astro-cred create --scope D >"$TRASH/o" &&
	same "$TRASH/o" DEPLOYMENT'
test_expect 'bash: profile names, from list --format kv only' '
	bash_complete astro-cred get -p "" >"$TRASH/o" &&
	same "$TRASH/o" ci admin &&
	bash_complete astro-cred create --from a >"$TRASH/o" &&
	same "$TRASH/o" admin &&
	bash_complete astro-cred create -p "" >"$TRASH/o" && same "$TRASH/o"'
test_expect 'bash: after exec --, commands' '
	bash_complete astro-cred exec -p ci -- printen >"$TRASH/o" &&
	grep -qx printenv "$TRASH/o"'
for v in get store erase list rotate create env exec check; do
	test_expect "bash: $v's options are those of its synopsis" '
		bash_complete astro-cred $v - >"$TRASH/o" &&
		{ synopsis_options $v; echo --verbose; echo -h; echo --help
		  [ $v != exec ] || echo --; } | sort -u >"$TRASH/want.$v" &&
		same "$TRASH/o" $(cat "$TRASH/want.$v")'
done

# ---- fish ----
fish_complete() {
	PATH="$TRASH/fake:$PATH" fish --no-config -c \
		'source $argv[1]; complete -C $argv[2]' "$COMP/astro-cred.fish" \
		"$1" | cut -f1
}
test_expect 'fish: the verbs' '
	fish_complete "astro-cred " >"$TRASH/o" && same "$TRASH/o" $VERBS'
test_expect 'fish: --format, --shell and --scope values' '
	fish_complete "astro-cred get --format " >"$TRASH/o" &&
	same "$TRASH/o" kv json raw &&
	fish_complete "astro-cred list --format " >"$TRASH/o" &&
	same "$TRASH/o" table kv json &&
	fish_complete "astro-cred env --shell " >"$TRASH/o" &&
	same "$TRASH/o" sh bash zsh fish powershell json dotenv &&
	fish_complete "astro-cred create --scope " >"$TRASH/o" &&
	same "$TRASH/o" ORGANIZATION WORKSPACE DEPLOYMENT AGENT'
test_expect 'fish: profile names, from list --format kv only' '
	fish_complete "astro-cred rotate -p " >"$TRASH/o" &&
	same "$TRASH/o" ci admin'
test_expect 'fish: after exec --, commands' '
	fish_complete "astro-cred exec -- printen" >"$TRASH/o" &&
	grep -qx printenv "$TRASH/o"'
for v in get list create env; do
	test_expect "fish: $v's options are those of its synopsis" '
		fish_complete "astro-cred $v -" >"$TRASH/o" &&
		{ synopsis_options $v; echo --verbose; echo -h; echo --help; } |
			sort -u >"$TRASH/want.$v" &&
		same "$TRASH/o" $(cat "$TRASH/want.$v")'
done

# ---- zsh ----
test_expect 'zsh: compinit finds the completion for both names' '
	ZDOTDIR=$TRASH zsh -fc "fpath=(\"$COMP\" \$fpath)
		autoload -U compinit && compinit -u -D &&
		[[ \$_comps[astro-cred] == _astro-cred ]] &&
		[[ \$_comps[docker-credential-astro] == _astro-cred ]] &&
		autoload +X _astro-cred" >"$TRASH/o" 2>&1 &&
	! [ -s "$TRASH/o" ]'

# zsh_complete LINE WORDS...: type LINE and a TAB into an interactive zsh
# on a pseudo-terminal; succeed once every WORD has been listed (at most
# 10 s), then fail if SECRETTOKEN or "bad" was offered.
mkdir -p "$TRASH/zdot"
cat >"$TRASH/zdot/.zshrc" <<EOF
PS1='> '
unsetopt zle_bracketed_paste 2>/dev/null
path=("$TRASH/fake" \$path)
fpath=("$COMP" \$fpath)
autoload -U compinit && compinit -u -D
EOF
cat >"$TRASH/zsh-complete" <<'EOF'
zmodload zsh/zpty || exit 1
line=$1; shift
zpty z "ZDOTDIR=$ZDOT zsh -d -i"
zpty -w -n z "$line"$'\t'
out= ok=0
for i in {1..50}; do
	sleep 0.2
	while zpty -r -t z chunk; do out+=$chunk; done
	ok=1
	for w; do [[ $out == *$w* ]] || ok=0; done
	(( ok )) && break
done
zpty -d z
print -r -- "$out" >"$ZDOT/out"
(( ok )) && [[ $out != *SECRETTOKEN* && $out != *bad* ]]
EOF
zsh_complete() {
	ZDOT=$TRASH/zdot zsh -f "$TRASH/zsh-complete" "$@"
}
test_expect 'zsh: the verbs' '
	zsh_complete "astro-cred " get store erase list rotate create env \
		exec check version'
test_expect 'zsh: --format values after get and list' '
	zsh_complete "astro-cred get --format " json raw &&
	zsh_complete "astro-cred list --format " json table'
test_expect 'zsh: --shell and --scope values' '
	zsh_complete "astro-cred env --shell " powershell dotenv fish &&
	zsh_complete "astro-cred create --scope " ORGANIZATION AGENT'
test_expect 'zsh: profile names, from list --format kv only' '
	zsh_complete "astro-cred get -p " ci admin'
test_expect 'zsh: options of a verb' '
	zsh_complete "astro-cred check -" --min-ttl --verbose &&
	! grep -q -- --format "$TRASH/zdot/out"'

test_done
