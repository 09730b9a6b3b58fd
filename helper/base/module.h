/*
 * module.h: optional parts loaded only when a command needs them.
 *
 * Why: a cache-hit `get` should cost about as much as a bare process.
 * Linking libcurl costs about 9 ms in the dynamic loader before main()
 * (33 shared objects) and libsecret/GLib about 4 ms (GLib's type system), paid
 * by every run whether it uses them or not.  git avoids this by putting
 * HTTP in a separate program (git-remote-https); systemd dlopen()s optional
 * libraries behind typed prototypes.  We do the second with whole modules:
 *
 *   net.so      the Astro API client (helper/api/api*.c), linked with libcurl
 *   keyring.so  the Secret Service backend (backends/keyring*.c), GLib/GDBus
 *
 * The executable links only libsodium and cJSON.  A module is found at
 * <directory of the executable>/../lib/astro-cred/NAME.so (the same layout
 * in the build tree and after `make install`, so both are relocatable) and
 * exports one const table of typed function pointers.  The executable is
 * linked with --export-dynamic so that modules use its logging and secret
 * memory instead of carrying copies.  No environment variable can redirect
 * the module path.
 */
#ifndef ASTRO_CRED_MODULE_H
#define ASTRO_CRED_MODULE_H

/*
 * Load module NAME (e.g. "net") once and return its exported object SYMBOL,
 * or NULL after printing why (the caller maps that to its status).
 */
const void *module_symbol(const char *name, const char *symbol);

#endif
