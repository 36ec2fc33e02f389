/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "history.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "kith-error.h"

/* readings wait in memory at most this long (unless the limits say otherwise), or until
 * there are this many; a write that failed is tried again this often */
#define KITH_HISTORY_WRITE_S 300
#define KITH_HISTORY_FLUSH_ROWS 5000
#define KITH_HISTORY_RETRY_S 60
/* the writes that come by themselves go in slices between the main loop's other work
 * (G_PRIORITY_LOW), a transaction each that ends after this long: writing all that waited at
 * once held the loop long enough for a fast GPIO input to lose edges (the kernel keeps 16 of a
 * line's events: 8 ms of 1 kHz pulses) */
#define KITH_HISTORY_SLICE_US 2000
/* the clock is read every this many rows */
#define KITH_HISTORY_SLICE_STEP 8
/* a disk that takes nothing (full, read-only): at most this many wait, the oldest go first */
#define KITH_HISTORY_PENDING_MAX 200000
/* the age limit is applied at most this often */
#define KITH_HISTORY_PRUNE_S 3600

static const gchar *kith_history_schema =
        "CREATE TABLE IF NOT EXISTS series ("
        "  id INTEGER PRIMARY KEY,"
        "  device TEXT NOT NULL,"
        "  field TEXT NOT NULL,"
        "  type INTEGER NOT NULL,"
        "  UNIQUE (device, field));"
        /* one row a reading: the series, when (microseconds), the value */
        "CREATE TABLE IF NOT EXISTS readings ("
        "  series INTEGER NOT NULL,"
        "  t INTEGER NOT NULL,"
        "  num,"
        "  txt TEXT,"
        "  PRIMARY KEY (series, t)) WITHOUT ROWID;";

typedef struct {
	gint64 id;
	KithValueType type;
	gint64 last; /* the time of the last reading kept or waiting */
} KithSeries;

typedef struct {
	gint64 series;
	gint64 t;
	KithValueType type;
	gdouble number;
	gint64 integer;
	gchar *text;
} KithRow;

struct _KithHistory {
	sqlite3 *db;
	gchar *path;
	KithHistoryLimits limits;
	GHashTable *series; /* "device\x1f field" -> KithSeries */
	GArray *pending;    /* KithRow */
	guint flush_id;
	guint slice_id; /* writing in slices */
	guint written;  /* the first rows of pending, inserted in the transaction still open */
	gboolean series_lost; /* a rolled back transaction may have held new series */
	gint64 pruned_at;
	gboolean failing; /* the last write failed: said once */
	guint dropped;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

void
kith_sample_free (KithSample *sample)
{
	if (sample == NULL)
		return;
	g_free (sample->field);
	kith_value_clear (&sample->value);
	g_free (sample);
}

static void
kith_row_clear (gpointer data)
{
	g_free (((KithRow *)data)->text);
}

static gboolean
kith_history_exec (KithHistory *self, const gchar *sql, GError **error)
{
	gchar *message = NULL;
	if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s", self->path,
		             message != NULL ? message : sqlite3_errmsg (self->db));
		sqlite3_free (message);
		return FALSE;
	}
	return TRUE;
}

static sqlite3_stmt *
kith_history_prepare (KithHistory *self, const gchar *sql)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		g_warning ("%s: %s", self->path, sqlite3_errmsg (self->db));
		return NULL;
	}
	return stmt;
}

/* opens (creating) the database file; FALSE with error set if it cannot, *damaged when the
 * file is there but is no database or a damaged one */
static gboolean
kith_history_open_db (KithHistory *self, gboolean *damaged, GError **error)
{
	mode_t old;
	int rc;

	*damaged = FALSE;
	old = umask (0077);
	rc = sqlite3_open_v2 (self->path, &self->db,
	                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                      NULL);
	umask (old);
	if (rc != SQLITE_OK) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "cannot open %s: %s", self->path,
		             sqlite3_errmsg (self->db));
		return FALSE;
	}
	sqlite3_busy_timeout (self->db, 5000);
	/* incremental vacuum must be chosen before the first table: space freed by the ring
	 * can then be given back */
	if (!kith_history_exec (self,
	                        "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; "
	                        "PRAGMA synchronous=NORMAL;",
	                        error) ||
	    !kith_history_exec (self, kith_history_schema, error)) {
		int code = sqlite3_errcode (self->db);
		*damaged = code == SQLITE_NOTADB || code == SQLITE_CORRUPT;
		return FALSE;
	}
	(void)g_chmod (self->path, 0600);
	return TRUE;
}

/* a damaged history is no reason to keep none: it is kept aside for whoever wants to look,
 * and a new one begins */
static gboolean
kith_history_set_aside (KithHistory *self, GError **error)
{
	g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
	g_autofree gchar *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
	g_autofree gchar *aside = g_strdup_printf ("%s.damaged-%s", self->path, stamp);
	static const gchar *const suffixes[] = { "-wal", "-shm" };

	g_clear_pointer (&self->db, sqlite3_close);
	if (g_rename (self->path, aside) != 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "cannot move %s aside: %s",
		             self->path, g_strerror (errno));
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++) {
		g_autofree gchar *from = g_strconcat (self->path, suffixes[i], NULL);
		g_autofree gchar *to = g_strconcat (aside, suffixes[i], NULL);
		(void)g_rename (from, to);
	}
	g_warning ("%s is damaged: moved to %s; the history starts anew", self->path, aside);
	g_hash_table_remove_all (self->series);
	return TRUE;
}

KithHistory *
kith_history_open (const gchar *state_directory, const KithHistoryLimits *limits, GError **error)
{
	KithHistory *self = g_new0 (KithHistory, 1);
	g_autoptr (GError) first = NULL;
	gboolean damaged;

	self->limits = *limits;
	if (self->limits.write_s == 0)
		self->limits.write_s = KITH_HISTORY_WRITE_S;
	self->path = g_build_filename (state_directory, "history.db", NULL);
	self->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->pending = g_array_new (FALSE, TRUE, sizeof (KithRow));
	g_array_set_clear_func (self->pending, kith_row_clear);
	if (!kith_history_open_db (self, &damaged, &first) &&
	    (!damaged || !kith_history_set_aside (self, error) ||
	     !kith_history_open_db (self, &damaged, error))) {
		if (first != NULL && error != NULL && *error == NULL)
			g_propagate_error (error, g_steal_pointer (&first));
		kith_history_free (self);
		return NULL;
	}
	return self;
}

void
kith_history_free (KithHistory *self)
{
	if (self == NULL)
		return;
	if (self->db != NULL)
		kith_history_flush (self);
	g_clear_handle_id (&self->flush_id, g_source_remove);
	g_clear_handle_id (&self->slice_id, g_source_remove);
	if (self->db != NULL)
		sqlite3_close (self->db);
	g_array_unref (self->pending);
	g_hash_table_unref (self->series);
	g_free (self->path);
	g_free (self);
}

/* the series of a device's field: its id (made on first use) and newest time */
static KithSeries *
kith_history_series (KithHistory *self, const gchar *device_id, const KithField *field)
{
	g_autofree gchar *key = g_strdup_printf ("%s\x1f%s", device_id, field->name);
	KithSeries *series = g_hash_table_lookup (self->series, key);
	g_autoptr (sqlite3_stmt) stmt = NULL;

	if (series != NULL)
		return series;
	stmt = kith_history_prepare (self, "INSERT INTO series (device, field, type) "
	                                   "VALUES (?1, ?2, ?3) ON CONFLICT (device, field) DO "
	                                   "UPDATE SET type = excluded.type RETURNING id");
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text (stmt, 2, field->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int (stmt, 3, field->type);
	if (sqlite3_step (stmt) != SQLITE_ROW) {
		if (!self->failing)
			g_warning ("%s: %s", self->path, sqlite3_errmsg (self->db));
		self->failing = TRUE;
		return NULL;
	}
	series = g_new0 (KithSeries, 1);
	series->id = sqlite3_column_int64 (stmt, 0);
	series->type = field->type;
	g_clear_pointer (&stmt, sqlite3_finalize);
	stmt = kith_history_prepare (self, "SELECT MAX(t) FROM readings WHERE series = ?1");
	if (stmt != NULL) {
		sqlite3_bind_int64 (stmt, 1, series->id);
		if (sqlite3_step (stmt) == SQLITE_ROW)
			series->last = sqlite3_column_int64 (stmt, 0);
	}
	g_hash_table_insert (self->series, g_steal_pointer (&key), series);
	return series;
}

static gboolean kith_history_slice_cb (gpointer user_data);

static gint
kith_row_compare (gconstpointer a, gconstpointer b)
{
	const KithRow *x = a, *y = b;

	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

/*
 * What waits is written series by series, in the table's order (stable: of two readings of
 * one series at the same time, after the clock went back, the later one still wins). In the
 * order they came, every transaction of a slice would touch the last page of every series:
 * an hour of 50 devices' readings written in slices cost 25 times its size in WAL frames.
 */
static void
kith_history_sort_pending (KithHistory *self)
{
	g_array_sort (self->pending, kith_row_compare);
}

void
kith_history_write_soon (KithHistory *self)
{
	g_clear_handle_id (&self->flush_id, g_source_remove);
	if (self->slice_id == 0) {
		if (self->written == 0)
			kith_history_sort_pending (self);
		self->slice_id =
		        g_idle_add_full (G_PRIORITY_LOW, kith_history_slice_cb, self, NULL);
	}
}

static gboolean
kith_history_flush_cb (gpointer user_data)
{
	KithHistory *self = user_data;
	self->flush_id = 0;
	kith_history_write_soon (self);
	return G_SOURCE_REMOVE;
}

void
kith_history_record (KithHistory *self, KithDevice *device)
{
	GPtrArray *fields = kith_device_get_fields (device);

	if (self == NULL || self->limits.days == 0)
		return;
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		const KithValue *value = kith_device_get_value (device, field->name);
		KithSeries *series;
		KithRow row = { 0 };

		/* identity fields (a model name) are not readings */
		if (value == NULL || !value->valid || field->categories == KITH_FIELD_IDENTITY)
			continue;
		series = kith_history_series (self, kith_device_get_id (device), field);
		/* a reading not kept yet: its time differs from the last one kept (not only
		 * later: after the clock went back, readings are older and still new) */
		if (series == NULL || value->timestamp == series->last)
			continue;
		series->last = value->timestamp;
		row.series = series->id;
		row.t = value->timestamp;
		row.type = field->type;
		row.number = value->type == KITH_VALUE_BOOLEAN ? value->boolean : value->number;
		row.integer = value->integer;
		row.text = g_strdup (value->string);
		g_array_append_val (self->pending, row);
	}
	if (self->pending->len >= KITH_HISTORY_FLUSH_ROWS)
		kith_history_write_soon (self);
	else if (self->pending->len > 0 && self->flush_id == 0 && self->slice_id == 0)
		self->flush_id = g_timeout_add_seconds (self->limits.write_s, kith_history_flush_cb,
		                                        self);
}

static void
kith_history_bind_row (sqlite3_stmt *stmt, const KithRow *row)
{
	sqlite3_bind_int64 (stmt, 1, row->series);
	sqlite3_bind_int64 (stmt, 2, row->t);
	switch (row->type) {
	case KITH_VALUE_NUMERIC:
		sqlite3_bind_double (stmt, 3, row->number);
		break;
	case KITH_VALUE_BOOLEAN:
		sqlite3_bind_int (stmt, 3, row->number != 0);
		break;
	case KITH_VALUE_INT:
		sqlite3_bind_int64 (stmt, 3, row->integer);
		break;
	case KITH_VALUE_STRING:
		sqlite3_bind_null (stmt, 3);
		break;
	}
	if (row->text != NULL)
		sqlite3_bind_text (stmt, 4, row->text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null (stmt, 4);
}

/* what the database holds in pages in use, in bytes */
static gint64
kith_history_used_bytes (KithHistory *self)
{
	gint64 pages = 0, free_pages = 0, page_size = 4096;
	g_autoptr (sqlite3_stmt) count = kith_history_prepare (self, "PRAGMA page_count");
	g_autoptr (sqlite3_stmt) freelist = kith_history_prepare (self, "PRAGMA freelist_count");
	g_autoptr (sqlite3_stmt) size = kith_history_prepare (self, "PRAGMA page_size");

	if (count != NULL && sqlite3_step (count) == SQLITE_ROW)
		pages = sqlite3_column_int64 (count, 0);
	if (freelist != NULL && sqlite3_step (freelist) == SQLITE_ROW)
		free_pages = sqlite3_column_int64 (freelist, 0);
	if (size != NULL && sqlite3_step (size) == SQLITE_ROW)
		page_size = sqlite3_column_int64 (size, 0);
	return (pages - free_pages) * page_size;
}

/* deletes the readings older than cutoff, series by series (the primary key's order) */
static void
kith_history_delete_before (KithHistory *self, gint64 cutoff)
{
	g_autoptr (sqlite3_stmt) ids = kith_history_prepare (self, "SELECT id FROM series");
	g_autoptr (sqlite3_stmt) del =
	        kith_history_prepare (self, "DELETE FROM readings WHERE series = ?1 AND t < ?2");

	if (ids == NULL || del == NULL)
		return;
	while (sqlite3_step (ids) == SQLITE_ROW) {
		sqlite3_reset (del);
		sqlite3_bind_int64 (del, 1, sqlite3_column_int64 (ids, 0));
		sqlite3_bind_int64 (del, 2, cutoff);
		(void)sqlite3_step (del);
	}
}

/* the oldest reading kept (0: none) */
static gint64
kith_history_oldest (KithHistory *self)
{
	g_autoptr (sqlite3_stmt) ids = kith_history_prepare (self, "SELECT id FROM series");
	g_autoptr (sqlite3_stmt) min =
	        kith_history_prepare (self, "SELECT MIN(t) FROM readings WHERE series = ?1");
	gint64 oldest = 0;

	if (ids == NULL || min == NULL)
		return 0;
	while (sqlite3_step (ids) == SQLITE_ROW) {
		sqlite3_reset (min);
		sqlite3_bind_int64 (min, 1, sqlite3_column_int64 (ids, 0));
		if (sqlite3_step (min) == SQLITE_ROW &&
		    sqlite3_column_type (min, 0) != SQLITE_NULL) {
			gint64 t = sqlite3_column_int64 (min, 0);
			if (oldest == 0 || t < oldest)
				oldest = t;
		}
	}
	return oldest;
}

/* the newest reading kept (0: none) */
static gint64
kith_history_newest (KithHistory *self)
{
	g_autoptr (sqlite3_stmt) stmt = kith_history_prepare (self, "SELECT MAX(t) FROM readings");

	if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
		return 0;
	return sqlite3_column_int64 (stmt, 0);
}

/* the ring: by age at most once an hour, by size whenever it is past its limit */
static void
kith_history_prune (KithHistory *self)
{
	gint64 now = g_get_real_time ();
	gint64 limit = (gint64)self->limits.max_mb * 1024 * 1024;
	gint64 used;

	/* one transaction for all of it: a DELETE a series would be a transaction (and its WAL
	 * frames) each */
	if (!kith_history_exec (self, "BEGIN", NULL))
		return;
	/* hourly, and at once when the clock went back past the last time */
	if (now - self->pruned_at > (gint64)KITH_HISTORY_PRUNE_S * G_USEC_PER_SEC ||
	    now < self->pruned_at) {
		self->pruned_at = now;
		kith_history_delete_before (self, now - (gint64)self->limits.days * 86400 *
		                                                  G_USEC_PER_SEC);
	}
	used = limit > 0 ? kith_history_used_bytes (self) : 0;
	for (guint round = 0; limit > 0 && round < 10 && used > limit; round++) {
		gint64 oldest = kith_history_oldest (self);
		gint64 newest = kith_history_newest (self);
		/* the share of the time kept that is over the limit goes, and a tenth more so
		 * that this is not done again at the next write; at most half of it at a time
		 * (the readings need not be spread evenly over the time kept, which ends at the
		 * newest reading, not now: the clock may have gone back past it) */
		gdouble share = CLAMP (1.0 - (gdouble)limit / (gdouble)used + 0.1, 0.1, 0.5);
		if (oldest == 0)
			break;
		kith_history_delete_before (
		        self, oldest + MAX ((gint64)((gdouble)(newest - oldest) * share), 1));
		used = kith_history_used_bytes (self);
	}
	(void)kith_history_exec (self, "PRAGMA incremental_vacuum", NULL);
	if (!kith_history_exec (self, "COMMIT", NULL))
		(void)kith_history_exec (self, "ROLLBACK", NULL);
}

/* the series known in memory are in the database again (a transaction that made some was
 * rolled back) */
static gboolean
kith_history_restore_series (KithHistory *self, GError **error)
{
	g_autoptr (sqlite3_stmt) stmt = kith_history_prepare (
	        self, "INSERT OR IGNORE INTO series (id, device, field, type) VALUES (?1, ?2, ?3, ?4)");
	GHashTableIter iter;
	gpointer key, value;

	if (stmt == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s", self->path,
		             sqlite3_errmsg (self->db));
		return FALSE;
	}
	g_hash_table_iter_init (&iter, self->series);
	while (g_hash_table_iter_next (&iter, &key, &value)) {
		const KithSeries *series = value;
		const gchar *field = strchr (key, '\x1f');
		sqlite3_reset (stmt);
		sqlite3_bind_int64 (stmt, 1, series->id);
		sqlite3_bind_text (stmt, 2, key, (int)(field - (const gchar *)key), SQLITE_TRANSIENT);
		sqlite3_bind_text (stmt, 3, field + 1, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int (stmt, 4, series->type);
		if (sqlite3_step (stmt) != SQLITE_DONE) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s", self->path,
			             sqlite3_errmsg (self->db));
			return FALSE;
		}
	}
	self->series_lost = FALSE;
	return TRUE;
}

/* nothing of the open transaction is kept: its rows wait again */
static void
kith_history_rollback (KithHistory *self)
{
	if (!sqlite3_get_autocommit (self->db))
		(void)kith_history_exec (self, "ROLLBACK", NULL);
	self->written = 0;
	self->series_lost = TRUE;
}

/*
 * Inserts the rows that wait, in one transaction that stays open from slice to slice and is
 * committed once every row is in: all of them now, or (until > 0) those inserted before the
 * monotonic time until. A transaction a slice would cost its own WAL frames for the pages
 * every transaction touches (the tree's inner pages, the header): 20 times the readings' size
 * for a backlog of an hour, against 3 times in one. The rows leave pending at the commit only:
 * a failure leaves every one of them waiting.
 */
static gboolean
kith_history_write (KithHistory *self, gint64 until, GError **error)
{
	g_autoptr (sqlite3_stmt) insert = NULL;
	guint n = self->pending->len;

	insert = kith_history_prepare (self, "INSERT OR REPLACE INTO readings (series, t, num, "
	                                     "txt) VALUES (?1, ?2, ?3, ?4)");
	if (insert == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s", self->path,
		             sqlite3_errmsg (self->db));
		kith_history_rollback (self);
		return FALSE;
	}
	if (self->written == 0 && sqlite3_get_autocommit (self->db) &&
	    !kith_history_exec (self, "BEGIN", error))
		return FALSE;
	if (self->series_lost && !kith_history_restore_series (self, error)) {
		kith_history_rollback (self);
		return FALSE;
	}
	for (guint i = self->written; i < n; i++) {
		if (until > 0 && i > self->written && i % KITH_HISTORY_SLICE_STEP == 0 &&
		    g_get_monotonic_time () >= until) {
			self->written = i;
			return TRUE;
		}
		sqlite3_reset (insert);
		kith_history_bind_row (insert, &g_array_index (self->pending, KithRow, i));
		if (sqlite3_step (insert) != SQLITE_DONE) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "%s: %s", self->path,
			             sqlite3_errmsg (self->db));
			kith_history_rollback (self);
			return FALSE;
		}
	}
	if (!kith_history_exec (self, "COMMIT", error)) {
		kith_history_rollback (self);
		return FALSE;
	}
	self->written = 0;
	g_array_remove_range (self->pending, 0, n);
	return TRUE;
}

/* the readings wait in memory for the next time; bounded, the oldest go first */
static void
kith_history_write_failed (KithHistory *self, const GError *error)
{
	if (!self->failing)
		g_warning ("readings could not be written (%s); they wait in memory",
		           error->message);
	self->failing = TRUE;
	if (self->pending->len > KITH_HISTORY_PENDING_MAX) {
		guint drop = self->pending->len - KITH_HISTORY_PENDING_MAX;
		g_array_remove_range (self->pending, 0, drop);
		self->dropped += drop;
	}
	if (self->flush_id == 0)
		self->flush_id =
		        g_timeout_add_seconds (KITH_HISTORY_RETRY_S, kith_history_flush_cb, self);
}

/* everything that waited is written */
static void
kith_history_written (KithHistory *self)
{
	if (self->failing)
		g_message ("%s: readings are written again%s", self->path,
		           self->dropped > 0 ? " (the oldest of those waiting were dropped)" : "");
	self->failing = FALSE;
	self->dropped = 0;
	kith_history_prune (self);
}

static gboolean
kith_history_slice_cb (gpointer user_data)
{
	KithHistory *self = user_data;
	g_autoptr (GError) error = NULL;

	if (!kith_history_write (self, g_get_monotonic_time () + KITH_HISTORY_SLICE_US, &error)) {
		self->slice_id = 0;
		kith_history_write_failed (self, error);
		return G_SOURCE_REMOVE;
	}
	if (self->written > 0)
		return G_SOURCE_CONTINUE;
	self->slice_id = 0;
	kith_history_written (self);
	/* what came while the transaction was open: the next time */
	if (self->pending->len > 0 && self->flush_id == 0)
		self->flush_id = g_timeout_add_seconds (self->limits.write_s, kith_history_flush_cb,
		                                        self);
	return G_SOURCE_REMOVE;
}

void
kith_history_flush (KithHistory *self)
{
	g_autoptr (GError) error = NULL;

	g_clear_handle_id (&self->flush_id, g_source_remove);
	g_clear_handle_id (&self->slice_id, g_source_remove);
	if (self->pending->len == 0)
		return;
	/* the rows in an open transaction keep their places */
	if (self->written == 0)
		kith_history_sort_pending (self);
	if (!kith_history_write (self, 0, &error)) {
		kith_history_write_failed (self, error);
		return;
	}
	kith_history_written (self);
}

GPtrArray *
kith_history_query (KithHistory *self, const gchar *device_id, GPtrArray *names, gint64 from,
                    gint64 to, guint max)
{
	GPtrArray *samples = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_sample_free);
	g_autoptr (sqlite3_stmt) stmt = NULL;

	if (self == NULL)
		return samples;
	kith_history_flush (self);
	stmt = kith_history_prepare (
	        self, from > 0 ? "SELECT s.field, s.type, r.t, r.num, r.txt FROM readings r JOIN "
	                         "series s ON s.id = r.series WHERE s.device = ?1 AND r.t >= ?2 "
	                         "AND r.t <= ?3 ORDER BY r.t ASC LIMIT ?4"
	                       : "SELECT s.field, s.type, r.t, r.num, r.txt FROM readings r JOIN "
	                         "series s ON s.id = r.series WHERE s.device = ?1 AND r.t >= ?2 "
	                         "AND r.t <= ?3 ORDER BY r.t DESC LIMIT ?4");
	if (stmt == NULL)
		return samples;
	sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64 (stmt, 2, from);
	sqlite3_bind_int64 (stmt, 3, to > 0 ? to : G_MAXINT64);
	/* the field filter is applied below: names are few, rows are what the limit counts */
	sqlite3_bind_int64 (stmt, 4, names != NULL ? G_MAXINT32 : max);
	while (sqlite3_step (stmt) == SQLITE_ROW && samples->len < max) {
		const gchar *field = (const gchar *)sqlite3_column_text (stmt, 0);
		KithSample *sample;

		if (!kith_field_names_contain (names, field))
			continue;
		sample = g_new0 (KithSample, 1);
		sample->field = g_strdup (field);
		sample->value.type = (KithValueType)sqlite3_column_int (stmt, 1);
		sample->value.valid = TRUE;
		sample->value.timestamp = sqlite3_column_int64 (stmt, 2);
		switch (sample->value.type) {
		case KITH_VALUE_NUMERIC:
			sample->value.number = sqlite3_column_double (stmt, 3);
			break;
		case KITH_VALUE_BOOLEAN:
			sample->value.boolean = sqlite3_column_int (stmt, 3) != 0;
			break;
		case KITH_VALUE_INT:
			sample->value.integer = sqlite3_column_int64 (stmt, 3);
			break;
		case KITH_VALUE_STRING:
			sample->value.string =
			        g_strdup ((const gchar *)sqlite3_column_text (stmt, 4));
			break;
		}
		g_ptr_array_add (samples, sample);
	}
	/* the newest were taken last first: oldest first again */
	if (from <= 0) {
		for (guint i = 0; i < samples->len / 2; i++) {
			gpointer tmp = samples->pdata[i];
			samples->pdata[i] = samples->pdata[samples->len - 1 - i];
			samples->pdata[samples->len - 1 - i] = tmp;
		}
	}
	return samples;
}

void
kith_history_forget (KithHistory *self, const gchar *device_id)
{
	g_autoptr (sqlite3_stmt) readings = NULL;
	g_autoptr (sqlite3_stmt) series = NULL;
	GHashTableIter iter;
	gpointer key;
	g_autofree gchar *prefix = g_strdup_printf ("%s\x1f", device_id);

	if (self == NULL)
		return;
	kith_history_flush (self);
	readings = kith_history_prepare (self, "DELETE FROM readings WHERE series IN (SELECT id "
	                                       "FROM series WHERE device = ?1)");
	series = kith_history_prepare (self, "DELETE FROM series WHERE device = ?1");
	if (readings == NULL || series == NULL)
		return;
	sqlite3_bind_text (readings, 1, device_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text (series, 1, device_id, -1, SQLITE_TRANSIENT);
	(void)sqlite3_step (readings);
	(void)sqlite3_step (series);
	g_hash_table_iter_init (&iter, self->series);
	while (g_hash_table_iter_next (&iter, &key, NULL)) {
		if (g_str_has_prefix (key, prefix))
			g_hash_table_iter_remove (&iter);
	}
}

guint64
kith_history_count (KithHistory *self)
{
	g_autoptr (sqlite3_stmt) stmt =
	        kith_history_prepare (self, "SELECT COUNT(*) FROM readings");
	if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
		return 0;
	return (guint64)sqlite3_column_int64 (stmt, 0);
}

guint
kith_history_pending (KithHistory *self)
{
	return self->pending->len;
}
