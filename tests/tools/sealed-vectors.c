/*
 * sealed-vectors DIR: write the ACRD v1 test vectors (tests/vectors/sealed)
 * with a fixed key, nonce, salt and passphrase, so that the committed files
 * are reproducible byte for byte.  This is a second, independent encoder
 * (header bytes at explicit offsets, libsodium called directly): the unit
 * tests check the reader against it, not against itself.
 *
 * Besides each vector it writes MANIFEST (one line per vector:
 * "FILE EXPECT PROFILE KEY", KEY being "raw" for the fixed 32-byte key or
 * "argon2id" for the key Argon2id derives from the fixed passphrase, salt
 * and INTERACTIVE limits), FILE.record for valid vectors, and README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backends/backend.h"

#define HDR	   64
#define PASSPHRASE "correct horse battery staple"
#define OPS	   2
#define MEM_KIB	   65536
#define BIG	   (HDR + 9000)

static const char *dir;
static FILE *manifest, *readme;
static unsigned char key_raw[32], key_other[32], key_argon[32];
static unsigned char nonce[24], salt[16];

struct hdr {
	unsigned char version, key_source, aead, flags;
	unsigned ops, mem_kib;
	int salted;
	unsigned char salt[16];
};

static void put32(unsigned char *p, unsigned v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void header(unsigned char *out, const struct hdr *h, unsigned ct_len)
{
	memcpy(out, "ACRD\r\n\x1a\n", 8);
	out[8] = h->version;
	out[9] = h->key_source;
	out[10] = h->aead;
	out[11] = h->flags;
	put32(out + 12, h->ops);
	put32(out + 16, h->mem_kib);
	memset(out + 20, 0, 16);
	if (h->salted)
		memcpy(out + 20, h->salt, 16);
	memcpy(out + 36, nonce, 24);
	put32(out + 60, ct_len);
}

/* Encrypt pt (already padded or not, as given) under header h. */
static size_t seal_raw(unsigned char *out, const struct hdr *h,
		       const unsigned char *key, const char *profile,
		       const unsigned char *pt, size_t ptlen)
{
	static const char prefix[] = "astro-cred/v1";
	unsigned char aad[HDR + 2 + 256];
	size_t plen = strlen(profile), clen = sizeof(prefix) + plen, alen;

	header(out, h, (unsigned)(ptlen + 16));
	memcpy(aad, out, HDR);
	aad[HDR] = (unsigned char)clen;
	aad[HDR + 1] = (unsigned char)(clen >> 8);
	memcpy(aad + HDR + 2, prefix, sizeof(prefix));
	memcpy(aad + HDR + 2 + sizeof(prefix), profile, plen);
	alen = HDR + 2 + clen;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + HDR, NULL, pt, ptlen,
						   aad, alen, NULL, nonce, key);
	return HDR + ptlen + 16;
}

/* Pad rec with sodium_pad to 256 and seal. */
static size_t seal(unsigned char *out, const struct hdr *h,
		   const unsigned char *key, const char *profile,
		   const unsigned char *rec, size_t rlen)
{
	unsigned char pt[RECORD_MAX + 512];
	size_t plen;

	memcpy(pt, rec, rlen);
	if (sodium_pad(&plen, pt, rlen, 256, sizeof(pt)) != 0)
		exit(1);
	return seal_raw(out, h, key, profile, pt, plen);
}

static void write_file(const char *name, const unsigned char *b, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(b, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void emit(const char *name, const unsigned char *b, size_t n,
		 const char *expect, const char *profile, const char *key,
		 const char *why)
{
	write_file(name, b, n);
	fprintf(manifest, "%s %s %s %s\n", name, expect, profile, key);
	fprintf(readme, "| `%s` | %s | %s | %s |\n", name, expect, key, why);
}

static const struct hdr raw_hdr = {1, 0, 1, 0, 0, 0, 0, {0}};

static struct hdr argon_hdr(void)
{
	struct hdr h = {1, 1, 1, 0, OPS, MEM_KIB, 1, {0}};

	memcpy(h.salt, salt, 16);
	return h;
}

static const char record[] =
    "{\"v\":1,\"token\":\"eyJhbGciOiJSUzI1NiJ9.eyJ2ZWN0b3IiOnRydWV9.c2ln\","
    "\"token_id\":\"clm0vector000000000000000\",\"expires_at\":1893456000}";

static void valid_record(const char *name, const struct hdr *h,
			 const unsigned char *key, const char *keyname,
			 const char *profile, const unsigned char *rec,
			 size_t rlen, const char *why)
{
	unsigned char out[BIG];
	char rname[256];
	size_t n = seal(out, h, key, profile, rec, rlen);

	emit(name, out, n, "SEALED_OK", profile, keyname, why);
	snprintf(rname, sizeof(rname), "%s.record", name);
	write_file(rname, rec, rlen);
}

static void valid(void)
{
	unsigned char big[RECORD_MAX];
	struct hdr a = argon_hdr();

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)('a' + i % 26);
	valid_record("valid-raw.acrd", &raw_hdr, key_raw, "raw", "default",
		     (const unsigned char *)record, strlen(record),
		     "a record sealed with a raw key");
	valid_record("valid-raw-empty.acrd", &raw_hdr, key_raw, "raw",
		     "default", big, 0, "empty record (one padding block)");
	valid_record("valid-raw-255.acrd", &raw_hdr, key_raw, "raw", "p.255",
		     big, 255, "255 bytes: padding fills one block exactly");
	valid_record("valid-raw-256.acrd", &raw_hdr, key_raw, "raw", "p_256",
		     big, 256, "256 bytes: padding takes a second block");
	valid_record("valid-raw-max.acrd", &raw_hdr, key_raw, "raw",
		     "max-record", big, RECORD_MAX,
		     "RECORD_MAX bytes: the largest file (8528 bytes)");
	valid_record("valid-argon2id.acrd", &a, key_argon, "argon2id", "ci",
		     (const unsigned char *)record, strlen(record),
		     "passphrase, Argon2id ops 2, 64 MiB, fixed salt");
}

/* A header-rule violation, with a tag that is valid for the bad header. */
static void bad_header(const char *name, struct hdr h, const char *expect,
		       const char *why)
{
	unsigned char out[BIG];
	size_t n = seal(out, &h, key_raw, "default",
			(const unsigned char *)record, strlen(record));

	emit(name, out, n, expect, "default", "raw", why);
}

static void header_rules(void)
{
	struct hdr h;

	h = raw_hdr, h.version = 0;
	bad_header("version-0.acrd", h, "SEALED_E_VERSION", "version 0");
	h = raw_hdr, h.version = 2;
	bad_header("version-2.acrd", h, "SEALED_E_VERSION", "version 2");
	h = raw_hdr, h.key_source = 2;
	bad_header("key-source-2.acrd", h, "SEALED_E_KEY_SOURCE",
		   "unknown key source 2");
	h = raw_hdr, h.aead = 0;
	bad_header("aead-0.acrd", h, "SEALED_E_AEAD", "AEAD id 0");
	h = raw_hdr, h.aead = 2;
	bad_header("aead-2.acrd", h, "SEALED_E_AEAD",
		   "AEAD id 2 (reserved for AEGIS-256)");
	h = raw_hdr, h.flags = 1;
	bad_header("flags-01.acrd", h, "SEALED_E_FLAGS", "flags 0x01");
	h = raw_hdr, h.flags = 0x80;
	bad_header("flags-80.acrd", h, "SEALED_E_FLAGS", "flags 0x80");
	h = raw_hdr, h.ops = 2;
	bad_header("raw-nonzero-ops.acrd", h, "SEALED_E_CANONICAL",
		   "raw key with opslimit set");
	h = raw_hdr, h.mem_kib = 65536;
	bad_header("raw-nonzero-mem.acrd", h, "SEALED_E_CANONICAL",
		   "raw key with memlimit set");
	h = raw_hdr, h.salted = 1, h.salt[15] = 1;
	bad_header("raw-nonzero-salt.acrd", h, "SEALED_E_CANONICAL",
		   "raw key with a salt byte set");
}

static void kdf_rules(void)
{
	static const struct {
		const char *name, *why;
		unsigned ops, mem;
	} c[] = {
	    {"argon2id-ops-0.acrd", "opslimit 0", 0, MEM_KIB},
	    {"argon2id-ops-1.acrd", "opslimit 1 (under 2)", 1, MEM_KIB},
	    {"argon2id-ops-11.acrd", "opslimit 11 (over 10)", 11, MEM_KIB},
	    {"argon2id-ops-max.acrd", "opslimit 2^32-1", 0xffffffffu, MEM_KIB},
	    {"argon2id-mem-low.acrd", "memlimit 64 MiB - 1 KiB", OPS, 65535},
	    {"argon2id-mem-high.acrd", "memlimit 1 GiB + 1 KiB", OPS, 1048577},
	    {"argon2id-mem-4tib.acrd", "memlimit 2^32-1 KiB (~4 TiB)", OPS,
	     0xffffffffu},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct hdr h = argon_hdr();

		h.ops = c[i].ops;
		h.mem_kib = c[i].mem;
		bad_header(c[i].name, h, "SEALED_E_KDF_LIMITS", c[i].why);
	}
}

static void length_rules(void)
{
	unsigned char out[BIG], pt[RECORD_MAX + 1024];
	size_t n;

	memset(pt, 0, sizeof(pt));
	n = seal(out, &raw_hdr, key_raw, "default",
		 (const unsigned char *)record, strlen(record));
	emit("empty.acrd", out, 0, "SEALED_E_TRUNCATED", "default", "raw",
	     "zero bytes");
	emit("truncated-header.acrd", out, 63, "SEALED_E_TRUNCATED", "default",
	     "raw", "63 bytes: less than a header");
	emit("header-only.acrd", out, HDR, "SEALED_E_LENGTH", "default", "raw",
	     "a header and no ciphertext");
	emit("truncated-tag.acrd", out, n - 1, "SEALED_E_LENGTH", "default",
	     "raw", "last byte of the tag missing");
	out[n] = 0;
	emit("trailing-byte.acrd", out, n + 1, "SEALED_E_LENGTH", "default",
	     "raw", "one byte appended");
	put32(out + 60, (unsigned)(n - HDR + 256));
	emit("ct-len-larger.acrd", out, n, "SEALED_E_LENGTH", "default", "raw",
	     "ct_len says 256 bytes more than the file holds");
	/* Authentic files whose ct_len breaks a bound or the alignment. */
	n = seal_raw(out, &raw_hdr, key_raw, "default", pt, 0);
	emit("ct-len-tag-only.acrd", out, n, "SEALED_E_LENGTH", "default",
	     "raw", "ct_len 16: no padding block");
	n = seal_raw(out, &raw_hdr, key_raw, "default", pt, 300);
	emit("ct-len-unaligned.acrd", out, n, "SEALED_E_LENGTH", "default",
	     "raw", "ct_len 316: plaintext not a multiple of 256");
	n = seal_raw(out, &raw_hdr, key_raw, "default", pt, RECORD_MAX + 512);
	emit("ct-len-over-max.acrd", out, n, "SEALED_E_LENGTH", "default",
	     "raw", "ct_len 8720: over RECORD_MAX padded + tag (8464)");
}

static void flip(const char *name, size_t at, unsigned char bit,
		 const char *why)
{
	unsigned char out[BIG];
	size_t n = seal(out, &raw_hdr, key_raw, "default",
			(const unsigned char *)record, strlen(record));

	out[at < n ? at : n - 1] ^= bit;
	emit(name, out, n, "SEALED_E_AUTH", "default", "raw", why);
}

static void auth_rules(void)
{
	unsigned char out[BIG], pt[512];
	struct hdr a = argon_hdr();
	size_t n;

	flip("tag-flipped.acrd", (size_t)-1, 0x01, "last tag bit flipped");
	flip("ciphertext-flipped.acrd", HDR + 5, 0x20,
	     "a ciphertext bit flipped");
	flip("nonce-flipped.acrd", 40, 0x04, "a nonce bit flipped");
	n = seal(out, &a, key_argon, "ci", (const unsigned char *)record,
		 strlen(record));
	out[20] ^= 1;
	emit("salt-flipped.acrd", out, n, "SEALED_E_AUTH", "ci", "argon2id",
	     "a salt bit flipped (the salt is in the AAD)");
	n = seal(out, &raw_hdr, key_other, "default",
		 (const unsigned char *)record, strlen(record));
	emit("wrong-key.acrd", out, n, "SEALED_E_AUTH", "default", "raw",
	     "sealed with another key");
	n = seal(out, &raw_hdr, key_raw, "other", (const unsigned char *)record,
		 strlen(record));
	emit("transplant.acrd", out, n, "SEALED_E_AUTH", "default", "raw",
	     "sealed for profile 'other', read as 'default'");
	memset(pt, 'x', sizeof(pt));
	n = seal_raw(out, &raw_hdr, key_raw, "default", pt, 256);
	emit("padding-missing.acrd", out, n, "SEALED_E_PADDING", "default",
	     "raw", "authentic plaintext without a 0x80 marker");
	memset(pt, 0, sizeof(pt));
	pt[10] = 0x80;
	n = seal_raw(out, &raw_hdr, key_raw, "default", pt, 512);
	emit("padding-two-blocks.acrd", out, n, "SEALED_E_PADDING", "default",
	     "raw", "authentic, marker in the first of two padding blocks");
}

static void misc_rules(void)
{
	unsigned char out[BIG];
	size_t n = seal(out, &raw_hdr, key_raw, "default",
			(const unsigned char *)record, strlen(record));

	out[0] = 'X';
	emit("bad-magic.acrd", out, n, "SEALED_E_MAGIC", "default", "raw",
	     "first magic byte changed");
	n = seal(out, &raw_hdr, key_raw, "default",
		 (const unsigned char *)record, strlen(record));
	/* What a CRLF-to-LF text-mode copy does to the magic. */
	memmove(out + 4, out + 5, n - 5);
	emit("magic-crlf-mangled.acrd", out, n - 1, "SEALED_E_MAGIC", "default",
	     "raw", "\\r\\n in the magic turned into \\n");
}

static FILE *open_out(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w"))) {
		perror(path);
		exit(1);
	}
	return f;
}

static void keys(void)
{
	for (int i = 0; i < 32; i++) {
		key_raw[i] = (unsigned char)i;
		key_other[i] = 0xff;
	}
	for (int i = 0; i < 24; i++)
		nonce[i] = (unsigned char)(0x40 + i);
	for (int i = 0; i < 16; i++)
		salt[i] = (unsigned char)(0x80 + i);
	if (crypto_pwhash(key_argon, 32, PASSPHRASE, strlen(PASSPHRASE), salt,
			  OPS, (size_t)MEM_KIB * 1024,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 2 || sodium_init() < 0) {
		fputs("usage: sealed-vectors DIR\n", stderr);
		return 2;
	}
	dir = argv[1];
	keys();
	manifest = open_out("MANIFEST");
	readme = open_out("README.md");
	fputs("# ACRD v1 test vectors\n\n"
	      "Generated by `tests/tools/sealed-vectors.c` (fixed key, nonce, "
	      "salt\nand passphrase; `t0300-sealed.sh` checks that they "
	      "regenerate byte\nfor byte).  Raw key: bytes 0x00..0x1f.  Nonce: "
	      "0x40..0x57.  Salt:\n0x80..0x8f.  Passphrase: `" PASSPHRASE
	      "`, Argon2id ops 2, 64 MiB\n(key column `argon2id`).  Valid "
	      "vectors have their record in\n`NAME.record`.  `MANIFEST` is the "
	      "machine-readable list\n(`FILE EXPECT PROFILE KEY`) that "
	      "`tests/unit/test_sealed_format.c`\nreads.  Rejections due to a "
	      "header rule carry a tag that is valid for\nthat header: the "
	      "rule, not the tag, refuses them.\n\n"
	      "| file | expected | key | what |\n|---|---|---|---|\n",
	      readme);
	valid();
	header_rules();
	kdf_rules();
	length_rules();
	auth_rules();
	misc_rules();
	if (fclose(manifest) || fclose(readme))
		return 1;
	return 0;
}
