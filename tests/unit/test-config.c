/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"

typedef struct {
	gchar *dir;
	gchar *path;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
	fixture->dir = g_dir_make_tmp ("kith-config-XXXXXX", NULL);
	fixture->path = g_build_filename (fixture->dir, "kith.conf", NULL);
	g_unsetenv ("STATE_DIRECTORY");
}

static void
remove_tree (const gchar *dir)
{
	g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
	const gchar *name;
	while (handle != NULL && (name = g_dir_read_name (handle)) != NULL) {
		g_autofree gchar *path = g_build_filename (dir, name, NULL);
		if (g_file_test (path, G_FILE_TEST_IS_DIR))
			remove_tree (path);
		else
			g_unlink (path);
	}
	g_rmdir (dir);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
	remove_tree (fixture->dir);
	g_free (fixture->dir);
	g_free (fixture->path);
}

static void
write_file (const gchar *path, const gchar *text)
{
	g_autoptr (GError) error = NULL;
	g_file_set_contents (path, text, -1, &error);
	g_assert_no_error (error);
}

#define GOOD_XMPP "[xmpp]\nDomain=example.net\nServer=127.0.0.1\n"

static void
test_defaults (Fixture *fixture, gconstpointer data)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithConfig) config = NULL;

	write_file (fixture->path, GOOD_XMPP "[bus:sim]\nDriver=sim\nThermometers=2\nRelays=1\n");
	config = kith_config_load (fixture->path, &error);
	g_assert_no_error (error);
	g_assert_cmpint (config->mode, ==, KITH_MODE_CLIENT);
	g_assert_cmpuint (config->port, ==, 5222);
	g_assert_cmpstr (config->resource, ==, "kith");
	g_assert_cmpint (config->tls, ==, KITH_TLS_REQUIRED);
	g_assert_cmpint (config->policy, ==, KITH_POLICY_OPEN);
	g_assert_false (config->register_accounts);
	g_assert_cmpstr (config->state_directory, ==, "/var/lib/kith");
	g_assert_cmpuint (config->history_days, ==, 30);
	g_assert_cmpuint (config->history_max_mb, ==, 64);
	g_assert_cmpuint (config->history_write_minutes, ==, 5);
	g_assert_cmpuint (config->buses->len, ==, 1);
}

static void
test_state_directory_env (Fixture *fixture, gconstpointer data)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithConfig) config = NULL;

	write_file (fixture->path, "[kith]\nStateDirectory=/somewhere\n" GOOD_XMPP);
	g_setenv ("STATE_DIRECTORY", "/run/state:/other", TRUE);
	config = kith_config_load (fixture->path, &error);
	g_unsetenv ("STATE_DIRECTORY");
	g_assert_no_error (error);
	g_assert_cmpstr (config->state_directory, ==, "/run/state");
}

static void
test_dropins (Fixture *fixture, gconstpointer data)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithConfig) config = NULL;
	g_autofree gchar *dropins = g_build_filename (fixture->dir, "conf.d", NULL);
	g_autofree gchar *first = g_build_filename (dropins, "10-policy.conf", NULL);
	g_autofree gchar *second = g_build_filename (dropins, "20-bad.conf", NULL);

	write_file (fixture->path, GOOD_XMPP);
	g_mkdir (dropins, 0700);
	write_file (first, "[friendship]\nPolicy=allowlist\nAllow=a@example.net; B@Example.NET\n"
	                   "Owner=Me@Example.net\n");
	config = kith_config_load (fixture->path, &error);
	g_assert_no_error (error);
	g_assert_cmpint (config->policy, ==, KITH_POLICY_ALLOWLIST);
	g_assert_cmpstr (config->allow[1], ==, "b@example.net"); /* compared as servers do */
	g_assert_cmpstr (config->owner, ==, "me@example.net");
	kith_config_free (g_steal_pointer (&config));

	/* an error in a drop-in names the drop-in, not the main file */
	write_file (second, "[friendship]\nOwner=not a jid\n");
	config = kith_config_load (fixture->path, &error);
	g_assert_null (config);
	g_assert_nonnull (strstr (error->message, "20-bad.conf: [friendship] Owner:"));
}

typedef struct {
	const gchar *text;
	const gchar *expected; /* after "<file>: " */
} BadCase;

static const BadCase bad_cases[] = {
	{ "[xmpp]\nServer=x\n", "[xmpp] Domain: a domain name is required" },
	{ GOOD_XMPP "Port=70000\n", "[xmpp] Port: 70000 is out of range 1..65535" },
	{ "[kith]\nHistoryWriteMinutes=0\n" GOOD_XMPP,
	  "[kith] HistoryWriteMinutes: 0 is out of range 1..60" },
	{ GOOD_XMPP "Port=-1\n", "[xmpp] Port: -1 is out of range 1..65535" },
	{ GOOD_XMPP "Port=0x10\n", "[xmpp] Port: '0x10' is not a number" },
	{ GOOD_XMPP "Port=abc\n", "[xmpp] Port: 'abc' is not a number" },
	{ GOOD_XMPP "Mode=peer\n", "[xmpp] Mode: 'peer' is not one of client, component" },
	{ GOOD_XMPP "Tls=maybe\n", "[xmpp] Tls: 'maybe' is not one of required" },
	{ GOOD_XMPP "Register=perhaps\n", "[xmpp] Register: 'perhaps' is not true or false" },
	{ GOOD_XMPP "TlsCaFile=/nonexistent/ca.pem\n", "[xmpp] TlsCaFile: '/nonexistent/ca.pem'" },
	{ GOOD_XMPP "Resourse=kith\n", "[xmpp] Resourse: unknown key" },
	{ GOOD_XMPP "[friendship]\nPolicy=everyone\n", "[friendship] Policy: 'everyone'" },
	{ GOOD_XMPP "[friendship]\nAllow=ok@x;bad jid\n", "[friendship] Allow: 'bad jid'" },
	{ GOOD_XMPP "[friendship]\nOwner=a@b/c\n", "[friendship] Owner: 'a@b/c' is not a bare" },
	{ GOOD_XMPP "[gateway]\nName=x\n", "[gateway]: unknown group" },
	{ GOOD_XMPP "[bus:Big_Bus]\nDriver=sim\n", "[bus:Big_Bus]: bus name must be" },
	{ GOOD_XMPP "[bus:a]\nThermometers=1\n", "[bus:a] Driver: missing" },
	{ GOOD_XMPP "[bus:a]\nDriver=zigbee\n", "[bus:a] Driver: unknown driver 'zigbee'" },
	{ GOOD_XMPP "[bus:a]\nDriver=sim\nThermometerz=1\n", "[bus:a] Thermometerz: unknown key" },
	{ GOOD_XMPP "[bus:a]\nDriver=sim\nThermometers=-1\n",
	  "[bus:a] Thermometers: -1 is out of range 0..100000" },
	{ GOOD_XMPP "[bus:a]\nDriver=sim\nThermometers=99999999999999999999\n",
	  "[bus:a] Thermometers: 99999999999999999999 is out of range" },
	{ GOOD_XMPP "[bus:a]\nDriver=sim\nThermometers=many\n",
	  "[bus:a] Thermometers: 'many' is not a number" },
	{ GOOD_XMPP "Mode=component\nComponentSecret=s\n",
	  "[xmpp] ComponentDomain: component mode" },
	{ GOOD_XMPP "Mode=component\nComponentDomain=a@b\nComponentSecret=s\n",
	  "[xmpp] ComponentDomain: component mode" },
	{ GOOD_XMPP "Mode=component\nComponentDomain=devices.example.net\n",
	  "[xmpp] ComponentSecret: component mode needs the secret" },
	{ "[xmpp]\nMode=component\nComponentDomain=devices\nComponentSecret=s\n",
	  "[xmpp] Domain: a domain name is required" },
	{ GOOD_XMPP "PresenceRate=0\n", "[xmpp] PresenceRate: 0 is out of range 10..1000000" },
	{ GOOD_XMPP "[bus:a:door]\nLine=1\n", "[bus:a:door]: there is no [bus:a]" },
	{ GOOD_XMPP "[bus:a]\nDriver=sim\n[bus:a:Door]\nLine=1\n",
	  "[bus:a:Door]: item name must be" },
	{ GOOD_XMPP "[bus:a]\nDriver=sim\n[bus:a:door]\nLine=1\n",
	  "[bus:a:door]: driver sim takes no [bus:NAME:ITEM] groups" },
	{ "this is not a key file\n", "" },
	{ "\xef\xbb\xbf" GOOD_XMPP, "the file starts with a UTF-8 byte-order mark (BOM)" },
	{ GOOD_XMPP "Resource=k\xff\n", "the file is not UTF-8 text" },
};

/* component mode: devices in the component's domain; the server's domain and port follow */
static void
test_component (Fixture *fixture, gconstpointer data)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithConfig) config = NULL;

	write_file (fixture->path, "[xmpp]\nMode=component\nComponentDomain=Devices.Example.NET\n"
	                           "ComponentSecret=s3cret\n");
	config = kith_config_load (fixture->path, &error);
	g_assert_no_error (error);
	g_assert_cmpint (config->mode, ==, KITH_MODE_COMPONENT);
	g_assert_cmpstr (config->device_domain, ==, "devices.example.net");
	g_assert_cmpstr (config->domain, ==, "example.net");
	g_assert_cmpuint (config->port, ==, 5347);
	g_assert_cmpuint (config->presence_rate, ==, 2000);
}

static void
test_bad (Fixture *fixture, gconstpointer data)
{
	for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (KithConfig) config = NULL;
		g_autoptr (KithDaemon) daemon = NULL;
		g_autofree gchar *prefix =
		        g_strdup_printf ("%s: %s", fixture->path, bad_cases[i].expected);

		write_file (fixture->path, bad_cases[i].text);
		config = kith_config_load (fixture->path, &error);
		if (config != NULL)
			daemon = kith_daemon_new (config, &error);
		g_test_message ("case %u: %s", i, error != NULL ? error->message : "no error");
		g_assert_nonnull (error);
		g_assert_true (g_str_has_prefix (error->message, prefix));
	}
}

static void
test_missing_file (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithConfig) config = kith_config_load ("/nonexistent/kith.conf", &error);
	g_assert_null (config);
	g_assert_nonnull (strstr (error->message, "/nonexistent/kith.conf"));
}

static void
test_jid (void)
{
	g_assert_true (kith_jid_is_valid_bare ("a@example.net"));
	g_assert_true (kith_jid_is_valid_bare ("example.net"));
	g_assert_false (kith_jid_is_valid_bare ("a@b@c"));
	g_assert_false (kith_jid_is_valid_bare ("@example.net"));
	g_assert_false (kith_jid_is_valid_bare ("a@"));
	g_assert_false (kith_jid_is_valid_bare ("a@example.net/r"));
	g_assert_false (kith_jid_is_valid_bare (""));
	g_assert_false (kith_jid_is_valid_bare ("a b@c"));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add ("/kith/config/defaults", Fixture, NULL, fixture_set_up, test_defaults,
	            fixture_tear_down);
	g_test_add ("/kith/config/state-directory-env", Fixture, NULL, fixture_set_up,
	            test_state_directory_env, fixture_tear_down);
	g_test_add ("/kith/config/drop-ins", Fixture, NULL, fixture_set_up, test_dropins,
	            fixture_tear_down);
	g_test_add ("/kith/config/component", Fixture, NULL, fixture_set_up, test_component,
	            fixture_tear_down);
	g_test_add ("/kith/config/bad", Fixture, NULL, fixture_set_up, test_bad, fixture_tear_down);
	g_test_add_func ("/kith/config/missing-file", test_missing_file);
	g_test_add_func ("/kith/config/jid", test_jid);
	return g_test_run ();
}
