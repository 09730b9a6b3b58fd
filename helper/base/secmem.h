/*
 * secmem.h: memory for secrets (tokens, passphrases, keys) and ordinary
 * allocation helpers.
 *
 * Secrets live in one secret arena: a single sodium_malloc() region of
 * 16 KiB per process, taken at the first secmem_alloc(), with guard pages
 * around it, mlock() where the limit allows and MADV_DONTDUMP, all paid
 * once.  secmem_alloc() carves 16-byte-aligned blocks out of it; each
 * block has a checked header and an 8-byte random canary right after the
 * bytes asked for, verified on free (and headers on every walk): a
 * mismatch aborts.  secmem_free() wipes the whole block.  Requests over
 * 4 KiB, or that find no room, get their own sodium_malloc() region.
 *
 * What this gives up: sodium_malloc() per allocation put a guard page
 * directly after each secret, so a linear overrun faulted at once; in the
 * arena an overrun lands in the canary or the next block, found at the
 * next free or walk, not at the write.  Acceptable because what the guard
 * pages defend against is the same process's bugs, which the canaries
 * still catch, ASan builds poison every header, canary and free byte
 * (the tests run that way), and the properties that keep secrets out of
 * swap, core files and other processes (mlock, MADV_DONTDUMP, the guard
 * pages around the region, wipe on free) all hold for the arena as a
 * whole.  The gain: each sodium_malloc()/sodium_free() pair is 10 system
 * calls (mmap, mprotect x3, madvise, mlock; mprotect, madvise, munlock,
 * munmap), and a cache-hit `get` made about 7 of them.
 *
 * JSON trees (cJSON) use secmem_json_hooks(): a size-prefixed wrapper
 * around malloc that wipes every block when it is freed, because an API
 * response or a sealed record holds a token in cJSON's valuestring copies.
 */
#ifndef ASTRO_CRED_SECMEM_H
#define ASTRO_CRED_SECMEM_H

#include <stddef.h>

/*
 * Secret allocation (the arena, else sodium_malloc); dies on OOM; thread
 * safe.  secmem_free() wipes the block; secmem_free(NULL) is ok.
 */
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
#define SECBUF_INIT(max_)                                                      \
	{                                                                      \
		NULL, 0, 0, (max_)                                             \
	}
int secbuf_append(struct secbuf *b, const void *p, size_t n)
    __attribute__((warn_unused_result));
/* Wipe, free, and reset to empty (max kept). */
void secbuf_clear(struct secbuf *b);

/* Point cJSON's allocator at the wiping wrapper; call once at start. */
void secmem_json_hooks(void);

/*
 * Zero the vector registers (x86-64; elsewhere nothing): after a memcpy
 * or strlen of a token they hold pieces of it, which a core would carry
 * in its register notes.  main() registers it with atexit() first, so it
 * runs after every other exit handler.
 */
void secmem_clear_registers(void);

/* Ordinary allocation that dies on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
