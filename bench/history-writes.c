/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the history writes to its disk in a day: DEVICES devices of two numeric fields read
 * every INTERVAL seconds, handed to the history as kithd does and written the way kithd writes
 * them (every few minutes, in slices between the main loop's other work), on a simulated
 * clock. Prints the bytes the process wrote (write(2) calls: the WAL and the
 * checkpoints into history.db), the database's size and the ratio of the two.
 *
 *     build/bench/history-writes [--devices 50] [--interval 10] [--hours 24] [--every 5] [--one]
 *
 * --every is HistoryWriteMinutes; --one writes each time in one transaction instead of
 * slices, for comparison. The database goes to a temporary directory under $TMPDIR (tmpfs or
 * not makes no difference to the count: it is what kithd hands the kernel).
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "history.h"

static guint64
written_bytes (void)
{
	g_autofree gchar *io = NULL;
	const gchar *line;

	if (!g_file_get_contents ("/proc/self/io", &io, NULL, NULL))
		return 0;
	line = strstr (io, "wchar: ");
	return line != NULL ? g_ascii_strtoull (line + 7, NULL, 10) : 0;
}

static void
remove_tree (const gchar *dir)
{
	g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
	const gchar *name;

	while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
		g_autofree gchar *path = g_build_filename (dir, name, NULL);
		g_unlink (path);
	}
	g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
	gint devices = 50, interval = 10, every = 5;
	gdouble hours = 24;
	gboolean one = FALSE;
	GOptionEntry entries[] = {
		{ "devices", 'd', 0, G_OPTION_ARG_INT, &devices, "devices (50)", "N" },
		{ "interval", 'i', 0, G_OPTION_ARG_INT, &interval, "seconds between readings (10)",
		  "S" },
		{ "hours", 'h', 0, G_OPTION_ARG_DOUBLE, &hours, "hours simulated (24)", "H" },
		{ "every", 'e', 0, G_OPTION_ARG_INT, &every,
		  "minutes between writes, as HistoryWriteMinutes (5)", "M" },
		{ "one", 0, 0, G_OPTION_ARG_NONE, &one,
		  "each write in one transaction, not in slices", NULL },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr (GOptionContext) context = g_option_context_new ("- the history's disk writes");
	g_autofree gchar *dir = g_dir_make_tmp ("kith-history-bench-XXXXXX", NULL);
	g_autofree gchar *db = g_build_filename (dir, "history.db", NULL);
	KithHistoryLimits limits = { 3650, 4096, 0 };
	g_autoptr (GError) error = NULL;
	g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
	KithHistory *history;
	guint64 before, after, writes = 0;
	gint64 t0, span;
	gint64 started;
	GStatBuf st;

	g_option_context_add_main_entries (context, entries, NULL);
	if (!g_option_context_parse (context, &argc, &argv, &error) || devices <= 0 ||
	    interval <= 0 || every <= 0 || hours <= 0) {
		g_printerr ("%s\n", error != NULL ? error->message : "values must be positive");
		return 2;
	}
	span = (gint64)(hours * 3600) * G_USEC_PER_SEC;
	history = kith_history_open (dir, &limits, &error);
	if (history == NULL) {
		g_printerr ("%s\n", error->message);
		return 1;
	}
	for (gint i = 0; i < devices; i++) {
		g_autofree gchar *id = g_strdup_printf ("sim-thermometer-%u", i + 1);
		KithDevice *device = kith_device_new (id, NULL);
		kith_device_add_field (device, kith_field_new ("Temperature", KITH_VALUE_NUMERIC, "°C"));
		kith_device_add_field (device, kith_field_new ("Humidity", KITH_VALUE_NUMERIC, "%"));
		g_ptr_array_add (all, device);
	}
	/* a day that ended an hour ago: nothing in it is past the age limit */
	t0 = g_get_real_time () - span - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC;
	before = written_bytes ();
	started = g_get_monotonic_time ();
	for (gint64 t = t0, next_write = t0 + (gint64)every * 60 * G_USEC_PER_SEC; t < t0 + span;
	     t += (gint64)interval * G_USEC_PER_SEC) {
		for (guint i = 0; i < all->len; i++) {
			KithDevice *device = g_ptr_array_index (all, i);
			/* a slow wave, different for each device */
			gdouble v = 20 + 5 * ((t / G_USEC_PER_SEC + i * 37) % 600) / 600.0;
			kith_device_set_number (device, "Temperature", v, t + i * 1000);
			kith_device_set_number (device, "Humidity", 40 + v, t + i * 1000);
			kith_history_record (history, device);
		}
		if (t + (gint64)interval * G_USEC_PER_SEC >= next_write) {
			next_write += (gint64)every * 60 * G_USEC_PER_SEC;
			writes++;
			if (one)
				kith_history_flush (history);
			else {
				kith_history_write_soon (history);
				while (kith_history_pending (history) > 0)
					g_main_context_iteration (NULL, TRUE);
			}
		}
	}
	kith_history_flush (history);
	after = written_bytes ();
	kith_history_free (history);
	g_stat (db, &st);
	printf ("%d devices x 2 fields every %d s for %.1f h, written every %d min (%s): %" G_GUINT64_FORMAT
	        " readings in %" G_GUINT64_FORMAT " writes, %.1f s\n",
	        devices, interval, hours, every, one ? "one transaction each" : "in slices",
	        (guint64)devices * 2 * (guint64)(span / G_USEC_PER_SEC / interval), writes,
	        (gdouble)(g_get_monotonic_time () - started) / G_USEC_PER_SEC);
	printf ("history.db %.1f MB, written %.1f MB (%.1f x the database)\n",
	        st.st_size / 1048576.0, (after - before) / 1048576.0,
	        (gdouble)(after - before) / (gdouble)MAX (st.st_size, 1));
	remove_tree (dir);
	return 0;
}
