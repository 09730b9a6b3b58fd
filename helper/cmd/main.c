/*
 * main.c: process hardening, then dispatch on the name we were invoked as
 * (docker-credential-* speaks Docker's protocol) and on the verb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sodium.h>

#include "helper/cmd/cmd.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"
#include "helper/cmd/usage.h"

#ifndef ASTRO_CRED_VERSION
#define ASTRO_CRED_VERSION "0.0.0"
#endif

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct verb verbs[] = {
    {"get", cmd_get},	{"store", cmd_store},	{"erase", cmd_erase},
    {"list", cmd_list}, {"rotate", cmd_rotate}, {"create", cmd_create},
    {"env", cmd_env},	{"exec", cmd_exec},	{"check", cmd_check},
};

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
/*
 * LeakSanitizer inspects the process at exit through ptrace, which a
 * non-dumpable process refuses.  Sanitizer builds (tests only) turn
 * dumpable back on just before exit so that leaks are still reported.
 */
static void sanitizer_exit(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
#endif

/*
 * What ssh-agent does: no core file, no ptrace, no /proc/PID/environ for
 * other processes of the same user; files private whatever the umask.
 * libcurl writes TLS session secrets to $SSLKEYLOGFILE: drop it.
 */
static int harden(void)
{
	struct rlimit rl = {0, 0};

	/* First registered, so the last exit handler to run. */
	atexit(secmem_clear_registers);
	umask(077);
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return error("cannot disable core dumps");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error("cannot make the process non-dumpable");
#ifdef SANITIZED
	atexit(sanitizer_exit);
#endif
	unsetenv("SSLKEYLOGFILE");
	if (sodium_init() < 0)
		return error("libsodium failed to initialize");
	secmem_json_hooks();
	return 0;
}

static int invoked_as_docker(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return !strncmp(base, "docker-credential-", 18);
}

static int print_version(void)
{
	printf("astro-cred %s\n", ASTRO_CRED_VERSION);
	return fflush(stdout) ? ST_TRANSIENT : ST_OK;
}

/* --help or -h anywhere among a verb's options (before a "--"). */
static int wants_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *v = getenv("ASTRO_CRED_VERBOSE");

	if (harden() < 0)
		return ST_STORE;
	if (v && !strcmp(v, "1"))
		log_set_verbose(1);
	if (argc > 0 && invoked_as_docker(argv[0]))
		return docker_main(argc, argv);
	if (argc < 2) {
		fputs(usage_text(NULL), stderr);
		return ST_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text(argc > 2 ? argv[2] : NULL), stdout);
		return ST_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
		return print_version();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++) {
		if (strcmp(argv[1], verbs[i].name))
			continue;
		if (wants_help(argc, argv)) {
			fputs(usage_text(verbs[i].name), stdout);
			return ST_OK;
		}
		return verbs[i].fn(argc - 1, argv + 1);
	}
	error("unknown command '%s'; see 'astro-cred --help'", argv[1]);
	return ST_USAGE;
}
