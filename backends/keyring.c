/*
 * keyring.c: the Secret Service backend, through libsecret's asynchronous
 * API run on a private main context with a deadline.
 *
 * Why not the simple password API (secret_password_lookup_*_sync): it
 * blocks for as long as the service likes ("this method may block
 * indefinitely"), it may pop an unlock prompt, and when the collection is
 * locked and the prompt is dismissed it answers NULL without an error,
 * which a caller cannot tell from "no such item".  Here a search that
 * neither unlocks nor prompts comes first; a locked match is ST_STORE,
 * and "not found" means the service answered that nothing matched.
 *
 * Secrets: the record travels over D-Bus inside libsecret's encrypted
 * session (dh-ietf1024-sha256-aes128-cbc-pkcs7), so the bus buffers hold
 * ciphertext.  libsecret decrypts into its non-pageable "secure" memory
 * (egg-secure-memory, cleared on free); we copy the bytes into a secmem
 * secbuf and release libsecret's copy before returning.  The value is
 * read with secret_value_get() and its length, so records are binary-safe
 * (secret_value_unref_to_password() would copy with strndup when another
 * reference is held, as the item's cache holds one, and cut at a NUL).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libsecret/secret.h>

#include "backends/busenv.h"
#include "backends/keyring.h"
#include "helper/log.h"
#include "helper/secmem.h"

#define KEYRING_KIND "record"
/* How long to wait for libsecret to report a cancellation. */
#define KEYRING_GRACE_MS 1000

/*
 * SECRET_SCHEMA_NONE: libsecret adds xdg:schema=KEYRING_SCHEMA to every
 * item and every search, so another application's items with the same
 * profile attribute never match ours (K-05).
 */
static const SecretSchema keyring_schema = {
	.name = KEYRING_SCHEMA,
	.flags = SECRET_SCHEMA_NONE,
	.attributes = {
		{ "profile", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
};

/*
 * One operation: libsecret's asynchronous calls complete on a private
 * main context that only we iterate, against one deadline for the whole
 * operation.  At the deadline the cancellable is cancelled; if libsecret
 * has still not finished a grace period later we stop waiting and never
 * iterate that context again, so a late completion is never dispatched.
 */
struct keyring_op {
	GMainContext *ctx;
	GCancellable *cancel;
	GSource *deadline, *grace;
	SecretService *service;
	int timeout_ms;
	int quiet; /* report through verbose() only (availability checks) */
	int expired, abandoned;
};

/* Set once a call was abandoned: later calls fail at once. */
static int keyring_wedged;

static void keyring_report(const struct keyring_op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void keyring_report(const struct keyring_op *op, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (op->quiet)
		verbose("keyring: %s", msg);
	else
		error("keyring: %s", msg);
}

static gboolean keyring_on_grace(gpointer data)
{
	struct keyring_op *op = data;

	op->abandoned = 1;
	keyring_wedged = 1;
	return G_SOURCE_REMOVE;
}

static gboolean keyring_on_deadline(gpointer data)
{
	struct keyring_op *op = data;

	op->expired = 1;
	g_cancellable_cancel(op->cancel);
	op->grace = g_timeout_source_new(KEYRING_GRACE_MS);
	g_source_set_callback(op->grace, keyring_on_grace, op, NULL);
	g_source_attach(op->grace, op->ctx);
	return G_SOURCE_REMOVE;
}

static void keyring_on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	GAsyncResult **slot = data;

	(void)src;
	*slot = g_object_ref(res);
}

/*
 * Iterate our context until the call started with keyring_on_done/slot
 * completes, or until it is abandoned (NULL).
 */
static GAsyncResult *keyring_wait(struct keyring_op *op, GAsyncResult **slot)
{
	while (!*slot && !op->abandoned)
		g_main_context_iteration(op->ctx, TRUE);
	return *slot;
}

/* Report a failed step; always ST_STORE. */
static enum status keyring_failed(const struct keyring_op *op, GError *err,
				  const char *what)
{
	if (op->expired)
		keyring_report(op,
			       "the Secret Service did not answer within "
			       "%d ms (%s)",
			       op->timeout_ms, what);
	else
		keyring_report(op, "cannot %s: %s", what,
			       err ? err->message : "no answer");
	if (err)
		g_error_free(err);
	return ST_STORE;
}

static void keyring_end(struct keyring_op *op)
{
	if (!op->ctx)
		return;
	if (op->service)
		g_object_unref(op->service);
	if (op->grace) {
		g_source_destroy(op->grace);
		g_source_unref(op->grace);
	}
	g_source_destroy(op->deadline);
	g_source_unref(op->deadline);
	/*
	 * GDBus frees a proxy's signal-subscription data from an idle
	 * callback on the context the proxy was made in: run what is pending
	 * before dropping ours (a bounded number of rounds).  Not after an
	 * abandoned call, whose late completion must never be dispatched.
	 */
	for (int i = 0; i < 100 && !op->abandoned; i++)
		if (!g_main_context_iteration(op->ctx, FALSE))
			break;
	g_object_unref(op->cancel);
	g_main_context_pop_thread_default(op->ctx);
	g_main_context_unref(op->ctx);
	op->ctx = NULL;
}

static void keyring_begin(struct keyring_op *op, int timeout_ms)
{
	op->timeout_ms = timeout_ms;
	op->ctx = g_main_context_new();
	g_main_context_push_thread_default(op->ctx);
	op->cancel = g_cancellable_new();
	op->deadline = g_timeout_source_new((guint)timeout_ms);
	g_source_set_callback(op->deadline, keyring_on_deadline, op, NULL);
	g_source_attach(op->deadline, op->ctx);
}

/*
 * One plain D-Bus method call within the operation's deadline: the reply
 * of type TYPE, or NULL with *err set (err may be NULL).
 */
static GVariant *keyring_call(struct keyring_op *op, GDBusConnection *conn,
			      const char *dest, const char *path,
			      const char *iface, const char *method,
			      GVariant *args, const char *type, GError **err)
{
	GAsyncResult *res = NULL;
	GVariant *ret;

	g_dbus_connection_call(conn, dest, path, iface, method, args,
			       G_VARIANT_TYPE(type), G_DBUS_CALL_FLAGS_NONE, -1,
			       op->cancel, keyring_on_done, &res);
	if (!keyring_wait(op, &res))
		return NULL;
	ret = g_dbus_connection_call_finish(conn, res, err);
	g_object_unref(res);
	return ret;
}

/* A call to the bus itself (org.freedesktop.DBus); NULL on failure. */
static GVariant *keyring_bus_call(struct keyring_op *op, GDBusConnection *conn,
				  const char *method, GVariant *args,
				  const char *type)
{
	return keyring_call(op, conn, "org.freedesktop.DBus",
			    "/org/freedesktop/DBus", "org.freedesktop.DBus",
			    method, args, type, NULL);
}

/* Whether the bus lists NAME among the services it can start. */
static int keyring_activatable(struct keyring_op *op, GDBusConnection *conn,
			       const char *name)
{
	GVariant *ret = keyring_bus_call(op, conn, "ListActivatableNames",
					 NULL, "(as)");
	GVariantIter *it;
	const char *n;
	int found = 0;

	if (!ret)
		return 0;
	g_variant_get(ret, "(as)", &it);
	while (!found && g_variant_iter_next(it, "&s", &n))
		found = !strcmp(n, name);
	g_variant_iter_free(it);
	g_variant_unref(ret);
	return found;
}

/*
 * Is anyone there?  Nobody owning org.freedesktop.secrets, with nothing
 * that could be started for it, is said plainly here (and libsecret's
 * proxy is not built for a name that cannot answer).
 */
static enum status keyring_probe(struct keyring_op *op)
{
	static const char name[] = "org.freedesktop.secrets";
	GAsyncResult *res = NULL;
	GDBusConnection *conn;
	GError *err = NULL;
	GVariant *ret;
	gboolean owned = FALSE;
	int present;

	g_bus_get(G_BUS_TYPE_SESSION, op->cancel, keyring_on_done, &res);
	if (!keyring_wait(op, &res))
		return keyring_failed(op, NULL, "reach the session bus");
	conn = g_bus_get_finish(res, &err);
	g_object_unref(res);
	if (!conn)
		return keyring_failed(op, err, "reach the session bus");
	ret = keyring_bus_call(op, conn, "NameHasOwner",
			       g_variant_new("(s)", name), "(b)");
	if (ret) {
		g_variant_get(ret, "(b)", &owned);
		g_variant_unref(ret);
	}
	present = owned || (!op->abandoned &&
			    keyring_activatable(op, conn, name));
	g_object_unref(conn);
	if (op->expired)
		return keyring_failed(op, NULL, "ask the session bus");
	if (!present) {
		keyring_report(op, "no Secret Service on the session bus "
				   "(nothing provides %s); use "
				   "ASTRO_CRED_BACKEND=file here",
			       name);
		return ST_STORE;
	}
	return ST_OK;
}

/*
 * Start an operation: a session bus must be known without autolaunch
 * (busenv.h), then connect to the Secret Service.  Call keyring_end()
 * whatever this returns.
 */
static enum status keyring_open(struct keyring_op *op, int timeout_ms,
				int quiet)
{
	GAsyncResult *res = NULL;
	GError *err = NULL;
	const char *why;

	memset(op, 0, sizeof(*op));
	op->quiet = quiet;
	if (keyring_wedged) {
		keyring_report(op, "the Secret Service stopped answering");
		return ST_STORE;
	}
	if (busenv_session_ready(&why) < 0) {
		keyring_report(op, "%s; use ASTRO_CRED_BACKEND=file here", why);
		return ST_STORE;
	}
	keyring_begin(op, timeout_ms);
	if (keyring_probe(op))
		return ST_STORE;
	secret_service_get(SECRET_SERVICE_NONE, op->cancel, keyring_on_done,
			   &res);
	if (!keyring_wait(op, &res))
		return keyring_failed(op, NULL, "reach the Secret Service");
	op->service = secret_service_get_finish(res, &err);
	g_object_unref(res);
	if (!op->service)
		return keyring_failed(op, err, "reach the Secret Service");
	return ST_OK;
}

/* profile=NAME (when given) and kind=record; values are borrowed. */
static GHashTable *keyring_attributes(const char *profile)
{
	GHashTable *attrs = g_hash_table_new(g_str_hash, g_str_equal);

	if (profile)
		g_hash_table_insert(attrs, (gpointer) "profile",
				    (gpointer)profile);
	g_hash_table_insert(attrs, (gpointer) "kind", (gpointer)KEYRING_KIND);
	return attrs;
}

/*
 * Every item of our schema matching all of profile (if given) and kind,
 * in any collection, locked or not.  Never unlocks, never prompts.
 */
static enum status keyring_search(struct keyring_op *op, const char *profile,
				  SecretSearchFlags flags, GList **items)
{
	GHashTable *attrs = keyring_attributes(profile);
	GAsyncResult *res = NULL;
	GError *err = NULL;

	*items = NULL;
	secret_service_search(op->service, &keyring_schema, attrs,
			      flags | SECRET_SEARCH_ALL, op->cancel,
			      keyring_on_done, &res);
	g_hash_table_unref(attrs);
	if (!keyring_wait(op, &res))
		return keyring_failed(op, NULL, "search the keyring");
	*items = secret_service_search_finish(op->service, res, &err);
	g_object_unref(res);
	if (err) {
		g_list_free_full(*items, g_object_unref);
		*items = NULL;
		return keyring_failed(op, err, "search the keyring");
	}
	return ST_OK;
}

static void keyring_free_items(GList *items)
{
	g_list_free_full(items, g_object_unref);
}

/*
 * A locked match is an error, never "not found" and never a reason to
 * prompt: the helper runs from shell start-up files and scripts.
 */
static enum status keyring_check_unlocked(GList *items, const char *profile)
{
	for (GList *l = items; l; l = l->next) {
		if (!secret_item_get_locked(l->data))
			continue;
		if (profile)
			return fail(ST_STORE,
				    "keyring: the keyring holding profile "
				    "'%s' is locked; unlock it (for example "
				    "in Seahorse, or by logging in) and "
				    "try again",
				    profile);
		return fail(ST_STORE,
			    "keyring: a keyring holding astro-cred items is "
			    "locked; unlock it (for example in Seahorse, or "
			    "by logging in) and try again");
	}
	return ST_OK;
}

/* The most recently modified item: the last store wins over stray copies. */
static SecretItem *keyring_newest(GList *items)
{
	SecretItem *best = NULL;

	for (GList *l = items; l; l = l->next) {
		if (!best || secret_item_get_modified(l->data) >
				 secret_item_get_modified(best))
			best = l->data;
	}
	return best;
}

static enum status keyring_copy_secret(SecretItem *item, const char *profile,
				       struct secbuf *rec)
{
	SecretValue *value = secret_item_get_secret(item);
	enum status st = ST_OK;
	const char *data;
	size_t len = 0;

	if (!value)
		return fail(ST_STORE,
			    "keyring: the Secret Service gave no secret for "
			    "profile '%s'",
			    profile);
	data = secret_value_get(value, &len);
	if (len > RECORD_MAX)
		st = fail(ST_STORE,
			  "keyring: the item for profile '%s' holds %zu bytes, "
			  "more than a record can be (%d)",
			  profile, len, RECORD_MAX);
	else if (secbuf_append(rec, data, len) < 0)
		st = fail(ST_STORE,
			  "keyring: the record for profile '%s' does not fit",
			  profile);
	secret_value_unref(value);
	return st;
}

static enum status keyring_check_name(const char *profile)
{
	if (profile_name_ok(profile))
		return ST_OK;
	return fail(ST_USAGE,
		    "invalid profile name '%s': use 1 to %d of A-Z a-z 0-9 . _ "
		    "- (not '.' or '..')",
		    profile, PROFILE_NAME_MAX);
}

static enum status keyring_get(const char *profile, struct secbuf *rec)
{
	struct keyring_op op;
	GList *items = NULL;
	enum status st;

	secbuf_clear(rec);
	if ((st = keyring_check_name(profile)))
		return st;
	if ((st = keyring_open(&op, KEYRING_TIMEOUT_MS, 0)))
		goto out;
	/* LOAD_SECRETS fetches the secrets of unlocked matches only. */
	st = keyring_search(&op, profile, SECRET_SEARCH_LOAD_SECRETS, &items);
	if (st)
		goto out;
	if (!items) {
		st = ST_NOTFOUND;
		goto out;
	}
	if ((st = keyring_check_unlocked(items, profile)))
		goto out;
	st = keyring_copy_secret(keyring_newest(items), profile, rec);
out:
	keyring_free_items(items);
	keyring_end(&op);
	if (st)
		secbuf_clear(rec);
	return st;
}

/* A call to the Secret Service over libsecret's own connection. */
static GVariant *keyring_service_call(struct keyring_op *op, const char *path,
				      const char *iface, const char *method,
				      GVariant *args, const char *type,
				      GError **err)
{
	GDBusProxy *proxy = G_DBUS_PROXY(op->service);

	return keyring_call(op, g_dbus_proxy_get_connection(proxy),
			    g_dbus_proxy_get_name(proxy), path, iface, method,
			    args, type, err);
}

/*
 * The default collection's object path (g_free it) and whether it is
 * locked, by plain calls: no SecretCollection proxy, because libsecret
 * 0.20.5's proxy leaks a GVariant on every ItemCreated signal it sees.
 */
static enum status keyring_default_collection(struct keyring_op *op,
					      char **path, int *locked)
{
	GVariant *ret, *v, *args;
	GError *err = NULL;

	*path = NULL;
	ret = keyring_service_call(op, "/org/freedesktop/secrets",
				   "org.freedesktop.Secret.Service",
				   "ReadAlias", g_variant_new("(s)", "default"),
				   "(o)", &err);
	if (!ret)
		return keyring_failed(op, err, "find the default keyring");
	g_variant_get(ret, "(o)", path);
	g_variant_unref(ret);
	if (!strcmp(*path, "/")) {
		keyring_report(op, "the Secret Service has no default "
				   "keyring; create one (for example in "
				   "Seahorse) or use ASTRO_CRED_BACKEND=file");
		return ST_STORE;
	}
	args = g_variant_new("(ss)", "org.freedesktop.Secret.Collection",
			     "Locked");
	ret = keyring_service_call(op, *path, "org.freedesktop.DBus.Properties",
				   "Get", args, "(v)", &err);
	if (!ret)
		return keyring_failed(op, err,
				      "ask whether the keyring is locked");
	g_variant_get(ret, "(v)", &v);
	*locked = !g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) ||
		  g_variant_get_boolean(v);
	g_variant_unref(v);
	g_variant_unref(ret);
	return ST_OK;
}

/* JSON records are text; Seahorse shows text/plain secrets as such. */
static const char *keyring_content_type(const unsigned char *p, size_t n)
{
	if (n == 0 || (!memchr(p, '\0', n) &&
		       g_utf8_validate((const char *)p, (gssize)n, NULL)))
		return "text/plain";
	return "application/octet-stream";
}

/*
 * Create the item in collection PATH, replacing one with the very same
 * attributes (the Secret Service's CreateItem with replace).
 */
static enum status keyring_create(struct keyring_op *op, const char *path,
				  const char *profile, const unsigned char *rec,
				  size_t len)
{
	GHashTable *attrs = keyring_attributes(profile);
	char *label = g_strdup_printf("Astro API token (%s)", profile);
	/* secret_value_new copies into libsecret's non-pageable memory. */
	SecretValue *value =
		secret_value_new(len ? (const gchar *)rec : "", (gssize)len,
				 keyring_content_type(rec, len));
	GAsyncResult *res = NULL;
	GError *err = NULL;
	gboolean ok;

	secret_service_store(op->service, &keyring_schema, attrs, path, label,
			     value, op->cancel, keyring_on_done, &res);
	g_hash_table_unref(attrs);
	g_free(label);
	secret_value_unref(value);
	if (!keyring_wait(op, &res))
		return keyring_failed(op, NULL, "store the record");
	ok = secret_service_store_finish(op->service, res, &err);
	g_object_unref(res);
	if (!ok)
		return keyring_failed(op, err, "store the record");
	return ST_OK;
}

static enum status keyring_store(const char *profile, const unsigned char *rec,
				 size_t len)
{
	struct keyring_op op;
	char *path = NULL;
	int locked = 1;
	enum status st;

	if ((st = keyring_check_name(profile)))
		return st;
	if (len > RECORD_MAX)
		return fail(ST_USAGE,
			    "keyring: a record of %zu bytes is larger than "
			    "%d; nothing stored",
			    len, RECORD_MAX);
	if ((st = keyring_open(&op, KEYRING_TIMEOUT_MS, 0)))
		goto out;
	if ((st = keyring_default_collection(&op, &path, &locked)))
		goto out;
	if (locked) {
		st = fail(ST_STORE,
			  "keyring: the default keyring is locked; unlock it "
			  "(for example in Seahorse, or by logging in) and try "
			  "again");
		goto out;
	}
	st = keyring_create(&op, path, profile, rec, len);
out:
	g_free(path);
	keyring_end(&op);
	return st;
}

static enum status keyring_delete(struct keyring_op *op, SecretItem *item)
{
	GAsyncResult *res = NULL;
	GError *err = NULL;

	secret_item_delete(item, op->cancel, keyring_on_done, &res);
	if (!keyring_wait(op, &res))
		return keyring_failed(op, NULL, "delete the item");
	if (!secret_item_delete_finish(item, res, &err)) {
		g_object_unref(res);
		return keyring_failed(op, err, "delete the item");
	}
	g_object_unref(res);
	return ST_OK;
}

/*
 * Every match goes, stray copies in other collections too; if any is
 * locked, none is touched.
 */
static enum status keyring_erase(const char *profile)
{
	struct keyring_op op;
	GList *items = NULL;
	enum status st;

	if ((st = keyring_check_name(profile)))
		return st;
	if ((st = keyring_open(&op, KEYRING_TIMEOUT_MS, 0)))
		goto out;
	if ((st = keyring_search(&op, profile, SECRET_SEARCH_NONE, &items)))
		goto out;
	if (!items) {
		st = ST_NOTFOUND;
		goto out;
	}
	if ((st = keyring_check_unlocked(items, profile)))
		goto out;
	for (GList *l = items; l && !st; l = l->next)
		st = keyring_delete(&op, l->data);
out:
	keyring_free_items(items);
	keyring_end(&op);
	return st;
}

static void keyring_add_name(SecretItem *item, struct strlist *out)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	const char *name = attrs ? g_hash_table_lookup(attrs, "profile") : NULL;

	if (!name || !profile_name_ok(name))
		verbose("keyring: ignoring an item with no valid profile name");
	else if (strlist_find(out, name) < 0)
		strlist_push(out, name);
	if (attrs)
		g_hash_table_unref(attrs);
}

static enum status keyring_list(struct strlist *out)
{
	struct keyring_op op;
	GList *items = NULL;
	enum status st;

	if ((st = keyring_open(&op, KEYRING_TIMEOUT_MS, 0)))
		goto out;
	if ((st = keyring_search(&op, NULL, SECRET_SEARCH_NONE, &items)))
		goto out;
	if ((st = keyring_check_unlocked(items, NULL)))
		goto out;
	for (GList *l = items; l; l = l->next)
		keyring_add_name(l->data, out);
out:
	keyring_free_items(items);
	keyring_end(&op);
	return st;
}

/*
 * For `auto`: a Secret Service answers and has a default collection to
 * store into.  Whether it is locked does not matter: the choice must not
 * change from one run to the next (contract.md, "auto").
 */
static int keyring_available(void)
{
	struct keyring_op op;
	char *path = NULL;
	int locked, ok;

	ok = !keyring_open(&op, KEYRING_PING_MS, 1) &&
	     !keyring_default_collection(&op, &path, &locked);
	if (ok)
		verbose("keyring: a Secret Service answers");
	g_free(path);
	keyring_end(&op);
	return ok;
}

const struct backend keyring_backend_impl = {
	.name = "keyring",
	.get = keyring_get,
	.store = keyring_store,
	.erase = keyring_erase,
	.list = keyring_list,
	.available = keyring_available,
};
