/*
 * test_docker.c: Docker's credential-helper protocol pieces, with the J
 * cases of security.md 2.6 that apply to store's JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "helper/base/secmem.h"
#include "protocol/docker.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

static void refuse(const char *name, const char *buf, size_t len,
		   const char *want)
{
	struct docker_creds c;
	char err[2048];
	enum status st;

	capture_begin();
	st = docker_parse_store(buf, len, &c);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && !c.server_url && !c.username && !c.secret,
	   "%s: refused with status 2, nothing kept", name);
	ok(one_line(err) && strstr(err, want) && !strstr(err, "SECRET"),
	   "%s: one message, no secret", name);
	if (!strstr(err, want))
		printf("#   stderr: %s", err);
	docker_creds_clear(&c);
}

static void refuse_str(const char *name, const char *s, const char *want)
{
	refuse(name, s, strlen(s), want);
}

static void accept_str(const char *name, const char *s, const char *secret)
{
	struct docker_creds c;

	is_int(docker_parse_store(s, strlen(s), &c), ST_OK, "%s", name);
	is_str(c.secret, secret, "%s: secret", name);
	docker_creds_clear(&c);
}

static void test_store_ok(void)
{
	const char *js = "{\"ServerURL\":\"https://images.astronomer.cloud\","
			 "\"Username\":\"cli\",\"Secret\":\"eyJ.SECRET.x\"}\n";
	struct docker_creds c;

	is_int(docker_parse_store(js, strlen(js), &c), ST_OK, "store JSON");
	is_str(c.server_url, "https://images.astronomer.cloud", "ServerURL");
	is_str(c.username, "cli", "Username");
	is_str(c.secret, "eyJ.SECRET.x", "Secret");
	docker_creds_clear(&c);
	ok(!c.server_url && !c.username && !c.secret, "clear empties");
	docker_creds_clear(&c);

	accept_str("members in any order, whitespace around",
		   " \t\n{ \"Secret\" : \"s\" ,\"Username\":\"u\",\n"
		   "\"ServerURL\":\"h\" }\r\n \n",
		   "s");
	accept_str("unknown members ignored, whatever their type",
		   "{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"s\","
		   "\"Extra\":{\"a\":[1,2,null]},\"N\":1e400}",
		   "s");
	accept_str("an escaped backslash before u0000 is just text",
		   "{\"ServerURL\":\"h\",\"Username\":\"u\","
		   "\"Secret\":\"a\\\\u0000b\"}",
		   "a\\u0000b");
	accept_str("unicode escapes of printable characters",
		   "{\"ServerURL\":\"h\",\"Username\":\"u\","
		   "\"Secret\":\"\\u0041\\u00e9\"}",
		   "A\xc3\xa9");
}

#define J(members) "{" members "}"
#define URL_USER   "\"ServerURL\":\"h\",\"Username\":\"u\","

static void test_store_hostile(void)
{
	static const char raw_nul[] = J(URL_USER "\"Secret\":\"SECRET\0x\"");

	refuse_str("J-01: \\u0000 in the secret",
		   J(URL_USER "\"Secret\":\"SECRET\\u0000evil\""), "control");
	refuse_str("J-01: \\u001b in the server URL",
		   J("\"ServerURL\":\"h\\u001b[2J\",\"Username\":\"u\","
		     "\"Secret\":\"SECRET\""),
		   "control");
	refuse_str("\\n escape in the secret",
		   J(URL_USER "\"Secret\":\"SECRET\\nx\""), "control");
	refuse_str("\\u007f in the username",
		   J("\"ServerURL\":\"h\",\"Username\":\"u\\u007F\","
		     "\"Secret\":\"SECRET\""),
		   "control");
	refuse_str("raw tab inside a string",
		   J(URL_USER "\"Secret\":\"SECRET\tx\""), "control");
	refuse("raw NUL byte", raw_nul, sizeof(raw_nul) - 1, "NUL");
	refuse_str("J-02: Secret given twice",
		   J(URL_USER "\"Secret\":\"SECRET\",\"Secret\":\"other\""),
		   "twice");
	refuse_str("J-02: an unknown member given twice",
		   J(URL_USER "\"Secret\":\"SECRET\",\"x\":1,\"x\":2"),
		   "twice");
	refuse_str("J-03: case-folded twin of Secret",
		   J(URL_USER "\"secret\":\"SECRET\",\"Secret\":\"x\""),
		   "case-sensitive");
	refuse_str("J-03: only a case-folded ServerURL",
		   J("\"serverURL\":\"h\",\"Username\":\"u\","
		     "\"Secret\":\"SECRET\""),
		   "case-sensitive");
	refuse_str("J-06: trailing garbage",
		   J(URL_USER "\"Secret\":\"SECRET\"") " x", "one object");
	refuse_str("J-06: two objects",
		   J(URL_USER "\"Secret\":\"SECRET\"") "{}", "one object");
	refuse_str("J-09: Secret a number", J(URL_USER "\"Secret\":12345"),
		   "not a string");
	refuse_str("J-09: Secret null", J(URL_USER "\"Secret\":null"),
		   "not a string");
	refuse_str("J-09: Secret an object", J(URL_USER "\"Secret\":{}"),
		   "not a string");
	refuse_str("J-09: Secret an array",
		   J(URL_USER "\"Secret\":[\"SECRET\"]"), "not a string");
	refuse_str(
	    "J-09: ServerURL true",
	    J("\"ServerURL\":true,\"Username\":\"u\",\"Secret\":\"SECRET\""),
	    "not a string");
	refuse_str("root is an array", "[\"SECRET\"]", "one object");
	refuse_str("root is a string", "\"SECRET\"", "one object");
	refuse_str("empty input", "", "one object");
	refuse_str("whitespace only", " \n", "one object");
	refuse_str("truncated object", "{\"Secret\":\"SECRET\"", "one object");
	refuse_str("no ServerURL", "{\"Username\":\"u\",\"Secret\":\"SECRET\"}",
		   "no credentials server URL");
	refuse_str(
	    "empty ServerURL",
	    J("\"ServerURL\":\"\",\"Username\":\"u\",\"Secret\":\"SECRET\""),
	    "no credentials server URL");
	refuse_str(
	    "empty Username",
	    J("\"ServerURL\":\"h\",\"Username\":\"\",\"Secret\":\"SECRET\""),
	    "no credentials username");
	refuse_str("no Secret", J("\"ServerURL\":\"h\",\"Username\":\"u\""),
		   "no credentials secret");
	refuse_str("empty Secret", J(URL_USER "\"Secret\":\"\""),
		   "no credentials secret");
	refuse_str("space in ServerURL",
		   J("\"ServerURL\":\"a b\",\"Username\":\"u\","
		     "\"Secret\":\"SECRET\""),
		   "printable");
}

static void test_store_caps(void)
{
	char *s = xmalloc(DOCKER_INPUT_MAX + 64);
	size_t o, i;

	o = (size_t)snprintf(s, 64, "{" URL_USER "\"Secret\":\"SECRET\"");
	for (i = 0; i < DOCKER_MEMBERS_MAX; i++)
		o += (size_t)snprintf(s + o, 16, ",\"m%zu\":1", i);
	s[o++] = '}';
	refuse("more than DOCKER_MEMBERS_MAX members", s, o, "members");

	o = 0;
	s[o++] = '{';
	memcpy(s + o, "\"x\":", 4);
	o += 4;
	for (i = 0; i < 1100; i++)
		s[o++] = '[';
	for (i = 0; i < 1100; i++)
		s[o++] = ']';
	o += (size_t)snprintf(s + o, 64, "," URL_USER "\"Secret\":\"SECRET\"}");
	refuse("J-08: nesting deeper than cJSON's limit", s, o, "one object");

	memset(s, ' ', DOCKER_INPUT_MAX + 1);
	refuse("input over DOCKER_INPUT_MAX", s, DOCKER_INPUT_MAX + 1,
	       "larger");
	free(s);
}

static void test_read_store(void)
{
	const char *js = J(URL_USER "\"Secret\":\"tok\"") "\n";
	struct docker_creds c;
	int p[2];

	if (pipe(p) < 0)
		abort();
	if (write(p[1], js, strlen(js)) < 0)
		abort();
	close(p[1]);
	is_int(docker_read_store(p[0], &c), ST_OK, "read store JSON from fd");
	is_str(c.secret, "tok", "its secret");
	docker_creds_clear(&c);
	close(p[0]);
}

static void url_ok(const char *in, size_t len, const char *want)
{
	char *u = NULL;

	is_int(docker_parse_server_url(in, len, &u), ST_OK, "url '%s'", want);
	is_str(u, want, "url '%s' read", want);
	free(u);
}

static void url_bad(const char *name, const char *in, size_t len)
{
	char *u = (char *)1, err[1024];
	enum status st;

	capture_begin();
	st = docker_parse_server_url(in, len, &u);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && u == NULL && one_line(err), "url: %s", name);
}

static void test_server_url(void)
{
	char *big = xmalloc(DOCKER_URL_MAX + 2);
	int p[2];
	char *u;

	url_ok("images.astronomer.cloud\n", 24, "images.astronomer.cloud");
	url_ok("images.astronomer.cloud", 23, "images.astronomer.cloud");
	url_ok("https://x.io:5000/v2/\n", 22, "https://x.io:5000/v2/");
	url_bad("empty", "", 0);
	url_bad("newline only", "\n", 1);
	url_bad("two lines", "a\nb\n", 4);
	url_bad("two trailing newlines", "a\n\n", 3);
	url_bad("CRLF", "a\r\n", 3);
	url_bad("space", "a b\n", 4);
	url_bad("escape", "a\x1b[2J\n", 6);
	url_bad("NUL", "a\0b\n", 4);
	url_bad("non-ASCII", "\xc3\xa9.io\n", 6);
	memset(big, 'a', DOCKER_URL_MAX + 1);
	big[DOCKER_URL_MAX] = '\n';
	u = NULL;
	is_int(docker_parse_server_url(big, DOCKER_URL_MAX + 1, &u), ST_OK,
	       "url of DOCKER_URL_MAX bytes");
	free(u);
	big[DOCKER_URL_MAX] = 'a';
	url_bad("DOCKER_URL_MAX + 1 bytes", big, DOCKER_URL_MAX + 1);
	free(big);

	if (pipe(p) < 0)
		abort();
	if (write(p[1], "images.astronomer.cloud\n", 24) < 0)
		abort();
	close(p[1]);
	is_int(docker_read_server_url(p[0], &u), ST_OK, "read URL from fd");
	is_str(u, "images.astronomer.cloud", "newline trimmed");
	free(u);
	close(p[0]);
}

static void host_ok(const char *url, const char *host, unsigned port)
{
	struct docker_host h;

	is_int(docker_url_host(url, &h), ST_OK, "host of '%s'", url);
	is_str(h.name, host, "host of '%s'", url);
	is_int(h.port, port, "port of '%s'", url);
}

static void host_bad(const char *url)
{
	struct docker_host h;
	char err[1024];
	enum status st;

	capture_begin();
	st = docker_url_host(url, &h);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && one_line(err), "host of '%s' refused", url);
}

static void test_url_host(void)
{
	char big[400];

	host_ok("images.astronomer.cloud", "images.astronomer.cloud", 0);
	host_ok("https://images.astronomer.cloud", "images.astronomer.cloud",
		0);
	host_ok("https://images.astronomer.cloud/", "images.astronomer.cloud",
		0);
	host_ok("HTTPS://Images.Astronomer.Cloud:443/v2/x?y#z",
		"images.astronomer.cloud", 0);
	host_ok("localhost:5000", "localhost", 5000);
	host_ok("127.0.0.1:65535/v2", "127.0.0.1", 65535);
	host_ok("my_reg.internal", "my_reg.internal", 0);
	host_bad("http://images.astronomer.cloud");
	host_bad("ftp://x");
	host_bad("://x");
	host_bad("https://");
	host_bad("https:///v2");
	host_bad("user@x.io");
	host_bad("https://user:pw@x.io");
	host_bad("[::1]:5000");
	host_bad("x.io:");
	host_bad("x.io:0");
	host_bad("x.io:65536");
	host_bad("x.io:+1");
	host_bad("x.io:05");
	host_bad("x..io");
	host_bad(".x.io");
	host_bad("x.io.");
	host_bad("x!.io");
	memset(big, 'a', 64);
	big[64] = '\0';
	host_bad(big);
	big[63] = '\0';
	host_ok(big, big, 0);
	memset(big, 'a', 254);
	for (size_t i = 50; i < 254; i += 50)
		big[i] = '.';
	big[254] = '\0';
	host_bad(big);
	big[253] = '\0';
	host_ok(big, big, 0);
}

static char *emitted(int (*fn)(FILE *, void *), void *arg, int *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*r = fn(f, arg);
	fclose(f);
	return buf;
}

struct get_args {
	const char *url, *user, *secret;
};

static int call_get(FILE *f, void *p)
{
	struct get_args *a = p;

	return docker_emit_get(f, a->url, a->user, a->secret);
}

struct list_args {
	const char *const *v;
	size_t n;
};

static int call_list(FILE *f, void *p)
{
	struct list_args *a = p;

	return docker_emit_list(f, a->v, a->n, DOCKER_USERNAME);
}

static void test_emit(void)
{
	struct get_args g = {"images.astronomer.cloud", DOCKER_USERNAME,
			     "eyJ.x.y"};
	static const char *const two[] = {"images.astronomer.cloud",
					  "https://x.io/"};
	struct list_args l0 = {two, 0}, l2 = {two, 2};
	const cJSON *s;
	cJSON *o;
	char *out;
	int r;

	out = emitted(call_get, &g, &r);
	ok(r == 0, "get answer written");
	is_str(out,
	       "{\"ServerURL\":\"images.astronomer.cloud\","
	       "\"Username\":\"cli\",\"Secret\":\"eyJ.x.y\"}\n",
	       "get answer, exactly");
	free(out);

	g.url = "https://h/\"}";
	g.secret = "a\"b\\c\n\x01\x7f\xc3\xa9";
	out = emitted(call_get, &g, &r);
	is_str(out,
	       "{\"ServerURL\":\"https://h/\\\"}\",\"Username\":\"cli\","
	       "\"Secret\":\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\"}\n",
	       "get answer escapes quotes, backslashes and controls");
	o = cJSON_ParseWithLengthOpts(out, strlen(out) + 1, NULL, 1);
	s = cJSON_GetObjectItemCaseSensitive(o, "Secret");
	ok(cJSON_IsString(s) && !strcmp(s->valuestring, g.secret),
	   "and cJSON reads the same secret back");
	cJSON_Delete(o);
	free(out);

	out = emitted(call_list, &l0, &r);
	is_str(out, "{}\n", "empty list");
	free(out);
	out = emitted(call_list, &l2, &r);
	is_str(out,
	       "{\"images.astronomer.cloud\":\"cli\","
	       "\"https://x.io/\":\"cli\"}\n",
	       "list of two");
	free(out);
	is_str(DOCKER_NOT_FOUND, "credentials not found in native keychain",
	       "Docker's not-found text");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_store_ok();
	test_store_hostile();
	test_store_caps();
	test_read_store();
	test_server_url();
	test_url_host();
	test_emit();
	return done_testing();
}
