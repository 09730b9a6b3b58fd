/* input.c: see input.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper/base/log.h"
#include "protocol/input.h"

#define INPUT_CHUNK 4096

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline passes; 0, or -1 on timeout. */
static int wait_readable(int fd, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (;;) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0 || (r < 0 && errno != EINTR))
			return 0; /* readable, hung up, or let read() say */
	}
}

enum status input_read(int fd, struct secbuf *b, size_t max, int timeout_ms,
		       int (*complete)(const struct secbuf *b, size_t scanned),
		       const char *what)
{
	long long deadline = now_ms() + timeout_ms;
	char chunk[INPUT_CHUNK];
	enum status st = ST_OK;
	size_t scanned = 0;

	while (!complete || !complete(b, scanned)) {
		size_t want = max + 1 - b->len;
		ssize_t r;

		scanned = b->len;
		if (b->len > max) {
			st = fail(ST_USAGE, "%s on stdin larger than %zu bytes",
				  what, max);
			break;
		}
		if (wait_readable(fd, deadline) < 0) {
			st = fail(ST_USAGE,
				  "no complete %s on stdin within "
				  "%.1f s",
				  what, timeout_ms / 1000.0);
			break;
		}
		r = read(fd, chunk,
			 want < sizeof(chunk) ? want : sizeof(chunk));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			st = fail(ST_USAGE, "cannot read the %s on stdin: %s",
				  what, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		if (secbuf_append(b, chunk, (size_t)r) < 0) {
			st = fail(ST_USAGE, "%s on stdin larger than %zu bytes",
				  what, max);
			break;
		}
	}
	secmem_wipe(chunk, sizeof(chunk));
	return st;
}
