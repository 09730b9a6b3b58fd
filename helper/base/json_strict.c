/*
 * json_strict.c: strict reading of JSON documents and typed member access.
 * See json_strict.h for what is refused and why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/base/json_strict.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

int json_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Scan the raw text for what cJSON would hide: a NUL byte (cJSON stops
 * there) and a "\u0000" escape (cJSON decodes it and the C string ends
 * early).  Escapes are followed exactly so that "\\u0000" (an escaped
 * backslash, then text) is not mistaken for one.  Malformed escapes are
 * left for cJSON to refuse.
 */
static const char *raw_scan(const char *buf, size_t len)
{
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\0')
			return "a NUL byte in the document";
		if (!in_str) {
			in_str = (c == '"');
			continue;
		}
		if (c == '"') {
			in_str = 0;
		} else if (c == '\\' && i + 1 < len) {
			i++;
			if (buf[i] == 'u' && i + 4 < len) {
				int v = 0;

				for (int k = 1; k <= 4; k++) {
					int h = json_hexval(buf[i + k]);

					v = (v << 4) | (h < 0 ? 0xffff : h);
				}
				if (v == 0)
					return "a \\u0000 escape in a string";
			}
		}
	}
	return NULL;
}

/* Is s valid UTF-8 (no overlong forms, surrogates or > U+10FFFF)? */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, min, cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		for (unsigned k = 1; k <= n; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* No C0 control character and no DEL, except TAB/LF when text is set. */
static int controls_ok(const char *s, int text)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (text && (c == '\t' || c == '\n'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
		    *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* Keys of one object: well-formed and unique (sorted, then neighbours). */
static const char *check_keys(const cJSON *obj)
{
	const cJSON *c;
	const cJSON **v;
	size_t n = 0, i = 0;
	const char *why = NULL;

	for (c = obj->child; c; c = c->next)
		n++;
	if (n == 0)
		return NULL;
	v = xcalloc(n, sizeof(*v));
	for (c = obj->child; c; c = c->next) {
		if (!c->string || !utf8_ok((const unsigned char *)c->string) ||
		    !controls_ok(c->string, 0)) {
			why = "a malformed key";
			goto out;
		}
		v[i++] = c;
	}
	qsort(v, n, sizeof(*v), key_cmp);
	for (i = 1; i < n; i++) {
		if (!strcmp(v[i - 1]->string, v[i]->string)) {
			why = "a duplicate key";
			goto out;
		}
	}
out:
	free(v);
	return why;
}

/* Walk the tree; depth is bounded by cJSON's CJSON_NESTING_LIMIT. */
static const char *check_tree(const cJSON *item)
{
	const char *why;

	if (cJSON_IsString(item) &&
	    !utf8_ok((const unsigned char *)item->valuestring))
		return "invalid UTF-8 in a string";
	if (cJSON_IsObject(item) && (why = check_keys(item)))
		return why;
	for (const cJSON *c = item->child; c; c = c->next) {
		if ((why = check_tree(c)))
			return why;
	}
	return NULL;
}

cJSON *json_parse_strict(const char *buf, size_t len, const char **why)
{
	const char *end = NULL, *reason;
	cJSON *root;

	if (buf[len] != '\0') {
		*why = "an unterminated buffer";
		return NULL;
	}
	if ((reason = raw_scan(buf, len))) {
		*why = reason;
		return NULL;
	}
	/* len + 1 takes in the NUL: cJSON then refuses trailing bytes. */
	root = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 1);
	if (!root) {
		*why = "not valid JSON, or data after it";
		return NULL;
	}
	if ((reason = check_tree(root))) {
		cJSON_Delete(root);
		*why = reason;
		return NULL;
	}
	return root;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return NULL;
	it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNull(it) ? NULL : it;
}

int json_string_ok(const cJSON *item, unsigned flags)
{
	if (!cJSON_IsString(item) || !item->valuestring)
		return 0;
	if ((flags & JSON_NONEMPTY) && !item->valuestring[0])
		return 0;
	return controls_ok(item->valuestring, !!(flags & JSON_TEXT)) &&
	       utf8_ok((const unsigned char *)item->valuestring);
}

int json_get_string(const cJSON *obj, const char *key, unsigned flags,
		    const char **out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return JSON_ABSENT;
	if (!json_string_ok(it, flags))
		return JSON_INVALID;
	*out = it->valuestring;
	return JSON_OK;
}

int json_number_int64(const cJSON *item, int64_t min, int64_t max, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return JSON_INVALID;
	d = item->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
		return JSON_INVALID;
	*out = (int64_t)d;
	return JSON_OK;
}

int json_get_int64(const cJSON *obj, const char *key, int64_t min, int64_t max,
		   int64_t *out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return JSON_ABSENT;
	return json_number_int64(it, min, max, out);
}

int json_get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return JSON_ABSENT;
	if (!cJSON_IsBool(it))
		return JSON_INVALID;
	*out = cJSON_IsTrue(it);
	return JSON_OK;
}

int json_get_time(const cJSON *obj, const char *key, int64_t *out)
{
	const char *s;
	int res = json_get_string(obj, key, JSON_NONEMPTY, &s);

	if (res != JSON_OK)
		return res;
	return json_time_parse(s, out) < 0 ? JSON_INVALID : JSON_OK;
}

int json_get_object(const cJSON *obj, const char *key, const cJSON **out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return JSON_ABSENT;
	if (!cJSON_IsObject(it))
		return JSON_INVALID;
	*out = it;
	return JSON_OK;
}

int json_get_array(const cJSON *obj, const char *key, const cJSON **out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return JSON_ABSENT;
	if (!cJSON_IsArray(it))
		return JSON_INVALID;
	*out = it;
	return JSON_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int month_days(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int json_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se;
	const char *p;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 59)
		return -1;
	if (d > month_days(y, mo))
		return -1;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		while (p[1 + n] >= '0' && p[1 + n] <= '9')
			n++;
		if (n < 1 || n > 9)
			return -1;
		p += 1 + n;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

int json_time_format(int64_t t, char *buf, size_t len)
{
	int64_t days, rem, y;
	int m, d;

	if (t < JSON_TIME_MIN || t > JSON_TIME_MAX || len < JSON_TIME_LEN)
		return -1;
	days = t / 86400;
	rem = t % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return 0;
}

int json_field_fail(const char *what, const char *key, int res)
{
	if (res == JSON_ABSENT)
		return error("%s: field '%s' is missing", what, key);
	return error("%s: field '%s' has an invalid value", what, key);
}

void json_free_secret(char *s)
{
	if (!s)
		return;
	secmem_wipe(s, strlen(s));
	cJSON_free(s);
}
