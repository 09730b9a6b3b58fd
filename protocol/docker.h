/*
 * docker.h: the pieces of Docker's credential-helper protocol
 * (docker-credential-helpers, credentials/credentials.go) that cross
 * stdin and stdout.  The mode's main (helper/, written with these) keeps
 * Docker's conventions, which differ from the native ones:
 *
 *   - The verb is argv[1]: store, get, erase, list, version; also
 *     --version/-v and --help/-h (exit 0).
 *   - get:   stdin is the server URL (docker_read_server_url); stdout is
 *            docker_emit_get() with DOCKER_USERNAME and the ServerURL as the
 *            request gave it (trailing newline trimmed).
 *   - store: stdin is {"ServerURL","Username","Secret"} (docker_read_store);
 *            the secret is stored as the profile mapped to the host
 *            (docker_url_host; the config may map a host to a profile).
 *   - erase: stdin is the server URL; no output.
 *   - list:  stdin is ignored (clients send "unused"); stdout is
 *            docker_emit_list() over the hosts that hold a credential.
 *   - A missing credential prints DOCKER_NOT_FOUND (and a newline) on
 *     stdout and exits 1: Docker's clients match that exact text.  Other
 *     errors also exit 1 with their message on stdout, as Docker's
 *     helpers do; astro-cred also puts its usual line on stderr.
 *   - version prints "docker-credential-astro (astro-cred) VERSION\n".
 *
 * Parsing is strict, as security.md 2.6 asks of every JSON input: the
 * whole input is one object (trailing whitespace only), keys are matched
 * case-sensitively and a key given twice or one that differs from a known
 * key only by case is refused, the three known members must be non-empty
 * strings, and no string may hold a NUL or another control character,
 * raw or escaped.  Unknown members are ignored.
 */
#ifndef ASTRO_CRED_DOCKER_H
#define ASTRO_CRED_DOCKER_H

#include <stddef.h>
#include <stdio.h>

#include "helper/base/status.h"

#define DOCKER_INPUT_MAX       (64 * 1024) /* store's JSON */
#define DOCKER_URL_MAX	       2048	   /* a server URL, newline excluded */
#define DOCKER_USER_MAX	       256	   /* store's Username */
#define DOCKER_HOST_MAX	       253	   /* a DNS name */
#define DOCKER_MEMBERS_MAX     16	   /* members of store's object */
#define DOCKER_READ_TIMEOUT_MS 30000
#define DOCKER_USERNAME	       "cli" /* what `astro deploy` logs in with */
#define DOCKER_NOT_FOUND       "credentials not found in native keychain"

struct docker_creds {
	char *server_url; /* ordinary memory */
	char *username;	  /* ordinary memory */
	char *secret;	  /* secret memory */
};
#define DOCKER_CREDS_INIT                                                      \
	{                                                                      \
		NULL, NULL, NULL                                               \
	}

struct docker_host {
	char name[DOCKER_HOST_MAX + 1]; /* lower case */
	unsigned port;			/* 0: none given, or 443 */
};

/*
 * Parse store's JSON in buf[0..len) into *out (initialized here; empty on
 * error).  ST_USAGE with one message that never shows the secret.
 */
enum status docker_parse_store(const char *buf, size_t len,
			       struct docker_creds *out);
/* Read store's JSON from fd to end of input (bounded), then parse it. */
enum status docker_read_store(int fd, struct docker_creds *out);
/* Wipe and free; back to DOCKER_CREDS_INIT.  Accepts an empty one. */
void docker_creds_clear(struct docker_creds *c);

/*
 * The server URL of get and erase: one line, its one trailing newline
 * trimmed, 1..DOCKER_URL_MAX printable ASCII bytes without spaces.  *out
 * is a new string (free()), NULL on error (ST_USAGE, one message).
 */
enum status docker_parse_server_url(const char *buf, size_t len, char **out);
/* Read it from fd to end of input (bounded), then parse it. */
enum status docker_read_server_url(int fd, char **out);

/*
 * The registry host of a ServerURL: a bare host or an https:// URL, with
 * an optional :port and path ("images.astronomer.cloud",
 * "https://images.astronomer.cloud:443/v2/").  Refused (ST_USAGE): other
 * schemes (http:// would send the token in clear), user@, IP literals in
 * brackets, empty labels, bad ports.
 */
enum status docker_url_host(const char *url, struct docker_host *out);

/*
 * Print get's answer: {"ServerURL":...,"Username":...,"Secret":...} and a
 * newline, JSON-escaped.  0 or -1 (stream error).  Write into an out.h
 * stream so that a failure leaves stdout empty.
 */
int docker_emit_get(FILE *f, const char *server_url, const char *username,
		    const char *secret);
/* Print list's answer: {"<server>":"<username>",...} and a newline. */
int docker_emit_list(FILE *f, const char *const *servers, size_t n,
		     const char *username);

#endif
