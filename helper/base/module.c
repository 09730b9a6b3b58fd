#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper/base/log.h"
#include "helper/base/module.h"

static int module_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return error("cannot find own executable: readlink failed");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return error("cannot find own executable directory");
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/../lib/astro-cred", exe) >= len)
		return error("executable path too long");
	return 0;
}

const void *module_symbol(const char *name, const char *symbol)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	void *h, *sym;

	if (module_dir(dir, sizeof(dir)) < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	/* RTLD_NOW: fail here, with a message, not at a later call. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		error("cannot load module '%s': %s", name, dlerror());
		return NULL;
	}
	sym = dlsym(h, symbol);
	if (!sym) {
		error("module '%s' lacks '%s'", name, symbol);
		return NULL;
	}
	return sym;
}
