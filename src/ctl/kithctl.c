/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kithctl"

/* kithctl: asks the running kithd over its control socket (see src/control.h) */

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "client.h"
#include "commissioning.h"
#include "print.h"

typedef struct {
	const gchar *name;
	guint min_args, max_args;
	const gchar *args; /* for the usage line */
	const gchar *help;
} KithCtlCommand;

static const KithCtlCommand kith_ctl_commands[] = {
	{ "status", 0, 0, "", "kithd's version, uptime and how many devices are online" },
	{ "devices", 0, 0, "", "every device: id, JID, bus, state, friends, last values" },
	{ "friends", 1, 1, " DEVICE", "the device's owner, friends and waiting friend requests" },
	{ "approve", 2, 2, " DEVICE JID", "accept a waiting friend request (Policy=manual)" },
	{ "deny", 2, 2, " DEVICE JID", "refuse a waiting friend request" },
	{ "qr", 1, 1, " DEVICE", "the device's commissioning URI (iotdisco:) and its QR code" },
	{ "watch", 0, 1, " [DEVICE]", "live readings, one line per change, until ctrl-c" },
	{ "reload", 0, 0, "", "read the configuration again (as systemctl reload kith)" },
};

static const KithCtlCommand *
kith_ctl_find (const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS (kith_ctl_commands); i++)
		if (g_strcmp0 (kith_ctl_commands[i].name, name) == 0)
			return &kith_ctl_commands[i];
	return NULL;
}

static gchar *
kith_ctl_summary (void)
{
	g_autoptr (GString) text = g_string_new ("Commands:\n");

	for (guint i = 0; i < G_N_ELEMENTS (kith_ctl_commands); i++) {
		g_autofree gchar *usage =
		        g_strconcat (kith_ctl_commands[i].name, kith_ctl_commands[i].args, NULL);
		g_string_append_printf (text, "  %-20s %s\n", usage, kith_ctl_commands[i].help);
	}
	g_string_append (text, "\nReading needs root or membership in group kith; approve, deny, "
	                       "qr and reload need root\nor the group named by [kith] AdminGroup.");
	return g_string_free (g_steal_pointer (&text), FALSE);
}

/* {"command": name, "device": args[0], "jid": args[1]} */
static JsonNode *
kith_ctl_request (const gchar *name, gchar **args, guint count)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "command");
	json_builder_add_string_value (builder, name);
	if (count > 0) {
		json_builder_set_member_name (builder, "device");
		json_builder_add_string_value (builder, args[0]);
	}
	if (count > 1) {
		json_builder_set_member_name (builder, "jid");
		json_builder_add_string_value (builder, args[1]);
	}
	json_builder_end_object (builder);
	return json_builder_get_root (builder);
}

static void
kith_ctl_print_json (JsonObject *object, gboolean pretty)
{
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
	g_autofree gchar *text = NULL;

	json_generator_set_pretty (generator, pretty);
	json_generator_set_root (generator, node);
	text = json_generator_to_data (generator, NULL);
	g_print ("%s\n", text);
}

static int
kith_ctl_watch (KithCtlClient *client, gboolean json)
{
	for (;;) {
		g_autoptr (GError) error = NULL;
		g_autoptr (JsonObject) event = kith_ctl_client_receive (client, &error);
		g_autoptr (GString) out = g_string_new (NULL);

		if (event == NULL) {
			g_printerr ("kithctl: %s\n", error->message);
			return 1;
		}
		if (json) {
			kith_ctl_print_json (event, FALSE);
		} else {
			kith_ctl_print_event (out, event, TRUE);
			g_print ("%s", out->str);
		}
		fflush (stdout);
	}
}

static int
kith_ctl_show (const gchar *name, JsonObject *reply)
{
	g_autoptr (GString) out = g_string_new (NULL);

	if (g_strcmp0 (name, "status") == 0) {
		kith_ctl_print_status (out, reply);
	} else if (g_strcmp0 (name, "devices") == 0) {
		kith_ctl_print_devices (out, reply);
	} else if (g_strcmp0 (name, "friends") == 0) {
		kith_ctl_print_friends (out, reply);
	} else if (g_strcmp0 (name, "approve") == 0 || g_strcmp0 (name, "deny") == 0) {
		g_string_append_printf (
		        out, "%s: friend request from %s %s\n",
		        json_object_get_string_member_with_default (reply, "device", "?"),
		        json_object_get_string_member_with_default (reply, "jid", "?"),
		        json_object_get_string_member_with_default (reply, "decision", "?"));
	} else if (g_strcmp0 (name, "qr") == 0) {
		g_autoptr (GError) error = NULL;
		const gchar *uri = json_object_get_string_member_with_default (reply, "uri", "");
		g_autofree gchar *drawing = kith_qr_render_text (uri, &error);
		if (drawing == NULL) {
			g_printerr ("kithctl: %s\n", error->message);
			return 1;
		}
		g_string_append_printf (out, "%s\n%s\n", uri, drawing);
	} else if (g_strcmp0 (name, "reload") == 0) {
		g_string_append_printf (
		        out, "reloaded %s: %" G_GINT64_FORMAT " devices\n",
		        json_object_get_string_member_with_default (reply, "config", "?"),
		        json_object_get_int_member_with_default (reply, "devices", 0));
	}
	g_print ("%s", out->str);
	return 0;
}

int
main (int argc, char *argv[])
{
	gboolean json = FALSE, version = FALSE;
	g_autofree gchar *socket_path = NULL;
	g_autofree gchar *summary = kith_ctl_summary ();
	g_autoptr (GError) error = NULL;
	g_autoptr (GOptionContext) context = g_option_context_new ("COMMAND [ARGUMENTS]");
	g_autoptr (KithCtlClient) client = NULL;
	g_autoptr (JsonObject) reply = NULL;
	const KithCtlCommand *command;
	guint count;
	const GOptionEntry entries[] = {
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json,
		  "Print kithd's replies as JSON (watch: one event per line)", NULL },
		{ "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
		  "kithd's control socket (default $KITH_SOCKET, else /run/kith/control)", "PATH" },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
		  NULL },
		{ NULL },
	};

	setlocale (LC_ALL, "");
	g_option_context_set_summary (context, "Asks the running kithd.");
	g_option_context_set_description (context, summary);
	g_option_context_add_main_entries (context, entries, NULL);
	if (!g_option_context_parse (context, &argc, &argv, &error)) {
		g_printerr ("kithctl: %s (kithctl --help)\n", error->message);
		return 2;
	}
	if (version) {
		g_print ("kithctl %s\n", KITH_VERSION);
		return 0;
	}
	if (argc < 2) {
		g_printerr ("kithctl: which command? (kithctl --help lists them)\n");
		return 2;
	}
	command = kith_ctl_find (argv[1]);
	count = (guint)argc - 2;
	if (command == NULL) {
		g_printerr ("kithctl: unknown command %s (kithctl --help lists them)\n", argv[1]);
		return 2;
	}
	if (count < command->min_args || count > command->max_args) {
		g_printerr ("kithctl: usage: kithctl %s%s\n", command->name, command->args);
		return 2;
	}
	client = kith_ctl_client_connect (
	        socket_path != NULL ? socket_path : kith_ctl_client_default_path (), &error);
	if (client == NULL) {
		g_printerr ("kithctl: %s\n", error->message);
		return 1;
	}
	reply = kith_ctl_client_call (client, kith_ctl_request (command->name, argv + 2, count),
	                              &error);
	if (reply == NULL) {
		g_printerr ("kithctl: %s\n", error->message);
		return 1;
	}
	if (g_strcmp0 (command->name, "watch") == 0) {
		if (!json)
			g_printerr ("watching %" G_GINT64_FORMAT " devices (ctrl-c stops)\n",
			            json_object_get_int_member_with_default (reply, "watching", 0));
		return kith_ctl_watch (client, json);
	}
	if (json) {
		kith_ctl_print_json (reply, TRUE);
		return 0;
	}
	return kith_ctl_show (command->name, reply);
}
