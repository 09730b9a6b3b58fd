/* Placeholder until the secret-stores issue lands the sealed file. */
#include "backends/sealed.h"
#include "helper/log.h"

static enum status nyi(void)
{
	return fail(ST_STORE, "the sealed file backend is not implemented yet");
}

static enum status s_get(const char *p, struct secbuf *r)
{
	(void)p;
	(void)r;
	return nyi();
}

static enum status s_store(const char *p, const unsigned char *r, size_t n)
{
	(void)p;
	(void)r;
	(void)n;
	return nyi();
}

static enum status s_erase(const char *p)
{
	(void)p;
	return nyi();
}

static enum status s_list(struct strlist *l)
{
	(void)l;
	return nyi();
}

static int s_available(void)
{
	return 1;
}

const struct backend sealed_backend = {
	.name = "file",
	.get = s_get,
	.store = s_store,
	.erase = s_erase,
	.list = s_list,
	.available = s_available,
};
