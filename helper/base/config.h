/*
 * config.h: the optional config file and the small value parsers the
 * commands share.
 *
 * The file is $ASTRO_CRED_CONFIG, else $XDG_CONFIG_HOME/astro-cred/config,
 * else ~/.config/astro-cred/config.  A missing file is an empty config.
 * Format: `key = value` lines, `#` comments, and `[section]` headers:
 *
 *     backend = file
 *     [docker]
 *     images.astronomer.cloud = ci
 *
 * Keys outside a section are "global"; a section's keys are looked up as
 * "section.key" (for example "docker.images.astronomer.cloud").  The file
 * holds no secrets: it is read, never written.
 */
#ifndef ASTRO_CRED_CONFIG_H
#define ASTRO_CRED_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "helper/base/status.h"
#include "helper/base/strlist.h"

#define CONFIG_MAX (64 * 1024)

/* A parsed config: entries in file order, keys as "section.key". */
struct config_entry {
	char *key, *value;
};
struct config {
	struct config_entry *v;
	size_t n;
};
#define CONFIG_INIT                                                            \
	{                                                                      \
		NULL, 0                                                        \
	}

/*
 * Parse len bytes of config text (a pure function: no file, no globals).
 * Over CONFIG_MAX, a NUL byte, a control character other than TAB or a
 * malformed line is ST_USAGE, reported once as "ORIGIN:LINE: ..."; *out
 * is then empty.  Free with config_clear().
 */
enum status config_parse(const char *buf, size_t len, const char *origin,
			 struct config *out);
/* Free the entries; c is empty afterwards.  Accepts an empty config. */
void config_clear(struct config *c);
/* The value of the last entry named key, or NULL. */
const char *config_lookup(const struct config *c, const char *key);

/*
 * Value of KEY ("backend", "docker.HOST"), or NULL.  The file is read once
 * per process on first use; a malformed file is reported once and then
 * behaves as empty (commands that depend on it then fail on their own).
 */
const char *config_get(const char *key);
/* Append the keys of [section] (without the "section." prefix) to out. */
void config_section_keys(const char *section, struct strlist *out);
/* Like config_get, but an unreadable or malformed file is ST_USAGE. */
enum status config_check(void);

/*
 * Parse a duration: seconds, or a number with s, m, h or d.  Returns 0 and
 * sets *out, or -1 (nothing printed).  At most ten years.
 */
int parse_duration(const char *s, int64_t *out);

/* The profile from -p, else $ASTRO_CRED_PROFILE, else "default"; NULL if
 * invalid. */
const char *resolve_profile(const char *opt);

/* Seconds since the epoch (the real clock; tests shorten lifetimes instead). */
int64_t now_seconds(void);

/* Format t as RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ) into buf (>= 21 bytes). */
void format_time(int64_t t, char *buf, unsigned long len);

#endif
