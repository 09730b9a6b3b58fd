/* names.c: the profile-name rule (see names.h). */
#include <string.h>

#include "helper/base/log.h"
#include "helper/base/names.h"

int profile_name_ok(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789._-");

	if (n == 0 || n > PROFILE_NAME_MAX || name[n] != '\0')
		return 0;
	return strcmp(name, ".") && strcmp(name, "..");
}

enum status profile_name_check(const char *name)
{
	if (profile_name_ok(name))
		return ST_OK;
	return fail(ST_USAGE,
		    "invalid profile name '%s': use 1 to %d of A-Z a-z 0-9 . _ "
		    "- (not '.' or '..')",
		    name, PROFILE_NAME_MAX);
}
