/*
 * backend.c: the table of backends, the choice among them, and the
 * keyring's stand-in in the executable.
 *
 * The keyring backend proper lives in keyring.so (GLib costs every run
 * about 4 ms in the dynamic loader; see helper/base/module.h).  The
 * table holds a stand-in with the same vtable that checks what it can
 * without GLib (the profile name, whether a session bus exists at all),
 * then loads the module on first use and forwards to it.
 */
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/busenv.h"
#include "backends/keyring.h"
#include "backends/profile_lock.h"
#include "backends/sealed.h"
#include "helper/base/log.h"
#include "helper/base/module.h"

/*
 * Programs that link backends/keyring.c directly (the unit tests link
 * every object) use it as it is; the executable leaves this weak
 * reference unresolved (NULL) and loads the module instead.
 */
extern const struct backend keyring_backend_impl __attribute__((weak));

static const struct backend *keyring_module(void)
{
	static const struct backend *impl;
	static int tried;

	if (!tried) {
		tried = 1;
		if (&keyring_backend_impl)
			impl = &keyring_backend_impl;
		else
			impl = module_symbol("keyring", "keyring_backend_impl");
	}
	return impl;
}

/* What every forwarded call checks first: ST_OK and *impl, or why not. */
static enum status keyring_stub_ready(const char *profile,
				      const struct backend **impl)
{
	const char *why;

	if (profile && profile_name_check(profile) != ST_OK)
		return ST_USAGE;
	if (busenv_session_ready(&why) < 0)
		return fail(ST_STORE,
			    "keyring: %s; use ASTRO_CRED_BACKEND=file here",
			    why);
	*impl = keyring_module();
	if (!*impl)
		return fail(ST_STORE, "keyring: the keyring module is "
				      "missing or broken; reinstall astro-cred "
				      "or use ASTRO_CRED_BACKEND=file");
	return ST_OK;
}

static enum status keyring_stub_get(const char *profile, struct secbuf *rec)
{
	const struct backend *impl;
	enum status st = keyring_stub_ready(profile, &impl);

	return st ? st : impl->get(profile, rec);
}

static enum status keyring_stub_store(const char *profile,
				      const unsigned char *rec, size_t len)
{
	const struct backend *impl;
	enum status st = keyring_stub_ready(profile, &impl);

	return st ? st : impl->put(profile, rec, len);
}

static enum status keyring_stub_erase(const char *profile)
{
	const struct backend *impl;
	enum status st = keyring_stub_ready(profile, &impl);

	return st ? st : impl->erase(profile);
}

static enum status keyring_stub_list(struct strlist *out)
{
	const struct backend *impl;
	enum status st = keyring_stub_ready(NULL, &impl);

	return st ? st : impl->list(out);
}

/* No bus: answered here in microseconds, without loading GLib. */
static int keyring_stub_available(void)
{
	const struct backend *impl;
	const char *why;

	if (busenv_session_ready(&why) < 0) {
		verbose("keyring: %s", why);
		return 0;
	}
	impl = keyring_module();
	return impl && impl->available();
}

/* The keyring keeps no secret of ours between calls: nothing to wipe. */
static void keyring_stub_forget(void)
{
}

/* The lock is the local one, taken without loading GLib. */
static const struct backend keyring_stub = {
    .name = "keyring",
    .get = keyring_stub_get,
    .put = keyring_stub_store,
    .erase = keyring_stub_erase,
    .list = keyring_stub_list,
    .available = keyring_stub_available,
    .lock = profile_lock,
    .unlock = profile_unlock,
    .forget = keyring_stub_forget,
};

/* Preference order for `auto`: the keyring when it answers, else the file. */
const struct backend *const backend_table[] = {
    &keyring_stub,
    &sealed_backend,
    NULL,
};

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; backend_table[i]; i++)
		if (!strcmp(backend_table[i]->name, name))
			return backend_table[i];
	return NULL;
}

/* "keyring, file": the table's names, for a message. */
static void table_names(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; backend_table[i] && n < size; i++) {
		int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
				 backend_table[i]->name);

		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static enum status backend_auto(const struct backend **out)
{
	for (size_t i = 0; backend_table[i]; i++) {
		if (!backend_table[i]->available())
			continue;
		verbose("backend: %s (auto)", backend_table[i]->name);
		*out = backend_table[i];
		return ST_OK;
	}
	return fail(ST_STORE, "no secret store is usable here");
}

enum status backend_select(const char *name, const char *from,
			   const struct backend **out)
{
	const struct backend *b;
	char names[128];

	if (!name || !*name)
		name = "auto";
	if (!strcmp(name, "auto"))
		return backend_auto(out);
	b = backend_find(name);
	if (!b) {
		table_names(names, sizeof(names));
		return fail(ST_USAGE,
			    "unknown backend '%s' in %s: use %s or auto", name,
			    from, names);
	}
	verbose("backend: %s", b->name);
	*out = b;
	return ST_OK;
}
