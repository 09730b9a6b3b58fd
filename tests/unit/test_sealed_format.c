/*
 * The ACRD v1 reader and writer as pure functions: the committed vectors
 * (tests/vectors/sealed, written by an independent encoder), every single
 * bit flip, truncation and 1..64 appended bytes of each valid vector, the
 * context swap, round trips at the size boundaries, and the key file parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "backends/sealed_format.h"
#include "backends/sealed_key.h"
#include "tests/unit/tap.h"

#define PASSPHRASE "correct horse battery staple"
#define BIG	   (SEALED_FILE_MAX + 1024)

static unsigned char key_raw[32], key_argon[32];
static char vdir[4096];

static void keys(void)
{
	unsigned char salt[16];

	for (int i = 0; i < 32; i++)
		key_raw[i] = (unsigned char)i;
	for (int i = 0; i < 16; i++)
		salt[i] = (unsigned char)(0x80 + i);
	if (crypto_pwhash(key_argon, 32, PASSPHRASE, strlen(PASSPHRASE), salt,
			  2, 65536 * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
}

static size_t slurp(const char *name, unsigned char *buf, size_t cap)
{
	char path[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", vdir, name);
	if (!(f = fopen(path, "rb")))
		return (size_t)-1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static const unsigned char *key_named(const char *k)
{
	return strcmp(k, "argon2id") ? key_raw : key_argon;
}

/* sealed_open must fail and leave nothing behind. */
static int rejected(const unsigned char *b, size_t n, const unsigned char *key,
		    const char *profile)
{
	struct secbuf out = SECBUF_INIT(RECORD_MAX);
	enum sealed_err e = sealed_open(b, n, key, profile, &out);
	int ok_ = e != SEALED_OK && out.len == 0 && out.data == NULL;

	secbuf_clear(&out);
	return ok_;
}

static void mutations(const char *file, const unsigned char *b, size_t n,
		      const unsigned char *key, const char *profile)
{
	static unsigned char m[BIG];
	size_t flips = 0, truncs = 0, apps = 0, bad = 0;
	unsigned char seed[randombytes_SEEDBYTES] = {7};

	memcpy(m, b, n);
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			m[i] ^= (unsigned char)(1 << bit);
			bad += !rejected(m, n, key, profile);
			m[i] ^= (unsigned char)(1 << bit);
			flips++;
		}
	ok(bad == 0, "%s: %zu single-bit flips, %zu accepted", file, flips,
	   bad);
	bad = 0;
	for (size_t len = 0; len < n; len++, truncs++)
		bad += !rejected(m, len, key, profile);
	ok(bad == 0, "%s: %zu truncations, %zu accepted", file, truncs, bad);
	bad = 0;
	randombytes_buf_deterministic(m + n, 64, seed);
	for (size_t k = 1; k <= 64; k++, apps++)
		bad += !rejected(m, n + k, key, profile);
	ok(bad == 0, "%s: 1..64 appended bytes, %zu accepted", file, bad);
	ok(rejected(b, n, key, "someone-else"),
	   "%s: rejected under another profile (transplant)", file);
	(void)apps;
}

static void check_valid(const char *file, const unsigned char *b, size_t n,
			const char *profile, const unsigned char *key)
{
	static unsigned char want[RECORD_MAX + 1];
	struct secbuf out = SECBUF_INIT(RECORD_MAX);
	struct sealed_header h;
	unsigned char hdr[SEALED_HEADER_LEN];
	char rname[300];
	size_t wn;
	enum sealed_err e;

	snprintf(rname, sizeof(rname), "%s.record", file);
	wn = slurp(rname, want, sizeof(want));
	e = sealed_open(b, n, key, profile, &out);
	ok(e == SEALED_OK && out.len == wn && !memcmp(out.data, want, wn),
	   "%s: opens to its record (%s)", file, sealed_errname(e));
	secbuf_clear(&out);
	ok(sealed_parse_header(b, n, &h) == SEALED_OK, "%s: header parses",
	   file);
	sealed_encode_header(&h, hdr);
	ok(!memcmp(hdr, b, SEALED_HEADER_LEN),
	   "%s: header re-encodes to the same bytes", file);
	mutations(file, b, n, key, profile);
}

/* Rejections that need no key must come from the header alone. */
static int header_rule(const char *expect)
{
	return strcmp(expect, "SEALED_E_AUTH") &&
	       strcmp(expect, "SEALED_E_PADDING");
}

static void check_invalid(const char *file, const unsigned char *b, size_t n,
			  const char *expect, const char *profile,
			  const unsigned char *key)
{
	struct secbuf out = SECBUF_INIT(RECORD_MAX);
	struct sealed_header h;
	enum sealed_err e = sealed_open(b, n, key, profile, &out);

	ok(!strcmp(sealed_errname(e), expect) && out.len == 0,
	   "%s: rejected as %s (got %s)", file, expect, sealed_errname(e));
	secbuf_clear(&out);
	if (header_rule(expect)) {
		e = sealed_parse_header(b, n, &h);
		ok(!strcmp(sealed_errname(e), expect),
		   "%s: rejected by the header check, before any crypto", file);
	}
}

static void vectors(void)
{
	static unsigned char b[BIG];
	char line[512], file[256], expect[64], profile[128], key[32];
	char path[sizeof(vdir) + 16];
	int count = 0, valid = 0;
	FILE *m;

	snprintf(path, sizeof(path), "%s/MANIFEST", vdir);
	if (!ok((m = fopen(path, "r")) != NULL, "MANIFEST found in %s", vdir))
		return;
	while (fgets(line, sizeof(line), m)) {
		size_t n;

		if (sscanf(line, "%255s %63s %127s %31s", file, expect, profile,
			   key) != 4)
			continue;
		n = slurp(file, b, sizeof(b));
		if (!ok(n != (size_t)-1, "%s readable", file))
			continue;
		count++;
		if (!strcmp(expect, "SEALED_OK")) {
			valid++;
			check_valid(file, b, n, profile, key_named(key));
		} else {
			check_invalid(file, b, n, expect, profile,
				      key_named(key));
		}
	}
	fclose(m);
	ok(count >= 40 && valid >= 6, "%d vectors, %d valid", count, valid);
}

/* The library's encoder gives the generator's bytes for the same inputs. */
static void encoder_matches_vector(void)
{
	static unsigned char want[BIG], rec[RECORD_MAX], out[BIG];
	struct sealed_header h;
	size_t wn = slurp("valid-raw.acrd", want, sizeof(want)), rn, n = 0;

	rn = slurp("valid-raw.acrd.record", rec, sizeof(rec));
	if (!ok(wn != (size_t)-1 && rn != (size_t)-1, "valid-raw readable"))
		return;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 24; i++)
		h.nonce[i] = (unsigned char)(0x40 + i);
	ok(sealed_seal(&h, key_raw, "default", rec, rn, out, sizeof(out), &n) ==
		   SEALED_OK &&
	       n == wn && !memcmp(out, want, n),
	   "sealed_seal reproduces valid-raw.acrd byte for byte");
}

static void round_trips(void)
{
	static const size_t sizes[] = {0, 1, 255, 256, 257, 4096, 8191, 8192};
	static unsigned char rec[RECORD_MAX + 1], out[BIG];
	unsigned char key[32];
	struct sealed_header h;
	size_t n = 0;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(rec, sizeof(rec));
	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		struct secbuf got = SECBUF_INIT(RECORD_MAX);
		size_t s = sizes[i];

		randombytes_buf(h.nonce, sizeof(h.nonce));
		ok(sealed_seal(&h, key, "p", rec, s, out, sizeof(out), &n) ==
			   SEALED_OK &&
		       n == sealed_size(s),
		   "seal %zu bytes -> %zu", s, n);
		ok(sealed_open(out, n, key, "p", &got) == SEALED_OK &&
		       got.len == s && !memcmp(got.data, rec, s),
		   "round trip of %zu bytes", s);
		secbuf_clear(&got);
	}
	is_int(sealed_size(RECORD_MAX), SEALED_FILE_MAX,
	       "RECORD_MAX seals to SEALED_FILE_MAX");
	is_int(SEALED_FILE_MAX, 8528, "SEALED_FILE_MAX is 8528");
	is_int(sealed_seal(&h, key, "p", rec, RECORD_MAX + 1, out, sizeof(out),
			   &n),
	       SEALED_E_TOO_BIG, "a record over RECORD_MAX is refused");
	is_int(sealed_seal(&h, key, "p", rec, 10, out, 100, &n),
	       SEALED_E_LENGTH, "an output buffer too small is refused");
	is_int(sealed_seal(&h, key, "", rec, 10, out, sizeof(out), &n),
	       SEALED_E_NAME, "an empty context name is refused");
	h.key_source = SEALED_KEY_ARGON2ID;
	is_int(sealed_seal(&h, key, "p", rec, 10, out, sizeof(out), &n),
	       SEALED_E_KDF_LIMITS, "the writer checks the KDF caps too");
}

/* F-09: hostile limits are refused by the header check, in microseconds. */
static void kdf_caps_fast(void)
{
	static unsigned char b[BIG];
	struct sealed_header h;
	struct timespec t0, t1;
	size_t n = slurp("argon2id-mem-4tib.acrd", b, sizeof(b));
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++)
		if (sealed_parse_header(b, n, &h) != SEALED_E_KDF_LIMITS)
			break;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ok(ms < 1000, "1000 hostile headers rejected in %.2f ms (< 10 ms each)",
	   ms);
}

static void key_parse(void)
{
	unsigned char k[32], raw[65];
	char hex[70];

	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)(i * 7);
	ok(sealed_key_parse(raw, 32, k) == 0 && !memcmp(k, raw, 32),
	   "32 raw bytes");
	sodium_bin2hex(hex, sizeof(hex), raw, 32);
	ok(sealed_key_parse((unsigned char *)hex, 64, k) == 0 &&
	       !memcmp(k, raw, 32),
	   "64 hex digits");
	hex[64] = '\n';
	ok(sealed_key_parse((unsigned char *)hex, 65, k) == 0 &&
	       !memcmp(k, raw, 32),
	   "64 hex digits and a newline");
	for (int i = 0; i < 64; i++)
		if (hex[i] >= 'a')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	ok(sealed_key_parse((unsigned char *)hex, 65, k) == 0 &&
	       !memcmp(k, raw, 32),
	   "upper-case hex");
	ok(sealed_key_parse(raw, 31, k) < 0, "31 bytes refused");
	ok(sealed_key_parse(raw, 33, k) < 0, "33 bytes refused");
	ok(sealed_key_parse((unsigned char *)hex, 63, k) < 0,
	   "63 hex digits refused");
	hex[64] = 'a';
	ok(sealed_key_parse((unsigned char *)hex, 65, k) < 0,
	   "65 hex digits refused");
	hex[64] = '\r';
	ok(sealed_key_parse((unsigned char *)hex, 65, k) < 0,
	   "hex and a CR refused");
	hex[64] = '\n';
	hex[10] = 'g';
	ok(sealed_key_parse((unsigned char *)hex, 65, k) < 0,
	   "a non-hex digit refused");
	hex[10] = ' ';
	ok(sealed_key_parse((unsigned char *)hex, 65, k) < 0,
	   "a space refused");
}

int main(void)
{
	const char *top = getenv("ASTRO_CRED_TOP");

	if (sodium_init() < 0)
		return 1;
	snprintf(vdir, sizeof(vdir), "%s/tests/vectors/sealed",
		 top ? top : ".");
	keys();
	vectors();
	encoder_matches_vector();
	round_trips();
	kdf_caps_fast();
	key_parse();
	return done_testing();
}
