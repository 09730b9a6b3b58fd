/*
 * api_mem.c: wiping allocators for libcurl and OpenSSL (see api_mem.h).
 *
 * Why malloc_usable_size() and not a size header as secmem's cJSON hooks
 * use: libcurl may have allocated with plain malloc before its allocator
 * is replaced (and frees those blocks with the replacement) and OpenSSL
 * refuses a replacement once it has allocated; with no header of ours
 * every block is an ordinary malloc block, whichever function made it.
 * The usable size covers at least the bytes asked for (glibc: the whole
 * chunk; ASan and Valgrind: exactly the bytes asked for), so wiping it
 * never touches a byte the allocator did not hand out.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "helper/api/api_mem.h"
#include "helper/base/secmem.h"

static void wipe_free(void *p)
{
	if (!p)
		return;
	secmem_wipe(p, malloc_usable_size(p));
	free(p);
}

/*
 * realloc never leaves the old block unwiped: a shrink keeps the block (a
 * later free wipes all of it), a growth copies into a new one.
 */
static void *wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (n <= old)
		return p;
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old);
	wipe_free(p);
	return q;
}

/* OpenSSL's signatures, and its defaults' answer to 0 bytes: NULL. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return n ? malloc(n) : NULL;
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return p || n ? wipe_realloc(p, n) : NULL;
}

static void ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	wipe_free(p);
}

CURLcode api_mem_global_init(void)
{
	static int ossl_tried;

	/*
	 * Only before OpenSSL's first allocation (it returns 0 after one,
	 * and then keeps its own; SSL_OP_CLEANSE_PLAINTEXT still applies).
	 * libcurl initializes OpenSSL in curl_global_init, hence here.
	 */
	if (!ossl_tried) {
		ossl_tried = 1;
		CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
	}
	return curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free,
				    wipe_realloc, strdup, calloc);
}

#ifdef SSL_OP_CLEANSE_PLAINTEXT
static CURLcode on_ssl_ctx(CURL *h, void *ssl_ctx, void *ud)
{
	(void)h;
	(void)ud;
	SSL_CTX_set_options(ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
	return CURLE_OK;
}

/*
 * libcurl's TLS backend is the OpenSSL whose SSL_CTX we may touch only if
 * it is the one net.so is linked with: "OpenSSL/<our major>.".
 */
static int backend_is_our_openssl(void)
{
	static int known, ours;
	const curl_version_info_data *v;
	char want[32];

	if (known)
		return ours;
	known = 1;
	v = curl_version_info(CURLVERSION_NOW);
	snprintf(want, sizeof(want), "OpenSSL/%u.", OPENSSL_version_major());
	ours =
	    v && v->ssl_version && !strncmp(v->ssl_version, want, strlen(want));
	return ours;
}
#endif

void api_mem_tls(CURL *h)
{
#ifdef SSL_OP_CLEANSE_PLAINTEXT
	if (backend_is_our_openssl())
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
#else
	(void)h;
#endif
}
