/*
 * The store directory: where it is, what it creates (modes under umask 0),
 * which files it refuses (symlink, FIFO, directory, too open, other owner,
 * impossible size), atomic write and create, list, stale temp cleanup and
 * per-profile locks.  Messages go to a file and are checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/profile_lock.h"
#include "backends/storedir.h"
#include "helper/base/secmem.h"
#include "tests/unit/tap.h"

static char base[] = "/tmp/astro-cred-storedir.XXXXXX";
static char errfile[256];

/* base/rel, in one of four rotating buffers. */
static char *P(const char *rel)
{
	static char buf[4][1024];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, 1024, "%s/%s", base, rel);
	return p;
}

static int mode_of(const char *p)
{
	struct stat st;

	return stat(p, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

/* Did the last message (stderr since the previous call) contain s? */
static int said(const char *s)
{
	char buf[8192] = "";
	FILE *f;
	size_t n;
	int hit;

	fflush(stderr);
	f = fopen(errfile, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	hit = strstr(buf, s) != NULL;
	if (!hit)
		printf("# stderr was: %s\n", buf);
	if (!freopen(errfile, "w", stderr))
		abort();
	return hit;
}

static enum status reopen(struct storedir **sd)
{
	storedir_close();
	return storedir_open(sd);
}

static void test_location(void)
{
	struct storedir *sd;

	unsetenv("ASTRO_CRED_DIR");
	setenv("XDG_DATA_HOME", P("xdg"), 1);
	setenv("HOME", P("home"), 1);
	ok(reopen(&sd) == ST_OK &&
	       !strcmp(storedir_path(sd), P("xdg/astro-cred")),
	   "XDG_DATA_HOME/astro-cred when ASTRO_CRED_DIR is unset");
	ok(mode_of(P("xdg")) == 0700, "missing parents are created 0700");
	setenv("XDG_DATA_HOME", "relative/path", 1);
	ok(reopen(&sd) == ST_OK &&
	       !strcmp(storedir_path(sd), P("home/.local/share/astro-cred")),
	   "a relative XDG_DATA_HOME is ignored: HOME/.local/share");
	unsetenv("HOME");
	unsetenv("XDG_DATA_HOME");
	ok(reopen(&sd) == ST_STORE && said("no store directory"),
	   "no HOME, no XDG_DATA_HOME, no ASTRO_CRED_DIR: exit 3");
	setenv("ASTRO_CRED_DIR", P("store"), 1);
	ok(reopen(&sd) == ST_OK, "ASTRO_CRED_DIR wins");
}

static void test_modes(void)
{
	struct storedir *sd;
	char buf[64];
	size_t n = 0;

	ok(reopen(&sd) == ST_OK, "open store");
	ok(mode_of(P("store")) == 0700, "store directory is 0700");
	ok(storedir_write(sd, STOREDIR_PROFILES, "a.acrd", "hello", 5) == ST_OK,
	   "write profiles/a.acrd");
	is_int(mode_of(P("store/profiles/a.acrd")), 0600,
	       "file is 0600 under umask 0");
	is_int(mode_of(P("store/profiles")), 0700,
	       "subdirectory is 0700 under umask 0");
	is_int(mode_of(P("store/tmp")), 0700, "tmp/ is 0700");
	ok(storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 1, sizeof(buf),
			 &n) == ST_OK &&
	       n == 5 && !memcmp(buf, "hello", 5),
	   "read it back");
	ok(storedir_write(sd, STOREDIR_PROFILES, "a.acrd", "bye", 3) == ST_OK &&
	       storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 1,
			     sizeof(buf), &n) == ST_OK &&
	       n == 3,
	   "replace it");
	ok(storedir_read(sd, STOREDIR_PROFILES, "none.acrd", buf, 1,
			 sizeof(buf), &n) == ST_NOTFOUND,
	   "missing file: ST_NOTFOUND");
	ok(storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 4, sizeof(buf),
			 &n) == ST_STORE &&
	       said("impossible size"),
	   "size under the minimum refused");
	ok(storedir_read(sd, STOREDIR_PROFILES, "../x", buf, 1, sizeof(buf),
			 &n) == ST_STORE,
	   "a name with a slash is refused");
}

static void test_refusals(void)
{
	struct storedir *sd;
	char buf[64];
	size_t n = 0;

	ok(reopen(&sd) == ST_OK, "open store");
	symlink(P("store/profiles/a.acrd"), P("store/profiles/link.acrd"));
	ok(storedir_read(sd, STOREDIR_PROFILES, "link.acrd", buf, 1,
			 sizeof(buf), &n) == ST_STORE &&
	       said("symbolic link"),
	   "symlink refused");
	mkfifo(P("store/profiles/fifo.acrd"), 0600);
	ok(storedir_read(sd, STOREDIR_PROFILES, "fifo.acrd", buf, 1,
			 sizeof(buf), &n) == ST_STORE &&
	       said("a FIFO"),
	   "FIFO refused without blocking");
	mkdir(P("store/profiles/dir.acrd"), 0700);
	ok(storedir_read(sd, STOREDIR_PROFILES, "dir.acrd", buf, 1, sizeof(buf),
			 &n) == ST_STORE &&
	       said("a directory"),
	   "directory refused");
	chmod(P("store/profiles/a.acrd"), 0644);
	ok(storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 1, sizeof(buf),
			 &n) == ST_STORE &&
	       said("permissions 0644"),
	   "0644 refused, ssh-style");
	chmod(P("store/profiles/a.acrd"), 0640);
	ok(storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 1, sizeof(buf),
			 &n) == ST_STORE,
	   "0640 refused");
	ok(mode_of(P("store/profiles/a.acrd")) == 0640,
	   "never chmodded on read");
	chmod(P("store/profiles/a.acrd"), 0600);
	if (geteuid() == 0) {
		chown(P("store/profiles/a.acrd"), 65534, 65534);
		ok(storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 1,
				 sizeof(buf), &n) == ST_STORE &&
		       said("owned by uid 65534"),
		   "a file of another user refused");
		chown(P("store/profiles/a.acrd"), 0, 0);
	} else {
		ok(1, "# SKIP other-owner needs root");
	}
	chmod(P("store"), 0755);
	ok(reopen(&sd) == ST_STORE && said("too open"),
	   "a store directory open to others is refused");
	chmod(P("store"), 0700);
	chmod(P("store/profiles"), 0750);
	ok(reopen(&sd) == ST_OK &&
	       storedir_read(sd, STOREDIR_PROFILES, "a.acrd", buf, 1,
			     sizeof(buf), &n) == ST_STORE &&
	       said("too open"),
	   "a subdirectory open to others is refused");
	chmod(P("store/profiles"), 0700);
}

static void test_parents(void)
{
	struct storedir *sd;

	mkdir(P("open"), 0700);
	chmod(P("open"), 0777);
	setenv("ASTRO_CRED_DIR", P("open/store"), 1);
	ok(reopen(&sd) == ST_STORE && said("world-writable"),
	   "a world-writable parent without sticky bit is refused");
	chmod(P("open"), 0775);
	ok(reopen(&sd) == ST_STORE && said("group"),
	   "a group-writable parent is refused");
	chmod(P("open"), 01777);
	ok(reopen(&sd) == ST_OK, "a sticky world-writable parent (/tmp) is ok");
	if (geteuid() == 0) {
		chown(P("open"), 65534, 65534);
		chmod(P("open"), 0755);
		ok(reopen(&sd) == ST_STORE && said("owned by uid 65534"),
		   "a parent owned by another user is refused");
	} else {
		ok(1, "# SKIP other-owner needs root");
	}
	setenv("ASTRO_CRED_DIR", P("store"), 1);
}

static void test_create_list(void)
{
	struct strlist l = STRLIST_INIT;
	struct storedir *sd;
	char buf[64];
	size_t n = 0;
	int existed = -1;

	ok(reopen(&sd) == ST_OK, "open store");
	ok(storedir_create(sd, NULL, "check", "one", 3, &existed) == ST_OK &&
	       existed == 0,
	   "create a new file");
	ok(storedir_create(sd, NULL, "check", "two", 3, &existed) == ST_OK &&
	       existed == 1,
	   "create never replaces");
	ok(storedir_read(sd, NULL, "check", buf, 1, sizeof(buf), &n) == ST_OK &&
	       n == 3 && !memcmp(buf, "one", 3),
	   "the first creator's bytes are kept");
	ok(storedir_write(sd, STOREDIR_PROFILES, "b.acrd", "x", 1) == ST_OK,
	   "write b");
	ok(storedir_write(sd, STOREDIR_PROFILES, "c.other", "x", 1) == ST_OK,
	   "write a file with another suffix");
	ok(storedir_list(sd, STOREDIR_PROFILES, ".acrd", &l) == ST_OK, "list");
	strlist_sort(&l);
	ok(l.n == 2 && !strcmp(l.v[0], "a") && !strcmp(l.v[1], "b"),
	   "only regular *.acrd files, suffix removed (%zu)", l.n);
	strlist_clear(&l);
	ok(storedir_remove(sd, STOREDIR_PROFILES, "b.acrd") == ST_OK, "remove");
	ok(storedir_remove(sd, STOREDIR_PROFILES, "b.acrd") == ST_NOTFOUND,
	   "remove again: ST_NOTFOUND");
}

static void old_file(const char *p, int age)
{
	struct timespec t[2];
	int fd = open(p, O_WRONLY | O_CREAT, 0600);

	close(fd);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age;
	t[1] = t[0];
	utimensat(AT_FDCWD, p, t, 0);
}

static void test_temps(void)
{
	struct storedir *sd;

	ok(reopen(&sd) == ST_OK, "open store");
	old_file(P("store/tmp/.acrd-tmp.0123456789abcdef"), 120);
	old_file(P("store/tmp/.acrd-tmp.fedcba9876543210"), 5);
	old_file(P("store/tmp/.acrd-tmp.XYZ"), 120);
	old_file(P("store/tmp/notours"), 120);
	is_int(storedir_clean_temps(sd), 1, "one stale temp file removed");
	ok(access(P("store/tmp/.acrd-tmp.0123456789abcdef"), F_OK) < 0,
	   "the old one is gone");
	ok(access(P("store/tmp/.acrd-tmp.fedcba9876543210"), F_OK) == 0,
	   "a young one (a writer in flight) is kept");
	ok(access(P("store/tmp/.acrd-tmp.XYZ"), F_OK) == 0 &&
	       access(P("store/tmp/notours"), F_OK) == 0,
	   "names outside our pattern are kept");
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * The wait's deadline borrows SIGALRM: the caller's handler and a blocked
 * SIGALRM in its mask are what they were afterwards.  (p1 is held.)
 */
static void test_lock_signals(void)
{
	struct sigaction sa, got;
	struct backend_lock *b = NULL;
	sigset_t set, mask;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ok(profile_lock("p1", &b) == ST_TRANSIENT && !b,
	   "times out with SIGALRM blocked by the caller");
	sigaction(SIGALRM, NULL, &got);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	ok(got.sa_handler == on_alarm && (got.sa_flags & SA_RESTART),
	   "the caller's SIGALRM handler is back");
	ok(sigismember(&mask, SIGALRM), "and SIGALRM is blocked again");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGALRM, SIG_DFL);
}

static void test_locks(void)
{
	struct backend_lock *a = NULL, *b = NULL, *c = NULL;

	setenv("ASTRO_CRED_LOCK_TIMEOUT", "0.3", 1);
	ok(profile_lock("p1", &a) == ST_OK && a, "lock p1");
	is_int(mode_of(P("store/locks/p1.lock")), 0600, "lock file is 0600");
	ok(profile_lock("p2", &c) == ST_OK, "p2 is not blocked by p1");
	ok(profile_lock("p1", &b) == ST_TRANSIENT && !b &&
	       said("gave up after 0.3 s"),
	   "a second lock on p1 times out with exit 5");
	test_lock_signals();
	profile_unlock(a);
	ok(profile_lock("p1", &b) == ST_OK, "free again after unlock");
	profile_unlock(b);
	profile_unlock(c);
	profile_unlock(NULL);
	ok(profile_lock("../etc", &a) == ST_USAGE && !a,
	   "a bad profile name is refused");
	ok(profile_lock("", &a) == ST_USAGE, "an empty profile name too");
	unsetenv("ASTRO_CRED_LOCK_TIMEOUT");
}

static void test_names(void)
{
	ok(storedir_name_ok("default") && storedir_name_ok(".hidden") &&
	       storedir_name_ok("a-b_c.d"),
	   "plain names accepted");
	ok(!storedir_name_ok("") && !storedir_name_ok(".") &&
	       !storedir_name_ok("..") && !storedir_name_ok("a/b") &&
	       !storedir_name_ok("a b") && !storedir_name_ok("a\nb"),
	   "empty, dot, dotdot, slash, space, newline refused");
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(void)
{
	int rc;

	if (sodium_init() < 0 || !mkdtemp(base))
		return 1;
	umask(0);
	snprintf(errfile, sizeof(errfile), "%s/stderr", base);
	if (!freopen(errfile, "w", stderr))
		return 1;
	test_names();
	test_location();
	test_modes();
	test_refusals();
	test_parents();
	test_create_list();
	test_temps();
	test_locks();
	storedir_close();
	rc = done_testing();
	chmod(P("open"), 0700);
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
