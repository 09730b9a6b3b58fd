/*
 * test_kv.c: the native protocol (contract.md section 3) and the P cases
 * of security.md 2.1 that apply to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "helper/base/secmem.h"
#include "protocol/kv.h"
#include "protocol/out.h"
#include "tests/unit/capture.h"
#include "tests/unit/tap.h"

/* Parse buf[0..len) expecting a refusal that mentions want. */
static void refuse(const char *name, const char *buf, size_t len,
		   const char *want)
{
	struct kv kv;
	char err[2048];
	enum status st;

	capture_begin();
	st = kv_parse(buf, len, &kv);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && kv.n == 0 && kv.mem == NULL,
	   "%s: refused with status 2, nothing kept", name);
	ok(one_line(err) && strstr(err, want) && !strstr(err, "SECRET"),
	   "%s: one message naming the problem, no value", name);
	if (!strstr(err, want))
		printf("#   stderr: %s", err);
	kv_clear(&kv);
}

static void refuse_str(const char *name, const char *s, const char *want)
{
	refuse(name, s, strlen(s), want);
}

static void test_basic(void)
{
	const char *req = "profile=ci\ntoken=eyJ.SECRET.x\nfoo=bar\n\n";
	struct kv kv;

	is_int(kv_parse(req, strlen(req), &kv), ST_OK, "plain request");
	is_int(kv.n, 3, "three attributes");
	is_str(kv_get(&kv, "profile"), "ci", "profile");
	is_str(kv_get(&kv, "token"), "eyJ.SECRET.x", "token");
	is_str(kv_get(&kv, "foo"), "bar", "unknown key kept (P-09)");
	ok(kv_get(&kv, "org") == NULL, "absent key is NULL");
	is_str(kv.v[0].key, "profile", "input order kept");
	kv_clear(&kv);
	ok(kv.mem == NULL && kv.n == 0, "kv_clear empties");
	kv_clear(&kv);

	is_int(kv_parse("a=1\nb_c=x=y==\nd=\n", 16, &kv), ST_OK,
	       "EOF without blank line ends the request (P-13)");
	is_str(kv_get(&kv, "b_c"), "x=y==", "value runs to end of line");
	is_str(kv_get(&kv, "d"), "", "empty value is \"\", not absent (P-07)");
	kv_clear(&kv);

	is_int(kv_parse("a=1", 3, &kv), ST_OK, "last line without LF");
	is_str(kv_get(&kv, "a"), "1", "its value");
	kv_clear(&kv);
}

static void test_blank_line(void)
{
	static const char after[] = "a=1\n\nb=2\r\n\0garbage";
	struct kv kv;

	is_int(kv_parse(after, sizeof(after) - 1, &kv), ST_OK,
	       "bytes after the blank line are ignored");
	ok(kv.n == 1 && kv_get(&kv, "b") == NULL, "only the first request");
	kv_clear(&kv);
	is_int(kv_parse("", 0, &kv), ST_OK, "empty input: empty request");
	is_int(kv.n, 0, "no attributes");
	kv_clear(&kv);
	is_int(kv_parse("\nprofile=x\n", 11, &kv), ST_OK,
	       "leading blank line: empty request");
	is_int(kv.n, 0, "nothing after it read");
	kv_clear(&kv);
}

static void test_refusals(void)
{
	static const char nul[] = "org=A\0SECRET\n\n";
	static const char nul_after_lf[] = "a=1\n\0\n";

	refuse_str("lone CR (P-02)", "org=SECRET\rorg=B\n\n", "carriage");
	refuse_str("CRLF line end (P-03, contract 7)", "org=SECRET\r\n\n",
		   "carriage");
	refuse_str("CR in the key", "or\rg=SECRET\n\n", "carriage");
	refuse_str("CR alone on a line", "a=SECRET\n\r\n\n", "carriage");
	refuse("NUL in a value (P-04)", nul, sizeof(nul) - 1, "NUL");
	refuse("NUL alone on a line", nul_after_lf, sizeof(nul_after_lf) - 1,
	       "NUL");
	refuse_str("line without = (P-10)", "SECRETgarbage\n\n", "key=value");
	refuse_str("empty key", "=SECRET\n", "empty key");
	refuse_str("upper case key", "Org=SECRET\n", "[a-z_]+");
	refuse_str("dash in key", "org-id=SECRET\n", "[a-z_]+");
	refuse_str("digit in key", "org2=SECRET\n", "[a-z_]+");
	refuse_str("space in key", "org =SECRET\n", "[a-z_]+");
	refuse_str("a raw token piped by mistake", "SECRETSECRET==\n",
		   "[a-z_]+");
	refuse_str("duplicate key (P-08)", "org=A\norg=SECRET\n\n",
		   "'org' given twice");
	refuse_str("unknown keys obey the rules too (P-09)", "foo=SECRET\r\n\n",
		   "carriage");
	refuse_str("line number reported", "a=1\nb=2\nSECRET\n", "line 3");
}

/* "note=" + n x 'a' + "org=victim\n\n": P-05, git's long-header test. */
static char *long_header(size_t n, size_t *len)
{
	char *s = xmalloc(n + 32);

	memcpy(s, "note=", 5);
	memset(s + 5, 'a', n);
	memcpy(s + 5 + n, "org=victim\n\n", 12);
	*len = 5 + n + 12;
	return s;
}

static void test_long_lines(void)
{
	struct kv kv;
	size_t len, i;
	char *s = long_header(5000, &len), *line;

	is_int(kv_parse(s, len, &kv), ST_OK, "P-05: 5000-byte value");
	is_int(kv.n, 1, "P-05: exactly one key");
	ok(kv_get(&kv, "org") == NULL, "P-05: never a second key org=victim");
	is_int(strlen(kv_get(&kv, "note")), 5000 + 10, "P-05: value whole");
	kv_clear(&kv);
	free(s);

	s = long_header(70000, &len);
	refuse("P-05: 70000-byte value is over length", s, len, "longer");
	free(s);

	line = xmalloc(KV_LINE_MAX + 2);
	memcpy(line, "k=", 2);
	for (i = 2; i < KV_LINE_MAX; i++)
		line[i] = 'x';
	line[KV_LINE_MAX] = '\n';
	is_int(kv_parse(line, KV_LINE_MAX + 1, &kv), ST_OK,
	       "a line of exactly KV_LINE_MAX bytes is accepted");
	kv_clear(&kv);
	line[KV_LINE_MAX] = 'x';
	line[KV_LINE_MAX + 1] = '\n';
	refuse("KV_LINE_MAX + 1 bytes is refused", line, KV_LINE_MAX + 2,
	       "longer");
	free(line);
}

static void test_caps(void)
{
	size_t big = 2 * KV_INPUT_MAX, i, o = 0;
	char *s = xmalloc(big + 1);
	struct kv kv;

	/* P-06: 100 000 short lines, each valid, under the byte cap. */
	for (i = 0; i < 100000; i++)
		o += (size_t)snprintf(
		    s + o, 16, "%c%c%c=1\n", 'a' + (int)(i / 676 % 26),
		    'a' + (int)(i / 26 % 26), 'a' + (int)(i % 26));
	refuse("P-06: 100 000 short lines", s, o, "attributes");
	memset(s, 'x', big);
	memcpy(s, "k=", 2);
	refuse("P-06: a 2 MiB line", s, big, "larger");
	o = 0;
	for (i = 0; i < KV_PAIRS_MAX; i++)
		o += (size_t)snprintf(s + o, 16, "%c%c=1\n",
				      'a' + (int)(i / 26), 'a' + (int)(i % 26));
	is_int(kv_parse(s, o, &kv), ST_OK, "KV_PAIRS_MAX attributes accepted");
	is_int(kv.n, KV_PAIRS_MAX, "all of them");
	kv_clear(&kv);
	o += (size_t)snprintf(s + o, 16, "zz=1\n");
	refuse("KV_PAIRS_MAX + 1 attributes refused", s, o, "attributes");
	free(s);
}

static void test_verbatim(void)
{
	const char *req = "org=A%0aorg=B\nname=\x1b[2J\xff\xfe\n\n";
	struct kv kv;

	is_int(kv_parse(req, strlen(req), &kv), ST_OK,
	       "P-01/P-12: escapes and odd bytes are data");
	is_str(kv_get(&kv, "org"), "A%0aorg=B", "no percent-decoding (P-01)");
	is_int(kv.n, 2, "P-01: no second org");
	is_str(kv_get(&kv, "name"), "\x1b[2J\xff\xfe",
	       "P-12: stored verbatim, never echoed");
	kv_clear(&kv);
}

static void test_writer(void)
{
	char *buf = NULL, err[2048];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct kv kv;
	int r;

	ok(kv_write(f, "profile", "ci") == 0, "write a line");
	ok(kv_write(f, "token", "a=b.c") == 0, "a value with =");
	capture_begin();
	r = kv_write(f, "token", "SECRET\nprofile=evil");
	capture_end(err, sizeof(err));
	ok(r < 0 && one_line(err) && !strstr(err, "SECRET"),
	   "LF in a value refused (P-14), value not shown");
	capture_begin();
	ok(kv_write(f, "token", "SECRET\r") < 0, "CR in a value refused");
	ok(kv_write_mem(f, "token", "SEC\0RET", 7) < 0,
	   "NUL in a value refused");
	ok(kv_write(f, "Token", "x") < 0, "upper case key refused");
	ok(kv_write(f, "", "x") < 0, "empty key refused");
	ok(kv_write(f, "a=b", "x") < 0, "= in key refused");
	ok(kv_write(f, "a\n", "x") < 0, "LF in key refused");
	capture_end(err, sizeof(err));
	ok(!strstr(err, "SECRET"), "no refusal shows the value");
	ok(kv_write_end(f) == 0, "blank line");
	fclose(f);
	is_str(buf, "profile=ci\ntoken=a=b.c\n\n",
	       "nothing of a refused line was written");
	is_int(kv_parse(buf, len, &kv), ST_OK, "the output parses back");
	is_str(kv_get(&kv, "token"), "a=b.c", "same value");
	kv_clear(&kv);
	free(buf);
}

static void test_writer_long(void)
{
	char *v = xmalloc(KV_LINE_MAX + 1), *buf = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r1, r2;

	memset(v, 'x', KV_LINE_MAX);
	v[KV_LINE_MAX - 2] = '\0'; /* "k=" + value = KV_LINE_MAX bytes */
	r1 = kv_write(f, "k", v);
	v[KV_LINE_MAX - 2] = 'x';
	v[KV_LINE_MAX - 1] = '\0';
	capture_begin();
	r2 = kv_write(f, "k", v);
	capture_end(err, sizeof(err));
	fclose(f);
	ok(r1 == 0, "a line of KV_LINE_MAX bytes is written");
	ok(r2 < 0 && one_line(err), "one byte more is refused");
	is_int(len, KV_LINE_MAX + 1, "only the first line was written");
	free(buf);
	free(v);
}

/* A child that writes s to the pipe, then keeps it open until killed. */
static pid_t writer_child(int fd, const char *s, size_t n, int hold)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		while (n) {
			ssize_t w = write(fd, s, n > 4096 ? 4096 : n);

			if (w <= 0)
				_exit(0);
			s += w;
			n -= (size_t)w;
			if (hold)
				usleep(1000);
		}
		if (hold)
			pause();
		_exit(0);
	}
	return pid;
}

static enum status read_from_child(const char *s, size_t n, int hold,
				   int timeout_ms, struct kv *kv)
{
	int p[2];
	pid_t pid;
	enum status st;

	if (pipe(p) < 0)
		abort();
	pid = writer_child(p[1], s, n, hold);
	close(p[1]);
	st = kv_read_fd_timeout(p[0], timeout_ms, kv);
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return st;
}

static void test_reader(void)
{
	struct kv kv;
	char err[2048], *s;
	size_t len;
	enum status st;

	st = read_from_child("a=1\nb=2\n\nc=3\n", 14, 1, 20000, &kv);
	ok(st == ST_OK && kv.n == 2 && !kv_get(&kv, "c"),
	   "reader stops at the blank line while the writer holds stdin open");
	kv_clear(&kv);
	st = read_from_child("a=1\n", 4, 0, 20000, &kv);
	ok(st == ST_OK && kv.n == 1, "reader: EOF ends the request (P-13)");
	kv_clear(&kv);

	s = long_header(5000, &len);
	st = read_from_child(s, len, 1, 20000, &kv);
	ok(st == ST_OK && kv.n == 1 && !kv_get(&kv, "org"),
	   "reader P-05: 5000-byte value in 4 KiB writes, one key");
	kv_clear(&kv);
	free(s);
	s = long_header(70000, &len);
	capture_begin();
	st = read_from_child(s, len, 1, 20000, &kv);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && kv.n == 0 && one_line(err),
	   "reader P-05: 70000-byte value refused");
	free(s);

	s = xmalloc(8 * KV_INPUT_MAX);
	memset(s, 'x', 8 * KV_INPUT_MAX);
	capture_begin();
	st = read_from_child(s, 8 * KV_INPUT_MAX, 0, 20000, &kv);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && strstr(err, "larger"),
	   "reader P-06: 8 MiB without a line end refused at the cap");
	free(s);

	capture_begin();
	st = read_from_child("a=1\n", 4, 1, 300, &kv);
	capture_end(err, sizeof(err));
	ok(st == ST_USAGE && one_line(err) && strstr(err, "within"),
	   "reader P-06: stdin that never ends times out");
}

static void test_out(void)
{
	struct out o = OUT_INIT;
	char got[64];
	FILE *f;
	int p[2];
	ssize_t n;

	if (pipe(p) < 0)
		abort();
	f = out_open(&o);
	ok(kv_write(f, "token", "abc") == 0 && kv_write_end(f) == 0,
	   "write into the payload buffer");
	is_int(out_commit(&o, p[1]), ST_OK, "commit");
	n = read(p[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	is_str(got, "token=abc\n\n", "commit wrote it all");

	f = out_open(&o);
	ok(kv_write(f, "token", "abc") == 0, "a line, then an error");
	out_discard(&o);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	n = read(p[0], got, sizeof(got));
	ok(n < 0 && errno == EAGAIN, "discard writes nothing");

	f = out_open(&o);
	{
		char *big = xmalloc(OUT_MAX + 1);
		char err[512];

		memset(big, 'x', OUT_MAX + 1);
		fwrite(big, 1, OUT_MAX + 1, f);
		free(big);
		capture_begin();
		is_int(out_commit(&o, p[1]), ST_USAGE, "overflow refused");
		capture_end(err, sizeof(err));
	}
	n = read(p[0], got, sizeof(got));
	ok(n < 0 && errno == EAGAIN, "overflowed payload writes nothing");
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_basic();
	test_blank_line();
	test_refusals();
	test_long_lines();
	test_caps();
	test_verbatim();
	test_writer();
	test_writer_long();
	test_reader();
	test_out();
	return done_testing();
}
