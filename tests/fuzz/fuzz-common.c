/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "fuzz.h"

#include "kith-build.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static gboolean kith_fuzz_log_all;
static gchar *kith_fuzz_scratch_dir;

static GLogWriterOutput
kith_fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                      gpointer user_data)
{
	if (kith_fuzz_log_all || (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0)
		g_log_writer_standard_streams (level, fields, n_fields, user_data);
	/* a critical is a programming error reached by input: the harness found a defect */
	if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0)
		abort ();
	return G_LOG_WRITER_HANDLED;
}

void
kith_fuzz_init (void)
{
	kith_fuzz_log_all = g_strcmp0 (g_getenv ("KITH_FUZZ_LOG"), "1") == 0;
	g_log_set_writer_func (kith_fuzz_log_writer, NULL, NULL);
	/* the configuration's own StateDirectory= counts, not the service manager's */
	g_unsetenv ("STATE_DIRECTORY");
#ifdef KITH_DRIVER_MODBUS
	/* the shipped profiles, as the source tree has them (Units=1:eastron-sdm120) */
	g_setenv ("KITH_MODBUS_PROFILE_DIR", KITH_MODBUS_SOURCE_PROFILE_DIR, TRUE);
#endif
}

gboolean
kith_fuzz_verbose (void)
{
	return kith_fuzz_log_all;
}

void
kith_fuzz_remove_tree (const gchar *path)
{
	g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
		g_autofree gchar *child = g_build_filename (path, name, NULL);
		if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
			kith_fuzz_remove_tree (child);
		else
			g_unlink (child);
	}
	g_rmdir (path);
}

static void
kith_fuzz_remove_scratch (void)
{
	if (kith_fuzz_scratch_dir != NULL)
		kith_fuzz_remove_tree (kith_fuzz_scratch_dir);
	g_clear_pointer (&kith_fuzz_scratch_dir, g_free);
}

const gchar *
kith_fuzz_scratch (void)
{
	if (kith_fuzz_scratch_dir == NULL) {
		g_autoptr (GError) error = NULL;
		/* in memory where there is such a place: the stores' fsyncs would cost more than
		 * the input does */
		if (g_getenv ("TMPDIR") == NULL && g_access ("/dev/shm", W_OK) == 0) {
			g_autofree gchar *template = g_strdup ("/dev/shm/kith-fuzz-XXXXXX");
			if (g_mkdtemp (template) != NULL)
				kith_fuzz_scratch_dir = g_steal_pointer (&template);
		}
		if (kith_fuzz_scratch_dir == NULL)
			kith_fuzz_scratch_dir = g_dir_make_tmp ("kith-fuzz-XXXXXX", &error);
		if (kith_fuzz_scratch_dir == NULL) {
			fprintf (stderr, "kith-fuzz: %s\n", error->message);
			abort ();
		}
		atexit (kith_fuzz_remove_scratch);
	}
	return kith_fuzz_scratch_dir;
}

gchar *
kith_fuzz_text (const uint8_t *data, size_t size)
{
	gchar *text = g_malloc (size + 1);
	if (size > 0)
		memcpy (text, data, size);
	text[size] = '\0';
	return text;
}
