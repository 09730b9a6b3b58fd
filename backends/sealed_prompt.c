/*
 * sealed_prompt.c: asking for the passphrase on the terminal (/dev/tty,
 * never stdin or stdout), echo off, the terminal restored on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/sealed_key.h"
#include "backends/sealed_key_int.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static const int tty_signals[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM};
#define NSIG_TTY (sizeof(tty_signals) / sizeof(*tty_signals))

/* One line from the terminal into buf (cap bytes); -1 if too long. */
static int read_tty_line(int fd, char *buf, size_t cap, size_t *len)
{
	int too_long = 0;
	char c = 0;

	*len = 0;
	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR && !caught)
			continue;
		if (r < 0 || caught)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (*len < cap)
			buf[(*len)++] = c;
		else
			too_long = 1;
	}
	sodium_memzero(&c, sizeof(c));
	return too_long ? -1 : 0;
}

/*
 * readpassphrase(3) in small: echo off, the prompt to the terminal (never
 * stdout), and the terminal restored on every path, a signal included
 * (re-raised once the terminal is back).
 */
static int tty_ask(int fd, const char *prompt, char *buf, size_t cap,
		   size_t *len)
{
	struct termios old, quiet;
	struct sigaction sa, saved[NSIG_TTY];
	int rc;

	if (tcgetattr(fd, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (size_t i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &sa, &saved[i]);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	rc = write(fd, prompt, strlen(prompt)) < 0 ? -1 : 0;
	if (rc == 0)
		rc = read_tty_line(fd, buf, cap, len);
	if (write(fd, "\n", 1) < 0)
		rc = -1;
	tcsetattr(fd, TCSAFLUSH, &old);
	for (size_t i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &saved[i], NULL);
	if (caught)
		raise(caught);
	return rc;
}

enum status sealed_prompt_passphrase(const char *store, int confirm, char **out,
				     size_t *len)
{
	char prompt[PATH_MAX + 64], *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	enum status st = ST_STORE;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return ST_NOTFOUND;
	a = secmem_alloc(SEALED_PASSPHRASE_MAX);
	snprintf(prompt, sizeof(prompt),
		 "%s passphrase for %s: ", confirm ? "New" : "Enter", store);
	if (tty_ask(fd, prompt, a, SEALED_PASSPHRASE_MAX, &la) < 0) {
		st = isatty(fd) ? fail(ST_STORE, "no passphrase read from the "
						 "terminal (too long?)")
				: ST_NOTFOUND;
		goto out;
	}
	if (confirm && la) {
		b = secmem_alloc(SEALED_PASSPHRASE_MAX);
		if (tty_ask(fd, "Repeat the passphrase: ", b,
			    SEALED_PASSPHRASE_MAX, &lb) < 0 ||
		    la != lb || sodium_memcmp(a, b, la) != 0) {
			st = fail(ST_STORE, "the passphrases do not match");
			goto out;
		}
	}
	if (!la) {
		st = fail(ST_STORE, "empty passphrase; nothing was changed");
		goto out;
	}
	*out = secmem_strndup(a, la);
	*len = la;
	st = ST_OK;
out:
	secmem_free(a);
	secmem_free(b);
	close(fd);
	return st;
}
