#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "helper/base/log.h"
#include "helper/base/secmem.h"
#include "helper/base/strlist.h"
#include "tests/unit/tap.h"

static void test_secbuf(void)
{
	struct secbuf b = SECBUF_INIT(10);

	ok(secbuf_append(&b, "hello", 5) == 0, "append within ceiling");
	ok(secbuf_append(&b, "world", 5) == 0, "append up to ceiling");
	is_int(b.len, 10, "length is 10");
	ok(secbuf_append(&b, "!", 1) < 0, "append past ceiling refused");
	is_int(b.len, 10, "refused append changed nothing");
	is_str((char *)b.data, "helloworld", "contents NUL-terminated");
	secbuf_clear(&b);
	ok(b.data == NULL && b.len == 0, "clear resets");
	ok(secbuf_append(&b, "", 0) == 0 && b.len == 0, "empty append");
	secbuf_clear(&b);
}

/* Allocate, fill, free in a shuffled order, many rounds: nothing bleeds. */
static void test_arena_churn(void)
{
	enum { N = 40 };
	unsigned char *p[N] = {0};
	size_t len[N] = {0};
	int bad = 0, misaligned = 0;
	void *small[8];

	for (int round = 0; round < 200; round++) {
		int i = (int)randombytes_uniform(N);

		if (p[i]) {
			for (size_t k = 0; k < len[i]; k++)
				bad += p[i][k] != (unsigned char)(i + 1);
			secmem_free(p[i]);
			p[i] = NULL;
			continue;
		}
		len[i] = 1 + randombytes_uniform(round % 7 ? 600 : 6000);
		p[i] = secmem_alloc(len[i]);
		memset(p[i], i + 1, len[i]);
	}
	for (int i = 0; i < N; i++)
		secmem_free(p[i]);
	is_int(bad, 0, "blocks keep their contents through churn");
	/* Arena blocks are aligned (sodium_malloc's fallback is not). */
	for (int i = 0; i < 8; i++) {
		small[i] = secmem_alloc((size_t)(1 + i * 13));
		misaligned += ((uintptr_t)small[i] % 16) != 0;
	}
	for (int i = 0; i < 8; i++)
		secmem_free(small[i]);
	is_int(misaligned, 0, "small blocks are 16-byte aligned");
}

/* A freed block comes back wiped when its place is reused. */
static void test_arena_wipe(void)
{
	unsigned char *a = secmem_alloc(200), *b;
	int nonzero = 0;

	memset(a, 'S', 200);
	secmem_free(a);
	b = secmem_alloc(200);
	if (b == a)
		for (int k = 0; k < 200; k++)
			nonzero += b[k] != 0;
	ok(b == a, "the freed block is reused first");
	is_int(nonzero, 0, "and it was wiped");
	secmem_free(b);
}

/* More than the arena holds: the rest falls back to sodium_malloc. */
static void test_arena_full(void)
{
	enum { N = 64 };
	unsigned char *p[N];
	int bad = 0;

	for (int i = 0; i < N; i++) {
		p[i] = secmem_alloc(1000);
		memset(p[i], i, 1000);
	}
	for (int i = 0; i < N; i++)
		bad += p[i][0] != i || p[i][999] != i;
	for (int i = 0; i < N; i++)
		secmem_free(p[i]);
	is_int(bad, 0, "64 KB of blocks past a 16 KB arena all usable");
}

/* Writing past a block, then freeing it, kills the process. */
static void test_arena_overrun(void)
{
	pid_t pid = fork();
	int ws = 0;

	if (pid == 0) {
		unsigned char *q = secmem_alloc(24);
		volatile unsigned char *v = q;

		fclose(stderr);
		v[24] = 'X';
		secmem_free(q);
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &ws, 0) == pid &&
	       !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0),
	   "an overrun past the block is caught");
}

static void test_sanitize(void)
{
	char out[64];

	log_sanitize(out, sizeof(out), "a\x1b[2Jb\n");
	is_str(out, "a\\x1b[2Jb\\x0a", "control bytes escaped");
	log_sanitize(out, 6, "abcdefgh");
	is_str(out, "abcde", "capped at buffer size");
	log_sanitize(out, 6, "ab\x01zzz");
	is_str(out, "ab", "escape never split at the cap");
}

static void test_json_hooks(void)
{
	cJSON *o;
	char *s;

	secmem_json_hooks();
	o = cJSON_Parse("{\"token\":\"abc\"}");
	ok(o != NULL, "cJSON parses with wiping hooks");
	s = cJSON_PrintUnformatted(o);
	is_str(s, "{\"token\":\"abc\"}", "and prints");
	cJSON_free(s);
	cJSON_Delete(o);
}

static void test_strlist(void)
{
	struct strlist l = STRLIST_INIT;

	strlist_push(&l, "b");
	strlist_push(&l, "a");
	strlist_sort(&l);
	is_str(l.v[0], "a", "sorted first");
	is_int(strlist_find(&l, "b"), 1, "find");
	is_int(strlist_find(&l, "c"), -1, "find missing");
	strlist_clear(&l);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_secbuf();
	test_arena_churn();
	test_arena_wipe();
	test_arena_full();
	test_arena_overrun();
	test_sanitize();
	test_json_hooks();
	test_strlist();
	return done_testing();
}
