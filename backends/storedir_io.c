/*
 * storedir_io.c: files in the store directory (see storedir.h): read whole
 * after the checks, replaced or created atomically (security.md section
 * 6), removed durably.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/storedir.h"
#include "backends/storedir_int.h"
#include "helper/base/log.h"

ssize_t storedir_read_upto(int fd, void *buf, size_t cap, int stop_nl)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < cap) {
		ssize_t r = read(fd, p + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
		if (stop_nl && memchr(p + got - (size_t)r, '\n', (size_t)r))
			break;
	}
	return (ssize_t)got;
}

enum status storedir_read(struct storedir *sd, const char *sub,
			  const char *name, void *buf, size_t min, size_t max,
			  size_t *len)
{
	char path[PATH_MAX];
	int dfd, fd;
	size_t size = 0;
	enum status st;

	if (!storedir_name_ok(name))
		return fail(ST_STORE, "bad file name in the store");
	if ((dfd = storedir_subdir_fd(sd, sub)) < 0)
		return ST_STORE;
	storedir_mkpath(path, sizeof(path), sd, sub, name);
	fd = openat(dfd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return storedir_open_error(errno, path);
	st = storedir_check_file(fd, path, min, max, &size);
	if (st == ST_OK &&
	    storedir_read_upto(fd, buf, size, 0) != (ssize_t)size)
		st = fail(ST_STORE, "cannot read '%s': %s", path,
			  errno ? strerror(errno) : "short read");
	close(fd);
	if (st == ST_OK)
		*len = size;
	return st;
}

static int write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

/*
 * Create tmp/<tname> (*made set once it exists), write buf, fsync, close.
 * -1 with errno and *op (the failing step) on error.
 */
static int write_temp(int tfd, char tname[TEMP_NAME_LEN + 1], const void *buf,
		      size_t len, const char **op, int *made)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[TEMP_HEX / 2];
	int fd, rc;

	randombytes_buf(r, sizeof(r));
	memcpy(tname, TEMP_PREFIX, TEMP_PREFIX_LEN);
	for (size_t i = 0; i < sizeof(r); i++) {
		tname[TEMP_PREFIX_LEN + 2 * i] = hex[r[i] >> 4];
		tname[TEMP_PREFIX_LEN + 2 * i + 1] = hex[r[i] & 15];
	}
	tname[TEMP_NAME_LEN] = '\0';
	*op = "create temp file";
	fd = openat(tfd, tname,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	*made = 1;
	*op = "write";
	if (write_all(fd, buf, len) < 0)
		goto fail;
	*op = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	*op = "close";
	/* After a failed close the descriptor is gone anyway (Linux). */
	return close(fd);
fail:
	rc = errno;
	close(fd);
	errno = rc;
	return -1;
}

/*
 * The one write path: temp file, then rename (replace) or link (create,
 * never replace), then fsync of the directory that holds the name.
 */
static enum status put_file(struct storedir *sd, const char *sub,
			    const char *name, const void *buf, size_t len,
			    int *existed)
{
	char path[PATH_MAX], tname[TEMP_NAME_LEN + 1];
	const char *op = "open";
	int dfd, tfd, e, made = 0;

	if (!storedir_name_ok(name))
		return fail(ST_STORE, "bad file name in the store");
	if ((dfd = storedir_subdir_fd(sd, sub)) < 0 ||
	    (tfd = storedir_subdir_fd(sd, STOREDIR_TMP)) < 0)
		return ST_STORE;
	storedir_mkpath(path, sizeof(path), sd, sub, name);
	if (write_temp(tfd, tname, buf, len, &op, &made) < 0)
		goto fail;
	if (existed) {
		op = "link";
		if (linkat(tfd, tname, dfd, name, 0) < 0) {
			if (errno != EEXIST)
				goto fail;
			*existed = 1;
		}
		unlinkat(tfd, tname, 0);
		made = 0;
	} else {
		op = "rename";
		if (renameat(tfd, tname, dfd, name) < 0)
			goto fail;
		made = 0;
	}
	op = "fsync of the directory";
	if (fsync(dfd) < 0)
		goto fail;
	storedir_clean_temps(sd);
	return ST_OK;
fail:
	e = errno;
	if (made)
		unlinkat(tfd, tname, 0);
	return fail(ST_STORE, "cannot write '%s': %s: " ERRFMT "%s", path, op,
		    ERRARG(e),
		    strcmp(op, "fsync of the directory")
			? "; the old file is unchanged"
			: "; the new file may not survive a crash");
}

enum status storedir_write(struct storedir *sd, const char *sub,
			   const char *name, const void *buf, size_t len)
{
	return put_file(sd, sub, name, buf, len, NULL);
}

enum status storedir_create(struct storedir *sd, const char *sub,
			    const char *name, const void *buf, size_t len,
			    int *existed)
{
	*existed = 0;
	return put_file(sd, sub, name, buf, len, existed);
}

enum status storedir_remove(struct storedir *sd, const char *sub,
			    const char *name)
{
	char path[PATH_MAX];
	int dfd;

	if (!storedir_name_ok(name))
		return fail(ST_STORE, "bad file name in the store");
	if ((dfd = storedir_subdir_fd(sd, sub)) < 0)
		return ST_STORE;
	storedir_mkpath(path, sizeof(path), sd, sub, name);
	if (unlinkat(dfd, name, 0) < 0) {
		if (errno == ENOENT)
			return ST_NOTFOUND;
		return fail(ST_STORE, "cannot remove '%s': " ERRFMT, path,
			    ERRARG(errno));
	}
	if (fsync(dfd) < 0)
		return fail(ST_STORE, "cannot remove '%s': fsync: " ERRFMT,
			    path, ERRARG(errno));
	return ST_OK;
}
