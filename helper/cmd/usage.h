/*
 * usage.h: the help text of the program and of each verb.  It is kept in
 * step with docs/astro-cred.1 (a test compares the synopses).
 */
#ifndef ASTRO_CRED_USAGE_H
#define ASTRO_CRED_USAGE_H

/* Help for VERB, or the program's help when verb is NULL or unknown. */
const char *usage_text(const char *verb);

#endif
