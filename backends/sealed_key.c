/*
 * sealed_key.c: key sources for the sealed file (see sealed_key.h and
 * docs/sealed-format.md for the design and its threat model).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <linux/keyctl.h>
#include <sodium.h>

#include "backends/sealed_key.h"
#include "helper/log.h"
#include "helper/secmem.h"

#define SLOTS		 4
#define DESC_PREFIX	 "astro-cred:v1:"
#define DESC_HASH	 16
#define DESC_LEN	 (sizeof(DESC_PREFIX) - 1 + 2 * DESC_HASH)
#define KEYFILE_READ_MAX 66
/* Profiles tried to tell a damaged key-check file from a wrong key. */
#define PROFILE_PROBES 16

#define KEYCHECK_REPAIR                                                        \
	"to repair it, remove it (rm '%s/%s'): the next store writes a new "   \
	"one, once its key has opened the store's profiles; no profile is "    \
	"lost"

#define NO_KEY_HELP                                                            \
	"set ASTRO_CRED_KEY_FILE to a file holding a 32-byte key (32 raw "     \
	"bytes or 64 hex digits), ASTRO_CRED_PASSPHRASE_FILE to a file "       \
	"whose first line is the passphrase, or ASTRO_CRED_PASSPHRASE "        \
	"(weaker); or run it where /dev/tty can prompt for the passphrase"

/* What a key is for: the source and, for Argon2id, salt and limits. */
struct key_id {
	uint8_t source;
	uint32_t ops, mem;
	uint8_t salt[SEALED_SALT_LEN];
};

struct slot {
	int used, verified, from_kernel;
	struct key_id id;
	unsigned char *key; /* SEALED_KEY_LEN bytes of secure memory */
};

static struct slot slots[SLOTS];
static char *passphrase; /* secure memory, NUL-terminated */
static size_t passphrase_len;
static int clear_registered;

void sealed_key_clear(void)
{
	for (size_t i = 0; i < SLOTS; i++) {
		secmem_free(slots[i].key);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
	secmem_free(passphrase);
	passphrase = NULL;
	passphrase_len = 0;
}

static void key_id_of(const struct sealed_header *h, struct key_id *id)
{
	memset(id, 0, sizeof(*id));
	id->source = h->key_source;
	if (h->key_source != SEALED_KEY_ARGON2ID)
		return;
	id->ops = h->opslimit;
	id->mem = h->memlimit_kib;
	memcpy(id->salt, h->salt, SEALED_SALT_LEN);
}

static int same_id(const struct key_id *a, const struct key_id *b)
{
	return a->source == b->source && a->ops == b->ops && a->mem == b->mem &&
	       !memcmp(a->salt, b->salt, SEALED_SALT_LEN);
}

static struct slot *find_slot(const struct sealed_header *h)
{
	struct key_id id;

	key_id_of(h, &id);
	for (size_t i = 0; i < SLOTS; i++)
		if (slots[i].used && same_id(&slots[i].id, &id))
			return &slots[i];
	return NULL;
}

static void drop_slot(struct slot *s)
{
	secmem_free(s->key);
	memset(s, 0, sizeof(*s));
}

static struct slot *new_slot(const struct sealed_header *h)
{
	struct slot *s = &slots[0];

	if (!clear_registered) {
		atexit(sealed_key_clear);
		clear_registered = 1;
	}
	for (size_t i = 0; i < SLOTS; i++)
		if (!slots[i].used) {
			s = &slots[i];
			break;
		}
	drop_slot(s);
	s->used = 1;
	key_id_of(h, &s->id);
	s->key = secmem_alloc(SEALED_KEY_LEN);
	return s;
}

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

static enum status load_key_file(const char *path, unsigned char *key)
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

static void keep_passphrase(const char *p, size_t n)
{
	passphrase = secmem_strndup(p, n);
	passphrase_len = n;
	if (!clear_registered) {
		atexit(sealed_key_clear);
		clear_registered = 1;
	}
}

static enum status passphrase_from_file(const char *path)
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
	keep_passphrase((const char *)buf, (size_t)n);
out:
	secmem_free(buf);
	return st;
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static const int tty_signals[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM};
#define NSIG_TTY (sizeof(tty_signals) / sizeof(*tty_signals))

/* One line from the terminal into buf (cap bytes); -1 if too long. */
static int read_tty_line(int fd, char *buf, size_t cap, size_t *len)
{
	int too_long = 0;
	char c = 0;

	*len = 0;
	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR && !caught)
			continue;
		if (r < 0 || caught)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (*len < cap)
			buf[(*len)++] = c;
		else
			too_long = 1;
	}
	sodium_memzero(&c, sizeof(c));
	return too_long ? -1 : 0;
}

/*
 * readpassphrase(3) in small: echo off, the prompt to the terminal (never
 * stdout), and the terminal restored on every path, a signal included
 * (re-raised once the terminal is back).
 */
static int tty_ask(int fd, const char *prompt, char *buf, size_t cap,
		   size_t *len)
{
	struct termios old, quiet;
	struct sigaction sa, saved[NSIG_TTY];
	int rc;

	if (tcgetattr(fd, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (size_t i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &sa, &saved[i]);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	rc = write(fd, prompt, strlen(prompt)) < 0 ? -1 : 0;
	if (rc == 0)
		rc = read_tty_line(fd, buf, cap, len);
	if (write(fd, "\n", 1) < 0)
		rc = -1;
	tcsetattr(fd, TCSAFLUSH, &old);
	for (size_t i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &saved[i], NULL);
	if (caught)
		raise(caught);
	return rc;
}

/* ST_NOTFOUND when there is no terminal to ask. */
static enum status passphrase_from_tty(struct storedir *sd, int confirm)
{
	char prompt[PATH_MAX + 64], *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	enum status st = ST_STORE;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return ST_NOTFOUND;
	a = secmem_alloc(SEALED_PASSPHRASE_MAX);
	snprintf(prompt, sizeof(prompt),
		 "%s passphrase for %s: ", confirm ? "New" : "Enter",
		 storedir_path(sd));
	if (tty_ask(fd, prompt, a, SEALED_PASSPHRASE_MAX, &la) < 0) {
		st = isatty(fd) ? fail(ST_STORE, "no passphrase read from the "
						 "terminal (too long?)")
				: ST_NOTFOUND;
		goto out;
	}
	if (confirm && la) {
		b = secmem_alloc(SEALED_PASSPHRASE_MAX);
		if (tty_ask(fd, "Repeat the passphrase: ", b,
			    SEALED_PASSPHRASE_MAX, &lb) < 0 ||
		    la != lb || sodium_memcmp(a, b, la) != 0) {
			st = fail(ST_STORE, "the passphrases do not match");
			goto out;
		}
	}
	if (!la) {
		st = fail(ST_STORE, "empty passphrase; nothing was changed");
		goto out;
	}
	keep_passphrase(a, la);
	st = ST_OK;
out:
	secmem_free(a);
	secmem_free(b);
	close(fd);
	return st;
}

/* The passphrase, from the first source that gives one. */
static enum status get_passphrase(struct storedir *sd, int confirm)
{
	const char *p;
	enum status st;

	if (passphrase)
		return ST_OK;
	if ((p = getenv("ASTRO_CRED_PASSPHRASE_FILE")) && *p)
		return passphrase_from_file(p);
	if ((p = getenv("ASTRO_CRED_PASSPHRASE")) && *p) {
		keep_passphrase(p, strlen(p));
		/* Never passed on to a child (contract.md section 4). */
		sodium_memzero((char *)p, strlen(p));
		unsetenv("ASTRO_CRED_PASSPHRASE");
		return ST_OK;
	}
	st = passphrase_from_tty(sd, confirm);
	if (st == ST_NOTFOUND)
		return fail(ST_STORE, "no key for the sealed file store: %s",
			    NO_KEY_HELP);
	return st;
}

static enum status derive(const struct sealed_header *h, unsigned char *key)
{
	/* The caps again, right before the expensive call (F-09). */
	if (h->opslimit < SEALED_OPS_MIN || h->opslimit > SEALED_OPS_MAX ||
	    h->memlimit_kib < SEALED_MEM_KIB_MIN ||
	    h->memlimit_kib > SEALED_MEM_KIB_MAX)
		return fail(ST_STORE, "key derivation limits out of bounds");
	verbose("deriving the key with Argon2id (ops %u, %u MiB)",
		(unsigned)h->opslimit, (unsigned)(h->memlimit_kib / 1024));
	if (crypto_pwhash(key, SEALED_KEY_LEN, passphrase, passphrase_len,
			  h->salt, h->opslimit, (size_t)h->memlimit_kib * 1024U,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return fail(ST_STORE,
			    "Argon2id key derivation failed (%u MiB "
			    "of memory not available?)",
			    (unsigned)(h->memlimit_kib / 1024));
	return ST_OK;
}

static long cache_seconds(void)
{
	return (long)storedir_env_number("ASTRO_CRED_KEY_CACHE_SECONDS", NULL,
					 1, 0, SEALED_CACHE_SECONDS_MAX,
					 SEALED_CACHE_SECONDS);
}

/*
 * The kernel keyring description: a hash of the store's path and the
 * Argon2id salt and limits, so that stores and salts never share an entry
 * and the description reveals neither.
 */
static void cache_desc(const struct storedir *sd, const struct sealed_header *h,
		       char desc[DESC_LEN + 1])
{
	static const char tag[] = "astro-cred key cache v1";
	crypto_generichash_state st;
	uint8_t out[DESC_HASH], lim[8];
	const char *path = storedir_path(sd);

	for (int i = 0; i < 4; i++) {
		lim[i] = (uint8_t)(h->opslimit >> (8 * i));
		lim[4 + i] = (uint8_t)(h->memlimit_kib >> (8 * i));
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof(tag));
	crypto_generichash_update(&st, (const uint8_t *)path, strlen(path) + 1);
	crypto_generichash_update(&st, h->salt, SEALED_SALT_LEN);
	crypto_generichash_update(&st, lim, sizeof(lim));
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(desc, DESC_PREFIX, sizeof(DESC_PREFIX) - 1);
	sodium_bin2hex(desc + sizeof(DESC_PREFIX) - 1, 2 * DESC_HASH + 1, out,
		       sizeof(out));
}

/* keyctl(KEYCTL_SEARCH) on the user keyring; the id confers possession. */
static long cache_search(const char *desc)
{
	return syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user",
		       desc, 0);
}

static int cache_get(const char *desc, unsigned char *key)
{
	long id = cache_search(desc), n;

	if (id < 0)
		return 0;
	n = syscall(SYS_keyctl, KEYCTL_READ, id, key, SEALED_KEY_LEN);
	if (n != SEALED_KEY_LEN) {
		sodium_memzero(key, SEALED_KEY_LEN);
		return 0;
	}
	verbose("using the derived key cached in the kernel keyring");
	return 1;
}

static void cache_forget(const char *desc)
{
	long id = cache_search(desc);

	if (id >= 0)
		syscall(SYS_keyctl, KEYCTL_INVALIDATE, id);
}

static void cache_put(const char *desc, const unsigned char *key, long secs)
{
	long id;

	if (syscall(SYS_add_key, "user", desc, key, (size_t)SEALED_KEY_LEN,
		    KEY_SPEC_USER_KEYRING) < 0) {
		verbose("cannot cache the key in the kernel keyring: %s",
			strerror(errno));
		return;
	}
	/* facts.md: the timeout takes only on the id found by a search. */
	id = cache_search(desc);
	if (id < 0 ||
	    syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, id, (unsigned)secs) < 0) {
		verbose("cannot set the key cache timeout; not caching");
		cache_forget(desc);
	}
}

static enum status raw_key(const struct sealed_header *h,
			   const unsigned char **key)
{
	const char *path = getenv("ASTRO_CRED_KEY_FILE");
	struct slot *s;
	enum status st;

	if (!path || !*path)
		return fail(ST_STORE, "this was sealed with a key file: set "
				      "ASTRO_CRED_KEY_FILE to it");
	s = new_slot(h);
	if ((st = load_key_file(path, s->key)) != ST_OK) {
		drop_slot(s);
		return st;
	}
	*key = s->key;
	return ST_OK;
}

static enum status derived_key(struct storedir *sd,
			       const struct sealed_header *h, int confirm,
			       const unsigned char **key)
{
	char desc[DESC_LEN + 1];
	struct slot *s = new_slot(h);
	enum status st;

	cache_desc(sd, h, desc);
	if (cache_seconds() > 0 && cache_get(desc, s->key)) {
		s->from_kernel = 1;
		*key = s->key;
		return ST_OK;
	}
	if ((st = get_passphrase(sd, confirm)) != ST_OK ||
	    (st = derive(h, s->key)) != ST_OK) {
		drop_slot(s);
		return st;
	}
	*key = s->key;
	return ST_OK;
}

enum status sealed_key_for_read(struct storedir *sd,
				const struct sealed_header *h,
				const unsigned char **key)
{
	struct slot *s = find_slot(h);

	if (s) {
		*key = s->key;
		return ST_OK;
	}
	if (h->key_source == SEALED_KEY_RAW)
		return raw_key(h, key);
	return derived_key(sd, h, 0, key);
}

int sealed_key_result(struct storedir *sd, const struct sealed_header *h,
		      int opened)
{
	struct slot *s = find_slot(h);
	char desc[DESC_LEN + 1];
	long secs;
	int cached;

	if (!s || h->key_source != SEALED_KEY_ARGON2ID)
		return 0;
	cache_desc(sd, h, desc);
	if (opened) {
		if (!s->verified && !s->from_kernel &&
		    (secs = cache_seconds()) > 0)
			cache_put(desc, s->key, secs);
		s->verified = 1;
		return 0;
	}
	cached = s->from_kernel;
	if (cached)
		cache_forget(desc);
	drop_slot(s);
	return cached;
}

/* Read and check the header of key-check file NAME into buf. */
static enum status read_check(struct storedir *sd, const char *name,
			      uint8_t *buf, size_t *len,
			      struct sealed_header *h)
{
	enum status st = storedir_read(sd, NULL, name, buf, SEALED_FILE_MIN,
				       SEALED_FILE_MAX, len);
	enum sealed_err e;

	if (st != ST_OK)
		return st;
	if ((e = sealed_parse_header(buf, *len, h)) != SEALED_OK)
		return fail(ST_STORE,
			    "the store's key-check file '%s/%s' is damaged "
			    "(%s); nothing was changed; " KEYCHECK_REPAIR,
			    storedir_path(sd), name, sealed_strerror(e),
			    storedir_path(sd), name);
	return ST_OK;
}

/* Is h sealed like want (key source and, for Argon2id, salt and limits)? */
static int same_key_id(const struct sealed_header *h,
		       const struct sealed_header *want)
{
	struct key_id a, b;

	key_id_of(h, &a);
	key_id_of(want, &b);
	return same_id(&a, &b);
}

/*
 * The store's profile files sealed like want, at most PROFILE_PROBES of
 * them: with key, those with want's key id (same_key_id), 1 when key opens
 * one of them, else 0; without, those with want's key source, 1 when there
 * is one, its header in *first.  -1 when there is none (or the profiles
 * cannot be listed).  A damaged key-check file is
 * told from a wrong key this way: every profile file is authenticated, so
 * a key that opens one is the store's.
 */
static int probe_profiles(struct storedir *sd, const struct sealed_header *want,
			  const unsigned char *key, struct sealed_header *first)
{
	struct strlist names = STRLIST_INIT;
	struct secbuf tmp = SECBUF_INIT(RECORD_MAX);
	uint8_t buf[SEALED_FILE_MAX];
	char file[PROFILE_NAME_MAX + sizeof(SEALED_PROFILE_SUFFIX)];
	struct sealed_header h;
	size_t len, seen = 0;
	int ret = -1;

	if (storedir_list(sd, STOREDIR_PROFILES, SEALED_PROFILE_SUFFIX,
			  &names) != ST_OK)
		goto out;
	for (size_t i = 0; i < names.n && seen < PROFILE_PROBES; i++) {
		if (strlen(names.v[i]) > PROFILE_NAME_MAX)
			continue;
		snprintf(file, sizeof(file), "%s%s", names.v[i],
			 SEALED_PROFILE_SUFFIX);
		if (storedir_read(sd, STOREDIR_PROFILES, file, buf,
				  SEALED_FILE_MIN, SEALED_FILE_MAX,
				  &len) != ST_OK ||
		    sealed_parse_header(buf, len, &h) != SEALED_OK ||
		    (key ? !same_key_id(&h, want)
			 : h.key_source != want->key_source))
			continue;
		seen++;
		ret = 0;
		if (!key) {
			*first = h;
			ret = 1;
			break;
		}
		if (sealed_open(buf, len, key, names.v[i], &tmp) == SEALED_OK) {
			ret = 1;
			break;
		}
	}
out:
	secbuf_clear(&tmp);
	strlist_clear(&names);
	return ret;
}

/* key opens the profiles but not the key-check file NAME: it is damaged. */
static enum status check_damaged(struct storedir *sd, const char *name)
{
	return fail(ST_STORE,
		    "the store's key-check file '%s/%s' is damaged: the key "
		    "opens the store's profiles but not this file; nothing "
		    "was changed, and reading still works; " KEYCHECK_REPAIR,
		    storedir_path(sd), name, storedir_path(sd), name);
}

/* Does key open the key-check file buf? */
static int opens_check(const uint8_t *buf, size_t len, const unsigned char *key)
{
	struct secbuf tmp = SECBUF_INIT(RECORD_MAX);
	enum sealed_err e =
	    sealed_open(buf, len, key, SEALED_KEYCHECK_CONTEXT, &tmp);

	secbuf_clear(&tmp);
	return e == SEALED_OK;
}

/* Seal an empty record under key as key-check file NAME, if none exists. */
static enum status create_check(struct storedir *sd, const char *name,
				const struct sealed_header *params,
				const unsigned char *key, int *existed)
{
	uint8_t out[SEALED_FILE_MAX];
	struct sealed_header h = *params;
	size_t n = 0;

	randombytes_buf(h.nonce, sizeof(h.nonce));
	if (sealed_seal(&h, key, SEALED_KEYCHECK_CONTEXT, NULL, 0, out,
			sizeof(out), &n) != SEALED_OK)
		return fail(ST_STORE, "cannot seal the key check");
	return storedir_create(sd, NULL, name, out, n, existed);
}

/* Does the key file's key open the store's key check? */
static enum status keyfile_prove(struct storedir *sd,
				 const struct sealed_header *h,
				 const uint8_t *buf, size_t len,
				 const unsigned char *key)
{
	if (h->key_source == SEALED_KEY_RAW && opens_check(buf, len, key))
		return ST_OK;
	if (h->key_source == SEALED_KEY_RAW &&
	    probe_profiles(sd, h, key, NULL) == 1)
		return check_damaged(sd, SEALED_KEYCHECK_KEYFILE);
	return fail(ST_STORE,
		    "the key in ASTRO_CRED_KEY_FILE is not this store's "
		    "key (it does not open '%s/%s'); use the key the "
		    "store was made with, or another ASTRO_CRED_DIR",
		    storedir_path(sd), SEALED_KEYCHECK_KEYFILE);
}

/*
 * A store without a passphrase key check.  New: fresh salt, INTERACTIVE
 * limits, a confirmed passphrase.  One that holds passphrase profiles
 * already (its key check was removed, being damaged) keeps their salt and
 * limits, and the passphrase must open them.
 */
static enum status new_passphrase_store(struct storedir *sd,
					struct sealed_header *params,
					const unsigned char **key, int *existed)
{
	struct sealed_header first;
	enum status st;
	int adopt;

	params->key_source = SEALED_KEY_ARGON2ID;
	adopt = probe_profiles(sd, params, NULL, &first) == 1;
	if (adopt) {
		params->opslimit = first.opslimit;
		params->memlimit_kib = first.memlimit_kib;
		memcpy(params->salt, first.salt, sizeof(params->salt));
	} else {
		params->opslimit = SEALED_NEW_OPSLIMIT;
		params->memlimit_kib = SEALED_NEW_MEM_KIB;
		randombytes_buf(params->salt, sizeof(params->salt));
	}
	if ((st = derived_key(sd, params, !adopt, key)) != ST_OK)
		return st;
	if (adopt && probe_profiles(sd, params, *key, NULL) != 1) {
		sealed_key_result(sd, params, 0);
		return fail(ST_STORE,
			    "the passphrase does not open the store's "
			    "profiles, and the store has no key-check file to "
			    "prove it against; nothing was changed");
	}
	st =
	    create_check(sd, SEALED_KEYCHECK_PASSPHRASE, params, *key, existed);
	/* Cache the key only if it became the store's. */
	sealed_key_result(sd, params, st == ST_OK && !*existed);
	return st;
}

/*
 * The store's passphrase key, proven against its key-check file h/buf;
 * params then take the store's salt and limits.
 */
static enum status passphrase_prove(struct storedir *sd,
				    struct sealed_header *params,
				    const struct sealed_header *h,
				    const uint8_t *buf, size_t len,
				    const unsigned char **key)
{
	enum status st;

	if (h->key_source != SEALED_KEY_ARGON2ID)
		return fail(ST_STORE, "'%s/%s' is damaged: wrong key source",
			    storedir_path(sd), SEALED_KEYCHECK_PASSPHRASE);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((st = sealed_key_for_read(sd, h, key)) != ST_OK)
			return st;
		if (opens_check(buf, len, *key)) {
			sealed_key_result(sd, h, 1);
			params->key_source = SEALED_KEY_ARGON2ID;
			params->opslimit = h->opslimit;
			params->memlimit_kib = h->memlimit_kib;
			memcpy(params->salt, h->salt, sizeof(params->salt));
			return ST_OK;
		}
		if (probe_profiles(sd, h, *key, NULL) == 1) {
			sealed_key_result(sd, h, 1);
			return check_damaged(sd, SEALED_KEYCHECK_PASSPHRASE);
		}
		if (!sealed_key_result(sd, h, 0))
			break;
	}
	return fail(ST_STORE,
		    "the passphrase is not this store's (it does not open "
		    "'%s/%s'); nothing was changed",
		    storedir_path(sd), SEALED_KEYCHECK_PASSPHRASE);
}

/* A first writer's key check: of the key file's key or a new passphrase. */
static enum status make_check(struct storedir *sd, int raw,
			      struct sealed_header *params,
			      const unsigned char **key, int *existed)
{
	if (raw && probe_profiles(sd, params, *key, NULL) == 0)
		return fail(ST_STORE,
			    "the key in ASTRO_CRED_KEY_FILE does not open the "
			    "store's profiles, and the store has no key-check "
			    "file to prove it against; use the key the store "
			    "was made with, or another ASTRO_CRED_DIR");
	if (raw)
		return create_check(sd, SEALED_KEYCHECK_KEYFILE, params, *key,
				    existed);
	return new_passphrase_store(sd, params, key, existed);
}

static enum status prove_check(struct storedir *sd, int raw,
			       struct sealed_header *params,
			       const struct sealed_header *h,
			       const uint8_t *buf, size_t len,
			       const unsigned char **key)
{
	if (raw)
		return keyfile_prove(sd, h, buf, len, *key);
	return passphrase_prove(sd, params, h, buf, len, key);
}

/*
 * The key of a write, proven against the store's key-check file (raw: the
 * key file's, whose key is *key already; else the passphrase's).  The
 * first writer creates the file; one that loses that race to another
 * reads the winner's file instead.
 */
static enum status check_for_write(struct storedir *sd, int raw,
				   struct sealed_header *params,
				   const unsigned char **key)
{
	const char *name =
	    raw ? SEALED_KEYCHECK_KEYFILE : SEALED_KEYCHECK_PASSPHRASE;
	uint8_t buf[SEALED_FILE_MAX];
	struct sealed_header h;
	size_t len = 0;
	enum status st;
	int existed = 0;

	for (int round = 0; round < 2; round++) {
		st = read_check(sd, name, buf, &len, &h);
		if (st == ST_NOTFOUND) {
			st = make_check(sd, raw, params, key, &existed);
			if (st != ST_OK || !existed)
				return st;
			continue;
		}
		if (st != ST_OK)
			return st;
		return prove_check(sd, raw, params, &h, buf, len, key);
	}
	return fail(ST_STORE, "the store's key check keeps changing");
}

enum status sealed_key_for_write(struct storedir *sd,
				 struct sealed_header *params,
				 const unsigned char **key)
{
	const char *kf = getenv("ASTRO_CRED_KEY_FILE");
	enum status st;

	memset(params, 0, sizeof(*params));
	if (kf && *kf) {
		params->key_source = SEALED_KEY_RAW;
		if ((st = sealed_key_for_read(sd, params, key)) == ST_OK)
			st = check_for_write(sd, 1, params, key);
	} else {
		st = check_for_write(sd, 0, params, key);
	}
	randombytes_buf(params->nonce, sizeof(params->nonce));
	return st;
}
