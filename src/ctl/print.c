/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kithctl"

#include "print.h"

static const gchar *
kith_ctl_string (JsonObject *object, const gchar *name, const gchar *fallback)
{
	JsonNode *node = json_object_get_member (object, name);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
	    json_node_get_value_type (node) != G_TYPE_STRING)
		return fallback;
	return json_node_get_string (node);
}

static JsonArray *
kith_ctl_array (JsonObject *object, const gchar *name)
{
	JsonNode *node = json_object_get_member (object, name);
	return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

void
kith_ctl_print_table (GString *out, GPtrArray *rows)
{
	g_autoptr (GArray) widths = g_array_new (FALSE, TRUE, sizeof (glong));

	for (guint i = 0; i < rows->len; i++) {
		GPtrArray *row = g_ptr_array_index (rows, i);
		for (guint j = 0; j < row->len; j++) {
			glong width = g_utf8_strlen (g_ptr_array_index (row, j), -1);
			if (widths->len <= j)
				g_array_set_size (widths, j + 1);
			if (width > g_array_index (widths, glong, j))
				g_array_index (widths, glong, j) = width;
		}
	}
	for (guint i = 0; i < rows->len; i++) {
		GPtrArray *row = g_ptr_array_index (rows, i);
		g_autoptr (GString) line = g_string_new (NULL);
		for (guint j = 0; j < row->len; j++) {
			const gchar *cell = g_ptr_array_index (row, j);
			g_string_append (line, cell);
			if (j + 1 == row->len)
				break;
			for (glong k = g_utf8_strlen (cell, -1);
			     k < g_array_index (widths, glong, j) + 2; k++)
				g_string_append_c (line, ' ');
		}
		while (line->len > 0 && line->str[line->len - 1] == ' ')
			g_string_truncate (line, line->len - 1);
		g_string_append_printf (out, "%s\n", line->str);
	}
}

/* "2026-12-03T14:02:11Z" -> "2026-12-03 14:02 UTC" */
static gchar *
kith_ctl_print_since (const gchar *iso)
{
	g_autoptr (GDateTime) time = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
	return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M UTC") : g_strdup ("?");
}

gchar *
kith_ctl_print_state (JsonObject *device)
{
	if (!json_object_get_boolean_member_with_default (device, "answering", TRUE)) {
		g_autofree gchar *since =
		        kith_ctl_print_since (kith_ctl_string (device, "silentSince", NULL));
		return g_strdup_printf ("not answering since %s", since);
	}
	return g_strdup (json_object_get_boolean_member_with_default (device, "online", FALSE)
	                         ? "online"
	                         : "offline");
}

gchar *
kith_ctl_print_values (JsonArray *values)
{
	g_autoptr (GString) text = g_string_new (NULL);

	for (guint i = 0; values != NULL && i < json_array_get_length (values); i++) {
		JsonNode *node = json_array_get_element (values, i);
		JsonObject *value;
		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		value = json_node_get_object (node);
		g_string_append_printf (text, "%s%s %s", text->len > 0 ? ", " : "",
		                        kith_ctl_string (value, "name", "?"),
		                        kith_ctl_string (value, "text", "-"));
	}
	return g_string_free (g_steal_pointer (&text), FALSE);
}

static GPtrArray *
kith_ctl_row_new (void)
{
	return g_ptr_array_new_with_free_func (g_free);
}

void
kith_ctl_print_devices (GString *out, JsonObject *reply)
{
	JsonArray *devices = kith_ctl_array (reply, "devices");
	g_autoptr (GPtrArray) rows =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
	GPtrArray *head = kith_ctl_row_new ();

	g_ptr_array_add (head, g_strdup ("DEVICE"));
	g_ptr_array_add (head, g_strdup ("JID"));
	g_ptr_array_add (head, g_strdup ("BUS"));
	g_ptr_array_add (head, g_strdup ("STATE"));
	g_ptr_array_add (head, g_strdup ("FRIENDS"));
	g_ptr_array_add (head, g_strdup ("VALUES"));
	g_ptr_array_add (rows, head);
	for (guint i = 0; devices != NULL && i < json_array_get_length (devices); i++) {
		JsonNode *node = json_array_get_element (devices, i);
		JsonObject *device;
		GPtrArray *row;
		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		device = json_node_get_object (node);
		row = kith_ctl_row_new ();
		gint64 pending = json_object_get_int_member_with_default (device, "pending", 0);
		gchar *friends = g_strdup_printf (
		        "%" G_GINT64_FORMAT,
		        json_object_get_int_member_with_default (device, "friends", 0));
		if (pending > 0) {
			gchar *more = g_strdup_printf ("%s (+%" G_GINT64_FORMAT " waiting)",
			                               friends, pending);
			g_free (friends);
			friends = more;
		}
		g_ptr_array_add (row, g_strdup (kith_ctl_string (device, "id", "?")));
		g_ptr_array_add (row, g_strdup (kith_ctl_string (device, "jid", "?")));
		g_ptr_array_add (row, g_strdup (kith_ctl_string (device, "bus", "-")));
		g_ptr_array_add (row, kith_ctl_print_state (device));
		g_ptr_array_add (row, friends);
		g_ptr_array_add (row, kith_ctl_print_values (kith_ctl_array (device, "values")));
		g_ptr_array_add (rows, row);
	}
	kith_ctl_print_table (out, rows);
}

void
kith_ctl_print_status (GString *out, JsonObject *reply)
{
	gint64 uptime = json_object_get_int_member_with_default (reply, "uptime", 0);

	g_string_append_printf (out, "kithd %s, pid %" G_GINT64_FORMAT ", up ",
	                        kith_ctl_string (reply, "version", "?"),
	                        json_object_get_int_member_with_default (reply, "pid", 0));
	if (uptime < 120)
		g_string_append_printf (out, "%" G_GINT64_FORMAT " s\n", uptime);
	else if (uptime < 2 * 3600)
		g_string_append_printf (out, "%" G_GINT64_FORMAT " min\n", uptime / 60);
	else if (uptime < 2 * 86400)
		g_string_append_printf (out, "%" G_GINT64_FORMAT " h\n", uptime / 3600);
	else
		g_string_append_printf (out, "%" G_GINT64_FORMAT " days\n", uptime / 86400);
	g_string_append_printf (out,
	                        "%" G_GINT64_FORMAT " devices: %" G_GINT64_FORMAT
	                        " online, %" G_GINT64_FORMAT " not answering\n",
	                        json_object_get_int_member_with_default (reply, "devices", 0),
	                        json_object_get_int_member_with_default (reply, "online", 0),
	                        json_object_get_int_member_with_default (reply, "notAnswering", 0));
	g_string_append_printf (out, "%s mode, devices <id>@%s, friendship policy %s\n",
	                        kith_ctl_string (reply, "mode", "?"),
	                        kith_ctl_string (reply, "domain", "?"),
	                        kith_ctl_string (reply, "policy", "?"));
	g_string_append_printf (out, "configuration %s, state in %s\n",
	                        kith_ctl_string (reply, "config", "?"),
	                        kith_ctl_string (reply, "stateDirectory", "?"));
}

static void
kith_ctl_print_list (GString *out, const gchar *title, JsonArray *list, const gchar *none)
{
	guint length = list != NULL ? json_array_get_length (list) : 0;

	g_string_append_printf (out, "%s:%s\n", title, length == 0 ? none : "");
	for (guint i = 0; i < length; i++) {
		JsonNode *node = json_array_get_element (list, i);
		if (JSON_NODE_HOLDS_VALUE (node) &&
		    json_node_get_value_type (node) == G_TYPE_STRING)
			g_string_append_printf (out, "  %s\n", json_node_get_string (node));
	}
}

void
kith_ctl_print_friends (GString *out, JsonObject *reply)
{
	JsonArray *pending = kith_ctl_array (reply, "pending");

	g_string_append_printf (
	        out, "%s (policy %s), owner: %s\n", kith_ctl_string (reply, "device", "?"),
	        kith_ctl_string (reply, "policy", "?"), kith_ctl_string (reply, "owner", "none"));
	kith_ctl_print_list (out, "friends", kith_ctl_array (reply, "friends"), " none");
	kith_ctl_print_list (out, "waiting for a decision", pending, " none");
	if (pending != NULL && json_array_get_length (pending) > 0)
		g_string_append_printf (out,
		                        "decide with: kithctl approve %s JID / kithctl deny %s "
		                        "JID\n",
		                        kith_ctl_string (reply, "device", "?"),
		                        kith_ctl_string (reply, "device", "?"));
}

void
kith_ctl_print_event (GString *out, JsonObject *event, gboolean local_time)
{
	const gchar *iso = kith_ctl_string (event, "time", NULL);
	g_autoptr (GDateTime) utc = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
	g_autoptr (GDateTime) time =
	        utc != NULL && local_time ? g_date_time_to_local (utc) : g_steal_pointer (&utc);
	g_autofree gchar *clock =
	        time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
	g_autofree gchar *values = NULL;

	if (!json_object_get_boolean_member_with_default (event, "answering", TRUE)) {
		g_string_append_printf (out, "%s  %s  not answering\n", clock,
		                        kith_ctl_string (event, "device", "?"));
		return;
	}
	values = kith_ctl_print_values (kith_ctl_array (event, "values"));
	g_string_append_printf (out, "%s  %s  %s\n", clock, kith_ctl_string (event, "device", "?"),
	                        values);
}
