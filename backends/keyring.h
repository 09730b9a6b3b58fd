/*
 * keyring.h: the Secret Service backend ("keyring"), built into the module
 * keyring.so with GLib's GDBus (see helper/base/module.h).  The executable
 * never names this object directly: backends/backend.c holds a small stand-in
 * that loads the module on first use and forwards to it.
 *
 * One item per profile in the default collection, schema
 * io.astronomer.astro-cred.v1, attributes profile=<name> and kind=record
 * (no secret in them), label "Astro API token (<name>)"; the record is the
 * item's secret.  A locked collection is ST_STORE, never "not found"; no
 * call prompts, and every call gives up after KEYRING_TIMEOUT_MS.  See
 * docs/keyring.md.
 */
#ifndef ASTRO_CRED_KEYRING_H
#define ASTRO_CRED_KEYRING_H

#include "backends/backend.h"

#define KEYRING_SCHEMA "io.astronomer.astro-cred.v1"
/* Bound on one whole operation, and on the availability check. */
#define KEYRING_TIMEOUT_MS 3000
#define KEYRING_PING_MS	   2000

/*
 * The module's vtable, looked up by name with module_symbol(): get, put,
 * erase, list and available.  The stand-in in backend.c supplies lock,
 * unlock (the local lock) and forget, and leaves them NULL here.
 */
extern const struct backend keyring_backend_impl;

#endif
