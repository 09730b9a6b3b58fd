/*
 * profile_lock.h: the renewal lock of the stores that live on this
 * machine (the sealed file and the keyring): locks/<profile>.lock in the
 * store directory, flock()ed, created once and never renamed or removed.
 * The kernel drops the lock when its holder exits or dies, so a crash
 * never leaves a profile locked.
 */
#ifndef ASTRO_CRED_PROFILE_LOCK_H
#define ASTRO_CRED_PROFILE_LOCK_H

#include "backends/backend.h"
#include "helper/base/status.h"

/* Default wait for a profile lock; ASTRO_CRED_LOCK_TIMEOUT (s) overrides. */
#define PROFILE_LOCK_TIMEOUT 30

/*
 * The lock and unlock of backend.h for the file and keyring stores.
 * Take PROFILE's exclusive lock (locks/<profile>.lock, flock LOCK_EX),
 * blocking until the holder lets go or dies (the kernel drops the lock),
 * at most ASTRO_CRED_LOCK_TIMEOUT seconds (default 30): then ST_TRANSIENT
 * with a message.  The wait borrows SIGALRM (a thread-directed timer) and
 * restores the caller's handler and signal mask.  The lock is per profile,
 * so profiles never block each other.
 */
enum status profile_lock(const char *profile, struct backend_lock **out)
    __attribute__((warn_unused_result));
/* Release and free; NULL is fine. */
void profile_unlock(struct backend_lock *lk);

#endif
