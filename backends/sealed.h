/*
 * sealed.h: the libsodium-sealed file backend ("file").  See
 * docs/sealed-format.md for the format and key sources.
 */
#ifndef ASTRO_CRED_SEALED_H
#define ASTRO_CRED_SEALED_H

#include "backends/backend.h"

extern const struct backend sealed_backend;

#endif
