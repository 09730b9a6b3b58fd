/*
 * busenv.h: find the D-Bus session bus without ever starting one.
 *
 * GLib, asked for the session bus when DBUS_SESSION_BUS_ADDRESS is unset
 * and $XDG_RUNTIME_DIR/bus is missing, runs `dbus-launch --autolaunch`:
 * on a headless machine that fails after a while ("Cannot autolaunch
 * D-Bus without X11 $DISPLAY") or leaves a stray bus behind.  So the
 * address is settled here, in the executable, before GLib is loaded, and
 * GLib is never touched when there is no bus.
 */
#ifndef ASTRO_CRED_BUSENV_H
#define ASTRO_CRED_BUSENV_H

/*
 * Make DBUS_SESSION_BUS_ADDRESS name the session bus: keep it when set,
 * else set it to $XDG_RUNTIME_DIR/bus when that is a socket of ours.
 * Returns 0 when an address is in place; -1 with *why (a static string)
 * when there is no usable session bus, in which case D-Bus is off limits.
 */
int busenv_session_ready(const char **why);

#endif
