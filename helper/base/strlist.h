/* strlist.h: a growable list of owned, ordinary (non-secret) strings. */
#ifndef ASTRO_CRED_STRLIST_H
#define ASTRO_CRED_STRLIST_H

#include <stddef.h>

struct strlist {
	char **v;
	size_t n, alloc;
};
#define STRLIST_INIT                                                           \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void strlist_push(struct strlist *l, const char *s);
void strlist_sort(struct strlist *l);
/* Index of s, or -1; linear. */
long strlist_find(const struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);

#endif
