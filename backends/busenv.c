#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/busenv.h"

/* Room for "unix:path=" and a path whose every byte needs %XX. */
#define BUSENV_ADDR_MAX (16 + 3 * PATH_MAX)

/*
 * An address may list several transports separated by ';'.  "autolaunch:"
 * is the one that spawns dbus-launch; we refuse it wherever it appears.
 */
static int busenv_autolaunch(const char *addr)
{
	const char *p = addr;

	for (;;) {
		p += strspn(p, "; ");
		if (!strncmp(p, "autolaunch:", 11))
			return 1;
		p = strchr(p, ';');
		if (!p)
			return 0;
	}
}

/* D-Bus address escaping: bytes outside [-0-9A-Za-z_/.\*] become %XX. */
static int busenv_escape(char *dst, size_t len, const char *src)
{
	static const char ok[] = "-_/.\\*";
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;

		if (n + 4 > len)
			return -1;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr(ok, c)) {
			dst[n++] = (char)c;
			continue;
		}
		dst[n++] = '%';
		dst[n++] = hex[c >> 4];
		dst[n++] = hex[c & 15];
	}
	dst[n] = '\0';
	return 0;
}

/* $XDG_RUNTIME_DIR/bus, as GLib and sd-bus look for it, if it is ours. */
static int busenv_from_runtime_dir(void)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX], addr[BUSENV_ADDR_MAX], esc[3 * PATH_MAX];
	struct stat st;

	if (!dir || dir[0] != '/')
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/bus", dir) >= sizeof(path))
		return -1;
	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_uid != geteuid())
		return -1;
	if (busenv_escape(esc, sizeof(esc), path) < 0)
		return -1;
	snprintf(addr, sizeof(addr), "unix:path=%s", esc);
	return setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
}

int busenv_session_ready(const char **why)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");

	*why = NULL;
	if (addr && *addr) {
		if (!busenv_autolaunch(addr))
			return 0;
		*why = "DBUS_SESSION_BUS_ADDRESS asks for an autolaunched "
		       "bus, which astro-cred never starts";
		return -1;
	}
	if (busenv_from_runtime_dir() == 0)
		return 0;
	*why = "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and "
	       "there is no $XDG_RUNTIME_DIR/bus)";
	return -1;
}
