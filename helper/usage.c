#include <string.h>

#include "helper/usage.h"

struct usage {
	const char *verb;
	const char *text;
};

static const char program_help[] =
	"usage: astro-cred <command> [options]\n"
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
	"Run 'astro-cred <command> --help' for a command's options.\n";

static const struct usage verbs[] = {
	{ "get", "usage: astro-cred get [-p PROFILE] [--min-ttl DUR] "
		 "[--format kv|json|raw] [--force]\n" },
	{ "store", "usage: astro-cred store [-p PROFILE] [--no-verify] "
		   "< request\n" },
	{ "erase", "usage: astro-cred erase [-p PROFILE] [--revoke]\n" },
	{ "list", "usage: astro-cred list [--format table|kv|json]\n"
		  "       astro-cred list --remote [-p PROFILE] "
		  "[--workspace ID] [--deployment ID] [--org-only]\n"
		  "                  [--agent --deployment ID] "
		  "[--format table|kv|json]\n" },
	{ "rotate", "usage: astro-cred rotate [-p PROFILE]\n" },
	{ "create", "usage: astro-cred create -p NEW --from PROFILE --scope "
		    "ORGANIZATION|WORKSPACE|DEPLOYMENT|AGENT\n"
		    "                  [--entity ID] [--role ROLE] "
		    "[--expiry-days N] [--name NAME] [--description TEXT]\n" },
	{ "env", "usage: astro-cred env [-p PROFILE] "
		 "[--shell sh|bash|zsh|fish|powershell|json|dotenv] "
		 "[--unset] [--force]\n" },
	{ "exec", "usage: astro-cred exec [-p PROFILE] [--min-ttl DUR] -- "
		  "COMMAND [ARG...]\n" },
	{ "check", "usage: astro-cred check [-p PROFILE] [--min-ttl DUR]\n" },
	{ "version", "usage: astro-cred version\n" },
};

const char *usage_text(const char *verb)
{
	if (verb)
		for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
			if (!strcmp(verbs[i].verb, verb))
				return verbs[i].text;
	return program_help;
}
