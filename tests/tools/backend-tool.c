/*
 * backend-tool: drive one backend directly, for the conformance battery
 * (tests/t/t0400-backends.sh) and the keyring tests.
 *
 *   backend-tool BACKEND get|store|erase PROFILE
 *   backend-tool BACKEND list|available|which
 *   backend-tool BACKEND cycle PROFILE
 *   backend-tool BACKEND lock|hold PROFILE
 *
 * BACKEND is a name for backend_find(), or "-" for life_backend() (what
 * ASTRO_CRED_BACKEND chooses).  store reads the record from stdin, get
 * writes it to stdout, list prints the names sorted, one a line;
 * available exits 0 when the backend says it can be used, else 1; which
 * prints the backend's name; cycle does, in one process, what the token
 * lifecycle does (store stdin, get it back, compare, list, erase, get
 * again: not found) and exits 0 when all of that held.  lock takes the
 * profile's renewal lock and lets go; hold takes it, prints "locked" and
 * keeps it for HOLD_SECONDS (or until killed).  The exit status is the
 * backend's status.
 *
 * Linked like the executable (core objects only, --export-dynamic; see
 * the Makefile), so the keyring comes from keyring.so as it does there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/backend.h"
#include "helper/life/lifecycle.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

static int usage(void)
{
	fputs("usage: backend-tool BACKEND|- get|store|erase|cycle|lock|hold "
	      "PROFILE\n"
	      "       backend-tool BACKEND|- list|available|which\n",
	      stderr);
	return ST_USAGE;
}

/* One byte more than a record may be, so that backends see oversize. */
static enum status read_record(struct secbuf *rec)
{
	unsigned char buf[4096];
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0)
			return fail(ST_USAGE, "cannot read stdin");
		if (secbuf_append(rec, buf, (size_t)n) < 0) {
			secmem_wipe(buf, sizeof(buf));
			return fail(ST_USAGE, "record too large");
		}
	}
	secmem_wipe(buf, sizeof(buf));
	return ST_OK;
}

static enum status do_get(const struct backend *b, const char *profile)
{
	struct secbuf rec = SECBUF_INIT(RECORD_MAX);
	enum status st = b->get(profile, &rec);

	if (!st && rec.len && fwrite(rec.data, 1, rec.len, stdout) != rec.len)
		st = fail(ST_TRANSIENT, "cannot write stdout");
	secbuf_clear(&rec);
	return st;
}

static enum status do_store(const struct backend *b, const char *profile)
{
	struct secbuf rec = SECBUF_INIT(RECORD_MAX + 1);
	enum status st = read_record(&rec);

	if (!st)
		st = b->put(profile, rec.data, rec.len);
	secbuf_clear(&rec);
	return st;
}

static enum status do_list(const struct backend *b)
{
	struct strlist names = STRLIST_INIT;
	enum status st = b->list(&names);

	if (!st) {
		strlist_sort(&names);
		for (size_t i = 0; i < names.n; i++)
			printf("%s\n", names.v[i]);
	}
	strlist_clear(&names);
	return st;
}

/* Several operations in one process, as a renewal does. */
static enum status do_cycle(const struct backend *b, const char *profile)
{
	struct secbuf in = SECBUF_INIT(RECORD_MAX),
		      got = SECBUF_INIT(RECORD_MAX);
	struct strlist names = STRLIST_INIT;
	enum status st;

	if ((st = read_record(&in)) || (st = b->put(profile, in.data, in.len)))
		goto out;
	if ((st = b->get(profile, &got)))
		goto out;
	if (got.len != in.len || memcmp(got.data, in.data, in.len)) {
		st = fail(ST_STORE, "cycle: get returned other bytes");
		goto out;
	}
	if ((st = b->list(&names)))
		goto out;
	if (strlist_find(&names, profile) < 0) {
		st = fail(ST_STORE, "cycle: list lacks the profile");
		goto out;
	}
	if ((st = b->erase(profile)))
		goto out;
	st = b->get(profile, &got);
	if (st != ST_NOTFOUND)
		st = fail(ST_STORE, "cycle: get after erase gave %d", st);
	else
		st = ST_OK;
out:
	strlist_clear(&names);
	secbuf_clear(&in);
	secbuf_clear(&got);
	return st;
}

#define HOLD_SECONDS 30

/* lock (hold 0): take PROFILE's lock and let go; hold: keep it a while. */
static enum status do_lock(const struct backend *b, const char *profile,
			   int hold)
{
	struct backend_lock *lk = NULL;
	enum status st = b->lock(profile, &lk);

	if (st != ST_OK)
		return st;
	if (hold) {
		printf("locked\n");
		fflush(stdout);
		sleep(HOLD_SECONDS);
	}
	b->unlock(lk);
	return ST_OK;
}

static enum status run(const struct backend *b, const char *verb,
		       const char *profile)
{
	if (!strcmp(verb, "list") && !profile)
		return do_list(b);
	if (!strcmp(verb, "available") && !profile)
		return b->available() ? ST_OK : ST_NOTFOUND;
	if (!strcmp(verb, "which") && !profile)
		return printf("%s\n", b->name) < 0 ? ST_TRANSIENT : ST_OK;
	if (!profile)
		return usage();
	if (!strcmp(verb, "get"))
		return do_get(b, profile);
	if (!strcmp(verb, "store"))
		return do_store(b, profile);
	if (!strcmp(verb, "erase"))
		return b->erase(profile);
	if (!strcmp(verb, "cycle"))
		return do_cycle(b, profile);
	if (!strcmp(verb, "lock") || !strcmp(verb, "hold"))
		return do_lock(b, profile, !strcmp(verb, "hold"));
	return usage();
}

int main(int argc, char **argv)
{
	const struct backend *b = NULL;
	const char *v = getenv("ASTRO_CRED_VERBOSE");
	enum status st;

	if (argc < 3 || argc > 4)
		return usage();
	if (sodium_init() < 0)
		return fail(ST_STORE, "libsodium failed to initialize");
	secmem_json_hooks();
	if (v && !strcmp(v, "1"))
		log_set_verbose(1);
	if (!strcmp(argv[1], "-")) {
		if ((st = life_backend(&b)))
			return st;
	} else if (!(b = backend_find(argv[1]))) {
		return fail(ST_USAGE, "unknown backend '%s'", argv[1]);
	}
	st = run(b, argv[2], argc == 4 ? argv[3] : NULL);
	if (fflush(stdout) && !st)
		st = ST_TRANSIENT;
	return st;
}
