/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A harness without libFuzzer: runs each file named, and each file of each directory named,
 * once through LLVMFuzzerTestOneInput. The seed corpus and the regression inputs run this way
 * in every build (gcc, ASan), so that an input that once crashed keeps being tried.
 */
#include <stdio.h>

#include "fuzz.h"

static gboolean
kith_fuzz_replay_file (const gchar *path, guint *count)
{
	g_autofree gchar *data = NULL;
	gsize length;
	g_autoptr (GError) error = NULL;

	if (!g_file_get_contents (path, &data, &length, &error)) {
		fprintf (stderr, "%s\n", error->message);
		return FALSE;
	}
	LLVMFuzzerTestOneInput ((const uint8_t *)data, length);
	(*count)++;
	return TRUE;
}

/* g_ptr_array_sort () hands the comparison pointers to the elements */
static gint
kith_fuzz_compare_paths (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const gchar *const *)a, *(const gchar *const *)b);
}

static gboolean
kith_fuzz_replay_dir (const gchar *path, guint *count)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	const gchar *name;

	if (dir == NULL) {
		fprintf (stderr, "%s\n", error->message);
		return FALSE;
	}
	while ((name = g_dir_read_name (dir)) != NULL) {
		if (name[0] != '.')
			g_ptr_array_add (names, g_build_filename (path, name, NULL));
	}
	g_ptr_array_sort (names, kith_fuzz_compare_paths);
	for (guint i = 0; i < names->len; i++) {
		const gchar *file = g_ptr_array_index (names, i);
		if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
			continue;
		printf ("%s\n", file);
		fflush (stdout);
		if (!kith_fuzz_replay_file (file, count))
			return FALSE;
	}
	return TRUE;
}

int
main (int argc, char *argv[])
{
	guint count = 0;

	LLVMFuzzerInitialize (&argc, &argv);
	for (int i = 1; i < argc; i++) {
		gboolean ok = g_file_test (argv[i], G_FILE_TEST_IS_DIR)
		                      ? kith_fuzz_replay_dir (argv[i], &count)
		                      : kith_fuzz_replay_file (argv[i], &count);
		if (!ok)
			return 1;
	}
	printf ("%u inputs, no crash\n", count);
	return 0;
}
