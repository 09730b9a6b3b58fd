/*
 * docker.c: see docker.h.  cJSON does the parsing; what cJSON lets through
 * (a \u0000 that silently truncates a string, raw control bytes, duplicate
 * and case-folded keys, trailing garbage) is checked here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "helper/base/json_strict.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"
#include "protocol/docker.h"
#include "protocol/input.h"
#include "protocol/out.h"

/* Value of the 4 hex digits at p (p[0..4) within bounds), or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int h = json_hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Scan the raw text: inside strings, refuse raw control bytes and escapes
 * that decode to a control character (\b \f \n \r \t, \u0000-\u001f,
 * \u007f).  Outside strings only JSON whitespace may be a control byte.
 * Malformed escapes are left for cJSON to refuse.
 */
static int raw_strings_clean(const unsigned char *p, size_t n)
{
	size_t i;
	int in_str = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!in_str) {
			if (c == '"')
				in_str = 1;
			else if (c < 0x20 && c != ' ' && c != '\t' &&
				 c != '\n' && c != '\r')
				return 0;
			continue;
		}
		if (c == '"')
			in_str = 0;
		else if (c < 0x20 || c == 0x7f)
			return 0;
		else if (c == '\\' && i + 1 < n) {
			unsigned char e = p[++i];
			long v;

			if (strchr("bfnrt", e))
				return 0;
			if (e != 'u' || i + 4 >= n)
				continue;
			v = hex4(p + i + 1);
			if (v >= 0 && (v < 0x20 || v == 0x7f))
				return 0;
		}
	}
	return 1;
}

/* Printable ASCII without space: 1..max bytes. */
static int printable_word(const char *s, size_t n, size_t max)
{
	size_t i;

	if (!n || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static const char *const known_members[] = {"ServerURL", "Username", "Secret"};

/* Index into known_members, -1 for unknown, -2 for a case-folded twin. */
static int member_index(const char *name)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!strcmp(name, known_members[i]))
			return (int)i;
		if (!strcasecmp(name, known_members[i]))
			return -2;
	}
	return -1;
}

/* Check the members of the object; fill vals[] with the known strings. */
static enum status check_members(const cJSON *root, const char *vals[3])
{
	const cJSON *it, *prev;
	int count = 0;

	for (it = root->child; it; it = it->next) {
		int idx;

		if (++count > DOCKER_MEMBERS_MAX)
			return fail(ST_USAGE,
				    "malformed credentials JSON: "
				    "more than %d members",
				    DOCKER_MEMBERS_MAX);
		for (prev = root->child; prev != it; prev = prev->next)
			if (!strcmp(prev->string, it->string))
				return fail(ST_USAGE,
					    "malformed credentials "
					    "JSON: a member is given twice");
		idx = member_index(it->string);
		if (idx == -2)
			return fail(ST_USAGE, "malformed credentials JSON: "
					      "member names are case-sensitive "
					      "(ServerURL, Username, Secret)");
		if (idx < 0)
			continue;
		if (!cJSON_IsString(it) || !it->valuestring)
			return fail(ST_USAGE,
				    "malformed credentials JSON: %s "
				    "is not a string",
				    known_members[idx]);
		vals[idx] = it->valuestring;
	}
	return ST_OK;
}

static enum status check_values(const char *vals[3])
{
	if (!vals[0] || !*vals[0])
		return fail(ST_USAGE, "no credentials server URL");
	if (!printable_word(vals[0], strlen(vals[0]), DOCKER_URL_MAX))
		return fail(ST_USAGE,
			    "the credentials server URL must be "
			    "printable ASCII without spaces, at most %d bytes",
			    DOCKER_URL_MAX);
	if (!vals[1] || !*vals[1])
		return fail(ST_USAGE, "no credentials username");
	if (strlen(vals[1]) > DOCKER_USER_MAX)
		return fail(ST_USAGE,
			    "the credentials username is longer "
			    "than %d bytes",
			    DOCKER_USER_MAX);
	if (!vals[2] || !*vals[2])
		return fail(ST_USAGE, "no credentials secret");
	return ST_OK;
}

void docker_creds_clear(struct docker_creds *c)
{
	free(c->server_url);
	free(c->username);
	if (c->secret)
		secmem_wipe(c->secret, strlen(c->secret));
	secmem_free(c->secret);
	c->server_url = c->username = c->secret = NULL;
}

enum status docker_parse_store(const char *buf, size_t len,
			       struct docker_creds *out)
{
	struct docker_creds c = DOCKER_CREDS_INIT;
	const char *vals[3] = {NULL, NULL, NULL};
	const char *end = NULL;
	cJSON *root = NULL;
	char *copy = NULL;
	enum status st;

	*out = c;
	if (len > DOCKER_INPUT_MAX)
		return fail(ST_USAGE, "credentials JSON larger than %d bytes",
			    DOCKER_INPUT_MAX);
	if (memchr(buf, '\0', len) ||
	    !raw_strings_clean((const unsigned char *)buf, len))
		return fail(ST_USAGE, "malformed credentials JSON: a NUL or "
				      "control character");
	copy = secmem_strndup(buf, len);
	root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	if (!root || !cJSON_IsObject(root)) {
		st = fail(ST_USAGE,
			  "malformed credentials JSON: expected one "
			  "object {\"ServerURL\",\"Username\",\"Secret\"}");
		goto out;
	}
	st = check_members(root, vals);
	if (st == ST_OK)
		st = check_values(vals);
	if (st != ST_OK)
		goto out;
	c.server_url = xstrdup(vals[0]);
	c.username = xstrdup(vals[1]);
	c.secret = secmem_strdup(vals[2]);
	*out = c;
out:
	cJSON_Delete(root);
	secmem_wipe(copy, len);
	secmem_free(copy);
	return st;
}

enum status docker_read_store(int fd, struct docker_creds *out)
{
	struct secbuf b = SECBUF_INIT(DOCKER_INPUT_MAX + 1);
	enum status st;

	*out = (struct docker_creds)DOCKER_CREDS_INIT;
	st = input_read(fd, &b, DOCKER_INPUT_MAX, DOCKER_READ_TIMEOUT_MS, NULL,
			"credentials JSON");
	if (st == ST_OK)
		st = docker_parse_store(b.data ? (char *)b.data : "", b.len,
					out);
	secbuf_clear(&b);
	return st;
}

enum status docker_parse_server_url(const char *buf, size_t len, char **out)
{
	*out = NULL;
	if (len && buf[len - 1] == '\n')
		len--;
	if (!len)
		return fail(ST_USAGE, "no server URL on stdin");
	if (len > DOCKER_URL_MAX)
		return fail(ST_USAGE, "server URL longer than %d bytes",
			    DOCKER_URL_MAX);
	if (!printable_word(buf, len, DOCKER_URL_MAX))
		return fail(ST_USAGE, "the server URL must be one line of "
				      "printable ASCII without spaces");
	*out = xstrndup(buf, len);
	return ST_OK;
}

enum status docker_read_server_url(int fd, char **out)
{
	struct secbuf b = SECBUF_INIT(DOCKER_URL_MAX + 2);
	enum status st;

	*out = NULL;
	st = input_read(fd, &b, DOCKER_URL_MAX + 1, DOCKER_READ_TIMEOUT_MS,
			NULL, "server URL");
	if (st == ST_OK)
		st = docker_parse_server_url(b.data ? (char *)b.data : "",
					     b.len, out);
	secbuf_clear(&b);
	return st;
}

/* A DNS name: dot-separated labels of [A-Za-z0-9_-], 1..63 bytes each. */
static int host_ok(const char *h, size_t n)
{
	size_t i, label = 0;

	if (!n || n > DOCKER_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '.') {
			if (!label)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

/* Port digits p[0..n): 1..65535 without sign or leading zero; else -1. */
static long port_value(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (!n || n > 5 || p[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= 65535 ? v : -1;
}

enum status docker_url_host(const char *url, struct docker_host *out)
{
	const char *auth = url, *sep, *colon;
	size_t alen, hlen, i;
	long port = 0;

	memset(out, 0, sizeof(*out));
	sep = strstr(url, "://");
	if (sep) {
		if (sep - url != 5 || strncasecmp(url, "https", 5))
			return fail(ST_USAGE, "registry URL: only https:// "
					      "or a bare host is accepted");
		auth = sep + 3;
	}
	alen = strcspn(auth, "/?#");
	if (memchr(auth, '@', alen) || (alen && auth[0] == '['))
		return fail(ST_USAGE, "registry URL: expected a host name "
				      "(no user@, no [address])");
	colon = memchr(auth, ':', alen);
	hlen = colon ? (size_t)(colon - auth) : alen;
	if (colon) {
		port = port_value(colon + 1, alen - hlen - 1);
		if (port < 0)
			return fail(ST_USAGE, "registry URL: bad port");
	}
	if (!host_ok(auth, hlen))
		return fail(ST_USAGE, "registry URL: bad host name");
	for (i = 0; i < hlen; i++) {
		char c = auth[i];

		out->name[i] =
		    (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out->name[hlen] = '\0';
	out->port = port == 443 ? 0 : (unsigned)port;
	return ST_OK;
}

int docker_emit_get(FILE *f, const char *server_url, const char *username,
		    const char *secret)
{
	if (fputs("{\"ServerURL\":", f) == EOF ||
	    out_json_string(f, server_url) < 0 ||
	    fputs(",\"Username\":", f) == EOF ||
	    out_json_string(f, username) < 0 ||
	    fputs(",\"Secret\":", f) == EOF || out_json_string(f, secret) < 0 ||
	    fputs("}\n", f) == EOF)
		return error("cannot write the credentials");
	return 0;
}

int docker_emit_list(FILE *f, const char *const *servers, size_t n,
		     const char *username)
{
	size_t i;

	if (fputc('{', f) == EOF)
		goto fail;
	for (i = 0; i < n; i++)
		if ((i && fputc(',', f) == EOF) ||
		    out_json_string(f, servers[i]) < 0 ||
		    fputc(':', f) == EOF || out_json_string(f, username) < 0)
			goto fail;
	if (fputs("}\n", f) == EOF)
		goto fail;
	return 0;
fail:
	return error("cannot write the list of credentials");
}
