/*
 * storedir_list.c: what a store subdirectory holds (see storedir.h), and
 * the sweep of temp files a crashed writer left in tmp/.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/storedir.h"
#include "backends/storedir_int.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

/* A fresh directory stream on SUB (its own offset), or NULL. */
static DIR *open_stream(struct storedir *sd, const char *sub)
{
	int dfd = storedir_subdir_fd(sd, sub), fd;
	DIR *d;

	if (dfd < 0)
		return NULL;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (!(d = fdopendir(fd)))
		close(fd);
	return d;
}

static int is_regular(DIR *d, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return 1;
	if (de->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

enum status storedir_list(struct storedir *sd, const char *sub,
			  const char *suffix, struct strlist *out)
{
	size_t sl = strlen(suffix);
	struct dirent *de;
	DIR *d = open_stream(sd, sub);

	if (!d)
		return fail(ST_STORE, "cannot read the store directory '%s/%s'",
			    storedir_path(sd), sub ? sub : "");
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char *base;

		if (n <= sl || strcmp(de->d_name + n - sl, suffix))
			continue;
		base = xstrndup(de->d_name, n - sl);
		if (storedir_name_ok(base) && is_regular(d, de))
			strlist_push(out, base);
		free(base);
	}
	closedir(d);
	return ST_OK;
}

static int is_temp_name(const char *n)
{
	if (strlen(n) != TEMP_NAME_LEN ||
	    memcmp(n, TEMP_PREFIX, TEMP_PREFIX_LEN))
		return 0;
	return strspn(n + TEMP_PREFIX_LEN, "0123456789abcdef") == TEMP_HEX;
}

int storedir_clean_temps(struct storedir *sd)
{
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	int removed = 0;
	DIR *d = open_stream(sd, STOREDIR_TMP);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!is_temp_name(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode) || st.st_uid != storedir_uid() ||
		    st.st_mtime > now - STOREDIR_STALE_SECONDS)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			removed++;
			verbose("removed a stale temp file '%s/%s/%s'",
				storedir_path(sd), STOREDIR_TMP, de->d_name);
		}
	}
	closedir(d);
	return removed;
}
