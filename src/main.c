/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include <glib-unix.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h>

#include "commissioning.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "device.h"
#include "kith-error.h"
#include "notify.h"
#include "overview.h"
#include "registry.h"
#include "store.h"

typedef struct {
	GMainLoop *loop;
	KithDaemon *daemon;
	const gchar *config_path;
	gboolean stopping;
	KithNotify *notify;
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
	kith_notify_stopping (main_data->notify, "stopping: saying goodbye for every device");
	kith_daemon_stop (main_data->daemon, kith_main_quit_cb, main_data);
	return G_SOURCE_CONTINUE;
}

/* SIGHUP or kithctl reload: the configuration is read again; a broken one is reported and
 * the running one stays */
static gboolean
kith_main_reload (gpointer user_data, GError **error)
{
	KithMain *main_data = user_data;
	gboolean done;

	if (main_data->stopping) {
		g_set_error_literal (error, KITH_ERROR, KITH_ERROR_CANCELLED, "kithd is stopping");
		return FALSE;
	}
	g_message ("reloading %s", main_data->config_path);
	kith_notify_reloading (main_data->notify);
	done = kith_daemon_reload (main_data->daemon, main_data->config_path, error);
	if (!done)
		g_warning ("the configuration was not reloaded, the running one stays: %s",
		           (*error)->message);
	kith_notify_ready (main_data->notify);
	return done;
}

static gboolean
kith_main_reload_cb (gpointer user_data)
{
	g_autoptr (GError) error = NULL;
	(void)kith_main_reload (user_data, &error);
	return G_SOURCE_CONTINUE;
}

static gchar *
kith_main_status_cb (gpointer user_data)
{
	return kith_overview_status_line (user_data);
}

/* the local channel kithctl talks to; kithd runs on without it */
static KithControl *
kith_main_open_control (KithMain *main_data)
{
	g_autofree gchar *path = kith_control_default_path ();
	g_autoptr (GError) error = NULL;
	KithControl *control =
	        kith_control_new (main_data->daemon, path, kith_main_reload, main_data, &error);

	if (control != NULL)
		return control;
	/* under systemd the runtime directory is ours; by hand it may simply not be */
	if (g_getenv ("RUNTIME_DIRECTORY") != NULL)
		g_warning ("kithctl cannot reach this kithd: %s", error->message);
	else
		g_message ("kithctl cannot reach this kithd: %s", error->message);
	return NULL;
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

/* prints each device's commissioning URI (and QR code): what an owner scans to claim it */
static int
kith_main_commissioning (KithConfig *config, KithDaemon *daemon, const gchar *only, gboolean qr,
                         const gchar *png_dir)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = kith_store_open (config->state_directory, &error);
	g_autoptr (GPtrArray) devices = kith_daemon_get_devices (daemon);
	guint shown = 0;

	if (store == NULL) {
		g_printerr ("kithd: %s\n", error->message);
		return 1;
	}
	if (png_dir != NULL && g_mkdir_with_parents (png_dir, 0755) != 0) {
		g_printerr ("kithd: cannot create %s: %s\n", png_dir, g_strerror (errno));
		return 1;
	}
	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		const gchar *id = kith_device_get_id (device);
		g_autofree gchar *key = NULL;
		g_autofree gchar *uri = NULL;

		if (only != NULL && g_strcmp0 (only, id) != 0)
			continue;
		key = kith_registry_ensure_key (store, id, &error);
		if (key == NULL) {
			g_printerr ("kithd: %s: %s\n", id, error->message);
			return 1;
		}
		uri = kith_registry_uri (device, key, config->registry);
		g_print ("%s %s\n", id, uri);
		shown++;
		if (qr) {
			g_autofree gchar *drawing = kith_qr_render_text (uri, &error);
			if (drawing == NULL) {
				g_printerr ("kithd: %s\n", error->message);
				return 1;
			}
			g_print ("%s\n", drawing);
		}
		if (png_dir != NULL) {
			g_autofree gchar *name = g_strconcat (id, ".png", NULL);
			g_autofree gchar *path = g_build_filename (png_dir, name, NULL);
			if (!kith_qr_write_png (uri, path, 8, &error)) {
				g_printerr ("kithd: %s\n", error->message);
				return 1;
			}
		}
	}
	if (only != NULL && shown == 0) {
		g_printerr ("kithd: no device %s in %s\n", only, config->path);
		return 1;
	}
	return 0;
}

int
main (int argc, char *argv[])
{
	g_autofree gchar *config_path = NULL;
	gboolean version = FALSE, check = FALSE, commissioning = FALSE, qr = FALSE;
	g_autofree gchar *device = NULL;
	g_autofree gchar *png_dir = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (GOptionContext) context =
	        g_option_context_new ("- every device its own XMPP identity");
	g_option_context_set_description (
	        context,
	        "Runs in the foreground until SIGTERM or SIGINT (every device says goodbye). "
	        "SIGHUP reads the configuration again: buses and devices added, removed "
	        "or changed take effect, unchanged devices keep their sessions, and a "
	        "configuration with an error is reported while the running one stays.");
	g_autoptr (KithConfig) config = NULL;
	g_autoptr (KithDaemon) daemon = NULL;
	g_autoptr (GMainLoop) loop = NULL;
	g_autoptr (KithNotify) notify = NULL;
	g_autoptr (KithControl) control = NULL;
	KithMain main_data = { 0 };
	const GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "Configuration file (default /etc/kith/kith.conf)", "FILE" },
		{ "check-config", 0, 0, G_OPTION_ARG_NONE, &check,
		  "Validate the configuration, print the buses and devices, and exit", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
		  NULL },
		{ "commissioning", 0, 0, G_OPTION_ARG_NONE, &commissioning,
		  "Print each device's commissioning URI (iotdisco:) for its owner to claim it, "
		  "and exit",
		  NULL },
		{ "device", 'd', 0, G_OPTION_ARG_STRING, &device,
		  "With --commissioning: only this device", "ID" },
		{ "qr", 0, 0, G_OPTION_ARG_NONE, &qr, "With --commissioning: draw QR codes", NULL },
		{ "qr-png", 0, 0, G_OPTION_ARG_FILENAME, &png_dir,
		  "With --commissioning: write DIR/<device-id>.png QR codes", "DIR" },
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
	if (commissioning)
		return kith_main_commissioning (config, daemon, device, qr, png_dir);
	if (check) {
		g_autoptr (GString) out = g_string_new (NULL);
		kith_daemon_describe (daemon, out);
		g_print ("%s: OK, %u device%s, %s mode, friendship policy %s\n%s", config_path,
		         kith_daemon_get_device_count (daemon),
		         kith_daemon_get_device_count (daemon) == 1 ? "" : "s",
		         config->mode == KITH_MODE_COMPONENT ? "component" : "client",
		         kith_policy_kind_to_string (config->policy), out->str);
		return 0;
	}
	kith_main_clamp_files ();
	loop = g_main_loop_new (NULL, FALSE);
	main_data.loop = loop;
	main_data.daemon = daemon;
	main_data.config_path = config_path;
	g_unix_signal_add (SIGTERM, kith_main_signal_cb, &main_data);
	g_unix_signal_add (SIGINT, kith_main_signal_cb, &main_data);
	g_unix_signal_add (SIGHUP, kith_main_reload_cb, &main_data);
	notify = kith_notify_new (kith_main_status_cb, daemon);
	main_data.notify = notify;
	if (!kith_daemon_start (daemon, &error)) {
		g_printerr ("kithd: %s\n", error->message);
		return 1;
	}
	control = kith_main_open_control (&main_data);
	/* every device has been started (sessions connecting, buses running) */
	kith_notify_ready (notify);
	g_main_loop_run (loop);
	g_message ("stopped");
	return 0;
}
