/*
 * sealed_format.c: encode and decode ACRD v1 (see sealed_format.h and
 * docs/sealed-format.md).  Pure: no I/O, no globals, no logging.
 */
#include <string.h>

#include <sodium.h>

#include "backends/sealed_format.h"

#define CTX_PREFIX "astro-cred/v1"
/* The prefix with its terminating NUL, which separates it from the name. */
#define CTX_PREFIX_LEN (sizeof(CTX_PREFIX))
#define AAD_MAX	       (SEALED_HEADER_LEN + 2 + CTX_PREFIX_LEN + SEALED_NAME_MAX)

static const struct {
	const char *id, *text;
} errs[] = {
    [SEALED_OK] = {"SEALED_OK", "ok"},
    [SEALED_E_TRUNCATED] = {"SEALED_E_TRUNCATED", "file is truncated"},
    [SEALED_E_MAGIC] = {"SEALED_E_MAGIC", "not an astro-cred sealed file"},
    [SEALED_E_VERSION] = {"SEALED_E_VERSION", "unsupported format version"},
    [SEALED_E_KEY_SOURCE] = {"SEALED_E_KEY_SOURCE", "unknown key source"},
    [SEALED_E_AEAD] = {"SEALED_E_AEAD", "unknown encryption algorithm"},
    [SEALED_E_FLAGS] = {"SEALED_E_FLAGS", "unknown flags set"},
    [SEALED_E_CANONICAL] = {"SEALED_E_CANONICAL",
			    "non-canonical header (unused fields set)"},
    [SEALED_E_KDF_LIMITS] = {"SEALED_E_KDF_LIMITS",
			     "key derivation limits out of bounds"},
    [SEALED_E_LENGTH] = {"SEALED_E_LENGTH",
			 "ciphertext length does not match the file"},
    [SEALED_E_AUTH] = {"SEALED_E_AUTH",
		       "wrong key or passphrase, or the file was altered"},
    [SEALED_E_PADDING] = {"SEALED_E_PADDING", "malformed padding"},
    [SEALED_E_TOO_BIG] = {"SEALED_E_TOO_BIG", "record too large"},
    [SEALED_E_NAME] = {"SEALED_E_NAME", "bad context name"},
};

const char *sealed_strerror(enum sealed_err e)
{
	if ((size_t)e >= sizeof(errs) / sizeof(*errs))
		return "unknown error";
	return errs[e].text;
}

const char *sealed_errname(enum sealed_err e)
{
	if ((size_t)e >= sizeof(errs) / sizeof(*errs))
		return "SEALED_E_UNKNOWN";
	return errs[e].id;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void decode_header(const uint8_t *b, struct sealed_header *h)
{
	h->version = b[8];
	h->key_source = b[9];
	h->aead = b[10];
	h->flags = b[11];
	h->opslimit = get_u32(b + 12);
	h->memlimit_kib = get_u32(b + 16);
	memcpy(h->salt, b + 20, SEALED_SALT_LEN);
	memcpy(h->nonce, b + 36, SEALED_NONCE_LEN);
	h->ct_len = get_u32(b + 60);
}

void sealed_encode_header(const struct sealed_header *h,
			  uint8_t out[SEALED_HEADER_LEN])
{
	memcpy(out, SEALED_MAGIC, SEALED_MAGIC_LEN);
	out[8] = h->version;
	out[9] = h->key_source;
	out[10] = h->aead;
	out[11] = h->flags;
	put_u32(out + 12, h->opslimit);
	put_u32(out + 16, h->memlimit_kib);
	memcpy(out + 20, h->salt, SEALED_SALT_LEN);
	memcpy(out + 36, h->nonce, SEALED_NONCE_LEN);
	put_u32(out + 60, h->ct_len);
}

/* The rules on the KDF fields, by key source. */
static enum sealed_err check_kdf(const struct sealed_header *h)
{
	if (h->key_source == SEALED_KEY_RAW) {
		if (h->opslimit || h->memlimit_kib ||
		    !all_zero(h->salt, SEALED_SALT_LEN))
			return SEALED_E_CANONICAL;
		return SEALED_OK;
	}
	if (h->opslimit < SEALED_OPS_MIN || h->opslimit > SEALED_OPS_MAX ||
	    h->memlimit_kib < SEALED_MEM_KIB_MIN ||
	    h->memlimit_kib > SEALED_MEM_KIB_MAX)
		return SEALED_E_KDF_LIMITS;
	return SEALED_OK;
}

static enum sealed_err check_length(uint32_t ct_len, size_t len)
{
	if (len - SEALED_HEADER_LEN != ct_len)
		return SEALED_E_LENGTH;
	if (ct_len < SEALED_CT_MIN || ct_len > SEALED_CT_MAX)
		return SEALED_E_LENGTH;
	if ((ct_len - SEALED_TAG_LEN) % SEALED_PAD_BLOCK)
		return SEALED_E_LENGTH;
	return SEALED_OK;
}

enum sealed_err sealed_parse_header(const uint8_t *buf, size_t len,
				    struct sealed_header *h)
{
	enum sealed_err e;

	if (len < SEALED_HEADER_LEN)
		return SEALED_E_TRUNCATED;
	if (memcmp(buf, SEALED_MAGIC, SEALED_MAGIC_LEN))
		return SEALED_E_MAGIC;
	decode_header(buf, h);
	if (h->version != SEALED_VERSION)
		return SEALED_E_VERSION;
	if (h->key_source != SEALED_KEY_RAW &&
	    h->key_source != SEALED_KEY_ARGON2ID)
		return SEALED_E_KEY_SOURCE;
	if (h->aead != SEALED_AEAD_XCHACHA20POLY1305)
		return SEALED_E_AEAD;
	if (h->flags)
		return SEALED_E_FLAGS;
	if ((e = check_kdf(h)) != SEALED_OK)
		return e;
	return check_length(h->ct_len, len);
}

/* AAD = header ‖ u16le(len(ctx)) ‖ ctx; returns its length or 0. */
static size_t build_aad(const uint8_t *hdr, const char *name,
			uint8_t aad[AAD_MAX])
{
	size_t nlen = name ? strlen(name) : 0, clen;

	if (!nlen || nlen > SEALED_NAME_MAX)
		return 0;
	clen = CTX_PREFIX_LEN + nlen;
	memcpy(aad, hdr, SEALED_HEADER_LEN);
	aad[SEALED_HEADER_LEN] = (uint8_t)clen;
	aad[SEALED_HEADER_LEN + 1] = (uint8_t)(clen >> 8);
	memcpy(aad + SEALED_HEADER_LEN + 2, CTX_PREFIX, CTX_PREFIX_LEN);
	memcpy(aad + SEALED_HEADER_LEN + 2 + CTX_PREFIX_LEN, name, nlen);
	return SEALED_HEADER_LEN + 2 + clen;
}

static enum sealed_err unpad_into(uint8_t *pt, size_t ptlen, struct secbuf *out)
{
	size_t rlen;

	if (sodium_unpad(&rlen, pt, ptlen, SEALED_PAD_BLOCK) != 0)
		return SEALED_E_PADDING;
	if (rlen > RECORD_MAX || secbuf_append(out, pt, rlen) < 0)
		return SEALED_E_TOO_BIG;
	return SEALED_OK;
}

enum sealed_err sealed_open(const uint8_t *buf, size_t len,
			    const uint8_t key[SEALED_KEY_LEN], const char *name,
			    struct secbuf *out)
{
	struct sealed_header h;
	uint8_t aad[AAD_MAX], *pt = NULL;
	unsigned long long ptlen;
	size_t alen;
	enum sealed_err e;

	secbuf_clear(out);
	if ((e = sealed_parse_header(buf, len, &h)) != SEALED_OK)
		return e;
	if (!(alen = build_aad(buf, name, aad)))
		return SEALED_E_NAME;
	pt = secmem_alloc(h.ct_len - SEALED_TAG_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		pt, &ptlen, NULL, buf + SEALED_HEADER_LEN, h.ct_len, aad, alen,
		h.nonce, key) != 0) {
		e = SEALED_E_AUTH;
		goto out;
	}
	e = unpad_into(pt, (size_t)ptlen, out);
out:
	secmem_free(pt); /* sodium_free wipes */
	if (e != SEALED_OK)
		secbuf_clear(out);
	return e;
}

size_t sealed_size(size_t rlen)
{
	return SEALED_HEADER_LEN +
	       (rlen / SEALED_PAD_BLOCK + 1) * SEALED_PAD_BLOCK +
	       SEALED_TAG_LEN;
}

static enum sealed_err seal_check(const struct sealed_header *h, size_t rlen,
				  size_t cap)
{
	if (rlen > RECORD_MAX)
		return SEALED_E_TOO_BIG;
	if (cap < sealed_size(rlen))
		return SEALED_E_LENGTH;
	if (h->key_source != SEALED_KEY_RAW &&
	    h->key_source != SEALED_KEY_ARGON2ID)
		return SEALED_E_KEY_SOURCE;
	return check_kdf(h);
}

enum sealed_err sealed_seal(const struct sealed_header *params,
			    const uint8_t key[SEALED_KEY_LEN], const char *name,
			    const uint8_t *rec, size_t rlen, uint8_t *out,
			    size_t cap, size_t *outlen)
{
	struct sealed_header h = *params;
	uint8_t aad[AAD_MAX], *pt;
	size_t alen, plen, padcap;
	enum sealed_err e;

	if ((e = seal_check(&h, rlen, cap)) != SEALED_OK)
		return e;
	padcap = sealed_size(rlen) - SEALED_HEADER_LEN - SEALED_TAG_LEN;
	h.version = SEALED_VERSION;
	h.aead = SEALED_AEAD_XCHACHA20POLY1305;
	h.flags = 0;
	h.ct_len = (uint32_t)(padcap + SEALED_TAG_LEN);
	sealed_encode_header(&h, out);
	if (!(alen = build_aad(out, name, aad)))
		return SEALED_E_NAME;
	pt = secmem_alloc(padcap);
	if (rlen)
		memcpy(pt, rec, rlen);
	if (sodium_pad(&plen, pt, rlen, SEALED_PAD_BLOCK, padcap) != 0 ||
	    plen != padcap) {
		secmem_free(pt);
		return SEALED_E_PADDING;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEALED_HEADER_LEN,
						   NULL, pt, plen, aad, alen,
						   NULL, h.nonce, key);
	secmem_free(pt);
	*outlen = SEALED_HEADER_LEN + h.ct_len;
	return SEALED_OK;
}
