/*
 * names.h: the profile-name rule, written once for every layer that takes
 * a profile name (the config and the commands, the token's life and its
 * record, every backend, the lock).
 *
 * A profile name is 1 to PROFILE_NAME_MAX of [A-Za-z0-9._-], and not "."
 * or "..": safe as a single path component, as a keyring attribute, in a
 * message and in a kv line, with nothing to escape.
 */
#ifndef ASTRO_CRED_NAMES_H
#define ASTRO_CRED_NAMES_H

#include "helper/base/status.h"

#define PROFILE_NAME_MAX 64

/* Nonzero when name is a profile name. */
int profile_name_ok(const char *name);

/* ST_OK, or ST_USAGE after a message saying what a profile name is. */
enum status profile_name_check(const char *name);

#endif
