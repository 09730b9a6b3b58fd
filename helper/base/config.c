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

#include "helper/base/config.h"
#include "helper/base/json_strict.h"
#include "helper/base/log.h"
#include "helper/base/names.h"
#include "helper/base/secmem.h"

static struct config cfg = CONFIG_INIT;
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

static void add_entry(struct config *c, const char *section, const char *key,
		      const char *val)
{
	size_t kl = strlen(section) + strlen(key) + 2;
	char *k = xmalloc(kl);

	snprintf(k, kl, "%s%s%s", section, *section ? "." : "", key);
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n].key = k;
	c->v[c->n].value = xstrdup(val);
	c->n++;
}

static int parse_line(struct config *c, char *line, char *section,
		      size_t seclen, const char *path, int lineno)
{
	char *s = trim(line), *eq;

	if (!*s || *s == '#')
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']');

		if (!end || end[1] || end - s - 1 >= (long)seclen ||
		    end == s + 1)
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
	add_entry(c, section, trim(s), trim(eq + 1));
	return 0;
}

/* Parse the NUL-terminated text buf (modified in place) into c. */
static enum status parse_lines(struct config *c, char *buf, const char *path)
{
	char section[128] = "";
	int lineno = 0;

	for (char *line = buf, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		for (char *ch = line; *ch; ch++)
			if (iscntrl((unsigned char)*ch) && *ch != '\t')
				return fail(ST_USAGE,
					    "%s:%d: control character", path,
					    lineno);
		if (parse_line(c, line, section, sizeof(section), path, lineno))
			return ST_USAGE;
	}
	return ST_OK;
}

enum status config_parse(const char *buf, size_t len, const char *origin,
			 struct config *out)
{
	char *copy;
	enum status ret;

	*out = (struct config)CONFIG_INIT;
	if (len > CONFIG_MAX)
		return fail(ST_USAGE, "config '%s' is over %d bytes", origin,
			    CONFIG_MAX);
	if (memchr(buf, '\0', len))
		return fail(ST_USAGE, "config '%s' contains a NUL byte",
			    origin);
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	ret = parse_lines(out, copy, origin);
	free(copy);
	if (ret != ST_OK)
		config_clear(out);
	return ret;
}

void config_clear(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	*c = (struct config)CONFIG_INIT;
}

const char *config_lookup(const struct config *c, const char *key)
{
	for (size_t i = c->n; i-- > 0;)
		if (!strcmp(c->v[i].key, key))
			return c->v[i].value;
	return NULL;
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
	ret = config_parse(buf, (size_t)n, path, &cfg);
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
	}
	return load_status;
}

const char *config_get(const char *key)
{
	config_check();
	return config_lookup(&cfg, key);
}

void config_section_keys(const char *section, struct strlist *out)
{
	size_t n = strlen(section);

	config_check();
	for (size_t i = 0; i < cfg.n; i++)
		if (!strncmp(cfg.v[i].key, section, n) &&
		    cfg.v[i].key[n] == '.')
			strlist_push(out, cfg.v[i].key + n + 1);
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
	case '\0':
		break;
	case 's':
		mult = 1;
		p++;
		break;
	case 'm':
		mult = 60;
		p++;
		break;
	case 'h':
		mult = 3600;
		p++;
		break;
	case 'd':
		mult = 86400;
		p++;
		break;
	default:
		return -1;
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
		error("invalid profile name '%s': use 1 to %d of "
		      "[A-Za-z0-9._-]",
		      shown, PROFILE_NAME_MAX);
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
