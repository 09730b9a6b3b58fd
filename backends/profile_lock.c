/*
 * profile_lock.c: the local renewal lock of the file and keyring stores
 * (see profile_lock.h): an flock()ed file per profile in the store
 * directory, and a deadline on the wait.
 */
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
#include <time.h>
#include <unistd.h>

#include "backends/profile_lock.h"
#include "backends/storedir.h"
#include "backends/storedir_int.h"
#include "helper/base/envnum.h"
#include "helper/base/log.h"
#include "helper/base/names.h"
#include "helper/base/secmem.h"

#define LOCK_SUFFIX ".lock"

/* What a struct backend_lock stands for here: the flock()ed file. */
struct profile_lock {
	int fd;
};

static double lock_timeout(void)
{
	return env_number("ASTRO_CRED_LOCK_TIMEOUT", "seconds", 0, 0, 86400,
			  PROFILE_LOCK_TIMEOUT);
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

enum status profile_lock(const char *profile, struct backend_lock **out)
{
	char name[PROFILE_NAME_MAX + sizeof(LOCK_SUFFIX)], path[PATH_MAX];
	struct profile_lock *lk;
	struct storedir *sd;
	size_t size;
	int dfd, fd;
	enum status st;

	*out = NULL;
	if (!profile_name_ok(profile))
		return fail(ST_USAGE, "invalid profile name");
	if ((st = storedir_open(&sd)) != ST_OK)
		return st;
	if ((dfd = storedir_subdir_fd(sd, STOREDIR_LOCKS)) < 0)
		return ST_STORE;
	snprintf(name, sizeof(name), "%s%s", profile, LOCK_SUFFIX);
	storedir_mkpath(path, sizeof(path), sd, STOREDIR_LOCKS, name);
	fd = openat(dfd, name,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return storedir_open_error(errno, path) == ST_NOTFOUND
			   ? fail(ST_STORE, "cannot create '%s'", path)
			   : ST_STORE;
	if ((st = storedir_check_file(fd, path, 0, SIZE_MAX, &size)) == ST_OK)
		st = wait_lock(fd, profile, path);
	if (st != ST_OK) {
		close(fd);
		return st;
	}
	lk = xmalloc(sizeof(*lk));
	lk->fd = fd;
	*out = (struct backend_lock *)lk;
	return ST_OK;
}

void profile_unlock(struct backend_lock *handle)
{
	struct profile_lock *lk = (struct profile_lock *)handle;

	if (!lk)
		return;
	close(lk->fd); /* closing the last descriptor drops the flock */
	free(lk);
}
