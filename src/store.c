/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kith-error.h"

struct _KithStore {
	sqlite3 *db;
	gchar *path;
};

static const gchar *kith_store_schema =
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
        "CREATE TABLE IF NOT EXISTS accounts ("
        "  device_id TEXT PRIMARY KEY,"
        "  password TEXT NOT NULL,"
        "  created INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS friends ("
        "  device_id TEXT NOT NULL,"
        "  jid TEXT NOT NULL,"
        "  decision TEXT NOT NULL,"
        "  updated INTEGER NOT NULL,"
        "  PRIMARY KEY (device_id, jid));"
        "CREATE TABLE IF NOT EXISTS provisioning_cache ("
        "  device_id TEXT NOT NULL,"
        "  question TEXT NOT NULL,"
        "  jid TEXT NOT NULL,"
        "  answer TEXT NOT NULL,"
        "  used INTEGER NOT NULL,"
        "  PRIMARY KEY (device_id, question));"
        "CREATE TABLE IF NOT EXISTS registry ("
        "  device_id TEXT PRIMARY KEY,"
        "  key TEXT NOT NULL,"
        "  owner TEXT,"
        "  state TEXT NOT NULL,"
        "  updated INTEGER NOT NULL,"
        "  registry TEXT);"
        /* component mode: the roster a server would keep (subscription state flags) */
        "CREATE TABLE IF NOT EXISTS roster ("
        "  device_id TEXT NOT NULL,"
        "  jid TEXT NOT NULL,"
        "  state INTEGER NOT NULL,"
        "  updated INTEGER NOT NULL,"
        "  PRIMARY KEY (device_id, jid));"
        /* every device a bus announced: what it is (a JSON record: label, meta data, fields,
         * last values) and when it was first and last seen */
        "CREATE TABLE IF NOT EXISTS devices ("
        "  device_id TEXT PRIMARY KEY,"
        "  bus TEXT NOT NULL,"
        "  driver_key TEXT,"
        "  record TEXT NOT NULL,"
        "  first_seen INTEGER NOT NULL,"
        "  last_seen INTEGER NOT NULL);"
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '4');"
        "UPDATE meta SET value = '4' WHERE key = 'schema';";

static gboolean
kith_store_fail (KithStore *store, GError **error, const gchar *what)
{
	g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s: %s", store->path, what,
	             sqlite3_errmsg (store->db));
	return FALSE;
}

static gboolean kith_store_damaged (KithStore *store, const gchar *why, GError **error);

static gboolean
kith_store_exec (KithStore *store, const gchar *sql, GError **error)
{
	gchar *message = NULL;
	int rc = sqlite3_exec (store->db, sql, NULL, NULL, &message);

	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
		gboolean ok = kith_store_damaged (store, message != NULL ? message : "", error);
		sqlite3_free (message);
		return ok;
	}
	if (rc != SQLITE_OK) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s", store->path,
		             message != NULL ? message : "error");
		sqlite3_free (message);
		return FALSE;
	}
	return TRUE;
}

/* a damaged database is never written over: it holds the devices' identities */
static gboolean
kith_store_damaged (KithStore *store, const gchar *why, GError **error)
{
	g_set_error (error, KITH_ERROR, KITH_ERROR_STORE,
	             "%s is damaged (%s); it holds the devices' identities (account passwords, "
	             "friends, owners), so kithd does not replace it: restore it from a backup, "
	             "or move it away to start anew with new accounts",
	             store->path, why);
	return FALSE;
}

/* the whole file is read once at start (it is small): damage shows now, not in the middle of
 * a friend request */
static gboolean
kith_store_check (KithStore *store, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	g_autofree gchar *result = NULL;
	int rc = sqlite3_prepare_v2 (store->db, "PRAGMA quick_check(1)", -1, &stmt, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
		result = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
	sqlite3_finalize (stmt);
	if (result != NULL && g_strcmp0 (result, "ok") == 0)
		return TRUE;
	if (result != NULL)
		return kith_store_damaged (store, g_strdelimit (result, "\n", ' '), error);
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		return kith_store_damaged (store, sqlite3_errmsg (store->db), error);
	return kith_store_fail (store, error, "cannot read");
}

/* what the state directory holds: the devices' passwords and identities, their history */
static const gchar *const kith_store_files[] = {
	"kith.db", "kith.db-wal", "kith.db-shm", "history.db", "history.db-wal", "history.db-shm",
};

/*
 * The state directory (0700) and its files (0600) must be kithd's alone: whoever else can
 * write them can replace the passwords, and whoever can read them can take the devices'
 * accounts. Too open but ours: tightened, with a warning. Another user's, a link or anything
 * but a plain file or directory: refused (root may use any, as it can anyway). A directory
 * everybody may write is refused too: anything in it may have been replaced.
 */
static gboolean
kith_store_check_private (const gchar *path, gboolean directory, GError **error)
{
	mode_t want = directory ? 0700 : 0600;
	GStatBuf st;

	/* the directory may be a link (/var/lib/kith -> /data/kith); its files may not */
	if ((directory ? g_stat (path, &st) : g_lstat (path, &st)) != 0) {
		if (errno == ENOENT && !directory)
			return TRUE; /* made private when it is created */
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "cannot read %s: %s", path,
		             g_strerror (errno));
		return FALSE;
	}
	if (directory ? !S_ISDIR (st.st_mode) : !S_ISREG (st.st_mode)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE,
		             "%s is not a %s (a link or a special file): the state directory must "
		             "hold kithd's own files only",
		             path, directory ? "directory" : "plain file");
		return FALSE;
	}
	if (st.st_uid != geteuid () && geteuid () != 0) {
		g_set_error (
		        error, KITH_ERROR, KITH_ERROR_STORE,
		        "%s belongs to uid %u, but kithd runs as uid %u: it holds the devices' "
		        "passwords, so it must be kithd's own (chown it, or run kithd as its "
		        "owner)",
		        path, (guint)st.st_uid, (guint)geteuid ());
		return FALSE;
	}
	if (directory && (st.st_mode & S_IWOTH) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE,
		             "the state directory %s is writable by everyone (mode %04o); it "
		             "holds the devices' passwords: make it private "
		             "(chmod 700 %s) or choose another StateDirectory=",
		             path, (guint)(st.st_mode & 07777), path);
		return FALSE;
	}
	if ((st.st_mode & 07777 & ~want) != 0) {
		if (g_chmod (path, want) != 0) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "cannot chmod %s: %s",
			             path, g_strerror (errno));
			return FALSE;
		}
		g_warning (
		        "%s was mode %04o, open to other users; made %04o (it holds the devices' "
		        "passwords)",
		        path, (guint)(st.st_mode & 07777), (guint)want);
	}
	return TRUE;
}

KithStore *
kith_store_open (const gchar *state_directory, GError **error)
{
	g_autoptr (KithStore) store = g_new0 (KithStore, 1);

	if (g_mkdir_with_parents (state_directory, 0700) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "cannot create %s: %s",
		             state_directory, g_strerror (errno));
		return NULL;
	}
	if (!kith_store_check_private (state_directory, TRUE, error))
		return NULL;
	for (guint i = 0; i < G_N_ELEMENTS (kith_store_files); i++) {
		g_autofree gchar *path =
		        g_build_filename (state_directory, kith_store_files[i], NULL);
		if (!kith_store_check_private (path, FALSE, error))
			return NULL;
	}
	/* SQLite would only say "unable to open database file" */
	if (g_access (state_directory, W_OK | X_OK) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE,
		             "cannot write in the state directory %s: %s; kithd keeps its database "
		             "there (make it writable for kithd's user, or choose another "
		             "StateDirectory=)",
		             state_directory, g_strerror (errno));
		return NULL;
	}
	store->path = g_build_filename (state_directory, "kith.db", NULL);
	/* the database holds account passwords: create it private */
	{
		mode_t old = umask (0077);
		int rc = sqlite3_open_v2 (
		        store->path, &store->db,
		        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
		umask (old);
		if (rc != SQLITE_OK) {
			kith_store_fail (store, error, "cannot open");
			return NULL;
		}
	}
	if (g_chmod (store->path, 0600) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "cannot chmod %s: %s",
		             store->path, g_strerror (errno));
		return NULL;
	}
	sqlite3_busy_timeout (store->db, 5000);
	if (!kith_store_exec (store, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
	                      error) ||
	    !kith_store_check (store, error))
		return NULL;
	if (!kith_store_exec (store, kith_store_schema, error))
		return NULL;
	return g_steal_pointer (&store);
}

void
kith_store_free (KithStore *store)
{
	if (store == NULL)
		return;
	if (store->db != NULL)
		sqlite3_close (store->db);
	g_free (store->path);
	g_free (store);
}

const gchar *
kith_store_get_path (KithStore *store)
{
	return store->path;
}

static sqlite3_stmt *
kith_store_prepare (KithStore *store, const gchar *sql, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		kith_store_fail (store, error, "prepare");
		return NULL;
	}
	return stmt;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* runs a write whose parameters are all text (NULL binds NULL); "now" is SQLite's clock */
static gboolean
kith_store_write (KithStore *store, const gchar *sql, const gchar *what, GError **error,
                  const gchar *const *values, guint n_values)
{
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (store, sql, error);

	if (stmt == NULL)
		return FALSE;
	for (guint i = 0; i < n_values; i++) {
		if (values[i] != NULL)
			sqlite3_bind_text (stmt, (int)i + 1, values[i], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null (stmt, (int)i + 1);
	}
	if (sqlite3_step (stmt) != SQLITE_DONE)
		return kith_store_fail (store, error, what);
	return TRUE;
}

#define KITH_STORE_NOW "CAST(strftime('%s', 'now') AS INTEGER)"
#define kith_store_run(store, sql, what, error, ...)                                               \
	kith_store_write (store, sql, what, error, (const gchar *const[]){ __VA_ARGS__ },          \
	                  G_N_ELEMENTS (((const gchar *const[]){ __VA_ARGS__ })))

gboolean
kith_store_get_password (KithStore *store, const gchar *device_id, gchar **password, GError **error)
{
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store, "SELECT password FROM accounts WHERE device_id = ?", error);
	int rc;

	*password = NULL;
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW) {
		*password = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
		return TRUE;
	}
	if (rc != SQLITE_DONE)
		return kith_store_fail (store, error, "read account");
	return TRUE;
}

gboolean
kith_store_add_password (KithStore *store, const gchar *device_id, const gchar *password,
                         gchar **stored, GError **error)
{
	if (!kith_store_run (store,
	                     "INSERT INTO accounts (device_id, password, created) "
	                     "VALUES (?, ?, " KITH_STORE_NOW ") ON CONFLICT (device_id) DO NOTHING",
	                     "save account", error, device_id, password))
		return FALSE;
	if (!kith_store_get_password (store, device_id, stored, error))
		return FALSE;
	if (*stored == NULL)
		return kith_store_fail (store, error, "account vanished after saving");
	return TRUE;
}

gboolean
kith_store_set_password (KithStore *store, const gchar *device_id, const gchar *password,
                         GError **error)
{
	return kith_store_run (store,
	                       "INSERT INTO accounts (device_id, password, created) "
	                       "VALUES (?, ?, " KITH_STORE_NOW ") ON CONFLICT (device_id) "
	                       "DO UPDATE SET password = excluded.password",
	                       "save account", error, device_id, password);
}

const gchar *
kith_friend_decision_to_string (KithFriendDecision decision)
{
	switch (decision) {
	case KITH_FRIEND_PENDING:
		return "pending";
	case KITH_FRIEND_ACCEPTED:
		return "accepted";
	case KITH_FRIEND_REFUSED:
		return "refused";
	case KITH_FRIEND_REMOVED:
		return "removed";
	}
	return "pending";
}

static gboolean
kith_friend_decision_from_string (const gchar *text, KithFriendDecision *out)
{
	for (guint i = KITH_FRIEND_PENDING; i <= KITH_FRIEND_REMOVED; i++) {
		if (g_strcmp0 (text, kith_friend_decision_to_string (i)) == 0) {
			*out = i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
kith_store_set_friend (KithStore *store, const gchar *device_id, const gchar *jid,
                       KithFriendDecision decision, GError **error)
{
	return kith_store_run (store,
	                       "INSERT INTO friends (device_id, jid, decision, updated) "
	                       "VALUES (?, ?, ?, " KITH_STORE_NOW ") ON CONFLICT (device_id, jid) "
	                       "DO UPDATE SET decision = excluded.decision, "
	                       "updated = excluded.updated",
	                       "save friendship", error, device_id, jid,
	                       kith_friend_decision_to_string (decision));
}

gboolean
kith_store_get_friend (KithStore *store, const gchar *device_id, const gchar *jid,
                       KithFriendDecision *decision)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store, "SELECT decision FROM friends WHERE device_id = ? AND jid = ?", &error);
	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return FALSE;
	}
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text (stmt, 2, jid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step (stmt) != SQLITE_ROW)
		return FALSE;
	return kith_friend_decision_from_string ((const gchar *)sqlite3_column_text (stmt, 0),
	                                         decision);
}

GPtrArray *
kith_store_list_friends (KithStore *store, const gchar *device_id, KithFriendDecision decision)
{
	GPtrArray *jids = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store, "SELECT jid FROM friends WHERE device_id = ? AND decision = ? ORDER BY jid",
	        &error);
	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return jids;
	}
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text (stmt, 2, kith_friend_decision_to_string (decision), -1, SQLITE_STATIC);
	while (sqlite3_step (stmt) == SQLITE_ROW)
		g_ptr_array_add (jids, g_strdup ((const gchar *)sqlite3_column_text (stmt, 0)));
	return jids;
}

/* the provisioning cache: the parent's answers, per device and exact question */

gchar *
kith_store_cache_get (KithStore *store, const gchar *device_id, const gchar *question)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store, "SELECT answer FROM provisioning_cache WHERE device_id = ? AND question = ?",
	        &error);
	gchar *answer = NULL;

	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return NULL;
	}
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text (stmt, 2, question, -1, SQLITE_TRANSIENT);
	if (sqlite3_step (stmt) == SQLITE_ROW)
		answer = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
	return answer;
}

gboolean
kith_store_cache_put (KithStore *store, const gchar *device_id, const gchar *question,
                      const gchar *jid, const gchar *answer, GError **error)
{
	return kith_store_run (store,
	                       "INSERT INTO provisioning_cache (device_id, question, jid, answer, "
	                       "used) VALUES (?, ?, ?, ?, " KITH_STORE_NOW ") ON CONFLICT "
	                       "(device_id, question) DO UPDATE SET answer = excluded.answer, "
	                       "used = excluded.used",
	                       "save provisioning answer", error, device_id, question, jid, answer);
}

/* jid NULL: every answer of the device */
gboolean
kith_store_cache_clear (KithStore *store, const gchar *device_id, const gchar *jid, GError **error)
{
	if (jid == NULL)
		return kith_store_run (store, "DELETE FROM provisioning_cache WHERE device_id = ?",
		                       "clear provisioning answers", error, device_id);
	return kith_store_run (store,
	                       "DELETE FROM provisioning_cache WHERE device_id = ? AND jid = ?",
	                       "clear provisioning answers", error, device_id, jid);
}

/* the registry state of a device: FALSE if none is stored */
gboolean
kith_store_get_registration (KithStore *store, const gchar *device_id, gchar **key, gchar **owner,
                             gchar **state)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store, "SELECT key, owner, state FROM registry WHERE device_id = ?", &error);
	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return FALSE;
	}
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step (stmt) != SQLITE_ROW)
		return FALSE;
	if (key != NULL)
		*key = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
	if (owner != NULL)
		*owner = g_strdup ((const gchar *)sqlite3_column_text (stmt, 1));
	if (state != NULL)
		*state = g_strdup ((const gchar *)sqlite3_column_text (stmt, 2));
	return TRUE;
}

gboolean
kith_store_set_registration (KithStore *store, const gchar *device_id, const gchar *key,
                             const gchar *owner, const gchar *state, GError **error)
{
	return kith_store_run (store,
	                       "INSERT INTO registry (device_id, key, owner, state, updated) "
	                       "VALUES (?, ?, ?, ?, " KITH_STORE_NOW ") ON CONFLICT (device_id) "
	                       "DO UPDATE SET key = excluded.key, owner = excluded.owner, "
	                       "state = excluded.state, updated = excluded.updated",
	                       "save registration", error, device_id, key, owner, state);
}

gboolean
kith_store_clear_registration (KithStore *store, const gchar *device_id, GError **error)
{
	return kith_store_run (store, "DELETE FROM registry WHERE device_id = ?",
	                       "forget registration", error, device_id);
}

/* the registry a device registered with: to withdraw from it when Registry= changes */
gchar *
kith_store_get_registry_jid (KithStore *store, const gchar *device_id)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store, "SELECT registry FROM registry WHERE device_id = ?", &error);
	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return NULL;
	}
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step (stmt) != SQLITE_ROW)
		return NULL;
	return g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
}

gboolean
kith_store_set_registry_jid (KithStore *store, const gchar *device_id, const gchar *registry,
                             GError **error)
{
	return kith_store_run (store, "UPDATE registry SET registry = ? WHERE device_id = ?",
	                       "save registry", error, registry, device_id);
}

/* component mode: the device's roster, kept here because no server keeps it */

gboolean
kith_store_set_roster (KithStore *store, const gchar *device_id, const gchar *jid, guint state,
                       GError **error)
{
	g_autofree gchar *text = g_strdup_printf ("%u", state);

	if (state == 0)
		return kith_store_run (store, "DELETE FROM roster WHERE device_id = ? AND jid = ?",
		                       "save roster", error, device_id, jid);
	return kith_store_run (store,
	                       "INSERT INTO roster (device_id, jid, state, updated) "
	                       "VALUES (?, ?, CAST(? AS INTEGER), " KITH_STORE_NOW ") "
	                       "ON CONFLICT (device_id, jid) DO UPDATE SET state = excluded.state, "
	                       "updated = excluded.updated",
	                       "save roster", error, device_id, jid, text);
}

void
kith_store_foreach_roster (KithStore *store, const gchar *device_id, KithStoreRosterFunc func,
                           gpointer user_data)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store,
	        device_id != NULL
	                ? "SELECT device_id, jid, state FROM roster WHERE device_id = ?1 ORDER BY "
	                  "jid"
	                : "SELECT device_id, jid, state FROM roster ORDER BY device_id, jid",
	        &error);

	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return;
	}
	if (device_id != NULL)
		sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step (stmt) == SQLITE_ROW)
		func ((const gchar *)sqlite3_column_text (stmt, 0),
		      (const gchar *)sqlite3_column_text (stmt, 1),
		      (guint)sqlite3_column_int64 (stmt, 2), user_data);
}

gboolean
kith_store_put_device (KithStore *store, const gchar *device_id, const gchar *bus,
                       const gchar *driver_key, const gchar *record, gint64 seen, GError **error)
{
	g_autofree gchar *when = g_strdup_printf ("%" G_GINT64_FORMAT, seen);
	return kith_store_run (
	        store,
	        "INSERT INTO devices (device_id, bus, driver_key, record, first_seen, "
	        "last_seen) VALUES (?1, ?2, ?3, ?4, CAST(?5 AS INTEGER), "
	        "CAST(?5 AS INTEGER)) "
	        "ON CONFLICT (device_id) DO UPDATE SET bus = excluded.bus, "
	        "driver_key = excluded.driver_key, record = excluded.record, "
	        "last_seen = MAX(last_seen, excluded.last_seen)",
	        "save a device", error, device_id, bus, driver_key, record, when);
}

gboolean
kith_store_delete_device (KithStore *store, const gchar *device_id, GError **error)
{
	return kith_store_run (store, "DELETE FROM devices WHERE device_id = ?", "forget a device",
	                       error, device_id);
}

void
kith_store_foreach_device (KithStore *store, const gchar *bus, KithStoreDeviceFunc func,
                           gpointer user_data)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (sqlite3_stmt) stmt = kith_store_prepare (
	        store,
	        bus != NULL ? "SELECT device_id, bus, driver_key, record, first_seen, last_seen "
	                      "FROM devices WHERE bus = ?1 ORDER BY first_seen, device_id"
	                    : "SELECT device_id, bus, driver_key, record, first_seen, last_seen "
	                      "FROM devices ORDER BY bus, first_seen, device_id",
	        &error);

	if (stmt == NULL) {
		g_warning ("%s", error->message);
		return;
	}
	if (bus != NULL)
		sqlite3_bind_text (stmt, 1, bus, -1, SQLITE_TRANSIENT);
	while (sqlite3_step (stmt) == SQLITE_ROW)
		func ((const gchar *)sqlite3_column_text (stmt, 0),
		      (const gchar *)sqlite3_column_text (stmt, 1),
		      (const gchar *)sqlite3_column_text (stmt, 2),
		      (const gchar *)sqlite3_column_text (stmt, 3), sqlite3_column_int64 (stmt, 4),
		      sqlite3_column_int64 (stmt, 5), user_data);
}

gboolean
kith_store_begin (KithStore *store, GError **error)
{
	return kith_store_exec (store, "BEGIN", error);
}

gboolean
kith_store_commit (KithStore *store, GError **error)
{
	return kith_store_exec (store, "COMMIT", error);
}
