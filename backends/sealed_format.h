/*
 * sealed_format.h: the ACRD v1 sealed-file format as pure functions
 * (buffers in, buffers out, no I/O), so that unit tests, the vector
 * generator and the fuzzer reach every rule.  docs/sealed-format.md is the
 * byte-by-byte description; security.md section 5 the rationale.
 *
 *   off len field
 *   0   8   magic        "ACRD\r\n\x1a\n"
 *   8   1   version      1
 *   9   1   key_source   0 raw 32-byte key, 1 Argon2id over a passphrase
 *   10  1   aead         1 XChaCha20-Poly1305-IETF
 *   11  1   flags        0
 *   12  4   opslimit     u32 LE; 0 for key_source 0, else 2..10
 *   16  4   memlimit_kib u32 LE; 0 for key_source 0, else 65536..1048576
 *   20  16  salt         all zero for key_source 0
 *   36  24  nonce        fresh per write
 *   60  4   ct_len       u32 LE == file size - 64, 272..8464,
 * (ct_len-16)%256==0 64  ct_len           ciphertext || tag
 *
 * AAD = header ‖ u16le(len(ctx)) ‖ ctx, ctx = "astro-cred/v1" 0x00 name.
 * Plaintext = the record padded with sodium_pad to a 256-byte block.
 */
#ifndef ASTRO_CRED_SEALED_FORMAT_H
#define ASTRO_CRED_SEALED_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "helper/base/secmem.h"

#define SEALED_MAGIC		      "ACRD\r\n\x1a\n"
#define SEALED_MAGIC_LEN	      8
#define SEALED_VERSION		      1
#define SEALED_AEAD_XCHACHA20POLY1305 1
#define SEALED_HEADER_LEN	      64
#define SEALED_KEY_LEN		      32
#define SEALED_SALT_LEN		      16
#define SEALED_NONCE_LEN	      24
#define SEALED_TAG_LEN		      16
#define SEALED_PAD_BLOCK	      256
/* sodium_pad always adds at least one byte: RECORD_MAX pads to 8448. */
#define SEALED_PADDED_MAX                                                      \
	((RECORD_MAX / SEALED_PAD_BLOCK + 1) * SEALED_PAD_BLOCK)
#define SEALED_CT_MIN	(SEALED_PAD_BLOCK + SEALED_TAG_LEN)
#define SEALED_CT_MAX	(SEALED_PADDED_MAX + SEALED_TAG_LEN)
#define SEALED_FILE_MIN (SEALED_HEADER_LEN + SEALED_CT_MIN)
#define SEALED_FILE_MAX (SEALED_HEADER_LEN + SEALED_CT_MAX)
/* Longest name bound into the context (profile names are at most 64). */
#define SEALED_NAME_MAX 128

/* Argon2id caps applied to any header before the KDF runs. */
#define SEALED_OPS_MIN	   2U
#define SEALED_OPS_MAX	   10U
#define SEALED_MEM_KIB_MIN 65536U   /* 64 MiB */
#define SEALED_MEM_KIB_MAX 1048576U /* 1 GiB */

enum sealed_key_source {
	SEALED_KEY_RAW = 0,	 /* a 32-byte key (key file) */
	SEALED_KEY_ARGON2ID = 1, /* Argon2id13 over a passphrase */
};

struct sealed_header {
	uint8_t version, key_source, aead, flags;
	uint32_t opslimit, memlimit_kib;
	uint8_t salt[SEALED_SALT_LEN];
	uint8_t nonce[SEALED_NONCE_LEN];
	uint32_t ct_len;
};

/* Why a file was refused; the order is the order the reader checks. */
enum sealed_err {
	SEALED_OK = 0,
	SEALED_E_TRUNCATED,  /* shorter than a header */
	SEALED_E_MAGIC,	     /* not an ACRD file (or CR/LF-mangled) */
	SEALED_E_VERSION,    /* version other than 1 */
	SEALED_E_KEY_SOURCE, /* unknown key source */
	SEALED_E_AEAD,	     /* unknown AEAD id */
	SEALED_E_FLAGS,	     /* reserved flags not zero */
	SEALED_E_CANONICAL,  /* unused KDF fields not zero (raw key) */
	SEALED_E_KDF_LIMITS, /* Argon2id limits outside the caps */
	SEALED_E_LENGTH,     /* ct_len inconsistent, out of bounds, unaligned */
	SEALED_E_AUTH,	     /* wrong key, or any byte altered */
	SEALED_E_PADDING,    /* authentic, but the padding is malformed */
	SEALED_E_TOO_BIG,    /* record over RECORD_MAX (writer side) */
	SEALED_E_NAME,	     /* context name empty or too long */
};

/* Short, secret-free text for an error, e.g. "unsupported version". */
const char *sealed_strerror(enum sealed_err e);
/* Stable identifier of an error ("SEALED_E_AUTH"), for vectors and tests. */
const char *sealed_errname(enum sealed_err e);

/*
 * Check and decode the header of a whole file buf[0..len): every rule that
 * needs no key (magic, version, ids, flags, canonical zeros, KDF caps,
 * ct_len == len - 64 and its bounds).  Nothing else is read.
 */
enum sealed_err sealed_parse_header(const uint8_t *buf, size_t len,
				    struct sealed_header *h)
    __attribute__((warn_unused_result));

/* Encode h into out[0..64). */
void sealed_encode_header(const struct sealed_header *h,
			  uint8_t out[SEALED_HEADER_LEN]);

/*
 * Open the whole file buf[0..len) with key, bound to context NAME (the
 * profile).  On success the record is appended to out (secret memory);
 * on any failure out is left empty and wiped.  Parses the header again,
 * so a caller cannot skip a rule.
 */
enum sealed_err sealed_open(const uint8_t *buf, size_t len,
			    const uint8_t key[SEALED_KEY_LEN], const char *name,
			    struct secbuf *out)
    __attribute__((warn_unused_result));

/*
 * Seal rec[0..rlen) into out (cap at least sealed_size(rlen)): the header
 * fields key_source/opslimit/memlimit_kib/salt/nonce come from params
 * (version, aead, flags and ct_len are set here).  *outlen gets the size.
 */
enum sealed_err sealed_seal(const struct sealed_header *params,
			    const uint8_t key[SEALED_KEY_LEN], const char *name,
			    const uint8_t *rec, size_t rlen, uint8_t *out,
			    size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/* Size of the sealed file for a record of rlen bytes (rlen <= RECORD_MAX). */
size_t sealed_size(size_t rlen);

#endif
