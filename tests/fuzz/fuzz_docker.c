/*
 * fuzz_docker: Docker's store JSON, the server URL of get/erase and the
 * ServerURL-to-host mapping.  Properties: no crash or leak; accepted
 * credentials hold no control character and non-empty fields; get's answer
 * built from them is strict JSON that gives back the same three strings;
 * an accepted server URL is printable ASCII; an accepted host is a lower
 * case DNS name and its port is 1..65535 but never 443.
 */
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#include "protocol/docker.h"
#include "tests/fuzz/fuzz_quiet.h"

static int clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void member_is(const cJSON *o, const char *name, const char *want)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	PROPERTY(cJSON_IsString(m) && !strcmp(m->valuestring, want));
}

static void check_get_answer(const struct docker_creds *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cJSON *o;

	PROPERTY(docker_emit_get(f, c->server_url, c->username, c->secret) ==
		 0);
	fclose(f);
	PROPERTY(len > 1 && buf[len - 1] == '\n');
	o = cJSON_ParseWithLengthOpts(buf, len + 1, NULL, 1);
	PROPERTY(o && cJSON_GetArraySize(o) == 3);
	member_is(o, "ServerURL", c->server_url);
	member_is(o, "Username", c->username);
	member_is(o, "Secret", c->secret);
	cJSON_Delete(o);
	free(buf);
}

static void fuzz_store(const char *data, size_t size)
{
	struct docker_creds c;

	if (docker_parse_store(data, size, &c) != ST_OK) {
		PROPERTY(!c.server_url && !c.username && !c.secret);
		return;
	}
	PROPERTY(*c.server_url && *c.username && *c.secret);
	PROPERTY(clean(c.server_url) && clean(c.username) && clean(c.secret));
	check_get_answer(&c);
	docker_creds_clear(&c);
}

static void fuzz_host(const char *url)
{
	struct docker_host h;
	const char *p;

	if (docker_url_host(url, &h) != ST_OK)
		return;
	PROPERTY(*h.name && strlen(h.name) <= DOCKER_HOST_MAX);
	for (p = h.name; *p; p++)
		PROPERTY((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			 *p == '.' || *p == '-' || *p == '_');
	PROPERTY(h.port != 443 && h.port <= 65535);
}

static void fuzz_url(const char *data, size_t size)
{
	char *url = NULL;
	const char *p;

	if (docker_parse_server_url(data, size, &url) != ST_OK) {
		PROPERTY(url == NULL);
		return;
	}
	PROPERTY(*url && strlen(url) <= DOCKER_URL_MAX);
	for (p = url; *p; p++)
		PROPERTY(*p > 0x20 && *p < 0x7f);
	fuzz_host(url);
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	fuzz_setup();
	fuzz_store((const char *)data, size);
	fuzz_url((const char *)data, size);
	s = xstrndup((const char *)data, size);
	fuzz_host(s);
	free(s);
	return 0;
}
