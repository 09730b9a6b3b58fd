/* Unit tests: profile names, the backend table and selection, busenv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/backend.h"
#include "backends/busenv.h"
#include "helper/life/lifecycle.h"
#include "tests/unit/tap.h"

static void test_profile_names(void)
{
	char name[PROFILE_NAME_MAX + 2];
	static const char *good[] = {"a",   "default", "-",	  "_",
				     "...", ".hidden", "A.b_c-9", "0"};
	static const char *bad[] = {"",	    ".",    "..",   "a/b",
				    "a b",  "a:b",  "a\nb", "\xc3\xa9",
				    "/etc", "a\\b", "*",    "a\rb"};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		ok(profile_name_ok(good[i]), "'%s' is a profile name", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(!profile_name_ok(bad[i]), "bad profile name %zu refused", i);
	memset(name, 'x', sizeof(name));
	name[PROFILE_NAME_MAX] = '\0';
	ok(profile_name_ok(name), "64 characters is a profile name");
	name[PROFILE_NAME_MAX] = 'y';
	name[PROFILE_NAME_MAX + 1] = '\0';
	ok(!profile_name_ok(name), "65 characters is not");
}

static void test_table(void)
{
	const struct backend *b = NULL;

	ok(backend_find("keyring") &&
	       !strcmp(backend_find("keyring")->name, "keyring"),
	   "backend_find keyring");
	ok(backend_find("file") && !strcmp(backend_find("file")->name, "file"),
	   "backend_find file");
	ok(!backend_find("Keyring") && !backend_find("") &&
	       !backend_find("auto"),
	   "backend_find knows no other names");
	ok(!strcmp(backend_table[0]->name, "keyring"),
	   "auto prefers the keyring");

	setenv("ASTRO_CRED_BACKEND", "file", 1);
	ok(life_backend(&b) == ST_OK && b == backend_find("file"),
	   "ASTRO_CRED_BACKEND=file");
	setenv("ASTRO_CRED_BACKEND", "keyring", 1);
	ok(life_backend(&b) == ST_OK && b == backend_find("keyring"),
	   "ASTRO_CRED_BACKEND=keyring, whether or not it is available");
	setenv("ASTRO_CRED_BACKEND", "sealed", 1);
	is_int(life_backend(&b), ST_USAGE, "an unknown backend is ST_USAGE");

	/* auto without any bus: decided without touching D-Bus. */
	setenv("ASTRO_CRED_BACKEND", "auto", 1);
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	setenv("XDG_RUNTIME_DIR", "/nonexistent", 1);
	b = NULL;
	ok(life_backend(&b) == ST_OK && b == backend_find("file"),
	   "auto without a session bus is the file");
	ok(backend_find("keyring")->get("x", NULL) == ST_STORE,
	   "keyring without a bus is ST_STORE");
	ok(backend_find("keyring")->erase("..") == ST_USAGE,
	   "keyring checks the profile name first");
	unsetenv("ASTRO_CRED_BACKEND");
}

/* A socket at DIR/bus, as a session bus leaves in $XDG_RUNTIME_DIR. */
static int make_socket(const char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", dir);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static void test_busenv(void)
{
	char dir[] = "/tmp/busenv-test.XXXXXX", sub[64], path[96];
	const char *why, *addr;
	int fd;

	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/x", 1);
	ok(busenv_session_ready(&why) == 0 && !why, "an address is kept");
	is_str(getenv("DBUS_SESSION_BUS_ADDRESS"), "unix:path=/x",
	       "... unchanged");
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/x;autolaunch:", 1);
	ok(busenv_session_ready(&why) < 0 && why && strstr(why, "autolaunch"),
	   "autolaunch: anywhere in the address is refused");
	setenv("DBUS_SESSION_BUS_ADDRESS", " autolaunch:", 1);
	ok(busenv_session_ready(&why) < 0, "... also after a blank");

	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	unsetenv("XDG_RUNTIME_DIR");
	ok(busenv_session_ready(&why) < 0 && why, "no address, no runtime dir");
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	ok(busenv_session_ready(&why) < 0, "a relative runtime dir is ignored");

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/a b%%", dir);
	mkdir(sub, 0700);
	setenv("XDG_RUNTIME_DIR", sub, 1);
	ok(busenv_session_ready(&why) < 0, "a runtime dir without a bus");
	fd = make_socket(sub);
	ok(fd >= 0, "made a socket");
	ok(busenv_session_ready(&why) == 0, "a runtime dir with a bus socket");
	addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	snprintf(path, sizeof(path), "unix:path=%s/a%%20b%%25/bus", dir);
	is_str(addr, path, "the address is set, escaped");
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/bus", sub);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_profile_names();
	test_table();
	test_busenv();
	return done_testing();
}
