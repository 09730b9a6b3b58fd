/*
 * storedir.c: the store directory itself (see storedir.h): where it is,
 * creating it, and the checks on it, its subdirectories and its files,
 * which follow OpenSSH's safe_path() and sshkey_perm_ok().  Reading and
 * writing files is storedir_io.c; listing and temp cleanup storedir_list.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/storedir.h"
#include "backends/storedir_int.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define SUBS_MAX     8
#define NAME_MAX_LEN 200

struct storedir {
	char *path;
	int fd;
	dev_t dev;
	struct {
		char *name;
		int fd;
	} sub[SUBS_MAX];
	size_t nsub;
};

static struct storedir *shared;

/* geteuid() once: the hit path makes as few system calls as it can. */
uid_t storedir_uid(void)
{
	static uid_t uid = (uid_t)-1;

	if (uid == (uid_t)-1)
		uid = geteuid();
	return uid;
}

const char *storedir_errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "unknown errno";
}

int storedir_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > NAME_MAX_LEN || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	return strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = xmalloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

static enum status store_path(char **out)
{
	const char *d = getenv("ASTRO_CRED_DIR");

	if (d && *d) {
		*out = xstrdup(d);
		return ST_OK;
	}
	d = getenv("XDG_DATA_HOME");
	if (d && d[0] == '/') {
		*out = join(d, "astro-cred");
		return ST_OK;
	}
	d = getenv("HOME");
	if (d && d[0] == '/') {
		*out = join(d, ".local/share/astro-cred");
		return ST_OK;
	}
	return fail(ST_STORE, "no store directory: set ASTRO_CRED_DIR, "
			      "XDG_DATA_HOME or HOME");
}

/*
 * A new directory's name is durable only once the directory holding it is
 * fsynced (security.md C-03): fsync the parent of the directory just made.
 */
static int sync_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd, ret = -1;

	if (slash)
		slash[slash == dir] = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	free(dir);
	return ret;
}

/* mkdir -p with 0700 for every directory we create, each made durable. */
static int mkdir_p(const char *path)
{
	char *buf = xstrdup(path);
	int ret = -1;

	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) == 0 ? sync_parent(buf) < 0
					  : errno != EEXIST) {
			error("cannot create '%s': " ERRFMT, buf,
			      ERRARG(errno));
			goto out;
		}
		*p = c;
		if (!c)
			break;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

/*
 * ssh's safe_path(): nobody but us (or root) may be able to replace any
 * directory on the way to the store.  A sticky world-writable directory
 * (/tmp) is fine: others cannot rename what is ours in it.
 */
static enum status check_ancestors(const char *canon)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", canon);
	for (;;) {
		char *slash = strrchr(buf, '/');

		if (!slash)
			return ST_OK;
		slash[slash == buf] = '\0';
		if (stat(buf, &st) < 0)
			return fail(ST_STORE, "cannot check '%s': " ERRFMT, buf,
				    ERRARG(errno));
		if (st.st_uid != 0 && st.st_uid != storedir_uid())
			return fail(
			    ST_STORE,
			    "'%s' (above the store directory) is owned "
			    "by uid %u; refusing to keep secrets under it",
			    buf, (unsigned)st.st_uid);
		if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
			return fail(
			    ST_STORE,
			    "'%s' (above the store directory) is group- "
			    "or world-writable; refusing to keep secrets "
			    "under it (chmod go-w '%s')",
			    buf, buf);
		if (!strcmp(buf, "/"))
			return ST_OK;
	}
}

/*
 * sshkey_perm_ok() for whatever the store holds, directory or file: ours,
 * and no group or other bits.  The advice differs: a file of another
 * owner was most likely written with sudo; an open directory wants chmod.
 */
static enum status check_private(const struct stat *st, const char *path)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);
	int dir = S_ISDIR(st->st_mode);

	if (st->st_uid != storedir_uid())
		return fail(ST_STORE,
			    "'%s' is owned by uid %u, not by you (uid %u); "
			    "refusing it%s",
			    path, (unsigned)st->st_uid,
			    (unsigned)storedir_uid(),
			    dir ? "" : " (was it written with sudo?)");
	if (!(st->st_mode & 077))
		return ST_OK;
	if (dir)
		return fail(ST_STORE,
			    "permissions %04o for '%s' are too open; the store "
			    "must be private to you (chmod 700 '%s')",
			    mode, path, path);
	return fail(ST_STORE,
		    "permissions %04o for '%s' are too open; it must not be "
		    "accessible by others; refusing it",
		    mode, path);
}

/* A directory of ours that nobody else can read or enter; *stp gets it. */
static enum status check_dir(int fd, const char *path, struct stat *stp)
{
	struct stat st;
	enum status ret;

	if (fstat(fd, &st) < 0)
		return fail(ST_STORE, "cannot check '%s': " ERRFMT, path,
			    ERRARG(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(ST_STORE, "'%s' is not a directory", path);
	if ((ret = check_private(&st, path)) != ST_OK)
		return ret;
	*stp = st;
	return ST_OK;
}

static enum status open_top(struct storedir *sd, const char *want)
{
	char *canon = realpath(want, NULL);
	struct stat st;
	enum status ret = ST_STORE;

	if (!canon && errno == ENOENT && mkdir_p(want) == 0)
		canon = realpath(want, NULL);
	if (!canon)
		return fail(ST_STORE,
			    "cannot open the store directory '%s': " ERRFMT,
			    want, ERRARG(errno));
	if ((ret = check_ancestors(canon)) != ST_OK)
		goto out;
	sd->fd = open(canon, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sd->fd < 0) {
		ret = fail(ST_STORE,
			   "cannot open the store directory '%s': " ERRFMT,
			   canon, ERRARG(errno));
		goto out;
	}
	if ((ret = check_dir(sd->fd, canon, &st)) != ST_OK)
		goto out;
	sd->dev = st.st_dev;
	sd->path = canon;
	canon = NULL;
out:
	free(canon);
	return ret;
}

static void storedir_free(struct storedir *sd)
{
	if (!sd)
		return;
	for (size_t i = 0; i < sd->nsub; i++) {
		close(sd->sub[i].fd);
		free(sd->sub[i].name);
	}
	if (sd->fd >= 0)
		close(sd->fd);
	free(sd->path);
	free(sd);
}

enum status storedir_open(struct storedir **out)
{
	struct storedir *sd;
	char *want = NULL;
	enum status st;

	*out = shared;
	if (shared)
		return ST_OK;
	if ((st = store_path(&want)) != ST_OK)
		return st;
	sd = xcalloc(1, sizeof(*sd));
	sd->fd = -1;
	st = open_top(sd, want);
	free(want);
	if (st != ST_OK) {
		storedir_free(sd);
		return st;
	}
	*out = shared = sd;
	return ST_OK;
}

void storedir_close(void)
{
	storedir_free(shared);
	shared = NULL;
}

const char *storedir_path(const struct storedir *sd)
{
	return sd->path;
}

void storedir_mkpath(char *buf, size_t n, const struct storedir *sd,
		     const char *sub, const char *name)
{
	if (sub && name)
		snprintf(buf, n, "%s/%s/%s", sd->path, sub, name);
	else
		snprintf(buf, n, "%s/%s", sd->path, sub ? sub : name);
}

static int open_subdir(struct storedir *sd, const char *sub, const char *path)
{
	int fd = openat(sd->fd, sub,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT) {
		/* The new name must be durable before files go in it. */
		if (mkdirat(sd->fd, sub, 0700) == 0 ? fsync(sd->fd) < 0
						    : errno != EEXIST)
			return error("cannot create '%s': " ERRFMT, path,
				     ERRARG(errno));
		fd = openat(sd->fd, sub,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return error("cannot open '%s': %s", path,
			     errno == ELOOP ? "it is a symbolic link"
					    : strerror(errno));
	if (check_dir(fd, path, &st) != ST_OK) {
		close(fd);
		return -1;
	}
	if (st.st_dev != sd->dev) {
		close(fd);
		return error("'%s' is on another filesystem; refusing it",
			     path);
	}
	return fd;
}

/* The descriptor of SUB (created and checked once), or -1 after a message. */
int storedir_subdir_fd(struct storedir *sd, const char *sub)
{
	char path[PATH_MAX];
	int fd;

	if (!sub)
		return sd->fd;
	for (size_t i = 0; i < sd->nsub; i++)
		if (!strcmp(sd->sub[i].name, sub))
			return sd->sub[i].fd;
	if (!storedir_name_ok(sub) || sd->nsub == SUBS_MAX)
		return error("bad store subdirectory name");
	storedir_mkpath(path, sizeof(path), sd, sub, NULL);
	if ((fd = open_subdir(sd, sub, path)) < 0)
		return -1;
	sd->sub[sd->nsub].name = xstrdup(sub);
	sd->sub[sd->nsub++].fd = fd;
	return fd;
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

/* sshkey_perm_ok(): regular, ours, no group/other bits, sane size. */
enum status storedir_check_file(int fd, const char *path, size_t min,
				size_t max, size_t *size)
{
	struct stat st;
	enum status ret;

	if (fstat(fd, &st) < 0)
		return fail(ST_STORE, "cannot check '%s': " ERRFMT, path,
			    ERRARG(errno));
	if (!S_ISREG(st.st_mode))
		return fail(ST_STORE, "'%s' is %s; refusing it", path,
			    file_kind(st.st_mode));
	if ((ret = check_private(&st, path)) != ST_OK)
		return ret;
	if (st.st_size < 0 || (uintmax_t)st.st_size < min ||
	    (uintmax_t)st.st_size > max)
		return fail(ST_STORE,
			    "'%s' has an impossible size (%jd bytes); "
			    "refusing it",
			    path, (intmax_t)st.st_size);
	*size = (size_t)st.st_size;
	return ST_OK;
}

enum status storedir_open_error(int e, const char *path)
{
	if (e == ENOENT)
		return ST_NOTFOUND;
	if (e == ELOOP)
		return fail(ST_STORE, "'%s' is a symbolic link; refusing it",
			    path);
	return fail(ST_STORE, "cannot open '%s': " ERRFMT, path, ERRARG(e));
}
