/* Verbs whose issues have not landed yet: a clear message and exit 2. */
#include "helper/cmd.h"
#include "helper/log.h"

#define STUB(fn, verb)                                                     \
	int fn(int argc, char **argv)                                      \
	{                                                                  \
		(void)argc;                                                \
		(void)argv;                                                \
		return fail(ST_USAGE, "'%s' is not implemented yet", verb); \
	}

STUB(cmd_get, "get")
STUB(cmd_store, "store")
STUB(cmd_erase, "erase")
STUB(cmd_list, "list")
STUB(cmd_rotate, "rotate")
STUB(cmd_create, "create")
STUB(cmd_env, "env")
STUB(cmd_exec, "exec")
STUB(cmd_check, "check")
STUB(docker_main, "docker-credential-astro")
