/*
 * secmem.h: memory for secrets (tokens, passphrases, keys) and ordinary
 * allocation helpers.
 *
 * Secrets live in sodium_malloc() memory: guard pages, a canary, mlock()
 * where the limit allows, MADV_DONTDUMP, and zeroing on free.  Each such
 * allocation costs an mmap, so only secrets go there.  JSON trees (cJSON)
 * use secmem_json_hooks(): a size-prefixed wrapper around malloc that
 * wipes every block when it is freed, because an API response or a sealed
 * record holds a token in cJSON's valuestring copies.
 */
#ifndef ASTRO_CRED_SECMEM_H
#define ASTRO_CRED_SECMEM_H

#include <stddef.h>

/* Secret allocation (sodium_malloc); dies on OOM.  secmem_free(NULL) is ok. */
void *secmem_alloc(size_t n);
void secmem_free(void *p);
/* NUL-terminated secret copy of the first n bytes of s. */
char *secmem_strndup(const char *s, size_t n);
char *secmem_strdup(const char *s);
/* Wipe a buffer we own (sodium_memzero). */
void secmem_wipe(void *p, size_t n);

/*
 * A growable byte buffer in secret memory with a hard ceiling: appending
 * past max fails (returns -1) and never truncates silently.  data is always
 * NUL-terminated after len bytes.
 */
struct secbuf {
	unsigned char *data;
	size_t len, cap, max;
};
#define SECBUF_INIT(max_) { NULL, 0, 0, (max_) }
int secbuf_append(struct secbuf *b, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* Wipe, free, and reset to empty (max kept). */
void secbuf_clear(struct secbuf *b);

/* Point cJSON's allocator at the wiping wrapper; call once at start. */
void secmem_json_hooks(void);

/* Ordinary allocation that dies on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
