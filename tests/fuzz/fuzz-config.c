/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The configuration as kithd --check-config reads it: kith.conf and a conf.d drop-in merged
 * and validated, then every bus made and set up by its driver (sim, MQTT, Modbus, GPIO, I2C:
 * their keys, items and profiles) and described. Nothing is started.
 *
 * An input is kith.conf; after a NUL byte, if there is one, conf.d/50-fuzz.conf.
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "fuzz.h"

static gchar *fuzz_path;
static gchar *fuzz_dropin;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	g_autofree gchar *dropins = NULL;

	kith_fuzz_init ();
	fuzz_path = g_build_filename (kith_fuzz_scratch (), "kith.conf", NULL);
	dropins = g_build_filename (kith_fuzz_scratch (), "conf.d", NULL);
	fuzz_dropin = g_build_filename (dropins, "50-fuzz.conf", NULL);
	g_mkdir (dropins, 0700);
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	const uint8_t *nul = size > 0 ? memchr (data, '\0', size) : NULL;
	gsize main_size = nul != NULL ? (gsize)(nul - data) : size;
	g_autoptr (KithConfig) config = NULL;
	g_autoptr (KithDaemon) daemon = NULL;
	g_autoptr (GString) out = g_string_new (NULL);
	g_autoptr (GError) error = NULL;

	g_assert_true (
	        g_file_set_contents (fuzz_path, (const gchar *)data, (gssize)main_size, NULL));
	g_unlink (fuzz_dropin);
	if (nul != NULL)
		g_assert_true (g_file_set_contents (fuzz_dropin, (const gchar *)nul + 1,
		                                    (gssize)(size - main_size - 1), NULL));
	config = kith_config_load (fuzz_path, &error);
	if (config != NULL)
		daemon = kith_daemon_new (config, &error);
	if (daemon != NULL)
		kith_daemon_describe (daemon, out);
	if (kith_fuzz_verbose ())
		fprintf (stderr, "%s\n", error != NULL ? error->message : out->str);
	return 0;
}
