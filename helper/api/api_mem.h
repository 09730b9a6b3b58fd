/*
 * api_mem.h: libcurl's and OpenSSL's memory wiped when it is freed
 * (security.md 3.8, M-02).  Private to net.so.
 *
 * libcurl copies the Authorization header into its request buffers and
 * the answer (a rotate or create carries the new token) into its receive
 * buffer; OpenSSL decrypts that answer in place in its read buffer.  Both
 * libraries let a program replace their allocator, so every block they
 * free is wiped first, its whole usable size (malloc_usable_size), and a
 * realloc copies into a new block and wipes the old one.  The wrappers
 * sit directly on libc's malloc, with no header of their own, so a block
 * allocated before they were installed is freed correctly by them and the
 * other way round.
 */
#ifndef ASTRO_CRED_API_MEM_H
#define ASTRO_CRED_API_MEM_H

#include <curl/curl.h>

/*
 * curl_global_init() with the wiping allocator (curl_global_init_mem),
 * after pointing OpenSSL's allocator at wiping functions if OpenSSL has
 * allocated nothing yet (else silently not).  Call it before any other
 * libcurl call, and pair it with curl_global_cleanup().
 */
CURLcode api_mem_global_init(void);

/*
 * Set SSL_OP_CLEANSE_PLAINTEXT on the connections h makes (OpenSSL wipes
 * each record's plaintext once it is read) when libcurl's TLS backend is
 * the OpenSSL net.so was built for; otherwise nothing.  After each
 * curl_easy_reset().
 */
void api_mem_tls(CURL *h);

#endif
