/* Unit tests for helper/base/json_strict.c: the document rules, getters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "helper/base/json_strict.h"
#include "helper/base/secmem.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

static cJSON *parse(const char *s, const char **why)
{
	*why = NULL;
	return json_parse_strict(s, strlen(s), why);
}

static void refuses(const char *doc, const char *name)
{
	const char *why;
	cJSON *j = parse(doc, &why);

	ok(!j && why && *why, "refused: %s (%s)", name, why ? why : "-");
	cJSON_Delete(j);
}

static void accepts(const char *doc, const char *name)
{
	const char *why;
	cJSON *j = parse(doc, &why);

	ok(j != NULL, "accepted: %s", name);
	cJSON_Delete(j);
}

static void test_documents(void)
{
	char deep[4000];
	size_t n = 0;
	const char *why;
	char withnul[] = "{\"a\":1}\0{\"b\":2}";

	accepts("{\"a\":\"x\"}", "plain object");
	accepts("{\"a\":1}  \n", "trailing whitespace");
	accepts("{\"a\":\"\\\\u0000\"}", "escaped backslash then u0000 text");
	accepts("{\"a\":\"\\u00e9\\ud83d\\ude00\"}", "unicode escapes");
	accepts("{\"a\":{\"x\":1},\"b\":{\"x\":2}}", "same key, other objects");
	refuses("{\"token\":\"abc\\u0000evil\"}", "\\u0000 escape (J-01)");
	refuses("{\"to\\u0000x\":1}", "\\u0000 in a key");
	refuses("{\"token\":\"FIRST\",\"token\":\"SECOND\"}",
		"duplicate keys (J-02)");
	refuses("{\"a\":[{\"k\":1,\"b\":0,\"k\":2}]}", "nested duplicate");
	refuses("{\"token\":\"x\"} trailing", "trailing garbage (J-06)");
	refuses("{\"a\":1}{}", "two documents");
	refuses("{\"a\":\"\xff\"}", "invalid UTF-8 (J-07)");
	refuses("{\"a\":\"\xc0\xaf\"}", "overlong UTF-8");
	refuses("{\"a\":\"\xed\xa0\x80\"}", "UTF-8 surrogate");
	refuses("{\"a\\n\":1}", "control character in a key");
	refuses("", "empty");
	refuses("{\"a\":", "truncated");
	ok(json_parse_strict(withnul, sizeof(withnul) - 1, &why) == NULL,
	   "refused: a NUL byte inside the length");
	for (int i = 0; i < 1100; i++)
		deep[n++] = '[';
	for (int i = 0; i < 1100; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	refuses(deep, "1100-deep nesting (J-08)");
	ok(json_parse_strict("{}x", 2, &why) == NULL,
	   "refused: buffer not NUL-terminated at len");
}

static void test_getters(void)
{
	const char *why, *s = NULL;
	int64_t v = 0;
	int b = -1;
	const cJSON *o;
	cJSON *j = parse("{\"s\":\"x\",\"e\":\"\",\"t\":\"a\\tb\\nc\","
			 "\"c\":\"a\\u001bb\",\"n\":12,\"f\":1.5,"
			 "\"big\":1e400,\"y2100\":4102444800,\"neg\":-3,"
			 "\"b\":true,\"nul\":null,\"o\":{},\"arr\":[],"
			 "\"Token\":\"UPPER\",\"token\":\"lower\","
			 "\"del\":\"a\x7f\"}",
			 &why);

	ok(j != NULL, "getter fixture parses");
	is_int(json_get_string(j, "s", 0, &s), JSON_OK, "string ok");
	is_str(s, "x", "string value");
	is_int(json_get_string(j, "e", 0, &s), JSON_OK, "empty string ok");
	is_int(json_get_string(j, "e", JSON_NONEMPTY, &s), JSON_INVALID,
	       "empty string refused with NONEMPTY");
	is_int(json_get_string(j, "t", 0, &s), JSON_INVALID,
	       "TAB/LF refused by default");
	is_int(json_get_string(j, "t", JSON_TEXT, &s), JSON_OK,
	       "TAB/LF allowed in TEXT");
	is_int(json_get_string(j, "c", JSON_TEXT, &s), JSON_INVALID,
	       "ESC refused even in TEXT");
	is_int(json_get_string(j, "del", JSON_TEXT, &s), JSON_INVALID,
	       "DEL refused");
	is_int(json_get_string(j, "n", 0, &s), JSON_INVALID,
	       "number is not a string (J-09)");
	is_int(json_get_string(j, "nul", 0, &s), JSON_ABSENT, "null is absent");
	is_int(json_get_string(j, "missing", 0, &s), JSON_ABSENT, "absent");
	is_int(json_get_string(j, "token", 0, &s), JSON_OK, "case-sensitive");
	is_str(s, "lower", "case-sensitive lookup picks 'token' (J-03)");
	is_int(json_get_string(j, "TOKEN", 0, &s), JSON_ABSENT,
	       "no case folding");
	is_int(json_get_int64(j, "n", 0, 100, &v), JSON_OK, "int ok");
	is_int(v, 12, "int value");
	is_int(json_get_int64(j, "n", 0, 11, &v), JSON_INVALID, "above max");
	is_int(json_get_int64(j, "neg", 0, 11, &v), JSON_INVALID, "below min");
	is_int(json_get_int64(j, "f", 0, 11, &v), JSON_INVALID, "fraction");
	is_int(
	    json_get_int64(j, "big", -(INT64_C(1) << 53), INT64_C(1) << 53, &v),
	    JSON_INVALID, "1e400 refused (J-04)");
	is_int(json_get_int64(j, "y2100", 0, JSON_TIME_MAX, &v), JSON_OK,
	       "year 2100 fits (J-05)");
	is_int(v, 4102444800LL, "no 2038 saturation");
	is_int(json_get_int64(j, "s", 0, 1, &v), JSON_INVALID,
	       "string not int");
	is_int(json_get_bool(j, "b", &b), JSON_OK, "bool ok");
	is_int(b, 1, "bool value");
	is_int(json_get_bool(j, "n", &b), JSON_INVALID, "number not bool");
	is_int(json_get_object(j, "o", &o), JSON_OK, "object ok");
	is_int(json_get_object(j, "arr", &o), JSON_INVALID, "array not object");
	is_int(json_get_array(j, "arr", &o), JSON_OK, "array ok");
	is_int(json_get_array(j, "o", &o), JSON_INVALID, "object not array");
	is_int(json_get_string(NULL, "s", 0, &s), JSON_ABSENT, "NULL object");
	cJSON_Delete(j);
}

static void time_ok(const char *s, int64_t want)
{
	int64_t t = -1;

	ok(json_time_parse(s, &t) == 0 && t == want,
	   "time %s = %lld (got %lld)", s, (long long)want, (long long)t);
}

static void time_bad(const char *s)
{
	int64_t t;

	ok(json_time_parse(s, &t) < 0, "time refused: '%s'", s);
}

static void test_times(void)
{
	char buf[JSON_TIME_LEN];
	int64_t samples[] = {0,
			     1,
			     951782400,
			     1669091832,
			     4102444800LL,
			     JSON_TIME_MIN,
			     JSON_TIME_MAX,
			     -1};

	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("2022-11-22T04:37:12Z", 1669091832);
	time_ok("2022-11-22T04:37:12.999Z", 1669091832);
	time_ok("2022-11-22T04:37:12.123456789Z", 1669091832);
	time_ok("2000-02-29T00:00:00Z", 951782400);
	time_ok("2100-01-01T00:00:00Z", 4102444800LL);
	time_ok("0001-01-01T00:00:00Z", JSON_TIME_MIN);
	time_ok("9999-12-31T23:59:59Z", JSON_TIME_MAX);
	time_ok("1969-12-31T23:59:59Z", -1);
	time_bad("2023-02-29T00:00:00Z");
	time_bad("1900-02-29T00:00:00Z");
	time_bad("2022-11-22T24:00:00Z");
	time_bad("2022-11-22T23:60:00Z");
	time_bad("2022-11-22T23:59:60Z");
	time_bad("2022-13-01T00:00:00Z");
	time_bad("2022-00-01T00:00:00Z");
	time_bad("2022-11-00T00:00:00Z");
	time_bad("2022-11-22t04:37:12Z");
	time_bad("2022-11-22T04:37:12z");
	time_bad("2022-11-22T04:37:12");
	time_bad("2022-11-22T04:37:12+00:00");
	time_bad("2022-11-22T04:37:12.Z");
	time_bad("2022-11-22T04:37:12.1234567890Z");
	time_bad("2022-11-22T04:37:12Z ");
	time_bad("2022-11-22 04:37:12Z");
	time_bad("+022-11-22T04:37:12Z");
	time_bad("0000-01-01T00:00:00Z");
	time_bad("");
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		int64_t back = -7;

		ok(json_time_format(samples[i], buf, sizeof(buf)) == 0 &&
		       json_time_parse(buf, &back) == 0 && back == samples[i],
		   "format/parse round trip %lld (%s)", (long long)samples[i],
		   buf);
	}
	json_time_format(1669091832, buf, sizeof(buf));
	is_str(buf, "2022-11-22T04:37:12Z", "format");
	ok(json_time_format(JSON_TIME_MAX + 1, buf, sizeof(buf)) < 0,
	   "format refuses year 10000");
	ok(json_time_format(0, buf, JSON_TIME_LEN - 1) < 0,
	   "format refuses a short buffer");
}

static void test_field_fail(void)
{
	const char *err;
	int r;

	capture_begin();
	r = json_field_fail("stored record", "token", JSON_ABSENT);
	err = capture_text();
	ok(r == -1 && strstr(err, "stored record: field 'token' is missing"),
	   "field_fail names what and key");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	secmem_json_hooks();
	test_documents();
	test_getters();
	test_times();
	test_field_fail();
	return done_testing();
}
