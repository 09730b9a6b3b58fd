/* envnum.c: a number from the environment (see envnum.h). */
#include <errno.h>
#include <stdlib.h>

#include "helper/base/envnum.h"
#include "helper/base/log.h"

double env_number(const char *name, const char *unit, int whole, double min,
		  double max, double def)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = whole ? (double)strtol(s, &end, 10) : strtod(s, &end);
	if (errno || *end || !(v >= min && v <= max)) {
		warning("ignoring %s='%s' (want %s%s%.0f to %.0f)", name, s,
			unit ? unit : "", unit ? ", " : "", min, max);
		return def;
	}
	return v;
}
