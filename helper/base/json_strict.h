/*
 * json_strict.h: reading JSON we did not write (API responses, JWT claims,
 * stored records) without cJSON's lenient corners (security.md 2.6).
 *
 * cJSON accepts things we must not: a "\u0000" escape silently truncates a
 * string (J-01), duplicate keys resolve to the first (J-02), its plain
 * object getter is case-insensitive (J-03), 1e400 becomes inf and valueint
 * saturates (J-04/J-05), trailing bytes are ignored unless asked (J-06),
 * and neither invalid UTF-8 nor raw control characters are refused
 * (J-07).  json_parse_strict() refuses all of those for a whole document;
 * the typed getters then refuse wrong types, out-of-range numbers and
 * control characters field by field.
 *
 * Getters return JSON_OK, JSON_ABSENT (the key is missing or null: the
 * caller decides whether that is fine) or JSON_INVALID (present with the
 * wrong type or an unacceptable value).  They print nothing; see
 * json_field_fail() for the one message.  Lookups are case-sensitive.
 */
#ifndef ASTRO_CRED_JSON_STRICT_H
#define ASTRO_CRED_JSON_STRICT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

enum json_res {
	JSON_INVALID = -1,
	JSON_OK = 0,
	JSON_ABSENT = 1,
};

/* Flags for string getters. */
#define JSON_NONEMPTY 0x1 /* "" is invalid */
#define JSON_TEXT     0x2 /* free text: TAB and LF allowed (no other C0/DEL) */

/* "YYYY-MM-DDTHH:MM:SSZ" plus its NUL. */
#define JSON_TIME_LEN 21
/* Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define JSON_TIME_MIN (-62135596800LL)
#define JSON_TIME_MAX 253402300799LL

/*
 * Parse exactly len bytes of buf as one JSON value.  buf[len] must be '\0'
 * (secbuf and C strings guarantee it).  Refuses: a NUL byte inside, any
 * "\u0000" escape, invalid UTF-8 or a control character in any key,
 * invalid UTF-8 in any string, duplicate keys at any depth, trailing bytes
 * other than whitespace.  Returns the tree (cJSON_Delete() it), or NULL
 * with *why set to a short static reason (never quoting the input).
 */
cJSON *json_parse_strict(const char *buf, size_t len, const char **why);

/* A string member; *out points into the tree.  See JSON_* flags. */
int json_get_string(const cJSON *obj, const char *key, unsigned flags,
		    const char **out);
/* Is this item a string acceptable under flags?  (For array elements.) */
int json_string_ok(const cJSON *item, unsigned flags);

/*
 * A number member that is finite, integral and within [min, max] (which
 * must lie within +-2^53, where doubles are exact).
 */
int json_get_int64(const cJSON *obj, const char *key, int64_t min, int64_t max,
		   int64_t *out);
/* The same check on an item itself. */
int json_number_int64(const cJSON *item, int64_t min, int64_t max,
		      int64_t *out);
/* A true/false member, as 1/0. */
int json_get_bool(const cJSON *obj, const char *key, int *out);
/* An RFC 3339 UTC time member (see json_time_parse), as Unix seconds. */
int json_get_time(const cJSON *obj, const char *key, int64_t *out);
/* An object or array member; *out points into the tree. */
int json_get_object(const cJSON *obj, const char *key, const cJSON **out);
int json_get_array(const cJSON *obj, const char *key, const cJSON **out);

/*
 * Parse "YYYY-MM-DDTHH:MM:SSZ", optionally with 1 to 9 fraction digits
 * before the Z (".123Z", truncated), UTC only, uppercase T and Z, every
 * field in range (no leap second).  Returns 0 and *out, or -1.
 */
int json_time_parse(const char *s, int64_t *out);
/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= JSON_TIME_LEN); 0 or -1. */
int json_time_format(int64_t t, char *buf, size_t len);

/* The value of hex digit c (of a \uXXXX escape), or -1. */
int json_hexval(int c);

/*
 * Wipe and free a string cJSON printed that may hold a secret (a record,
 * a token); NULL is fine.
 */
void json_free_secret(char *s);

/*
 * Print "WHAT: field 'KEY' is missing" or "... has an invalid value" for a
 * getter result res (JSON_ABSENT or JSON_INVALID); return -1.
 */
int json_field_fail(const char *what, const char *key, int res);

#endif
