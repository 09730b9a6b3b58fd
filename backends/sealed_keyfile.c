/*
 * sealed_keyfile.c: the key file (ASTRO_CRED_KEY_FILE) and the passphrase
 * file (ASTRO_CRED_PASSPHRASE_FILE), read into secure memory after the
 * checks a file holding a secret must pass (see sealed_key.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/sealed_key.h"
#include "backends/sealed_key_int.h"
#include "backends/storedir.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define KEYFILE_READ_MAX 66

int sealed_key_parse(const unsigned char *buf, size_t len,
		     unsigned char key[SEALED_KEY_LEN])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len == SEALED_KEY_LEN) {
		memcpy(key, buf, SEALED_KEY_LEN);
		return 0;
	}
	if (len == 2 * SEALED_KEY_LEN + 1 && buf[len - 1] == '\n')
		len--;
	if (len != 2 * SEALED_KEY_LEN)
		return -1;
	if (sodium_hex2bin(key, SEALED_KEY_LEN, (const char *)buf, len, NULL,
			   &bin_len, &end) != 0 ||
	    bin_len != SEALED_KEY_LEN || end != (const char *)buf + len) {
		sodium_memzero(key, SEALED_KEY_LEN);
		return -1;
	}
	return 0;
}

/* A file holding a secret: regular (or a pipe if allowed), ours, 0600. */
static enum status check_secret_file(int fd, const char *what, const char *path,
				     int allow_pipe)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(ST_STORE, "cannot check %s '%s': %s", what, path,
			    strerror(errno));
	if (allow_pipe && S_ISFIFO(st.st_mode))
		return ST_OK;
	if (!S_ISREG(st.st_mode))
		return fail(ST_STORE,
			    "%s '%s' is not a regular file; refusing "
			    "it",
			    what, path);
	if (st.st_uid != geteuid())
		return fail(ST_STORE,
			    "%s '%s' is owned by uid %u, not by you; refusing "
			    "it",
			    what, path, (unsigned)st.st_uid);
	if (st.st_mode & 077)
		return fail(ST_STORE,
			    "permissions %04o for %s '%s' are too open; it "
			    "must not be accessible by others (chmod 600 '%s')",
			    (unsigned)(st.st_mode & 07777), what, path, path);
	return ST_OK;
}

/* Open a secret file without blocking on a FIFO or taking a terminal. */
static int open_secret(const char *path, const char *what)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		error("cannot open %s '%s': %s", what, path, strerror(errno));
	return fd;
}

/*
 * Read secret file path (what, in messages) into buf: up to cap bytes, *n
 * of them.  line: a passphrase file, which may be a pipe (then waited
 * for) and is read up to its first newline.
 */
static enum status read_secret(const char *path, const char *what, int line,
			       unsigned char *buf, size_t cap, ssize_t *n)
{
	enum status st;
	int fd;

	if ((fd = open_secret(path, what)) < 0)
		return ST_STORE;
	if ((st = check_secret_file(fd, what, path, line)) != ST_OK)
		goto out;
	/* A pipe was opened without blocking; now wait for its writer. */
	if (line)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((*n = storedir_read_upto(fd, buf, cap, line)) < 0)
		st = fail(ST_STORE, "cannot read %s '%s': %s", what, path,
			  strerror(errno));
out:
	close(fd);
	return st;
}

enum status sealed_keyfile_key(const char *path, unsigned char *key)
{
	const char *what = "key file (ASTRO_CRED_KEY_FILE)";
	unsigned char *buf = secmem_alloc(KEYFILE_READ_MAX + 1);
	enum status st;
	ssize_t n;

	st = read_secret(path, what, 0, buf, KEYFILE_READ_MAX + 1, &n);
	if (st == ST_OK && sealed_key_parse(buf, (size_t)n, key) < 0)
		st = fail(ST_STORE,
			  "%s '%s' must hold exactly 32 bytes, or 64 hex "
			  "digits and an optional newline",
			  what, path);
	secmem_free(buf);
	return st;
}

enum status sealed_keyfile_passphrase(const char *path, char **out, size_t *len)
{
	const char *what = "passphrase file (ASTRO_CRED_PASSPHRASE_FILE)";
	unsigned char *buf = secmem_alloc(SEALED_PASSPHRASE_MAX + 2);
	unsigned char *nl;
	enum status st;
	ssize_t n;

	st = read_secret(path, what, 1, buf, SEALED_PASSPHRASE_MAX + 1, &n);
	if (st != ST_OK)
		goto out;
	nl = memchr(buf, '\n', (size_t)n);
	if (nl)
		n = nl - buf;
	if (n > SEALED_PASSPHRASE_MAX || n == 0) {
		st = fail(ST_STORE, "the first line of %s '%s' is %s", what,
			  path, n ? "too long" : "empty");
		goto out;
	}
	*out = secmem_strndup((const char *)buf, (size_t)n);
	*len = (size_t)n;
out:
	secmem_free(buf);
	return st;
}
