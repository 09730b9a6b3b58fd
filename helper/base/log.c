#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/base/log.h"

static int verbose_on;

void log_set_verbose(int on)
{
	verbose_on = on;
}

int log_is_verbose(void)
{
	return verbose_on;
}

void log_sanitize(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!dstlen)
		return;
	for (; *src && o + 1 < dstlen; src++) {
		unsigned char c = (unsigned char)*src;
		if (c >= 0x20 && c < 0x7f) {
			dst[o++] = (char)c;
			continue;
		}
		if (o + 5 > dstlen)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 15];
	}
	dst[o] = '\0';
}

__attribute__((format(printf, 2, 0))) static void
vreport(const char *prefix, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_sanitize(clean, sizeof(clean), raw);
	fprintf(stderr, "astro-cred: %s%s\n", prefix, clean);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

enum status fail(enum status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return st;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void verbose(const char *fmt, ...)
{
	va_list ap;

	if (!verbose_on)
		return;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void die_oom(void)
{
	fputs("astro-cred: out of memory\n", stderr);
	exit(ST_TRANSIENT);
}
