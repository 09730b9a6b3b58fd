/*
 * store-tool: drive a backend from shell tests before the real commands
 * exist.
 *
 *   store-tool BACKEND get PROFILE      record to stdout
 *   store-tool BACKEND store PROFILE    record from stdin (under the lock)
 *   store-tool BACKEND erase PROFILE
 *   store-tool BACKEND list             one profile a line, sorted
 *   store-tool file fill N PREFIX       seal N small records PREFIX0.. fast:
 *                                       the real key and format, but plain
 *                                       writes without fsync (test set-up)
 *   store-tool BACKEND lock PROFILE SECONDS   hold the lock, then exit
 *
 * Exit status: the backend's enum status.  Hardened like main().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/sealed.h"
#include "backends/sealed_format.h"
#include "backends/sealed_key.h"
#include "backends/storedir.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

static const struct backend *find(const char *name)
{
	/* The lead switches this to backend_find() after the merge. */
	if (!strcmp(name, "file"))
		return &sealed_backend;
	return NULL;
}

static int do_get(const struct backend *b, const char *profile)
{
	struct secbuf rec = SECBUF_INIT(RECORD_MAX);
	enum status st = b->get(profile, &rec);

	if (st == ST_OK &&
	    (fwrite(rec.data, 1, rec.len, stdout) != rec.len || fflush(stdout)))
		st = ST_TRANSIENT;
	secbuf_clear(&rec);
	return st;
}

static int do_store(const struct backend *b, const char *profile)
{
	struct secbuf rec = SECBUF_INIT(RECORD_MAX + 1);
	struct backend_lock *lk = NULL;
	unsigned char chunk[4096];
	enum status st;
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (secbuf_append(&rec, chunk, n) < 0)
			break;
	sodium_memzero(chunk, sizeof(chunk));
	if (rec.len > RECORD_MAX) {
		secbuf_clear(&rec);
		return fail(ST_USAGE, "record too large");
	}
	st = b->lock(profile, &lk);
	if (st == ST_OK)
		st = b->put(profile, rec.data ? rec.data : chunk, rec.len);
	b->unlock(lk);
	secbuf_clear(&rec);
	return st;
}

static int do_list(const struct backend *b)
{
	struct strlist l = STRLIST_INIT;
	enum status st = b->list(&l);

	strlist_sort(&l);
	for (size_t i = 0; st == ST_OK && i < l.n; i++)
		printf("%s\n", l.v[i]);
	strlist_clear(&l);
	return st;
}

static int fill_one(const char *dir, const char *profile,
		    struct sealed_header *h, const unsigned char *key)
{
	unsigned char out[SEALED_FILE_MAX];
	char path[4096], rec[128];
	size_t n = 0;
	int fd;

	snprintf(rec, sizeof(rec), "record of %s", profile);
	randombytes_buf(h->nonce, sizeof(h->nonce));
	if (sealed_seal(h, key, profile, (unsigned char *)rec, strlen(rec), out,
			sizeof(out), &n) != SEALED_OK)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s.acrd", dir, STOREDIR_PROFILES,
		 profile);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, out, n) != (ssize_t)n || close(fd) < 0)
		return error("cannot write '%s'", path);
	return 0;
}

static int do_fill(const char *count, const char *prefix)
{
	long n = strtol(count, NULL, 10);
	struct sealed_header h;
	const unsigned char *key;
	struct storedir *sd;
	char profile[80];
	enum status st;

	if ((st = storedir_open(&sd)) != ST_OK ||
	    (st = sealed_key_for_write(sd, &h, &key)) != ST_OK)
		return st;
	if (storedir_remove(sd, STOREDIR_PROFILES, "none") == ST_STORE)
		return ST_STORE; /* it creates profiles/ */
	for (long i = 0; i < n; i++) {
		snprintf(profile, sizeof(profile), "%s%ld", prefix, i);
		if (fill_one(storedir_path(sd), profile, &h, key) < 0)
			return ST_STORE;
	}
	return ST_OK;
}

static int do_lock(const struct backend *b, const char *profile,
		   const char *secs)
{
	struct backend_lock *lk = NULL;
	enum status st = b->lock(profile, &lk);

	if (st != ST_OK)
		return st;
	printf("locked\n");
	fflush(stdout);
	sleep((unsigned)strtoul(secs, NULL, 10));
	b->unlock(lk);
	return ST_OK;
}

static int usage(void)
{
	fputs("usage: store-tool BACKEND get|store|erase|list|fill|lock "
	      "[PROFILE]\n",
	      stderr);
	return ST_USAGE;
}

int main(int argc, char **argv)
{
	struct rlimit rl = {0, 0};
	const struct backend *b;

	umask(077);
	setrlimit(RLIMIT_CORE, &rl);
	if (sodium_init() < 0)
		return ST_STORE;
	if (getenv("ASTRO_CRED_VERBOSE"))
		log_set_verbose(1);
	if (argc < 3 || !(b = find(argv[1])))
		return usage();
	if (!strcmp(argv[2], "list"))
		return do_list(b);
	if (argc < 4)
		return usage();
	if (!strcmp(argv[2], "get"))
		return do_get(b, argv[3]);
	if (!strcmp(argv[2], "store"))
		return do_store(b, argv[3]);
	if (!strcmp(argv[2], "erase"))
		return b->erase(argv[3]);
	if (!strcmp(argv[2], "fill") && argc == 5 && b == &sealed_backend)
		return do_fill(argv[3], argv[4]);
	if (!strcmp(argv[2], "lock") && argc == 5)
		return do_lock(b, argv[3], argv[4]);
	return usage();
}
