/*
 * keyring.c: the Secret Service backend, spoken over GDBus directly
 * (org.freedesktop.Secret.Service, the freedesktop.org Secret Service
 * API), asynchronously on a private main context with one deadline.
 *
 * Why not libsecret: its sessions are always encrypted
 * (dh-ietf1024-sha256-aes128-cbc-pkcs7), with no public switch for the
 * "plain" algorithm every Secret Service must offer; the key exchange
 * cost 4-5 ms of a 12 ms lookup, and libsecret's proxies add a connection
 * and property round trips of their own.  What the encryption protected,
 * and why a plain session is acceptable here, is in docs/keyring.md.
 * Why not libsecret's simple password API either: it may block without
 * bound, may pop an unlock prompt, and answers NULL without an error when
 * a prompt is dismissed, which cannot be told from "no such item".
 *
 * Every call here neither unlocks nor prompts: a locked match is
 * ST_STORE, and "not found" means the service answered that nothing
 * matched.  A call that would need a prompt (the service hands back a
 * prompt object) is refused, never performed.
 *
 * Secrets: the record arrives in the reply to Item.GetSecret inside our
 * plain session; we copy its bytes into a secmem secbuf and wipe GLib's
 * copy in the reply before releasing it.  The message buffers GDBus read
 * it through are freed by GLib without wiping: the process is not
 * dumpable for that reason (security.md section 8).  Records are read
 * with their length, so they are binary-safe.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "backends/busenv.h"
#include "backends/keyring.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define KEYRING_KIND "record"
/* How long to wait for GDBus to report a cancellation. */
#define KEYRING_GRACE_MS 1000

#define SS_NAME	       "org.freedesktop.secrets"
#define SS_PATH	       "/org/freedesktop/secrets"
#define SS_SERVICE     "org.freedesktop.Secret.Service"
#define SS_ITEM	       "org.freedesktop.Secret.Item"
#define SS_COLLECTION  "org.freedesktop.Secret.Collection"
#define DBUS_PROPS     "org.freedesktop.DBus.Properties"
#define SS_NO_PROMPT   "/"
#define SS_ITEM_LABEL  SS_ITEM ".Label"
#define SS_ITEM_ATTRS  SS_ITEM ".Attributes"
#define SS_SCHEMA_ATTR "xdg:schema"

/*
 * One operation: asynchronous calls that complete on a private main
 * context that only we iterate, against one deadline for the whole
 * operation.  At the deadline the cancellable is cancelled; if GDBus has
 * still not finished a grace period later we stop waiting and never
 * iterate that context again, so a late completion is never dispatched.
 */
struct keyring_op {
	GMainContext *ctx;
	GCancellable *cancel;
	GSource *deadline, *grace;
	GDBusConnection *conn;
	char *session; /* our plain session's object path, once open */
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

/* Nobody provides the Secret Service, and the bus cannot start one. */
static int keyring_no_service(const GError *err)
{
	return g_error_matches(err, G_DBUS_ERROR,
			       G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(err, G_DBUS_ERROR,
			       G_DBUS_ERROR_NAME_HAS_NO_OWNER);
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
	else if (err && keyring_no_service(err))
		keyring_report(op, "no Secret Service on the session bus "
				   "(nothing provides " SS_NAME "); use "
				   "ASTRO_CRED_BACKEND=file here");
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
	g_free(op->session);
	if (op->conn)
		g_object_unref(op->conn);
	if (op->grace) {
		g_source_destroy(op->grace);
		g_source_unref(op->grace);
	}
	g_source_destroy(op->deadline);
	g_source_unref(op->deadline);
	/*
	 * Run what is still pending on our context before dropping it (a
	 * bounded number of rounds).  Not after an abandoned call, whose
	 * late completion must never be dispatched.
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
 * Start a method call on the Secret Service (auto-starting it when the
 * bus can, as any desktop client would); keyring_finish() collects it.
 * Two calls may be in flight at once.
 */
static void keyring_start(struct keyring_op *op, const char *path,
			  const char *iface, const char *method, GVariant *args,
			  const char *type, GAsyncResult **slot)
{
	*slot = NULL;
	g_dbus_connection_call(op->conn, SS_NAME, path, iface, method, args,
			       G_VARIANT_TYPE(type), G_DBUS_CALL_FLAGS_NONE, -1,
			       op->cancel, keyring_on_done, slot);
}

/* The reply of the call in SLOT, or NULL with *err set (if it failed). */
static GVariant *keyring_finish(struct keyring_op *op, GAsyncResult **slot,
				GError **err)
{
	GVariant *ret;

	if (!keyring_wait(op, slot))
		return NULL;
	ret = g_dbus_connection_call_finish(op->conn, *slot, err);
	g_object_unref(*slot);
	*slot = NULL;
	return ret;
}

/* One call, start to finish: the reply of type TYPE, or NULL (*err). */
static GVariant *keyring_call(struct keyring_op *op, const char *path,
			      const char *iface, const char *method,
			      GVariant *args, const char *type, GError **err)
{
	GAsyncResult *res = NULL;

	keyring_start(op, path, iface, method, args, type, &res);
	return keyring_finish(op, &res, err);
}

/* Property NAME of interface IFACE on PATH (a new reference), or NULL. */
static GVariant *keyring_property(struct keyring_op *op, const char *path,
				  const char *iface, const char *name,
				  GError **err)
{
	GVariant *ret =
	    keyring_call(op, path, DBUS_PROPS, "Get",
			 g_variant_new("(ss)", iface, name), "(v)", err);
	GVariant *v = NULL;

	if (ret) {
		g_variant_get(ret, "(v)", &v);
		g_variant_unref(ret);
	}
	return v;
}

/*
 * Start an operation: a session bus must be known without autolaunch
 * (busenv.h); then the shared connection to it.  Call keyring_end()
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
	g_bus_get(G_BUS_TYPE_SESSION, op->cancel, keyring_on_done, &res);
	if (!keyring_wait(op, &res))
		return keyring_failed(op, NULL, "reach the session bus");
	op->conn = g_bus_get_finish(res, &err);
	g_object_unref(res);
	if (!op->conn)
		return keyring_failed(op, err, "reach the session bus");
	return ST_OK;
}

/*
 * A "plain" session: the secret travels unencrypted inside the bus
 * messages (docs/keyring.md says why that is acceptable).  Started with
 * keyring_start_session(); collected here whatever happened meanwhile,
 * so that no reply is left in flight.  BEFORE is the status of the steps
 * run meanwhile: when they failed, it is returned and the session's own
 * outcome is not reported (it failed for the same reason).
 */
static enum status keyring_session(struct keyring_op *op, GAsyncResult **slot,
				   enum status before)
{
	GError *err = NULL;
	GVariant *ret = keyring_finish(op, slot, &err), *out;

	if (before != ST_OK) {
		if (ret)
			g_variant_unref(ret);
		if (err)
			g_error_free(err);
		return before;
	}
	if (!ret)
		return keyring_failed(op, err, "open a Secret Service session");
	g_variant_get(ret, "(vo)", &out, &op->session);
	g_variant_unref(out);
	g_variant_unref(ret);
	return ST_OK;
}

static void keyring_start_session(struct keyring_op *op, GAsyncResult **slot)
{
	keyring_start(op, SS_PATH, SS_SERVICE, "OpenSession",
		      g_variant_new("(sv)", "plain", g_variant_new_string("")),
		      "(vo)", slot);
}

/*
 * Our schema, kind=record, and profile=NAME when given.  The schema is
 * matched as an attribute, as libsecret stores it, so another
 * application's items with the same profile attribute never match (K-05).
 */
static GVariant *keyring_attributes(const char *profile)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&b, "{ss}", SS_SCHEMA_ATTR, KEYRING_SCHEMA);
	if (profile)
		g_variant_builder_add(&b, "{ss}", "profile", profile);
	g_variant_builder_add(&b, "{ss}", "kind", KEYRING_KIND);
	return g_variant_builder_end(&b);
}

/* The result of SearchItems: object paths of the matches (g_strfreev). */
struct keyring_found {
	char **unlocked, **locked;
};

static void keyring_found_clear(struct keyring_found *f)
{
	g_strfreev(f->unlocked);
	g_strfreev(f->locked);
	f->unlocked = f->locked = NULL;
}

static int keyring_found_none(const struct keyring_found *f)
{
	return !f->unlocked[0] && !f->locked[0];
}

/*
 * Every item matching all of our attributes, in any collection, locked
 * or not.  Never unlocks, never prompts.
 */
static enum status keyring_search(struct keyring_op *op, const char *profile,
				  struct keyring_found *f)
{
	GError *err = NULL;
	GVariant *ret =
	    keyring_call(op, SS_PATH, SS_SERVICE, "SearchItems",
			 g_variant_new("(@a{ss})", keyring_attributes(profile)),
			 "(aoao)", &err);

	if (!ret)
		return keyring_failed(op, err, "search the keyring");
	g_variant_get(ret, "(^ao^ao)", &f->unlocked, &f->locked);
	g_variant_unref(ret);
	return ST_OK;
}

/*
 * The verdict on a search for profile (NULL: every item of ours): no
 * match is ST_NOTFOUND for a profile.  A locked match is an error, never
 * "not found" and never a reason to prompt: the helper runs from shell
 * start-up files and scripts.
 */
static enum status keyring_check_found(const struct keyring_found *f,
				       const char *profile)
{
	if (profile && keyring_found_none(f))
		return ST_NOTFOUND;
	if (!f->locked[0])
		return ST_OK;
	if (profile)
		return fail(ST_STORE,
			    "keyring: the keyring holding profile '%s' is "
			    "locked; unlock it (for example in Seahorse, or by "
			    "logging in) and try again",
			    profile);
	return fail(ST_STORE,
		    "keyring: a keyring holding astro-cred items is locked; "
		    "unlock it (for example in Seahorse, or by logging in) "
		    "and try again");
}

/*
 * The most recently modified of the unlocked matches: the last store
 * wins over stray copies in other collections.  One match (the usual
 * case) costs no call.
 */
static const char *keyring_newest(struct keyring_op *op, char **paths)
{
	const char *best = paths[0];
	guint64 best_t = 0;

	if (!paths[1])
		return best;
	for (size_t i = 0; paths[i]; i++) {
		GVariant *v =
		    keyring_property(op, paths[i], SS_ITEM, "Modified", NULL);
		guint64 t = 0;

		if (v && g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64))
			t = g_variant_get_uint64(v);
		if (v)
			g_variant_unref(v);
		if (i == 0 || t > best_t) {
			best = paths[i];
			best_t = t;
		}
	}
	return best;
}

/* Copy the secret of a GetSecret reply into REC; wipe GLib's copy. */
static enum status keyring_copy_secret(GVariant *ret, const char *profile,
				       struct secbuf *rec)
{
	GVariant *value = NULL;
	enum status st = ST_OK;
	const unsigned char *data;
	gsize len = 0;

	g_variant_get(ret, "((o@ay@ays))", NULL, NULL, &value, NULL);
	data = g_variant_get_fixed_array(value, &len, 1);
	if (len > RECORD_MAX)
		st = fail(ST_STORE,
			  "keyring: the item for profile '%s' holds %zu bytes, "
			  "more than a record can be (%d)",
			  profile, (size_t)len, RECORD_MAX);
	else if (secbuf_append(rec, data, len) < 0)
		st = fail(ST_STORE,
			  "keyring: the record for profile '%s' does not fit",
			  profile);
	/*
	 * The reply's body is heap memory of ours that GLib would free
	 * without wiping; the bytes are wiped in place, best effort.
	 */
	secmem_wipe((void *)data, len);
	g_variant_unref(value);
	return st;
}

/* The secret of item PATH, in our session, into REC. */
static enum status keyring_read_item(struct keyring_op *op, const char *path,
				     const char *profile, struct secbuf *rec)
{
	GError *err = NULL;
	GVariant *ret =
	    keyring_call(op, path, SS_ITEM, "GetSecret",
			 g_variant_new("(o)", op->session), "((oayays))", &err);
	enum status st;

	if (!ret)
		return keyring_failed(op, err, "read the record");
	st = keyring_copy_secret(ret, profile, rec);
	g_variant_unref(ret);
	return st;
}

/*
 * get: the search and the session are asked for together (two calls in
 * flight, one round trip's wait), then the secret of the newest match.
 */
static enum status keyring_get(const char *profile, struct secbuf *rec)
{
	struct keyring_op op;
	struct keyring_found f = {NULL, NULL};
	GAsyncResult *session = NULL;
	enum status st;

	secbuf_clear(rec);
	if ((st = profile_name_check(profile)))
		return st;
	if ((st = keyring_open(&op, KEYRING_TIMEOUT_MS, 0)))
		goto out;
	keyring_start_session(&op, &session);
	st = keyring_search(&op, profile, &f);
	if ((st = keyring_session(&op, &session, st)) ||
	    (st = keyring_check_found(&f, profile)))
		goto out;
	st = keyring_read_item(&op, keyring_newest(&op, f.unlocked), profile,
			       rec);
out:
	if (session)
		g_object_unref(session);
	keyring_found_clear(&f);
	keyring_end(&op);
	if (st)
		secbuf_clear(rec);
	return st;
}

/*
 * The default collection's object path (g_free it) and whether it is
 * locked.
 */
static enum status keyring_default_collection(struct keyring_op *op,
					      char **path, int *locked)
{
	GError *err = NULL;
	GVariant *ret, *v;

	*path = NULL;
	ret = keyring_call(op, SS_PATH, SS_SERVICE, "ReadAlias",
			   g_variant_new("(s)", "default"), "(o)", &err);
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
	v = keyring_property(op, *path, SS_COLLECTION, "Locked", &err);
	if (!v)
		return keyring_failed(op, err,
				      "ask whether the keyring is locked");
	*locked = !g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) ||
		  g_variant_get_boolean(v);
	g_variant_unref(v);
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

/* A returned prompt means the service wants a user's answer: refused. */
static enum status keyring_no_prompt(const struct keyring_op *op,
				     const char *prompt, const char *what)
{
	if (!strcmp(prompt, SS_NO_PROMPT))
		return ST_OK;
	keyring_report(op,
		       "cannot %s: the Secret Service asks for a prompt, "
		       "which astro-cred never opens",
		       what);
	return ST_STORE;
}

/* Label and attributes, as CreateItem takes them. */
static GVariant *keyring_item_properties(const char *profile)
{
	GVariantBuilder b;
	char *label = g_strdup_printf("Astro API token (%s)", profile);

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", SS_ITEM_LABEL,
			      g_variant_new_take_string(label));
	g_variant_builder_add(&b, "{sv}", SS_ITEM_ATTRS,
			      keyring_attributes(profile));
	return g_variant_builder_end(&b);
}

/*
 * Create the item in collection PATH, replacing one with the very same
 * attributes (CreateItem with replace).  The secret's variant points at
 * REC, in our secret memory, instead of holding a GLib copy of it (which
 * g_variant_new_fixed_array would make and free without wiping): GDBus
 * reads it once, when it writes the message out, before the call is
 * sent.  That message buffer is GLib's copy, freed without wiping.
 */
static enum status keyring_create(struct keyring_op *op, const char *path,
				  const char *profile, const unsigned char *rec,
				  size_t len)
{
	GVariant *value = g_variant_new_from_data(G_VARIANT_TYPE_BYTESTRING,
						  rec, len, TRUE, NULL, NULL);
	GVariant *secret = g_variant_new(
	    "(o@ay@ays)", op->session,
	    g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, NULL, 0, 1), value,
	    keyring_content_type(rec, len));
	GVariant *ret, *args;
	GError *err = NULL;
	char *prompt = NULL;
	enum status st;

	args = g_variant_new("(@a{sv}@(oayays)b)",
			     keyring_item_properties(profile), secret, TRUE);
	ret = keyring_call(op, path, SS_COLLECTION, "CreateItem", args, "(oo)",
			   &err);
	if (!ret)
		return keyring_failed(op, err, "store the record");
	g_variant_get(ret, "(&oo)", NULL, &prompt);
	st = keyring_no_prompt(op, prompt, "store the record");
	g_free(prompt);
	g_variant_unref(ret);
	return st;
}

static enum status keyring_store(const char *profile, const unsigned char *rec,
				 size_t len)
{
	struct keyring_op op;
	GAsyncResult *session = NULL;
	char *path = NULL;
	int locked = 1;
	enum status st;

	if ((st = profile_name_check(profile)))
		return st;
	if (len > RECORD_MAX)
		return fail(ST_USAGE,
			    "keyring: a record of %zu bytes is larger than "
			    "%d; nothing stored",
			    len, RECORD_MAX);
	if ((st = keyring_open(&op, KEYRING_TIMEOUT_MS, 0)))
		goto out;
	keyring_start_session(&op, &session);
	st = keyring_default_collection(&op, &path, &locked);
	if ((st = keyring_session(&op, &session, st)))
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
	if (session)
		g_object_unref(session);
	g_free(path);
	keyring_end(&op);
	return st;
}

static enum status keyring_delete(struct keyring_op *op, const char *path)
{
	GError *err = NULL;
	GVariant *ret =
	    keyring_call(op, path, SS_ITEM, "Delete", NULL, "(o)", &err);
	const char *prompt;
	enum status st;

	if (!ret)
		return keyring_failed(op, err, "delete the item");
	g_variant_get(ret, "(&o)", &prompt);
	st = keyring_no_prompt(op, prompt, "delete the item");
	g_variant_unref(ret);
	return st;
}

/* Open op and find profile's items (NULL: all of ours), all unlocked. */
static enum status keyring_find(struct keyring_op *op, const char *profile,
				struct keyring_found *f)
{
	enum status st;

	if ((st = keyring_open(op, KEYRING_TIMEOUT_MS, 0)) ||
	    (st = keyring_search(op, profile, f)))
		return st;
	return keyring_check_found(f, profile);
}

/*
 * Every match goes, stray copies in other collections too; if any is
 * locked, none is touched.
 */
static enum status keyring_erase(const char *profile)
{
	struct keyring_op op;
	struct keyring_found f = {NULL, NULL};
	enum status st;

	if ((st = profile_name_check(profile)))
		return st;
	st = keyring_find(&op, profile, &f);
	for (size_t i = 0; !st && f.unlocked[i]; i++)
		st = keyring_delete(&op, f.unlocked[i]);
	keyring_found_clear(&f);
	keyring_end(&op);
	return st;
}

/* The profile attribute of item PATH, added to OUT once if valid. */
static enum status keyring_add_name(struct keyring_op *op, const char *path,
				    struct strlist *out)
{
	GError *err = NULL;
	GVariant *attrs =
	    keyring_property(op, path, SS_ITEM, "Attributes", &err);
	const char *name = NULL;

	if (!attrs)
		return keyring_failed(op, err, "read an item's attributes");
	if (g_variant_is_of_type(attrs, G_VARIANT_TYPE("a{ss}")))
		g_variant_lookup(attrs, "profile", "&s", &name);
	if (!name || !profile_name_ok(name))
		verbose("keyring: ignoring an item with no valid profile name");
	else if (strlist_find(out, name) < 0)
		strlist_push(out, name);
	g_variant_unref(attrs);
	return ST_OK;
}

static enum status keyring_list(struct strlist *out)
{
	struct keyring_op op;
	struct keyring_found f = {NULL, NULL};
	enum status st;

	st = keyring_find(&op, NULL, &f);
	for (size_t i = 0; !st && f.unlocked[i]; i++)
		st = keyring_add_name(&op, f.unlocked[i], out);
	keyring_found_clear(&f);
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
    .put = keyring_store,
    .erase = keyring_erase,
    .list = keyring_list,
    .available = keyring_available,
};
