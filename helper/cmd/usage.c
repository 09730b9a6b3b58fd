/*
 * usage.c: the help texts.  Each verb's text starts with its synopsis,
 * "usage: " then "   or: " for a second form, continuation lines indented;
 * a blank line ends it.  tests/t/t0910-docs.sh checks that every synopsis
 * appears word for word in the SYNOPSIS of docs/astro-cred.1, so change
 * both together.
 */
#include <string.h>

#include "helper/cmd/usage.h"

struct usage {
	const char *verb;
	const char *text;
};

#define COMMON_OPTS                                                            \
	"  -v, --verbose        diagnostics on stderr (never a secret)\n"      \
	"  -h, --help           print this help\n"

#define PROFILE_OPT                                                            \
	"  -p PROFILE           the profile (default: $ASTRO_CRED_PROFILE, "   \
	"else default)\n"

#define MIN_TTL_OPT                                                            \
	"  --min-ttl DUR        need at least DUR left (seconds, or N with "   \
	"s, m, h, d)\n"

static const char program_help[] =
    "usage: astro-cred <command> [options]\n"
    "   or: astro-cred --version | --help\n"
    "\n"
    "Keeps Astro API tokens encrypted and fresh.\n"
    "\n"
    "commands:\n"
    "  get      print a profile's token, renewing it first if needed\n"
    "  store    store a token read from stdin\n"
    "  erase    forget a profile (--revoke: also delete it at the API)\n"
    "  list     list stored profiles (--remote: the API's tokens)\n"
    "  rotate   renew a profile's token now\n"
    "  create   mint a new token from a parent profile\n"
    "  env      print shell statements that set ASTRO_API_TOKEN\n"
    "  exec     run a command with ASTRO_API_TOKEN set\n"
    "  check    exit 0 only if the token is valid long enough\n"
    "  version  print the version\n"
    "\n"
    "Every command takes -v (--verbose) and --help.\n"
    "Run 'astro-cred <command> --help' for a command's options, and see\n"
    "astro-cred(1).  Invoked as docker-credential-astro, it speaks Docker's\n"
    "credential-helper protocol (get, store, erase, list, version).\n";

static const char get_help[] =
    "usage: astro-cred get [-p PROFILE] [--min-ttl DUR] "
    "[--format kv|json|raw]\n"
    "                      [--force] [-v]\n"
    "\n"
    "Print a profile's token, renewing it first if it is due.  When stdin\n"
    "is not a terminal, a request (key=value lines: profile, min_ttl) is\n"
    "read from it; the command line wins.  A token nothing can renew\n"
    "(rotate=never, an Agent token without a parent) is printed only while\n"
    "valid for --min-ttl, else exit 4.\n"
    "\n" PROFILE_OPT MIN_TTL_OPT
    "  --format FORMAT      kv (default), json, or raw (the token alone)\n"
    "  --force              print a raw token even to a terminal\n" COMMON_OPTS;

static const char store_help[] =
    "usage: astro-cred store [-p PROFILE] [--no-verify] [-v]\n"
    "\n"
    "Store the token given on stdin as key=value lines, never in argv:\n"
    "  token=TOKEN          the Astro API token (required)\n"
    "  profile=PROFILE      which profile\n"
    "  parent=PROFILE       the profile whose token renews this one\n"
    "  rotate=auto|never    renew automatically (default auto)\n"
    "  rotate_before=DUR    renew when less is left (or N% of the "
    "lifetime)\n"
    "\n" PROFILE_OPT "  --no-verify          store without asking the API "
    "about the token\n" COMMON_OPTS;

static const char erase_help[] =
    "usage: astro-cred erase [-p PROFILE] [--revoke] [-v]\n"
    "\n"
    "Forget a profile, even one whose record is damaged (not with\n"
    "--revoke).  A request (profile=...) may come on stdin.\n"
    "\n" PROFILE_OPT
    "  --revoke             also delete the token at the API\n" COMMON_OPTS;

static const char list_help[] =
    "usage: astro-cred list [--format table|kv|json] [-v]\n"
    "   or: astro-cred list --remote [-p PROFILE] [--workspace ID]\n"
    "                       [--deployment ID] [--org-only]\n"
    "                       [--agent --deployment ID] "
    "[--format table|kv|json] [-v]\n"
    "\n"
    "List the stored profiles, or with --remote the API's tokens (every\n"
    "page), marked where a profile holds them.  Never prints a token.\n"
    "STATE is ok, expired (nothing can renew it), interrupted, or corrupt\n"
    "(unreadable: every other profile is listed, then exit 3).\n"
    "\n"
    "  --format FORMAT      table (default), kv or json\n"
    "  --remote             list the organization's tokens at the API\n"
    "  -p PROFILE           with --remote: the profile whose token asks\n"
    "  --workspace ID       tokens with a role in this workspace\n"
    "  --deployment ID      tokens with a role on this deployment\n"
    "  --org-only           organization tokens only\n"
    "  --agent              the deployment's agent tokens\n" COMMON_OPTS;

static const char rotate_help[] =
    "usage: astro-cred rotate [-p PROFILE] [-v]\n"
    "\n"
    "Renew a profile's token now (see RENEWAL in astro-cred(1)).\n"
    "\n" PROFILE_OPT COMMON_OPTS;

static const char create_help[] =
    "usage: astro-cred create -p NEW --from PROFILE\n"
    "                         --scope "
    "ORGANIZATION|WORKSPACE|DEPLOYMENT|AGENT\n"
    "                         [--entity ID] [--role ROLE] "
    "[--expiry-days N]\n"
    "                         [--name NAME] [--description TEXT] [-v]\n"
    "\n"
    "Create a token at the API with PROFILE's token and store it as NEW,\n"
    "with PROFILE as its parent.  The token is not printed.\n"
    "\n"
    "  -p NEW               the new profile\n"
    "  --from PROFILE       the profile whose token creates it\n"
    "  --scope SCOPE        ORGANIZATION, WORKSPACE, DEPLOYMENT or AGENT\n"
    "  --entity ID          the workspace or deployment id; required for\n"
    "                       WORKSPACE, DEPLOYMENT and AGENT (its deployment)\n"
    "  --role ROLE          the role (default by scope: ORGANIZATION_MEMBER,\n"
    "                       WORKSPACE_MEMBER, DEPLOYMENT_ADMIN)\n"
    "  --expiry-days N      lifetime in days (default: never expires)\n"
    "  --name NAME          default \"astro-cred NEW\"\n"
    "  --description TEXT   the token's description\n" COMMON_OPTS;

static const char env_help[] =
    "usage: astro-cred env [-p PROFILE]\n"
    "                      "
    "[--shell sh|bash|zsh|fish|powershell|json|dotenv]\n"
    "                      [--min-ttl DUR] [--unset] [--force] [-v]\n"
    "\n"
    "Print statements that export ASTRO_API_TOKEN and\n"
    "ASTRO_API_TOKEN_EXPIRES_AT:  eval \"$(astro-cred env)\"\n"
    "\n" PROFILE_OPT
    "  --shell SHELL        the syntax (default: after $SHELL, else sh)\n"
    "  --min-ttl DUR        renew first unless valid at least this long\n"
    "  --unset              print statements that clear both variables\n"
    "  --force              print the token even to a terminal\n" COMMON_OPTS;

static const char exec_help[] =
    "usage: astro-cred exec [-p PROFILE] [--min-ttl DUR] [-v] -- "
    "COMMAND [ARG...]\n"
    "\n"
    "Run COMMAND with ASTRO_API_TOKEN and ASTRO_API_TOKEN_EXPIRES_AT set.\n"
    "The exit status is the command's own (127: not found, 126: cannot\n"
    "be run), or astro-cred's 1-6 when it fails before running it.\n"
    "\n" PROFILE_OPT MIN_TTL_OPT COMMON_OPTS;

static const char check_help[] =
    "usage: astro-cred check [-p PROFILE] [--min-ttl DUR] [-v]\n"
    "\n"
    "Exit 0 if the stored token is valid for at least DUR (default 0),\n"
    "1 if there is no such profile, 4 if it is valid for less, expired,\n"
    "or interrupted.  Never uses the network.\n"
    "\n" PROFILE_OPT MIN_TTL_OPT COMMON_OPTS;

static const char version_help[] =
    "usage: astro-cred version | --version | --help\n"
    "\n"
    "Print the version (--help: the list of commands).\n";

static const struct usage verbs[] = {
    {"get", get_help},	       {"store", store_help},	{"erase", erase_help},
    {"list", list_help},       {"rotate", rotate_help}, {"create", create_help},
    {"env", env_help},	       {"exec", exec_help},	{"check", check_help},
    {"version", version_help},
};

const char *usage_text(const char *verb)
{
	if (verb)
		for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
			if (!strcmp(verbs[i].verb, verb))
				return verbs[i].text;
	return program_help;
}
