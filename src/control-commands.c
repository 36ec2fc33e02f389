/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include <string.h>

#include "control-private.h"
#include "kith-error.h"
#include "overview.h"
#include "registry.h"

/* a command adds its members to the reply object; FALSE with error: {"ok": false, ...} */
typedef gboolean (*KithControlCommandFunc) (KithControlClient *client, JsonObject *request,
                                            JsonBuilder *reply, GError **error);

typedef struct {
	const gchar *name;
	gboolean change; /* root, kithd's user or [kith] AdminGroup only */
	KithControlCommandFunc run;
} KithControlCommand;

/* one device a watching client follows */
typedef struct {
	KithControlClient *client;
	KithDevice *device;
	gulong changed_id;
	gulong availability_id;
} KithControlWatched;

static const gchar *
kith_control_get_string (JsonObject *request, const gchar *name)
{
	JsonNode *node = json_object_get_member (request, name);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
	    json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

static KithIdentity *
kith_control_get_identity (KithControlClient *client, JsonObject *request, GError **error)
{
	const gchar *id = kith_control_get_string (request, "device");
	KithIdentity *identity;

	if (id == NULL || id[0] == '\0') {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "which device? (a device id)");
		return NULL;
	}
	identity = kith_daemon_get_identity (client->control->daemon, id);
	if (identity == NULL)
		g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
		             "no device %s (kithctl devices lists them)", id);
	return identity;
}

static void
kith_control_add_strings (JsonBuilder *reply, const gchar *name, GPtrArray *strings)
{
	json_builder_set_member_name (reply, name);
	json_builder_begin_array (reply);
	for (guint i = 0; i < strings->len; i++)
		json_builder_add_string_value (reply, g_ptr_array_index (strings, i));
	json_builder_end_array (reply);
}

static gint
kith_control_compare_devices (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (kith_device_get_id (*(KithDevice **)a),
	                  kith_device_get_id (*(KithDevice **)b));
}

static gint
kith_control_compare_strings (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const gchar **)a, *(const gchar **)b);
}

/* -- reading ---------------------------------------------------------------------------- */

static gboolean
kith_control_status (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                     GError **error)
{
	kith_overview_add_status (reply, client->control->daemon, client->control->started_at);
	return TRUE;
}

static gboolean
kith_control_devices (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                      GError **error)
{
	g_autoptr (GPtrArray) devices = kith_daemon_get_devices (client->control->daemon);

	g_ptr_array_sort (devices, kith_control_compare_devices);
	json_builder_set_member_name (reply, "devices");
	json_builder_begin_array (reply);
	for (guint i = 0; i < devices->len; i++)
		kith_overview_add_device (reply, client->control->daemon,
		                          g_ptr_array_index (devices, i));
	json_builder_end_array (reply);
	return TRUE;
}

static gboolean
kith_control_friends (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                      GError **error)
{
	KithIdentity *identity = kith_control_get_identity (client, request, error);
	g_autoptr (GPtrArray) friends = NULL;
	g_autoptr (GPtrArray) pending = NULL;
	KithConfig *config = kith_daemon_get_config (client->control->daemon);

	if (identity == NULL)
		return FALSE;
	friends = kith_identity_get_friends (identity);
	pending = kith_identity_get_pending (identity);
	g_ptr_array_sort (friends, kith_control_compare_strings);
	g_ptr_array_sort (pending, kith_control_compare_strings);
	json_builder_set_member_name (reply, "device");
	json_builder_add_string_value (reply, kith_identity_get_id (identity));
	json_builder_set_member_name (reply, "policy");
	json_builder_add_string_value (reply, kith_policy_kind_to_string (config->policy));
	json_builder_set_member_name (reply, "owner");
	if (kith_identity_get_owner (identity) != NULL)
		json_builder_add_string_value (reply, kith_identity_get_owner (identity));
	else
		json_builder_add_null_value (reply);
	kith_control_add_strings (reply, "friends", friends);
	kith_control_add_strings (reply, "pending", pending);
	return TRUE;
}

/* -- watching --------------------------------------------------------------------------- */

static void
kith_control_watched_free (KithControlWatched *watched)
{
	g_clear_signal_handler (&watched->changed_id, watched->device);
	g_clear_signal_handler (&watched->availability_id, watched->device);
	g_object_unref (watched->device);
	g_free (watched);
}

static void
kith_control_send_event (KithControlClient *client, KithDevice *device, const gchar *event)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autofree gchar *now = kith_overview_format_time (g_get_real_time ());

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "event");
	json_builder_add_string_value (builder, event);
	json_builder_set_member_name (builder, "device");
	json_builder_add_string_value (builder, kith_device_get_id (device));
	json_builder_set_member_name (builder, "time");
	json_builder_add_string_value (builder, now);
	json_builder_set_member_name (builder, "answering");
	json_builder_add_boolean_value (builder, kith_device_is_answering (device));
	json_builder_set_member_name (builder, "values");
	kith_overview_add_values (builder, device);
	json_builder_end_object (builder);
	kith_control_client_send (client, json_builder_get_root (builder));
}

static void
kith_control_changed_cb (KithDevice *device, gpointer user_data)
{
	KithControlWatched *watched = user_data;
	kith_control_send_event (watched->client, device, "values");
}

static void
kith_control_availability_cb (KithDevice *device, gpointer user_data)
{
	KithControlWatched *watched = user_data;
	kith_control_send_event (watched->client, device, "answering");
}

static void
kith_control_watch_device (KithControlClient *client, KithDevice *device)
{
	KithControlWatched *watched;

	if (client->watch_device != NULL &&
	    g_strcmp0 (client->watch_device, kith_device_get_id (device)) != 0)
		return;
	watched = g_new0 (KithControlWatched, 1);
	watched->client = client;
	watched->device = g_object_ref (device);
	watched->changed_id =
	        g_signal_connect (device, "changed", G_CALLBACK (kith_control_changed_cb), watched);
	watched->availability_id = g_signal_connect (
	        device, "availability-changed", G_CALLBACK (kith_control_availability_cb), watched);
	/* a replaced object (a reload) takes over from the old one */
	g_hash_table_replace (client->watched, g_strdup (kith_device_get_id (device)), watched);
}

void
kith_control_device_joined (KithControl *self, KithDevice *device)
{
	for (GList *l = self->clients; l != NULL; l = l->next) {
		KithControlClient *client = l->data;
		if (client->watching && !client->closed)
			kith_control_watch_device (client, device);
	}
}

void
kith_control_client_unwatch (KithControlClient *client)
{
	client->watching = FALSE;
	if (client->watched != NULL)
		g_hash_table_remove_all (client->watched);
}

static gboolean
kith_control_watch (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                    GError **error)
{
	g_autoptr (GPtrArray) devices = kith_daemon_get_devices (client->control->daemon);
	const gchar *only = kith_control_get_string (request, "device");

	if (only != NULL && kith_daemon_get_identity (client->control->daemon, only) == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
		             "no device %s (kithctl devices lists them)", only);
		return FALSE;
	}
	if (client->watched == NULL)
		client->watched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
		                                         (GDestroyNotify)kith_control_watched_free);
	g_free (client->watch_device);
	client->watch_device = g_strdup (only);
	client->watching = TRUE;
	for (guint i = 0; i < devices->len; i++)
		kith_control_watch_device (client, g_ptr_array_index (devices, i));
	json_builder_set_member_name (reply, "watching");
	json_builder_add_int_value (reply, g_hash_table_size (client->watched));
	return TRUE;
}

/* -- changing --------------------------------------------------------------------------- */

static gboolean
kith_control_decide (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                     gboolean accept, GError **error)
{
	KithIdentity *identity = kith_control_get_identity (client, request, error);
	const gchar *jid = kith_control_get_string (request, "jid");

	if (identity == NULL)
		return FALSE;
	if (jid == NULL || !kith_jid_is_valid_bare (jid)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "whose request? (a bare JID such as bob@example.net)");
		return FALSE;
	}
	if (!kith_identity_decide_pending (identity, jid, accept, error))
		return FALSE;
	g_message ("%s: friend request from %s %s by kithctl (%s)", kith_identity_get_id (identity),
	           jid, accept ? "accepted" : "refused", client->who);
	json_builder_set_member_name (reply, "device");
	json_builder_add_string_value (reply, kith_identity_get_id (identity));
	json_builder_set_member_name (reply, "jid");
	json_builder_add_string_value (reply, jid);
	json_builder_set_member_name (reply, "decision");
	json_builder_add_string_value (reply, accept ? "accepted" : "refused");
	return TRUE;
}

static gboolean
kith_control_approve (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                      GError **error)
{
	return kith_control_decide (client, request, reply, TRUE, error);
}

static gboolean
kith_control_deny (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                   GError **error)
{
	return kith_control_decide (client, request, reply, FALSE, error);
}

static gboolean
kith_control_qr (KithControlClient *client, JsonObject *request, JsonBuilder *reply, GError **error)
{
	KithIdentity *identity = kith_control_get_identity (client, request, error);
	KithStore *store = kith_daemon_get_store (client->control->daemon);
	KithConfig *config = kith_daemon_get_config (client->control->daemon);
	g_autofree gchar *key = NULL;
	g_autofree gchar *uri = NULL;

	if (identity == NULL)
		return FALSE;
	key = kith_registry_ensure_key (store, kith_identity_get_id (identity), error);
	if (key == NULL)
		return FALSE;
	uri = kith_registry_uri (kith_identity_get_device (identity), key, config->registry);
	json_builder_set_member_name (reply, "device");
	json_builder_add_string_value (reply, kith_identity_get_id (identity));
	json_builder_set_member_name (reply, "uri");
	json_builder_add_string_value (reply, uri);
	return TRUE;
}

static gboolean
kith_control_reload (KithControlClient *client, JsonObject *request, JsonBuilder *reply,
                     GError **error)
{
	KithControl *control = client->control;
	KithConfig *config = kith_daemon_get_config (control->daemon);

	g_message ("reload asked by kithctl (%s)", client->who);
	if (!control->reload (control->reload_data, error))
		return FALSE;
	json_builder_set_member_name (reply, "config");
	json_builder_add_string_value (reply, config->path);
	json_builder_set_member_name (reply, "devices");
	json_builder_add_int_value (reply, kith_daemon_get_device_count (control->daemon));
	return TRUE;
}

static const KithControlCommand kith_control_commands[] = {
	{ "status", FALSE, kith_control_status },
	{ "devices", FALSE, kith_control_devices },
	{ "friends", FALSE, kith_control_friends },
	{ "watch", FALSE, kith_control_watch },
	{ "approve", TRUE, kith_control_approve },
	{ "deny", TRUE, kith_control_deny },
	{ "qr", TRUE, kith_control_qr },
	{ "reload", TRUE, kith_control_reload },
};

static const KithControlCommand *
kith_control_find_command (const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS (kith_control_commands); i++)
		if (g_strcmp0 (kith_control_commands[i].name, name) == 0)
			return &kith_control_commands[i];
	return NULL;
}

void
kith_control_client_request (KithControlClient *client, const gchar *line)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (JsonBuilder) reply = NULL;
	g_autoptr (GError) error = NULL;
	const KithControlCommand *command;
	JsonNode *root;
	JsonObject *request;
	const gchar *name;

	if (!json_parser_load_from_data (parser, line, -1, &error)) {
		g_autofree gchar *message = g_strdup_printf ("not JSON: %s", error->message);
		kith_control_client_send_error (client, message);
		return;
	}
	root = json_parser_get_root (parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
		kith_control_client_send_error (client, "a request is a JSON object");
		return;
	}
	request = json_node_get_object (root);
	name = kith_control_get_string (request, "command");
	if (name == NULL) {
		kith_control_client_send_error (client, "a request needs a \"command\"");
		return;
	}
	command = kith_control_find_command (name);
	if (command == NULL) {
		g_autofree gchar *message = g_strdup_printf ("unknown command %s", name);
		kith_control_client_send_error (client, message);
		return;
	}
	if (command->change && !client->may_change) {
		g_autofree gchar *message = NULL;
		if (client->control->admin_group != NULL)
			message = g_strdup_printf ("permission denied: %s needs root or membership "
			                           "in group %s",
			                           name, client->control->admin_group);
		else
			message = g_strdup_printf ("permission denied: %s needs root (or a group "
			                           "named by [kith] AdminGroup in kith.conf)",
			                           name);
		kith_control_client_send_error (client, message);
		return;
	}
	reply = json_builder_new ();
	json_builder_begin_object (reply);
	json_builder_set_member_name (reply, "ok");
	json_builder_add_boolean_value (reply, TRUE);
	if (!command->run (client, request, reply, &error)) {
		kith_control_client_send_error (client, error->message);
		return;
	}
	json_builder_end_object (reply);
	kith_control_client_send (client, json_builder_get_root (reply));
}
