/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

static void
test_store (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-store-XXXXXX", NULL);
	g_autofree gchar *state = g_build_filename (dir, "state", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = kith_store_open (state, &error);
	g_autofree gchar *password = NULL;
	g_autoptr (GPtrArray) friends = NULL;
	KithFriendDecision decision;
	struct stat st;

	g_assert_no_error (error);
	g_assert_cmpint (g_stat (kith_store_get_path (store), &st), ==, 0);
	g_assert_cmpint (st.st_mode & 0777, ==, 0600);
	g_assert_cmpint (g_stat (state, &st), ==, 0);
	g_assert_cmpint (st.st_mode & 0077, ==, 0);

	g_assert_true (kith_store_get_password (store, "dev-1", &password, &error));
	g_assert_null (password);
	g_assert_true (kith_store_add_password (store, "dev-1", "secret", &password, &error));
	g_assert_cmpstr (password, ==, "secret");
	g_clear_pointer (&password, g_free);
	/* never overwritten by a second add: the first password stays */
	g_assert_true (kith_store_add_password (store, "dev-1", "other", &password, &error));
	g_assert_cmpstr (password, ==, "secret");
	g_clear_pointer (&password, g_free);
	g_assert_true (kith_store_set_password (store, "dev-1", "secret2", &error));
	g_assert_true (kith_store_set_friend (store, "dev-1", "a@x", KITH_FRIEND_ACCEPTED, &error));
	g_assert_true (kith_store_set_friend (store, "dev-1", "b@x", KITH_FRIEND_REFUSED, &error));
	g_assert_true (kith_store_set_friend (store, "dev-1", "a@x", KITH_FRIEND_REMOVED, &error));
	g_assert_true (kith_store_set_friend (store, "dev-1", "c@x", KITH_FRIEND_PENDING, &error));
	g_assert_no_error (error);

	/* everything survives closing and opening again */
	kith_store_free (g_steal_pointer (&store));
	store = kith_store_open (state, &error);
	g_assert_no_error (error);
	g_assert_true (kith_store_get_password (store, "dev-1", &password, &error));
	g_assert_cmpstr (password, ==, "secret2");
	g_assert_true (kith_store_get_friend (store, "dev-1", "a@x", &decision));
	g_assert_cmpint (decision, ==, KITH_FRIEND_REMOVED);
	g_assert_false (kith_store_get_friend (store, "dev-2", "a@x", &decision));
	friends = kith_store_list_friends (store, "dev-1", KITH_FRIEND_PENDING);
	g_assert_cmpuint (friends->len, ==, 1);
	g_assert_cmpstr (g_ptr_array_index (friends, 0), ==, "c@x");

	kith_store_free (g_steal_pointer (&store));
	{
		g_autofree gchar *db = g_build_filename (state, "kith.db", NULL);
		g_autofree gchar *wal = g_build_filename (state, "kith.db-wal", NULL);
		g_autofree gchar *shm = g_build_filename (state, "kith.db-shm", NULL);
		g_unlink (db);
		g_unlink (wal);
		g_unlink (shm);
		g_rmdir (state);
		g_rmdir (dir);
	}
}

static void
test_store_unwritable (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = kith_store_open ("/proc/kith-cannot-exist", &error);
	g_assert_null (store);
	g_assert_nonnull (error);
}

static void
collect_roster (const gchar *device_id, const gchar *jid, guint state, gpointer user_data)
{
	g_string_append_printf (user_data, "%s %s %u;", device_id, jid, state);
}

/* component mode: the roster survives a reopen; state 0 removes the contact */
/* a directory everyone may write is refused: the database holds passwords */
static void
test_store_world_writable (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-store-XXXXXX", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = NULL;
	g_autofree gchar *db = g_build_filename (dir, "kith.db", NULL);

	g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
	store = kith_store_open (dir, &error);
	g_assert_null (store);
	g_assert_nonnull (strstr (error->message, "writable by everyone"));
	g_assert_nonnull (strstr (error->message, "chmod 700"));
	g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
	g_rmdir (dir);
}

/* the warnings kithd logged (a warning would end the test) */
static GString *warnings;

static GLogWriterOutput
collect_warnings (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & G_LOG_LEVEL_WARNING) == 0)
		return g_log_writer_default (level, fields, n_fields, user_data);
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
			g_string_append_printf (warnings, "%s\n", (const gchar *)fields[i].value);
	}
	return G_LOG_WRITER_HANDLED;
}

/* too open but ours: tightened; links and other users' files: refused */
static void
test_store_tightened (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-store-XXXXXX", NULL);
	g_autofree gchar *db = g_build_filename (dir, "kith.db", NULL);
	g_autofree gchar *history = g_build_filename (dir, "history.db", NULL);
	g_autoptr (GError) error = NULL;
	KithStore *store;
	GStatBuf st;

	g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
	g_assert_true (g_file_set_contents (history, "", 0, NULL));
	g_assert_cmpint (g_chmod (history, 0644), ==, 0);
	g_string_truncate (warnings, 0);
	store = kith_store_open (dir, &error);
	g_assert_no_error (error);
	g_assert_nonnull (strstr (warnings->str, "was mode 0755, open to other users; made 0700"));
	g_assert_nonnull (strstr (warnings->str, "history.db was mode 0644"));
	kith_store_free (store);
	g_assert_cmpint (g_stat (dir, &st), ==, 0);
	g_assert_cmpint (st.st_mode & 07777, ==, 0700);
	g_assert_cmpint (g_stat (history, &st), ==, 0);
	g_assert_cmpint (st.st_mode & 07777, ==, 0600);
	g_assert_cmpint (g_chmod (db, 0644), ==, 0);
	g_string_truncate (warnings, 0);
	store = kith_store_open (dir, &error);
	g_assert_no_error (error);
	g_assert_nonnull (strstr (warnings->str, "kith.db was mode 0644"));
	kith_store_free (store);
	g_assert_cmpint (g_stat (db, &st), ==, 0);
	g_assert_cmpint (st.st_mode & 07777, ==, 0600);
}

static void
test_store_link_refused (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-store-XXXXXX", NULL);
	g_autofree gchar *db = g_build_filename (dir, "kith.db", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = NULL;

	g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
	g_assert_cmpint (symlink ("/etc/passwd", db), ==, 0);
	store = kith_store_open (dir, &error);
	g_assert_null (store);
	g_assert_nonnull (strstr (error->message, "is not a plain file"));
	g_unlink (db);
	g_rmdir (dir);
}

/* a directory of another user is refused (root may use any: test it as nobody) */
static void
test_store_other_user (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = NULL;

	if (geteuid () == 0) {
		g_autofree gchar *dir = g_dir_make_tmp ("kith-store-XXXXXX", NULL);
		pid_t child;
		int status = 0;

		g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
		child = fork ();
		if (child == 0) {
			if (setresgid (65534, 65534, 65534) != 0 ||
			    setresuid (65534, 65534, 65534) != 0)
				_exit (2);
			store = kith_store_open (dir, &error);
			_exit (store == NULL && strstr (error->message, "belongs to uid 0") != NULL
			               ? 0
			               : 1);
		}
		g_assert_cmpint (waitpid (child, &status, 0), ==, child);
		g_assert_true (WIFEXITED (status));
		g_assert_cmpint (WEXITSTATUS (status), ==, 0);
		g_rmdir (dir);
		return;
	}
	store = kith_store_open ("/usr/share", &error);
	g_assert_null (store);
	g_assert_nonnull (strstr (error->message, "belongs to uid 0"));
}

static void
test_roster (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-store-XXXXXX", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (GString) seen = g_string_new (NULL);
	KithStore *store = kith_store_open (dir, &error);

	g_assert_no_error (error);
	g_assert_true (kith_store_set_roster (store, "dev-2", "b@x", 3, &error));
	g_assert_true (kith_store_set_roster (store, "dev-1", "a@x", 8, &error));
	g_assert_true (kith_store_set_roster (store, "dev-1", "a@x", 2, &error));
	g_assert_true (kith_store_set_roster (store, "dev-1", "c@x", 4, &error));
	g_assert_true (kith_store_set_roster (store, "dev-1", "c@x", 0, &error));
	g_assert_no_error (error);
	kith_store_free (store);
	store = kith_store_open (dir, &error);
	g_assert_no_error (error);
	kith_store_foreach_roster (store, NULL, collect_roster, seen);
	g_assert_cmpstr (seen->str, ==, "dev-1 a@x 2;dev-2 b@x 3;");
	kith_store_free (store);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	warnings = g_string_new (NULL);
	g_log_set_writer_func (collect_warnings, NULL, NULL);
	g_test_add_func ("/kith/store/roundtrip", test_store);
	g_test_add_func ("/kith/store/unwritable", test_store_unwritable);
	g_test_add_func ("/kith/store/roster", test_roster);
	g_test_add_func ("/kith/store/world-writable", test_store_world_writable);
	g_test_add_func ("/kith/store/tightened", test_store_tightened);
	g_test_add_func ("/kith/store/link-refused", test_store_link_refused);
	g_test_add_func ("/kith/store/other-user", test_store_other_user);
	return g_test_run ();
}
