#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sodium.h>

#include "helper/log.h"
#include "helper/secmem.h"

void *secmem_alloc(size_t n)
{
	void *p = sodium_malloc(n ? n : 1);

	if (!p)
		die_oom();
	return p;
}

void secmem_free(void *p)
{
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
	cJSON_Hooks h = { json_malloc, json_free };

	cJSON_InitHooks(&h);
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
