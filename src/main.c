/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h>

#include "config.h"
#include "daemon.h"

typedef struct {
	GMainLoop *loop;
	KithDaemon *daemon;
	gboolean stopping;
} KithMain;

static gboolean
kith_main_quit_cb (gpointer user_data)
{
	KithMain *main_data = user_data;
	g_main_loop_quit (main_data->loop);
	return G_SOURCE_REMOVE;
}

static gboolean
kith_main_signal_cb (gpointer user_data)
{
	KithMain *main_data = user_data;
	if (main_data->stopping) {
		g_message ("second signal: exiting now");
		g_main_loop_quit (main_data->loop);
		return G_SOURCE_CONTINUE;
	}
	main_data->stopping = TRUE;
	g_message ("stopping: saying goodbye for every device");
	kith_daemon_stop (main_data->daemon, kith_main_quit_cb, main_data);
	return G_SOURCE_CONTINUE;
}

/* libstrophe and libmodbus use select(): keep every descriptor below FD_SETSIZE */
static void
kith_main_clamp_files (void)
{
	struct rlimit limit;
	if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > FD_SETSIZE) {
		limit.rlim_cur = FD_SETSIZE;
		(void)setrlimit (RLIMIT_NOFILE, &limit);
	}
}

int
main (int argc, char *argv[])
{
	g_autofree gchar *config_path = NULL;
	gboolean version = FALSE, check = FALSE;
	g_autoptr (GError) error = NULL;
	g_autoptr (GOptionContext) context =
	        g_option_context_new ("- every device its own XMPP identity");
	g_autoptr (KithConfig) config = NULL;
	g_autoptr (KithDaemon) daemon = NULL;
	g_autoptr (GMainLoop) loop = NULL;
	KithMain main_data = { 0 };
	const GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "Configuration file (default /etc/kith/kith.conf)", "FILE" },
		{ "check-config", 0, 0, G_OPTION_ARG_NONE, &check,
		  "Validate the configuration, print the buses and devices, and exit", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
		  NULL },
		{ NULL },
	};

	setlocale (LC_ALL, "");
	signal (SIGPIPE, SIG_IGN);
	g_option_context_add_main_entries (context, entries, NULL);
	if (!g_option_context_parse (context, &argc, &argv, &error)) {
		g_printerr ("kithd: %s\n", error->message);
		return 2;
	}
	if (version) {
		g_print ("kithd %s\n", KITH_VERSION);
		return 0;
	}
	if (config_path == NULL)
		config_path = g_strdup ("/etc/kith/kith.conf");
	config = kith_config_load (config_path, &error);
	if (config == NULL) {
		g_printerr ("kithd: %s\n", error->message);
		return 1;
	}
	daemon = kith_daemon_new (config, &error);
	if (daemon == NULL) {
		g_printerr ("kithd: %s\n", error->message);
		return 1;
	}
	if (check) {
		g_autoptr (GString) out = g_string_new (NULL);
		kith_daemon_describe (daemon, out);
		g_print ("%s: OK, %u device%s, friendship policy %s\n%s", config_path,
		         kith_daemon_get_device_count (daemon),
		         kith_daemon_get_device_count (daemon) == 1 ? "" : "s",
		         kith_policy_kind_to_string (config->policy), out->str);
		return 0;
	}
	kith_main_clamp_files ();
	loop = g_main_loop_new (NULL, FALSE);
	main_data.loop = loop;
	main_data.daemon = daemon;
	g_unix_signal_add (SIGTERM, kith_main_signal_cb, &main_data);
	g_unix_signal_add (SIGINT, kith_main_signal_cb, &main_data);
	if (!kith_daemon_start (daemon, &error)) {
		g_printerr ("kithd: %s\n", error->message);
		return 1;
	}
	g_main_loop_run (loop);
	g_message ("stopped");
	return 0;
}
