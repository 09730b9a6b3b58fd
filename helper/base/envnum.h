/*
 * envnum.h: a number from the environment, for the tunables that have a
 * safe default (lock wait, key cache lifetime): a bad value is a warning
 * and the default, never a failure.
 */
#ifndef ASTRO_CRED_ENVNUM_H
#define ASTRO_CRED_ENVNUM_H

/*
 * The number in environment variable name (whole: an integer) if it lies
 * in [min, max]; def if the variable is unset or empty, and after a
 * warning ("want [unit, ]min to max") if it is anything else.
 */
double env_number(const char *name, const char *unit, int whole, double min,
		  double max, double def);

#endif
