/*
 * storedir.c: the store directory (see storedir.h).  The checks follow
 * OpenSSH's safe_path() and sshkey_perm_ok(); the write recipe is
 * security.md section 6.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/storedir.h"
#include "helper/base/envnum.h"
#include "helper/base/log.h"
#include "helper/base/names.h"
#include "helper/base/secmem.h"

#define SUBS_MAX	8
#define NAME_MAX_LEN	200
#define TEMP_PREFIX	".acrd-tmp."
#define TEMP_PREFIX_LEN (sizeof(TEMP_PREFIX) - 1)
#define TEMP_HEX	16
#define TEMP_NAME_LEN	(TEMP_PREFIX_LEN + TEMP_HEX)
#define LOCK_SUFFIX	".lock"

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

struct profile_lock {
	int fd;
};

static struct storedir *shared;

/* geteuid() once: the hit path makes as few system calls as it can. */
static uid_t me(void)
{
	static uid_t uid = (uid_t)-1;

	if (uid == (uid_t)-1)
		uid = geteuid();
	return uid;
}

/* "No space left on device (ENOSPC)": the message names the errno. */
#define ERRFMT	  "%s (%s)"
#define ERRARG(e) strerror(e), errname(e)

static const char *errname(int e)
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
		if (st.st_uid != 0 && st.st_uid != me())
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

/* A directory of ours that nobody else can read or enter; *stp gets it. */
static enum status check_dir(int fd, const char *path, struct stat *stp)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(ST_STORE, "cannot check '%s': " ERRFMT, path,
			    ERRARG(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(ST_STORE, "'%s' is not a directory", path);
	if (st.st_uid != me())
		return fail(ST_STORE,
			    "'%s' is owned by uid %u, not by you (uid %u); "
			    "refusing it",
			    path, (unsigned)st.st_uid, (unsigned)me());
	if (st.st_mode & 077)
		return fail(ST_STORE,
			    "permissions %04o for '%s' are too open; the store "
			    "must be private to you (chmod 700 '%s')",
			    (unsigned)(st.st_mode & 07777), path, path);
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

static void mkpath(char *buf, size_t n, const struct storedir *sd,
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
static int subdir_fd(struct storedir *sd, const char *sub)
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
	mkpath(path, sizeof(path), sd, sub, NULL);
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
static enum status check_file(int fd, const char *path, size_t min, size_t max,
			      size_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(ST_STORE, "cannot check '%s': " ERRFMT, path,
			    ERRARG(errno));
	if (!S_ISREG(st.st_mode))
		return fail(ST_STORE, "'%s' is %s; refusing it", path,
			    file_kind(st.st_mode));
	if (st.st_uid != me())
		return fail(ST_STORE,
			    "'%s' is owned by uid %u, not by you (uid %u); "
			    "refusing it (was it written with sudo?)",
			    path, (unsigned)st.st_uid, (unsigned)me());
	if (st.st_mode & 077)
		return fail(ST_STORE,
			    "permissions %04o for '%s' are too open; it must "
			    "not be accessible by others; refusing it",
			    (unsigned)(st.st_mode & 07777), path);
	if (st.st_size < 0 || (uintmax_t)st.st_size < min ||
	    (uintmax_t)st.st_size > max)
		return fail(ST_STORE,
			    "'%s' has an impossible size (%jd bytes); "
			    "refusing it",
			    path, (intmax_t)st.st_size);
	*size = (size_t)st.st_size;
	return ST_OK;
}

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

static enum status open_error(int e, const char *path)
{
	if (e == ENOENT)
		return ST_NOTFOUND;
	if (e == ELOOP)
		return fail(ST_STORE, "'%s' is a symbolic link; refusing it",
			    path);
	return fail(ST_STORE, "cannot open '%s': " ERRFMT, path, ERRARG(e));
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
	if ((dfd = subdir_fd(sd, sub)) < 0)
		return ST_STORE;
	mkpath(path, sizeof(path), sd, sub, name);
	fd = openat(dfd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return open_error(errno, path);
	st = check_file(fd, path, min, max, &size);
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
	if ((dfd = subdir_fd(sd, sub)) < 0 ||
	    (tfd = subdir_fd(sd, STOREDIR_TMP)) < 0)
		return ST_STORE;
	mkpath(path, sizeof(path), sd, sub, name);
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
	if ((dfd = subdir_fd(sd, sub)) < 0)
		return ST_STORE;
	mkpath(path, sizeof(path), sd, sub, name);
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

/* A fresh directory stream on SUB (its own offset), or NULL. */
static DIR *open_stream(struct storedir *sd, const char *sub)
{
	int dfd = subdir_fd(sd, sub), fd;
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
			    sd->path, sub ? sub : "");
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
		if (!S_ISREG(st.st_mode) || st.st_uid != me() ||
		    st.st_mtime > now - STOREDIR_STALE_SECONDS)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			removed++;
			verbose("removed a stale temp file '%s/%s/%s'",
				sd->path, STOREDIR_TMP, de->d_name);
		}
	}
	closedir(d);
	return removed;
}

static double lock_timeout(void)
{
	return env_number("ASTRO_CRED_LOCK_TIMEOUT", "seconds", 0, 0, 86400,
			  STOREDIR_LOCK_TIMEOUT);
}

/*
 * Waiting for a lock: block in flock() and wake the moment the holder lets
 * go (or dies), with the deadline enforced by a POSIX timer that sends
 * SIGALRM to this thread.  Its handler is installed without SA_RESTART, so
 * flock() fails with EINTR at the deadline.  The timer fires again every
 * LOCK_REFIRE_NS after the deadline: a signal that lands between the check
 * of lock_expired and flock() going to sleep would otherwise be lost.  The
 * caller's SIGALRM handler and signal mask are restored afterwards (the
 * timer is our own; setitimer() and alarm() are left alone).  A thread
 * directed signal, because keyring.so's GLib threads may be running.
 */
#define LOCK_REFIRE_NS 10000000L

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static volatile sig_atomic_t lock_expired;

static void lock_on_alarm(int sig)
{
	(void)sig;
	lock_expired = 1;
}

struct lock_timer {
	timer_t id;
	struct sigaction old_sa;
	sigset_t old_mask;
};

/* No signal is sent once the timer is deleted; then restore the rest. */
static void lock_timer_stop(struct lock_timer *t)
{
	timer_delete(t->id);
	pthread_sigmask(SIG_SETMASK, &t->old_mask, NULL);
	sigaction(SIGALRM, &t->old_sa, NULL);
}

static int lock_timer_start(struct lock_timer *t, double seconds)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerspec its;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	memset(&ev, 0, sizeof(ev));
	memset(&its, 0, sizeof(its));
	lock_expired = 0;
	sa.sa_handler = lock_on_alarm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &t->old_sa) < 0)
		return -1;
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGALRM;
	ev.sigev_notify_thread_id = gettid();
	its.it_value.tv_sec = (time_t)seconds;
	seconds -= (double)its.it_value.tv_sec;
	its.it_value.tv_nsec = (long)(seconds * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1; /* zero would disarm */
	its.it_interval.tv_nsec = LOCK_REFIRE_NS;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t->id) < 0) {
		sigaction(SIGALRM, &t->old_sa, NULL);
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, &t->old_mask);
	if (timer_settime(t->id, 0, &its, NULL) < 0) {
		int e = errno;

		lock_timer_stop(t);
		errno = e;
		return -1;
	}
	return 0;
}

static enum status lock_gave_up(double limit, const char *profile,
				const char *path)
{
	return fail(ST_TRANSIENT,
		    "gave up after %g s waiting for profile '%s': another "
		    "astro-cred process holds '%s'",
		    limit, profile, path);
}

static enum status wait_lock(int fd, const char *profile, const char *path)
{
	struct lock_timer t;
	double limit;
	enum status st = ST_OK;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return ST_OK;
	if (errno != EWOULDBLOCK)
		return fail(ST_STORE, "cannot lock '%s': " ERRFMT, path,
			    ERRARG(errno));
	if ((limit = lock_timeout()) <= 0)
		return lock_gave_up(limit, profile, path);
	verbose("waiting for the lock on profile '%s'", profile);
	if (lock_timer_start(&t, limit) < 0)
		return fail(ST_STORE, "cannot wait for '%s': timer: " ERRFMT,
			    path, ERRARG(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			st = fail(ST_STORE, "cannot lock '%s': " ERRFMT, path,
				  ERRARG(errno));
			break;
		}
		if (lock_expired) {
			st = lock_gave_up(limit, profile, path);
			break;
		}
	}
	lock_timer_stop(&t);
	return st;
}

enum status profile_lock(const char *profile, struct profile_lock **out)
{
	char name[PROFILE_NAME_MAX + sizeof(LOCK_SUFFIX)], path[PATH_MAX];
	struct storedir *sd;
	size_t size;
	int dfd, fd;
	enum status st;

	*out = NULL;
	if (!profile_name_ok(profile))
		return fail(ST_USAGE, "invalid profile name");
	if ((st = storedir_open(&sd)) != ST_OK)
		return st;
	if ((dfd = subdir_fd(sd, STOREDIR_LOCKS)) < 0)
		return ST_STORE;
	snprintf(name, sizeof(name), "%s%s", profile, LOCK_SUFFIX);
	mkpath(path, sizeof(path), sd, STOREDIR_LOCKS, name);
	fd = openat(dfd, name,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return open_error(errno, path) == ST_NOTFOUND
			   ? fail(ST_STORE, "cannot create '%s'", path)
			   : ST_STORE;
	if ((st = check_file(fd, path, 0, SIZE_MAX, &size)) == ST_OK)
		st = wait_lock(fd, profile, path);
	if (st != ST_OK) {
		close(fd);
		return st;
	}
	*out = xmalloc(sizeof(**out));
	(*out)->fd = fd;
	return ST_OK;
}

void profile_unlock(struct profile_lock *lk)
{
	if (!lk)
		return;
	close(lk->fd); /* closing the last descriptor drops the flock */
	free(lk);
}
