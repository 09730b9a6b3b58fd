# fish completion for astro-cred(1) and docker-credential-astro.
# Installed as $(PREFIX)/share/fish/vendor_completions.d/astro-cred.fish.
# Profile names come from `astro-cred list --format kv`, which never
# prints a token.

function __astro_cred_profiles
    command astro-cred list --format kv </dev/null 2>/dev/null |
        string replace -r -f '^profile=([A-Za-z0-9._-]{1,64})$' '$1'
end

# True after "exec ... --": the rest is another command line.
function __astro_cred_after_dashdash
    set -l tokens (commandline -opc)
    contains -- exec $tokens[2] && contains -- -- $tokens[3..-1]
end

function __astro_cred_exec_command
    set -l tokens (commandline -opc)
    set -l i (contains -i -- -- $tokens)
    set -l rest $tokens[(math $i + 1)..-1]
    complete -C (string join -- ' ' (string escape -- $rest) (commandline -ct))
end

function __astro_cred_verb
    set -l tokens (commandline -opc)
    test (count $tokens) -ge 2 && contains -- $tokens[2] $argv
    and not __astro_cred_after_dashdash
end

set -l verbs get store erase list rotate create env exec check version
set -l c complete -c astro-cred
set -l top "test (count (commandline -opc)) -eq 1"

$c -f
$c -n $top -a get -d "Print a profile's token, renewing it if needed"
$c -n $top -a store -d 'Store a token read from stdin'
$c -n $top -a erase -d 'Forget a profile'
$c -n $top -a list -d "List stored profiles, or the API's tokens"
$c -n $top -a rotate -d "Renew a profile's token now"
$c -n $top -a create -d 'Mint a new token from a parent profile'
$c -n $top -a env -d 'Print shell statements that set ASTRO_API_TOKEN'
$c -n $top -a exec -d 'Run a command with ASTRO_API_TOKEN set'
$c -n $top -a check -d 'Exit 0 only if the token is valid long enough'
$c -n $top -a version -d 'Print the version'
$c -n $top -l help -d 'List the commands'
$c -n $top -l version -d 'Print the version'

set -l all get store erase list rotate create env exec check
$c -n "__astro_cred_verb $all" -s v -l verbose -d 'Diagnostics on stderr'
$c -n "__astro_cred_verb $all" -s h -l help -d 'Print help'
$c -n '__astro_cred_verb get store erase list rotate env exec check' \
    -s p -x -a '(__astro_cred_profiles)' -d Profile
$c -n '__astro_cred_verb create' -s p -x -d 'The new profile'
$c -n '__astro_cred_verb get env exec check' -l min-ttl -x -d 'Need at least DUR left'
$c -n '__astro_cred_verb get' -l format -x -a 'kv json raw' -d 'Output format'
$c -n '__astro_cred_verb get env' -l force -d 'Print the token to a terminal'
$c -n '__astro_cred_verb store' -l no-verify -d 'Do not ask the API first'
$c -n '__astro_cred_verb erase' -l revoke -d 'Also delete the token at the API'
$c -n '__astro_cred_verb list' -l format -x -a 'table kv json' -d 'Output format'
$c -n '__astro_cred_verb list' -l remote -d "The API's tokens"
$c -n '__astro_cred_verb list' -l workspace -x -d 'Tokens of a workspace'
$c -n '__astro_cred_verb list' -l deployment -x -d 'Tokens of a deployment'
$c -n '__astro_cred_verb list' -l org-only -d 'Organization tokens only'
$c -n '__astro_cred_verb list' -l agent -d "A deployment's agent tokens"
$c -n '__astro_cred_verb create' -l from -x -a '(__astro_cred_profiles)' -d 'Parent profile'
$c -n '__astro_cred_verb create' -l scope -x \
    -a 'ORGANIZATION WORKSPACE DEPLOYMENT AGENT' -d 'Kind of token'
$c -n '__astro_cred_verb create' -l entity -x -d 'Workspace or deployment id'
$c -n '__astro_cred_verb create' -l role -x -d Role -a 'ORGANIZATION_OWNER
    ORGANIZATION_BILLING_ADMIN ORGANIZATION_OBSERVE_ADMIN
    ORGANIZATION_OBSERVE_MEMBER ORGANIZATION_MEMBER WORKSPACE_OWNER
    WORKSPACE_OPERATOR WORKSPACE_AUTHOR WORKSPACE_MEMBER WORKSPACE_ACCESSOR
    DEPLOYMENT_ADMIN'
$c -n '__astro_cred_verb create' -l expiry-days -x -d 'Lifetime in days'
$c -n '__astro_cred_verb create' -l name -x -d "The token's name"
$c -n '__astro_cred_verb create' -l description -x -d "The token's description"
$c -n '__astro_cred_verb env' -l shell -x \
    -a 'sh bash zsh fish powershell json dotenv' -d Syntax
$c -n '__astro_cred_verb env' -l unset -d 'Clear the variables'
$c -n '__astro_cred_after_dashdash' -x -a '(__astro_cred_exec_command)'

complete -c docker-credential-astro -f -n 'test (count (commandline -opc)) -eq 1' \
    -a 'get store erase list version'
