/*
 * fake-secret-service: owns org.freedesktop.secrets on the session bus and
 * never answers a method call (security.md K-02: a service that accepts
 * the call and never replies).  Prints "ready" once the name is owned and
 * runs until killed or until the bus goes away.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

/* Drop every incoming method call: no reply, no error, ever. */
static GDBusMessage *drop_calls(GDBusConnection *conn, GDBusMessage *msg,
				gboolean incoming, gpointer data)
{
	(void)conn;
	(void)data;
	if (incoming && g_dbus_message_get_message_type(msg) ==
			    G_DBUS_MESSAGE_TYPE_METHOD_CALL) {
		g_object_unref(msg);
		return NULL;
	}
	return msg;
}

static void on_acquired(GDBusConnection *conn, const char *name, gpointer data)
{
	(void)conn;
	(void)name;
	(void)data;
	printf("ready\n");
	fflush(stdout);
}

static void on_lost(GDBusConnection *conn, const char *name, gpointer data)
{
	(void)conn;
	(void)data;
	fprintf(stderr, "fake-secret-service: lost or never got %s\n", name);
	exit(1);
}

int main(void)
{
	GError *err = NULL;
	GDBusConnection *conn = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &err);
	GMainLoop *loop;

	if (!conn) {
		fprintf(stderr, "fake-secret-service: %s\n", err->message);
		return 1;
	}
	g_dbus_connection_add_filter(conn, drop_calls, NULL, NULL);
	g_bus_own_name_on_connection(conn, "org.freedesktop.secrets",
				     G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
				     on_acquired, on_lost, NULL, NULL);
	loop = g_main_loop_new(NULL, FALSE);
	g_main_loop_run(loop);
	return 0;
}
