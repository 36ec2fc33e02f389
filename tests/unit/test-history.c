/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The history: readings kept once each, queried by window and field, the ring by age and size,
 * a device forgotten, and what it costs on disk. */
#include <glib/gstdio.h>
#include <string.h>

#include "history.h"

#define T0 G_GINT64_CONSTANT (1764000000000000) /* µs */

static KithDevice *
make_device (const gchar *id)
{
	KithDevice *device = kith_device_new (id, NULL);
	KithField *model = kith_field_new ("Model", KITH_VALUE_STRING, NULL);

	kith_device_add_field (device, kith_field_new ("T", KITH_VALUE_NUMERIC, "°C"));
	kith_device_add_field (device, kith_field_new ("On", KITH_VALUE_BOOLEAN, NULL));
	kith_device_add_field (device, kith_field_new ("Mode", KITH_VALUE_STRING, NULL));
	model->categories = KITH_FIELD_IDENTITY;
	kith_device_add_field (device, model);
	return device;
}

static void
sample (KithHistory *history, KithDevice *device, gint64 t, gdouble value)
{
	KithValue mode = {
		.type = KITH_VALUE_STRING, .valid = TRUE, .string = (gchar *)"eco", .timestamp = t
	};
	KithValue model = {
		.type = KITH_VALUE_STRING, .valid = TRUE, .string = (gchar *)"M1", .timestamp = t
	};
	kith_device_set_number (device, "T", value, t);
	kith_device_set_boolean (device, "On", value > 20, t);
	kith_device_set_value (device, "Mode", &mode);
	kith_device_set_value (device, "Model", &model);
	kith_history_record (history, device);
}

static void
test_history_keep_and_query (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	KithHistoryLimits limits = { 30, 64 };
	g_autoptr (GError) error = NULL;
	KithHistory *history = kith_history_open (dir, &limits, &error);
	g_autoptr (KithDevice) a = make_device ("a");
	g_autoptr (KithDevice) b = make_device ("b");
	g_autoptr (GPtrArray) all = NULL;
	g_autoptr (GPtrArray) window = NULL;
	g_autoptr (GPtrArray) newest = NULL;
	g_autoptr (GPtrArray) names = g_ptr_array_new ();
	g_autoptr (GPtrArray) only_t = NULL;
	gint64 now = g_get_real_time ();

	g_assert_no_error (error);
	for (guint i = 0; i < 10; i++) {
		sample (history, a, now - (10 - i) * G_USEC_PER_SEC, 18 + i);
		sample (history, b, now - (10 - i) * G_USEC_PER_SEC, 30);
	}
	/* the same reading again is not kept twice; identity fields never */
	kith_history_record (history, a);
	g_assert_cmpuint (kith_history_pending (history), ==, 60);
	all = kith_history_query (history, "a", NULL, 0, 0, 1000);
	g_assert_cmpuint (kith_history_pending (history), ==, 0);
	g_assert_cmpuint (all->len, ==, 30);
	for (guint i = 1; i < all->len; i++)
		g_assert_cmpint (((KithSample *)g_ptr_array_index (all, i - 1))->value.timestamp,
		                 <=, ((KithSample *)g_ptr_array_index (all, i))->value.timestamp);
	/* a window, and a field filter; the values come back typed */
	g_ptr_array_add (names, (gpointer) "T");
	window = kith_history_query (history, "a", names, now - 5 * G_USEC_PER_SEC,
	                             now - 3 * G_USEC_PER_SEC, 1000);
	g_assert_cmpuint (window->len, ==, 3);
	g_assert_cmpfloat (((KithSample *)g_ptr_array_index (window, 0))->value.number, ==, 23);
	/* without from: the newest, still oldest first */
	newest = kith_history_query (history, "a", names, 0, 0, 2);
	g_assert_cmpuint (newest->len, ==, 2);
	g_assert_cmpfloat (((KithSample *)g_ptr_array_index (newest, 0))->value.number, ==, 26);
	g_assert_cmpfloat (((KithSample *)g_ptr_array_index (newest, 1))->value.number, ==, 27);
	only_t = kith_history_query (history, "a", NULL, now - G_USEC_PER_SEC, 0, 10);
	for (guint i = 0; i < only_t->len; i++) {
		KithSample *s = g_ptr_array_index (only_t, i);
		if (g_strcmp0 (s->field, "On") == 0)
			g_assert_true (s->value.boolean);
		else if (g_strcmp0 (s->field, "Mode") == 0)
			g_assert_cmpstr (s->value.string, ==, "eco");
	}
	/* a device that is gone takes its readings along */
	kith_history_forget (history, "b");
	g_clear_pointer (&all, g_ptr_array_unref);
	all = kith_history_query (history, "b", NULL, 0, 0, 1000);
	g_assert_cmpuint (all->len, ==, 0);
	g_assert_cmpuint (kith_history_count (history), ==, 30);
	kith_history_free (history);
	/* kept across a restart */
	history = kith_history_open (dir, &limits, &error);
	g_clear_pointer (&all, g_ptr_array_unref);
	all = kith_history_query (history, "a", NULL, 0, 0, 1000);
	g_assert_cmpuint (all->len, ==, 30);
	/* and what was kept is known: the same readings are not kept again */
	kith_history_record (history, a);
	g_assert_cmpuint (kith_history_pending (history), ==, 0);
	kith_history_free (history);
}

/* the ring by size: a small limit keeps the database below it, the newest readings stay */
static void
test_history_ring (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename (dir, "history.db", NULL);
	KithHistoryLimits limits = { 3650, 1 };
	g_autoptr (GError) error = NULL;
	KithHistory *history = kith_history_open (dir, &limits, &error);
	g_autoptr (KithDevice) a = make_device ("a");
	g_autoptr (GPtrArray) newest = NULL;
	gint64 start = g_get_real_time () - G_GINT64_CONSTANT (200000) * G_USEC_PER_SEC;
	guint64 count;

	for (guint i = 0; i < 100000; i++)
		sample (history, a, start + (gint64)i * G_USEC_PER_SEC, i);
	kith_history_flush (history);
	count = kith_history_count (history);
	g_test_message ("%" G_GUINT64_FORMAT " of 300000 readings kept in 1 MB", count);
	g_assert_cmpuint (count, <, 300000);
	g_assert_cmpuint (count, >, 10000);
	newest = kith_history_query (history, "a", NULL, 0, 0, 1);
	g_assert_cmpfloat (((KithSample *)g_ptr_array_index (newest, 0))->value.timestamp, ==,
	                   start + G_GINT64_CONSTANT (99999) * G_USEC_PER_SEC);
	kith_history_free (history);
	(void)path;
}

/* the ring by age: readings older than the limit go */
static void
test_history_age (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	KithHistoryLimits limits = { 1, 64 };
	g_autoptr (GError) error = NULL;
	KithHistory *history = kith_history_open (dir, &limits, &error);
	g_autoptr (KithDevice) a = make_device ("a");
	g_autoptr (GPtrArray) all = NULL;
	gint64 now = g_get_real_time ();

	sample (history, a, now - G_GINT64_CONSTANT (3) * 86400 * G_USEC_PER_SEC, 1);
	sample (history, a, now - G_GINT64_CONSTANT (2) * 86400 * G_USEC_PER_SEC, 2);
	sample (history, a, now - 60 * G_USEC_PER_SEC, 3);
	kith_history_flush (history);
	all = kith_history_query (history, "a", NULL, 0, 0, 100);
	g_assert_cmpuint (all->len, ==, 3);
	g_assert_cmpfloat (((KithSample *)g_ptr_array_index (all, 0))->value.number, ==, 3);
	kith_history_free (history);
}

/* many readings are written between the main loop's other work, a slice (a few milliseconds)
 * at a time, never all at once */
static void
test_history_slices (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	KithHistoryLimits limits = { 30, 64 };
	g_autoptr (GError) error = NULL;
	KithHistory *history = kith_history_open (dir, &limits, &error);
	g_autoptr (KithDevice) a = make_device ("a");
	gint64 start = g_get_real_time () - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC;

	g_assert_no_error (error);
	for (guint i = 0; i < 20000; i++)
		sample (history, a, start + (gint64)i * G_USEC_PER_SEC / 8, i);
	g_assert_cmpuint (kith_history_pending (history), ==, 60000);
	g_assert_true (g_main_context_iteration (NULL, FALSE));
	/* one slice inserted some (in the transaction still open: they still wait) */
	g_assert_cmpuint (kith_history_count (history), <, 60000);
	g_assert_cmpuint (kith_history_count (history), >, 0);
	g_assert_cmpuint (kith_history_pending (history), ==, 60000);
	while (kith_history_pending (history) > 0)
		g_main_context_iteration (NULL, FALSE);
	g_assert_cmpuint (kith_history_count (history), ==, 60000);
	/* nothing left to do */
	g_assert_false (g_main_context_iteration (NULL, FALSE));
	kith_history_free (history);
}

/* the clock went back an hour: the readings after it are older than those kept, and kept */
static void
test_history_clock_back (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	KithHistoryLimits limits = { 30, 64 };
	g_autoptr (GError) error = NULL;
	KithHistory *history = kith_history_open (dir, &limits, &error);
	g_autoptr (KithDevice) a = make_device ("a");
	g_autoptr (GPtrArray) all = NULL;
	gint64 now = g_get_real_time ();

	for (guint i = 0; i < 5; i++)
		sample (history, a, now - (5 - i) * G_USEC_PER_SEC, 20 + i);
	for (guint i = 0; i < 5; i++)
		sample (history, a,
		        now - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC + i * G_USEC_PER_SEC,
		        10 + i);
	/* the same reading again is still not kept twice */
	kith_history_record (history, a);
	g_assert_cmpuint (kith_history_pending (history), ==, 30);
	all = kith_history_query (history, "a", NULL, 0, 0, 1000);
	g_assert_cmpuint (all->len, ==, 30);
	/* in time order: the readings after the jump come first */
	g_assert_cmpint (((KithSample *)g_ptr_array_index (all, 0))->value.timestamp, ==,
	                 now - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC);
	for (guint i = 1; i < all->len; i++)
		g_assert_cmpint (((KithSample *)g_ptr_array_index (all, i - 1))->value.timestamp,
		                 <=, ((KithSample *)g_ptr_array_index (all, i))->value.timestamp);
	kith_history_free (history);
}

/* the clock went back behind every reading kept: the size limit still holds */
static void
test_history_ring_after_clock_back (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	KithHistoryLimits limits = { 3650, 1 };
	g_autoptr (GError) error = NULL;
	KithHistory *history = kith_history_open (dir, &limits, &error);
	g_autoptr (KithDevice) a = make_device ("a");
	gint64 start = g_get_real_time () + G_GINT64_CONSTANT (100000) * G_USEC_PER_SEC;
	guint64 count;

	for (guint i = 0; i < 100000; i++)
		sample (history, a, start + (gint64)i * G_USEC_PER_SEC, i);
	kith_history_flush (history);
	count = kith_history_count (history);
	g_test_message ("%" G_GUINT64_FORMAT " of 300000 readings from the future kept in 1 MB",
	                count);
	/* about what fits in 1 MB (the limit kept almost all of them) */
	g_assert_cmpuint (count, <, 100000);
	g_assert_cmpuint (count, >, 10000);
	kith_history_free (history);
}

/* a damaged history.db is set aside, and a new history begins */
static void
test_history_damaged (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename (dir, "history.db", NULL);
	KithHistoryLimits limits = { 30, 64 };
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDevice) a = make_device ("a");
	g_autoptr (GPtrArray) all = NULL;
	g_autoptr (GDir) listing = NULL;
	const gchar *name;
	gboolean aside = FALSE;
	gchar garbage[8192];
	KithHistory *history;

	memset (garbage, 0xa5, sizeof garbage);
	g_assert_true (g_file_set_contents (path, garbage, sizeof garbage, NULL));
	/* it says so with a warning */
	g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	history = kith_history_open (dir, &limits, &error);
	g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	g_assert_no_error (error);
	g_assert_nonnull (history);
	sample (history, a, g_get_real_time (), 20);
	all = kith_history_query (history, "a", NULL, 0, 0, 100);
	g_assert_cmpuint (all->len, ==, 3);
	listing = g_dir_open (dir, 0, NULL);
	while ((name = g_dir_read_name (listing)) != NULL)
		aside |= g_str_has_prefix (name, "history.db.damaged-");
	g_assert_true (aside);
	kith_history_free (history);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/history/keep-and-query", test_history_keep_and_query);
	g_test_add_func ("/kith/history/ring", test_history_ring);
	g_test_add_func ("/kith/history/age", test_history_age);
	g_test_add_func ("/kith/history/slices", test_history_slices);
	g_test_add_func ("/kith/history/clock-back", test_history_clock_back);
	g_test_add_func ("/kith/history/ring-after-clock-back", test_history_ring_after_clock_back);
	g_test_add_func ("/kith/history/damaged", test_history_damaged);
	return g_test_run ();
}
