#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sodium.h>

#include "helper/log.h"
#include "helper/secmem.h"
#include "helper/strlist.h"
#include "tests/unit/tap.h"

static void test_secbuf(void)
{
	struct secbuf b = SECBUF_INIT(10);

	ok(secbuf_append(&b, "hello", 5) == 0, "append within ceiling");
	ok(secbuf_append(&b, "world", 5) == 0, "append up to ceiling");
	is_int(b.len, 10, "length is 10");
	ok(secbuf_append(&b, "!", 1) < 0, "append past ceiling refused");
	is_int(b.len, 10, "refused append changed nothing");
	is_str((char *)b.data, "helloworld", "contents NUL-terminated");
	secbuf_clear(&b);
	ok(b.data == NULL && b.len == 0, "clear resets");
	ok(secbuf_append(&b, "", 0) == 0 && b.len == 0, "empty append");
	secbuf_clear(&b);
}

static void test_sanitize(void)
{
	char out[64];

	log_sanitize(out, sizeof(out), "a\x1b[2Jb\n");
	is_str(out, "a\\x1b[2Jb\\x0a", "control bytes escaped");
	log_sanitize(out, 6, "abcdefgh");
	is_str(out, "abcde", "capped at buffer size");
	log_sanitize(out, 6, "ab\x01zzz");
	is_str(out, "ab", "escape never split at the cap");
}

static void test_json_hooks(void)
{
	cJSON *o;
	char *s;

	secmem_json_hooks();
	o = cJSON_Parse("{\"token\":\"abc\"}");
	ok(o != NULL, "cJSON parses with wiping hooks");
	s = cJSON_PrintUnformatted(o);
	is_str(s, "{\"token\":\"abc\"}", "and prints");
	cJSON_free(s);
	cJSON_Delete(o);
}

static void test_strlist(void)
{
	struct strlist l = STRLIST_INIT;

	strlist_push(&l, "b");
	strlist_push(&l, "a");
	strlist_sort(&l);
	is_str(l.v[0], "a", "sorted first");
	is_int(strlist_find(&l, "b"), 1, "find");
	is_int(strlist_find(&l, "c"), -1, "find missing");
	strlist_clear(&l);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_secbuf();
	test_sanitize();
	test_json_hooks();
	test_strlist();
	return done_testing();
}
