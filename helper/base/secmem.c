/*
 * secmem.c: the secret arena (see secmem.h for what it gives and what it
 * gives up), the bounded secret buffer and the wiping cJSON hooks.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "helper/base/log.h"
#include "helper/base/secmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define SECMEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECMEM_ASAN 1
#endif
#endif
#ifdef SECMEM_ASAN
#include <sanitizer/asan_interface.h>
#define SECMEM_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define SECMEM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SECMEM_POISON(p, n)   ((void)(p), (void)(n))
#define SECMEM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/*
 * The arena: SECMEM_ARENA_SIZE bytes from one sodium_malloc() (sodium
 * adds a canary, so ask for 16 bytes less to stay within whole pages and
 * keep the start 16-byte aligned).  mlock() faults in every page of it,
 * so it is sized for what a command holds at once (a cache-hit `get`
 * peaks under 4 KiB), not for the largest secret.
 *
 * Blocks are [header][payload][trailer canary][padding], in address
 * order, each header 16 bytes and payloads 16-byte aligned.  Requests
 * over SECMEM_ARENA_LARGE, or that find no room, get their own
 * sodium_malloc() region as before.
 */
#define SECMEM_ARENA_SIZE  (16 * 1024)
#define SECMEM_ARENA_LARGE (4 * 1024)
#define SECMEM_ALIGN	   16
#define SECMEM_HDR	   16
#define SECMEM_TRAILER	   8

struct secmem_hdr {
	uint32_t len;	/* bytes asked for; 0 in a free block */
	uint32_t cap;	/* payload bytes up to the next header */
	uint64_t check; /* canary ^ len ^ cap ^ in-use bit */
};

static pthread_mutex_t secmem_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *arena;
static size_t arena_size;
static uint64_t canary;
static int arena_failed;

static uint64_t secmem_check(const struct secmem_hdr *h, int used)
{
	return canary ^ ((uint64_t)h->cap << 32 | h->len) ^ (uint64_t)used;
}

_Noreturn static void secmem_corrupt(const void *p)
{
	error("secret memory corrupted near %p; aborting", p);
	abort();
}

/* The header at OFF, checked: in use (used=1), free (0), or either (-1). */
static struct secmem_hdr *secmem_block(size_t off, int used)
{
	struct secmem_hdr *h = (struct secmem_hdr *)(void *)(arena + off);
	int u;

	SECMEM_UNPOISON(h, SECMEM_HDR);
	u = h->len != 0;
	if ((used >= 0 && u != used) || h->check != secmem_check(h, u) ||
	    h->cap % SECMEM_ALIGN || h->cap > arena_size - off - SECMEM_HDR ||
	    (u && (size_t)h->len + SECMEM_TRAILER > h->cap))
		secmem_corrupt(h);
	return h;
}

static void secmem_set(struct secmem_hdr *h, uint32_t len, uint32_t cap)
{
	h->len = len;
	h->cap = cap;
	h->check = secmem_check(h, len != 0);
}

/*
 * One sodium_malloc() region for the life of the process: its guard
 * pages, mlock() and MADV_DONTDUMP are paid once.  Fails softly (every
 * request then takes the per-allocation path).
 */
static int secmem_arena_init(void)
{
	struct secmem_hdr *h;

	if (arena)
		return 0;
	if (arena_failed)
		return -1;
	arena = sodium_malloc(SECMEM_ARENA_SIZE - 16);
	if (!arena) {
		arena_failed = 1;
		return -1;
	}
	arena_size = SECMEM_ARENA_SIZE - 16;
	randombytes_buf(&canary, sizeof(canary));
	h = (struct secmem_hdr *)(void *)arena;
	secmem_set(h, 0, (uint32_t)(arena_size - SECMEM_HDR));
	SECMEM_POISON(arena, arena_size);
	return 0;
}

/* Merge the free blocks that follow the free block at OFF into it. */
static void secmem_coalesce(struct secmem_hdr *h, size_t off)
{
	for (;;) {
		size_t next = off + SECMEM_HDR + h->cap;
		struct secmem_hdr *n;

		if (next >= arena_size)
			return;
		n = secmem_block(next, -1);
		if (n->len) {
			SECMEM_POISON(n, SECMEM_HDR);
			return;
		}
		/* The merged header's bytes become free payload: wipe them. */
		secmem_set(h, 0, h->cap + SECMEM_HDR + n->cap);
		sodium_memzero(n, SECMEM_HDR);
		SECMEM_POISON(n, SECMEM_HDR);
	}
}

/* Take LEN bytes from the free block H at OFF, splitting off the rest. */
static void *secmem_take(struct secmem_hdr *h, size_t off, size_t len,
			 size_t need)
{
	unsigned char *payload = arena + off + SECMEM_HDR;
	size_t cap = h->cap;

	SECMEM_UNPOISON(payload, cap);
	if (cap >= need + SECMEM_HDR + SECMEM_ALIGN) {
		struct secmem_hdr *rest =
		    (struct secmem_hdr *)(void *)(payload + need);

		secmem_set(rest, 0, (uint32_t)(cap - need - SECMEM_HDR));
		SECMEM_POISON(rest, cap - need);
		cap = need;
	}
	secmem_set(h, (uint32_t)len, (uint32_t)cap);
	memcpy(payload + len, &canary, SECMEM_TRAILER);
	SECMEM_POISON(h, SECMEM_HDR);
	SECMEM_POISON(payload + len, cap - len);
	return payload;
}

/* First fit in the arena, or NULL when nothing is free that is big enough. */
static void *secmem_arena_alloc(size_t len)
{
	size_t need = (len + SECMEM_TRAILER + SECMEM_ALIGN - 1) &
		      ~(size_t)(SECMEM_ALIGN - 1);
	size_t off = 0;

	while (off < arena_size) {
		struct secmem_hdr *h = secmem_block(off, -1);

		if (!h->len) {
			secmem_coalesce(h, off);
			if (h->cap >= need)
				return secmem_take(h, off, len, need);
		}
		off += SECMEM_HDR + h->cap;
		SECMEM_POISON(h, SECMEM_HDR);
	}
	return NULL;
}

static int secmem_in_arena(const void *p)
{
	uintptr_t a = (uintptr_t)arena, q = (uintptr_t)p;

	return arena && q >= a + SECMEM_HDR && q < a + arena_size;
}

/* Check the block's header and trailer, wipe it all, mark it free. */
static void secmem_arena_free(unsigned char *p)
{
	size_t off = (size_t)(p - arena) - SECMEM_HDR;
	struct secmem_hdr *h;

	if (off % SECMEM_ALIGN)
		secmem_corrupt(p);
	h = secmem_block(off, 1);
	SECMEM_UNPOISON(p, h->cap);
	if (sodium_memcmp(p + h->len, &canary, SECMEM_TRAILER))
		secmem_corrupt(p);
	sodium_memzero(p, h->cap);
	secmem_set(h, 0, h->cap);
	SECMEM_POISON(h, SECMEM_HDR + h->cap);
}

void *secmem_alloc(size_t n)
{
	void *p = NULL;

	if (!n)
		n = 1;
	if (n <= SECMEM_ARENA_LARGE) {
		pthread_mutex_lock(&secmem_lock);
		if (secmem_arena_init() == 0)
			p = secmem_arena_alloc(n);
		pthread_mutex_unlock(&secmem_lock);
	}
	if (!p)
		p = sodium_malloc(n);
	if (!p)
		die_oom();
	return p;
}

void secmem_free(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&secmem_lock);
	if (secmem_in_arena(p)) {
		secmem_arena_free(p);
		p = NULL;
	}
	pthread_mutex_unlock(&secmem_lock);
	if (p)
		sodium_free(p);
}

char *secmem_strndup(const char *s, size_t n)
{
	char *p = secmem_alloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *secmem_strdup(const char *s)
{
	return secmem_strndup(s, strlen(s));
}

void secmem_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

int secbuf_append(struct secbuf *b, const void *p, size_t n)
{
	size_t need;

	if (n > b->max || b->len > b->max - n)
		return -1;
	need = b->len + n + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *nd;

		while (cap < need)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		nd = secmem_alloc(cap);
		if (b->len)
			memcpy(nd, b->data, b->len);
		secmem_free(b->data);
		b->data = nd;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void secbuf_clear(struct secbuf *b)
{
	secmem_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * cJSON hooks: each block carries its size in a header so that free can
 * wipe it.  16 bytes keep the payload aligned for any type.
 */
#define HOOK_HDR 16

static void *json_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - HOOK_HDR)
		return NULL;
	p = malloc(n + HOOK_HDR);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + HOOK_HDR;
}

static void json_free(void *q)
{
	unsigned char *p;
	size_t n;

	if (!q)
		return;
	p = (unsigned char *)q - HOOK_HDR;
	memcpy(&n, p, sizeof(n));
	sodium_memzero(p, n + HOOK_HDR);
	free(p);
}

void secmem_json_hooks(void)
{
	cJSON_Hooks h = {json_malloc, json_free};

	cJSON_InitHooks(&h);
}

/*
 * glibc's AVX-512 string functions work in zmm16-31 (no vzeroupper
 * needed), its AVX2 and SSE ones in the low sixteen; the compiler is not
 * told about zmm16-31, which it does not use without -mavx512f.
 */
void secmem_clear_registers(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx512f"))
		__asm__ volatile("vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
				 "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
				 "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
				 "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
				 "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
				 "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
				 "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
				 "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
				 "vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
				 "vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
				 "vpxord %%zmm26, %%zmm26, %%zmm26\n\t"
				 "vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
				 "vpxord %%zmm28, %%zmm28, %%zmm28\n\t"
				 "vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
				 "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
				 "vpxord %%zmm31, %%zmm31, %%zmm31" ::
				     : "memory");
	/* vzeroall clears all of registers 0-15, zmm bits included. */
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vzeroall" ::
				     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
				       "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
				       "xmm10", "xmm11", "xmm12", "xmm13",
				       "xmm14", "xmm15", "memory");
	else
		__asm__ volatile("pxor %%xmm0, %%xmm0\n\t"
				 "pxor %%xmm1, %%xmm1\n\t"
				 "pxor %%xmm2, %%xmm2\n\t"
				 "pxor %%xmm3, %%xmm3\n\t"
				 "pxor %%xmm4, %%xmm4\n\t"
				 "pxor %%xmm5, %%xmm5\n\t"
				 "pxor %%xmm6, %%xmm6\n\t"
				 "pxor %%xmm7, %%xmm7\n\t"
				 "pxor %%xmm8, %%xmm8\n\t"
				 "pxor %%xmm9, %%xmm9\n\t"
				 "pxor %%xmm10, %%xmm10\n\t"
				 "pxor %%xmm11, %%xmm11\n\t"
				 "pxor %%xmm12, %%xmm12\n\t"
				 "pxor %%xmm13, %%xmm13\n\t"
				 "pxor %%xmm14, %%xmm14\n\t"
				 "pxor %%xmm15, %%xmm15" ::
				     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
				       "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
				       "xmm10", "xmm11", "xmm12", "xmm13",
				       "xmm14", "xmm15", "memory");
#endif
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom();
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
