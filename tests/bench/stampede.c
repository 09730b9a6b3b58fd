/*
 * stampede.c: start N copies of a command at the same instant and time
 * each one, for `make bench` (tests/bench/run compiles it into bench/work/).
 *
 *   stampede N ERRDIR CMD [ARG...] <OLD
 *
 * Every child is forked first and blocks reading a pipe; closing the
 * pipe's write end releases them all together.  A child then stamps the
 * time and execs CMD with stdin /dev/null, stdout a pipe to us, stderr
 * ERRDIR/err.I.  We reap each one as it exits.  Written in C, not Python,
 * so that neither the released children nor the reaper pay an
 * interpreter's page faults: the figures are astro-cred's, not ours.
 *
 * Output, one line each (times CLOCK_MONOTONIC ns):
 *   t0 T                       the release
 *   old LEN HASH               the bytes read from stdin (the old token)
 *   child I START END STATUS LEN HASH
 * STATUS is the exit code, or 128+signal.  HASH is FNV-1a 64 of what the
 * child printed: tokens are compared, never written out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Stamps (about 24 bytes each) must fit the stamp pipe's 64 KiB. */
#define STAMPEDE_MAX 1024
#define OUT_MAX	     65536

struct kid {
	pid_t pid;
	int out;
	uint64_t end;
	int status;
	size_t len;
	uint64_t hash;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

/* Read fd to its end into buf (at most OUT_MAX); the length read. */
static size_t slurp(int fd, unsigned char *buf)
{
	size_t len = 0;
	ssize_t r;

	while (len < OUT_MAX) {
		r = read(fd, buf + len, OUT_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	return len;
}

/* In the child: wait at the gate, stamp, exec.  Never returns. */
static void child(int idx, int gate, int stamp, int out, const char *errdir,
		  char **cmd)
{
	char path[4096], line[64];
	int err, nul;
	char c;
	uint64_t t;
	int n;

	snprintf(path, sizeof(path), "%s/err.%d", errdir, idx);
	err = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (err < 0 || nul < 0)
		_exit(126);
	while (read(gate, &c, 1) < 0 && errno == EINTR)
		;
	t = now_ns();
	n = snprintf(line, sizeof(line), "%d %" PRIu64 "\n", idx, t);
	if (write(stamp, line, (size_t)n) != n)
		_exit(126);
	if (dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execv(cmd[0], cmd);
	_exit(127);
}

static int reap(struct kid *kids, int n, unsigned char *buf)
{
	for (int left = n; left > 0; left--) {
		int st, i;
		pid_t pid = waitpid(-1, &st, 0);
		uint64_t t = now_ns();

		if (pid < 0)
			return -1;
		for (i = 0; i < n && kids[i].pid != pid; i++)
			;
		if (i == n)
			continue;
		kids[i].end = t;
		kids[i].status =
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		kids[i].len = slurp(kids[i].out, buf);
		kids[i].hash = fnv1a(buf, kids[i].len);
		close(kids[i].out);
	}
	return 0;
}

static void print_stamps(int stamp, struct kid *kids, int n)
{
	static char text[STAMPEDE_MAX * 32];
	size_t len = slurp(stamp, (unsigned char *)text);
	char *p = text, *nl;

	text[len < sizeof(text) ? len : sizeof(text) - 1] = '\0';
	while ((nl = strchr(p, '\n'))) {
		int idx;
		uint64_t start;

		*nl = '\0';
		if (sscanf(p, "%d %" SCNu64, &idx, &start) == 2 && idx >= 0 &&
		    idx < n)
			printf("child %d %" PRIu64 " %" PRIu64
			       " %d %zu %016" PRIx64 "\n",
			       idx, start, kids[idx].end, kids[idx].status,
			       kids[idx].len, kids[idx].hash);
		p = nl + 1;
	}
}

int main(int argc, char **argv)
{
	static unsigned char buf[OUT_MAX];
	static struct kid kids[STAMPEDE_MAX];
	int gate[2], stamp[2], n;
	uint64_t t0, oldhash;
	size_t oldlen;

	if (argc < 4 || (n = (int)strtol(argv[1], NULL, 10)) < 1 ||
	    n > STAMPEDE_MAX) {
		fprintf(stderr, "usage: stampede N ERRDIR CMD [ARG...]\n");
		return 2;
	}
	oldlen = slurp(0, buf);
	oldhash = fnv1a(buf, oldlen);
	if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(stamp, O_CLOEXEC) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC) < 0)
			return 1;
		kids[i].pid = fork();
		if (kids[i].pid < 0)
			return 1;
		if (kids[i].pid == 0) {
			close(gate[1]);
			child(i, gate[0], stamp[1], out[1], argv[2], argv + 3);
		}
		close(out[1]);
		kids[i].out = out[0];
	}
	close(gate[0]);
	close(stamp[1]);
	/*
	 * The reaper sleeps but for microseconds per child; at nice 0 among
	 * N runnable children it would be woken last and stamp every exit
	 * late.  Raised (root only; else as is), it stamps each one as it
	 * happens.  The children keep the default priority.
	 */
	(void)setpriority(PRIO_PROCESS, 0, -10);
	usleep(300000); /* every child is at the gate by now */
	t0 = now_ns();
	close(gate[1]);
	if (reap(kids, n, buf) < 0)
		return 1;
	printf("t0 %" PRIu64 "\nold %zu %016" PRIx64 "\n", t0, oldlen, oldhash);
	print_stamps(stamp[0], kids, n);
	return fflush(stdout) ? 1 : 0;
}
