/*
 * net.h: reach the Astro API client in net.so from the executable.
 * (helper/api/api*.c are linked into the module, not the executable; see
 * helper/base/module.h for why.)
 */
#ifndef ASTRO_CRED_NET_H
#define ASTRO_CRED_NET_H

#include "helper/api/api.h"

/*
 * Load net.so once and return its api_ops table, or NULL after one
 * message (the caller returns ST_TRANSIENT or its own choice).
 */
const struct api_ops *api_load(void);

#endif
