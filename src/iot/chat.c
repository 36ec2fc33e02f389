/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include <string.h>

#include "iot/chat.h"
#include "iot/control.h"
#include "iot/stanza.h"

#define KITH_CHAT_MAX_WORDS 8

static gchar *
kith_chat_help (KithDevice *device)
{
	g_autoptr (GString) text = g_string_new (NULL);
	GPtrArray *fields = kith_device_get_fields (device);

	g_string_append_printf (text, "%s (%s). Commands:\n", kith_device_get_label (device),
	                        kith_device_get_id (device));
	g_string_append (text, "  get — current readings (also: read, status)\n");
	if (!kith_device_has_writable (device))
		g_string_append (text, "  set — nothing on this device can be set\n");
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		if (!field->writable)
			continue;
		if (field->type == KITH_VALUE_BOOLEAN)
			g_string_append_printf (text, "  set %s on|off\n", field->name);
		else
			g_string_append_printf (text, "  set %s <value>\n", field->name);
	}
	g_string_append (text, "  pending, accept <jid>, refuse <jid> — the owner decides friend "
	                       "requests\n");
	g_string_append (text, "  help — this list");
	return g_string_free (g_steal_pointer (&text), FALSE);
}

gchar *
kith_chat_format_readings (KithDevice *device, GPtrArray *names)
{
	g_autoptr (GString) text = g_string_new (NULL);
	GPtrArray *fields = kith_device_get_fields (device);

	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		const KithValue *value = kith_device_get_value (device, field->name);
		g_autofree gchar *shown = NULL;

		if (field->categories == KITH_FIELD_IDENTITY ||
		    !kith_field_names_contain (names, field->name))
			continue;
		if (text->len > 0)
			g_string_append_c (text, '\n');
		if (!value->valid) {
			g_string_append_printf (text, "%s: unknown", field->name);
			continue;
		}
		if (value->type == KITH_VALUE_BOOLEAN)
			shown = g_strdup (value->boolean ? "on" : "off");
		else
			shown = kith_value_to_string (value, field->status_decimals > 0
			                                             ? field->status_decimals
			                                             : field->decimals);
		g_string_append_printf (text, "%s: %s", field->name, shown);
		if (field->unit != NULL && field->unit[0] != '\0')
			g_string_append_printf (text, " %s", field->unit);
	}
	if (text->len == 0)
		g_string_append (text, "No readings you may see.");
	return g_string_free (g_steal_pointer (&text), FALSE);
}

static KithRequest *
kith_chat_request (xmpp_stanza_t *message, KithRequestKind kind)
{
	KithRequest *request = g_new0 (KithRequest, 1);
	request->kind = kind;
	request->reply = KITH_REPLY_CHAT;
	request->from = g_strdup (xmpp_stanza_get_from (message));
	request->to = g_strdup (xmpp_stanza_get_to (message));
	request->id = g_strdup (xmpp_stanza_get_id (message));
	request->seqnr = g_strdup ("0");
	request->flags = KITH_READ_ALL;
	return request;
}

/* "set relay on": names match case-insensitively */
static gchar *
kith_chat_set (KithProtocol *protocol, xmpp_stanza_t *message, gchar **words, GPtrArray *requests)
{
	GPtrArray *fields = kith_device_get_fields (protocol->device);
	const KithField *target = NULL;
	const gchar *condition = NULL;
	g_autofree gchar *error = NULL;
	KithParam *param;
	KithRequest *request;

	if (words[1] == NULL || words[2] == NULL)
		return g_strdup ("Usage: set <name> <value>. Send 'help' for the list.");
	for (guint i = 0; i < fields->len && target == NULL; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		if (field->writable && g_ascii_strcasecmp (field->name, words[1]) == 0)
			target = field;
	}
	if (target == NULL)
		return g_strdup_printf ("Nothing called '%s' can be set here. Send 'help' for the "
		                        "list.",
		                        words[1]);
	param = kith_control_parse_value (protocol->device, target->name, NULL, words[2],
	                                  &condition, &error);
	if (param == NULL)
		return g_strdup_printf ("Cannot set that: %s", error);
	request = kith_chat_request (message, KITH_REQUEST_WRITE);
	request->params = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_param_free);
	g_ptr_array_add (request->params, param);
	g_ptr_array_add (requests, request);
	return NULL;
}

gchar *
kith_chat_handle (KithProtocol *protocol, xmpp_stanza_t *message, const gchar *body,
                  GPtrArray *requests)
{
	g_autofree gchar *line = g_strstrip (g_strdup (body));
	g_auto (GStrv) words = NULL;
	const gchar *command;
	GPtrArray *nonempty = g_ptr_array_new ();

	/* only the first line counts, and only a few words of it */
	if (strchr (line, '\n') != NULL)
		*strchr (line, '\n') = '\0';
	words = g_strsplit_set (line, " \t", -1);
	for (guint i = 0; words[i] != NULL && nonempty->len < KITH_CHAT_MAX_WORDS; i++) {
		if (words[i][0] != '\0')
			g_ptr_array_add (nonempty, words[i]);
	}
	g_ptr_array_add (nonempty, NULL);
	command = g_ptr_array_index (nonempty, 0);
	if (command == NULL || g_ascii_strcasecmp (command, "help") == 0 ||
	    g_strcmp0 (command, "?") == 0) {
		g_ptr_array_unref (nonempty);
		return kith_chat_help (protocol->device);
	}
	if (g_ascii_strcasecmp (command, "get") == 0 || g_ascii_strcasecmp (command, "read") == 0 ||
	    g_ascii_strcasecmp (command, "status") == 0) {
		g_ptr_array_add (requests, kith_chat_request (message, KITH_REQUEST_READ));
		g_ptr_array_unref (nonempty);
		return NULL;
	}
	if (g_ascii_strcasecmp (command, "pending") == 0 ||
	    ((g_ascii_strcasecmp (command, "accept") == 0 ||
	      g_ascii_strcasecmp (command, "refuse") == 0) &&
	     nonempty->len > 2)) {
		/* the owner decides waiting friend requests; the identity checks who asks */
		KithRequest *request = kith_chat_request (message, KITH_REQUEST_DECISION);
		request->type = g_ascii_strdown (command, -1);
		request->jid = g_strdup (g_ptr_array_index (nonempty, 1));
		g_ptr_array_add (requests, request);
		g_ptr_array_unref (nonempty);
		return NULL;
	}
	if (g_ascii_strcasecmp (command, "set") == 0) {
		gchar *reply =
		        kith_chat_set (protocol, message, (gchar **)nonempty->pdata, requests);
		g_ptr_array_unref (nonempty);
		return reply;
	}
	{
		g_autofree gchar *shown = g_utf8_make_valid (command, MIN (strlen (command), 40));
		g_ptr_array_unref (nonempty);
		return g_strdup_printf ("Unknown command '%s'. Send 'help' for the list.", shown);
	}
}

xmpp_stanza_t *
kith_chat_reply (KithProtocol *protocol, const KithRequest *request, const gchar *text)
{
	xmpp_stanza_t *message =
	        kith_stanza_message (protocol->ctx, "chat", request->to, request->from);
	kith_stanza_add_text_element (message, "body", text);
	return message;
}
