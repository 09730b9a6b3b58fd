/*
 * Docker mode: invoked as docker-credential-astro, speak Docker's
 * credential-helper protocol (contract.md section 5; protocol/docker.h)
 * for registries such as images.astronomer.cloud, user "cli".  A registry
 * host maps to the profile of the same name unless the config's [docker]
 * section maps it to another; `get` renews like astro-cred get.
 *
 * Docker's clients read errors from stdout and match the exact text
 * "credentials not found in native keychain" with exit 1; we keep that
 * convention and also print our usual line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper/cmd/cmd.h"
#include "helper/cmd/cmd_common.h"
#include "helper/base/config.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"
#include "helper/base/names.h"
#include "protocol/docker.h"
#include "protocol/out.h"

#ifndef ASTRO_CRED_VERSION
#define ASTRO_CRED_VERSION "0.0.0"
#endif

/* Docker's convention: a message on stdout and exit 1. */
static int docker_fail(const char *msg)
{
	printf("%s\n", msg);
	fflush(stdout);
	return 1;
}

static int docker_status(enum status st)
{
	if (st == ST_OK)
		return 0;
	if (st == ST_NOTFOUND)
		return docker_fail(DOCKER_NOT_FOUND);
	return docker_fail(st == ST_USAGE ? "invalid request"
					  : "astro-cred failed; see stderr");
}

/* The profile for a server URL, into buf. */
static enum status url_profile(const char *url, char *buf, size_t len)
{
	struct docker_host h;
	char key[DOCKER_HOST_MAX + 8];
	const char *p;
	enum status st = docker_url_host(url, &h);

	if (st != ST_OK)
		return st;
	snprintf(key, sizeof(key), "docker.%s", h.name);
	p = config_get(key);
	if (!p)
		p = h.name;
	if (!profile_name_ok(p) || strlen(p) >= len)
		return fail(ST_USAGE,
			    "registry '%s' maps to an invalid "
			    "profile name",
			    h.name);
	snprintf(buf, len, "%s", p);
	return ST_OK;
}

static int docker_get(void)
{
	struct life L = LIFE_INIT;
	struct out o = OUT_INIT;
	struct record r;
	char profile[PROFILE_NAME_MAX + 1], *url = NULL;
	enum status st;

	record_init(&r);
	if ((st = docker_read_server_url(STDIN_FILENO, &url)) != ST_OK ||
	    (st = url_profile(url, profile, sizeof(profile))) != ST_OK ||
	    (st = life_open(&L)) != ST_OK ||
	    (st = life_get(&L, profile, 0, 0, &r)) != ST_OK)
		goto out;
	if (docker_emit_get(out_open(&o), url, DOCKER_USERNAME, r.token) < 0) {
		out_discard(&o);
		st = fail(ST_USAGE, "refusing to print a malformed value");
		goto out;
	}
	st = out_commit(&o, STDOUT_FILENO);
out:
	cmd_not_found(st, profile);
	free(url);
	record_clear(&r);
	life_close(&L);
	return docker_status(st);
}

static int docker_store(void)
{
	struct docker_creds c = DOCKER_CREDS_INIT;
	struct life L = LIFE_INIT;
	struct store_req q = {.verify = 1};
	char profile[PROFILE_NAME_MAX + 1];
	enum status st;

	if ((st = docker_read_store(STDIN_FILENO, &c)) != ST_OK ||
	    (st = url_profile(c.server_url, profile, sizeof(profile))) != ST_OK)
		goto out;
	if (strcmp(c.username, DOCKER_USERNAME)) {
		st = fail(ST_USAGE, "only user '%s' is supported",
			  DOCKER_USERNAME);
		goto out;
	}
	q.profile = profile;
	q.token = c.secret;
	if ((st = life_open(&L)) == ST_OK)
		st = life_store(&L, &q);
out:
	docker_creds_clear(&c);
	life_close(&L);
	return docker_status(st);
}

static int docker_erase(void)
{
	struct life L = LIFE_INIT;
	char profile[PROFILE_NAME_MAX + 1], *url = NULL;
	enum status st;

	if ((st = docker_read_server_url(STDIN_FILENO, &url)) == ST_OK &&
	    (st = url_profile(url, profile, sizeof(profile))) == ST_OK &&
	    (st = life_open(&L)) == ST_OK)
		st = life_erase(&L, profile, 0);
	free(url);
	life_close(&L);
	return docker_status(st);
}

/* Hosts with a credential: mapped hosts whose profile exists, and
 * profiles named like a registry host. */
static int docker_list(void)
{
	struct strlist names = STRLIST_INIT, hosts = STRLIST_INIT,
		       mapped = STRLIST_INIT;
	struct life L = LIFE_INIT;
	struct out o = OUT_INIT;
	struct docker_host h;
	enum status st;

	if ((st = life_open(&L)) != ST_OK || (st = L.be->list(&names)) != ST_OK)
		goto out;
	config_section_keys("docker", &mapped);
	for (size_t i = 0; i < mapped.n; i++) {
		char key[DOCKER_HOST_MAX + 8];
		const char *p;

		snprintf(key, sizeof(key), "docker.%s", mapped.v[i]);
		p = config_get(key);
		if (p && strlist_find(&names, p) >= 0 &&
		    strlist_find(&hosts, mapped.v[i]) < 0)
			strlist_push(&hosts, mapped.v[i]);
	}
	for (size_t i = 0; i < names.n; i++)
		if (strchr(names.v[i], '.') &&
		    docker_url_host(names.v[i], &h) == ST_OK &&
		    !strcmp(h.name, names.v[i]) &&
		    strlist_find(&hosts, names.v[i]) < 0)
			strlist_push(&hosts, names.v[i]);
	strlist_sort(&hosts);
	if (docker_emit_list(out_open(&o), (const char *const *)hosts.v,
			     hosts.n, DOCKER_USERNAME) < 0) {
		out_discard(&o);
		st = ST_USAGE;
		goto out;
	}
	st = out_commit(&o, STDOUT_FILENO);
out:
	strlist_clear(&names);
	strlist_clear(&hosts);
	strlist_clear(&mapped);
	life_close(&L);
	return docker_status(st);
}

int docker_main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";

	if (!strcmp(verb, "get"))
		return docker_get();
	if (!strcmp(verb, "store"))
		return docker_store();
	if (!strcmp(verb, "erase"))
		return docker_erase();
	if (!strcmp(verb, "list"))
		return docker_list();
	if (!strcmp(verb, "version") || !strcmp(verb, "--version") ||
	    !strcmp(verb, "-v")) {
		printf("docker-credential-astro (astro-cred) %s\n",
		       ASTRO_CRED_VERSION);
		return 0;
	}
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		printf("usage: docker-credential-astro "
		       "<store|get|erase|list|version>\n");
		return 0;
	}
	error("unknown docker credential helper command '%s'", verb);
	return docker_fail("usage: docker-credential-astro "
			   "<store|get|erase|list|version>");
}
