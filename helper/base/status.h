/*
 * status.h: the one set of outcomes every layer returns, numerically equal
 * to the exit codes of contract.md section 6.  Library code returns a
 * status after printing one message where the failure was found; main()
 * exits with it.
 */
#ifndef ASTRO_CRED_STATUS_H
#define ASTRO_CRED_STATUS_H

enum status {
	ST_OK = 0,	 /* success */
	ST_NOTFOUND = 1, /* no such credential */
	ST_USAGE = 2,	 /* usage error or malformed input; nothing changed */
	ST_STORE = 3, /* secret store unavailable, locked, corrupt, wrong key */
	ST_AUTH = 4,  /* API refused the credential, or expired/unrenewable */
	ST_TRANSIENT =
	    5,	    /* network, timeout, 429/5xx after retries, lock wait */
	ST_API = 6, /* API refused the request for another reason */
};

#endif
