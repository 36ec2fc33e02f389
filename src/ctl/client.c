/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kithctl"

#include "client.h"

#include <gio/gunixsocketaddress.h>

#include "kith-error.h"

struct _KithCtlClient {
	gchar *path;
	GSocketConnection *connection;
	GDataInputStream *input;
};

const gchar *
kith_ctl_client_default_path (void)
{
	const gchar *path = g_getenv ("KITH_SOCKET");
	return path != NULL && path[0] != '\0' ? path : "/run/kith/control";
}

KithCtlClient *
kith_ctl_client_connect (const gchar *path, GError **error)
{
	g_autoptr (GSocketClient) socket_client = g_socket_client_new ();
	g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
	g_autoptr (GError) error_local = NULL;
	KithCtlClient *self;
	GSocketConnection *connection = g_socket_client_connect (
	        socket_client, G_SOCKET_CONNECTABLE (address), NULL, &error_local);

	if (connection == NULL) {
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
		    g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
			g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
			             "kithd is not running (nothing answers at %s): systemctl "
			             "start kith",
			             path);
		else if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
			g_set_error (error, KITH_ERROR, KITH_ERROR_FORBIDDEN,
			             "permission denied on %s: kithctl needs root or membership "
			             "in group kith",
			             path);
		else
			g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED,
			             "cannot reach kithd at %s: %s", path, error_local->message);
		return NULL;
	}
	self = g_new0 (KithCtlClient, 1);
	self->path = g_strdup (path);
	self->connection = connection;
	self->input =
	        g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
	return self;
}

void
kith_ctl_client_free (KithCtlClient *self)
{
	if (self == NULL)
		return;
	g_clear_object (&self->input);
	g_clear_object (&self->connection);
	g_free (self->path);
	g_free (self);
}

gboolean
kith_ctl_client_send (KithCtlClient *self, JsonNode *request, GError **error)
{
	g_autoptr (JsonNode) node = request;
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autofree gchar *text = NULL;
	g_autofree gchar *line = NULL;
	GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (self->connection));

	json_generator_set_root (generator, node);
	text = json_generator_to_data (generator, NULL);
	line = g_strconcat (text, "\n", NULL);
	if (!g_output_stream_write_all (output, line, strlen (line), NULL, NULL, error)) {
		g_prefix_error (error, "kithd at %s: ", self->path);
		return FALSE;
	}
	return TRUE;
}

JsonObject *
kith_ctl_client_receive (KithCtlClient *self, GError **error)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *line = NULL;
	JsonNode *root;

	line = g_data_input_stream_read_line_utf8 (self->input, NULL, NULL, &error_local);
	if (line == NULL) {
		if (error_local != NULL)
			g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "kithd at %s: %s",
			             self->path, error_local->message);
		else
			g_set_error (error, KITH_ERROR, KITH_ERROR_CANCELLED,
			             "kithd closed the connection (is it stopping?)");
		return NULL;
	}
	if (!json_parser_load_from_data (parser, line, -1, &error_local)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "kithd sent no JSON: %s",
		             error_local->message);
		return NULL;
	}
	root = json_parser_get_root (parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "kithd sent no JSON object");
		return NULL;
	}
	return json_object_ref (json_node_get_object (root));
}

JsonObject *
kith_ctl_client_call (KithCtlClient *self, JsonNode *request, GError **error)
{
	g_autoptr (JsonObject) reply = NULL;
	g_autoptr (GError) error_send = NULL;

	/* kithd answers a peer it refuses at once and closes: the write may fail, the answer
	 * is there to read */
	if (!kith_ctl_client_send (self, request, &error_send)) {
		reply = kith_ctl_client_receive (self, NULL);
		if (reply == NULL) {
			g_propagate_error (error, g_steal_pointer (&error_send));
			return NULL;
		}
	} else {
		reply = kith_ctl_client_receive (self, error);
		if (reply == NULL)
			return NULL;
	}
	if (!json_object_get_boolean_member_with_default (reply, "ok", FALSE)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_FAILED, "%s",
		             json_object_get_string_member_with_default (reply, "error",
		                                                         "kithd said no"));
		return NULL;
	}
	return g_steal_pointer (&reply);
}
