# bash completion for astro-cred(1) and docker-credential-astro.
# Installed as $(PREFIX)/share/bash-completion/completions/astro-cred;
# works with or without the bash-completion package.  Profile names come
# from `astro-cred list --format kv`, which never prints a token.

_astro_cred_profiles()
{
	command astro-cred list --format kv </dev/null 2>/dev/null |
		command sed -n 's/^profile=\([A-Za-z0-9._-]\{1,64\}\)$/\1/p'
}

# _astro_cred_reply WORDS...: the words that start with $cur.
_astro_cred_reply()
{
	local w
	COMPREPLY=()
	for w in "$@"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

# The options of a verb (-v, --verbose, -h, --help are added).
_astro_cred_options()
{
	case $1 in
	get) echo -p --min-ttl --format --force ;;
	store) echo -p --no-verify ;;
	erase) echo -p --revoke ;;
	list) echo --format --remote -p --workspace --deployment --org-only \
		--agent ;;
	rotate) echo -p ;;
	create) echo -p --from --scope --entity --role --expiry-days --name \
		--description ;;
	env) echo -p --shell --min-ttl --unset --force ;;
	exec) echo -p --min-ttl -- ;;
	check) echo -p --min-ttl ;;
	*) return 1 ;;
	esac
}

# After "exec ... --": complete the command and its arguments.
_astro_cred_command()
{
	local at=$1
	if declare -F _command_offset >/dev/null; then
		_command_offset "$at"
	elif ((COMP_CWORD == at)); then
		COMPREPLY=($(compgen -c -- "$cur" | sort -u))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

_astro_cred()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= verb i opts
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		if [[ $cur == -* ]]; then
			_astro_cred_reply --help --version
		else
			_astro_cred_reply get store erase list rotate create \
				env exec check version
		fi
		return 0
	fi
	verb=${COMP_WORDS[1]}
	opts=$(_astro_cred_options "$verb") || return 0
	if [[ $verb == exec ]]; then
		for ((i = 2; i < COMP_CWORD; i++)); do
			if [[ ${COMP_WORDS[i]} == -- ]]; then
				_astro_cred_command $((i + 1))
				return 0
			fi
		done
	fi
	case $prev in
	-p)
		[[ $verb == create ]] && return 0 # a new name
		_astro_cred_reply $(_astro_cred_profiles)
		return 0 ;;
	--from)
		_astro_cred_reply $(_astro_cred_profiles)
		return 0 ;;
	--format)
		if [[ $verb == get ]]; then
			_astro_cred_reply kv json raw
		else
			_astro_cred_reply table kv json
		fi
		return 0 ;;
	--shell)
		_astro_cred_reply sh bash zsh fish powershell json dotenv
		return 0 ;;
	--scope)
		_astro_cred_reply ORGANIZATION WORKSPACE DEPLOYMENT AGENT
		return 0 ;;
	--role)
		_astro_cred_reply ORGANIZATION_OWNER ORGANIZATION_BILLING_ADMIN \
			ORGANIZATION_OBSERVE_ADMIN ORGANIZATION_OBSERVE_MEMBER \
			ORGANIZATION_MEMBER WORKSPACE_OWNER WORKSPACE_OPERATOR \
			WORKSPACE_AUTHOR WORKSPACE_MEMBER WORKSPACE_ACCESSOR \
			DEPLOYMENT_ADMIN
		return 0 ;;
	--min-ttl | --entity | --workspace | --deployment | --expiry-days | \
		--name | --description)
		return 0 ;; # free text
	esac
	_astro_cred_reply $opts -v --verbose -h --help
	return 0
}
complete -F _astro_cred astro-cred
complete -W 'get store erase list version' docker-credential-astro
