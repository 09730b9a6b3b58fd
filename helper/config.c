#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "helper/config.h"
#include "helper/json_strict.h"
#include "helper/log.h"
#include "helper/secmem.h"

struct entry {
	char *key, *value;
};

static struct entry *entries;
static size_t nentries;
static int loaded;
static enum status load_status = ST_OK;

static int config_path(char *buf, size_t len)
{
	const char *p = getenv("ASTRO_CRED_CONFIG");
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *h = getenv("HOME");
	int n;

	if (p && *p)
		n = snprintf(buf, len, "%s", p);
	else if (x && *x)
		n = snprintf(buf, len, "%s/astro-cred/config", x);
	else if (h && *h)
		n = snprintf(buf, len, "%s/.config/astro-cred/config", h);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static void add_entry(const char *section, const char *key, const char *val)
{
	size_t kl = strlen(section) + strlen(key) + 2;
	char *k = xmalloc(kl);

	snprintf(k, kl, "%s%s%s", section, *section ? "." : "", key);
	entries = xrealloc(entries, (nentries + 1) * sizeof(*entries));
	entries[nentries].key = k;
	entries[nentries].value = xstrdup(val);
	nentries++;
}

static int parse_line(char *line, char *section, size_t seclen,
		      const char *path, int lineno)
{
	char *s = trim(line), *eq;

	if (!*s || *s == '#')
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']');

		if (!end || end[1] || end - s - 1 >= (long)seclen || end == s + 1)
			return error("%s:%d: malformed section header", path,
				     lineno);
		*end = '\0';
		snprintf(section, seclen, "%s", trim(s + 1));
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq)
		return error("%s:%d: expected 'key = value'", path, lineno);
	*eq = '\0';
	if (!*trim(s))
		return error("%s:%d: empty key", path, lineno);
	add_entry(section, trim(s), trim(eq + 1));
	return 0;
}

static enum status parse_config(char *buf, const char *path)
{
	char section[128] = "";
	int lineno = 0;

	for (char *line = buf, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		for (char *c = line; *c; c++)
			if (iscntrl((unsigned char)*c) && *c != '\t')
				return fail(ST_USAGE,
					    "%s:%d: control character", path,
					    lineno);
		if (parse_line(line, section, sizeof(section), path, lineno))
			return ST_USAGE;
	}
	return ST_OK;
}

static enum status load(void)
{
	char path[PATH_MAX], *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd;
	enum status ret = ST_USAGE;

	if (config_path(path, sizeof(path)) < 0)
		return ST_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ST_OK;
		return fail(ST_USAGE, "cannot open config '%s': %s", path,
			    strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX) {
		error("config '%s' is not a regular file under %d bytes", path,
		      CONFIG_MAX);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		error("cannot read config '%s'", path);
		goto out;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n)) {
		error("config '%s' contains a NUL byte", path);
		goto out;
	}
	ret = parse_config(buf, path);
out:
	free(buf);
	close(fd);
	return ret;
}

enum status config_check(void)
{
	if (!loaded) {
		loaded = 1;
		load_status = load();
		if (load_status != ST_OK) {
			for (size_t i = 0; i < nentries; i++) {
				free(entries[i].key);
				free(entries[i].value);
			}
			free(entries);
			entries = NULL;
			nentries = 0;
		}
	}
	return load_status;
}

const char *config_get(const char *key)
{
	config_check();
	for (size_t i = nentries; i-- > 0;)
		if (!strcmp(entries[i].key, key))
			return entries[i].value;
	return NULL;
}

void config_section_keys(const char *section, struct strlist *out)
{
	size_t n = strlen(section);

	config_check();
	for (size_t i = 0; i < nentries; i++)
		if (!strncmp(entries[i].key, section, n) &&
		    entries[i].key[n] == '.')
			strlist_push(out, entries[i].key + n + 1);
}

int parse_duration(const char *s, int64_t *out)
{
	const int64_t max = 10LL * 366 * 86400;
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	switch (*p) {
	case '\0': break;
	case 's': mult = 1; p++; break;
	case 'm': mult = 60; p++; break;
	case 'h': mult = 3600; p++; break;
	case 'd': mult = 86400; p++; break;
	default: return -1;
	}
	if (*p || v > max / mult)
		return -1;
	*out = v * mult;
	return 0;
}

const char *resolve_profile(const char *opt)
{
	const char *p = opt;

	if (!p) {
		p = getenv("ASTRO_CRED_PROFILE");
		if (!p)
			p = "default";
	}
	if (!profile_name_ok(p)) {
		char shown[80];

		log_sanitize(shown, sizeof(shown), p);
		error("invalid profile name '%s': use 1 to 64 of "
		      "[A-Za-z0-9._-]",
		      shown);
		return NULL;
	}
	return p;
}

int64_t now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

void format_time(int64_t t, char *buf, unsigned long len)
{
	if (json_time_format(t, buf, len) < 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}
