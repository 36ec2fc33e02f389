/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kith-bus-monitor: runs the buses of a kithd configuration without any XMPP, and reports what
 * their drivers do, one JSON object per line on stdout:
 *
 *   {"event":"added","bus":"b","id":"b-1","key":"…","label":"…","answering":true,
 *    "fields":[{"name":"T","type":"numeric","unit":"°C","writable":false},…]}
 *   {"event":"removed","bus":"b","id":"b-1"}
 *   {"event":"availability","id":"b-1","answering":false,"reason":"…"}
 *   {"event":"changed","id":"b-1","values":{"T":21.5,…}}
 *   {"event":"read","id":"b-1","ok":true,"values":{…}}   (or "ok":false,"error":"…")
 *   {"event":"write","id":"b-1","ok":true}               (or "ok":false,"error":"…")
 *   {"event":"started"}  once every bus was started
 *
 * Commands on stdin, one per line: "read ID", "write ID NAME VALUE", "quit".
 * Driver tests start real servers (a broker, a Modbus simulator), run this against them and
 * check what arrives, without a Prosody.
 */
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "device-record.h"
#include "device.h"
#include "driver.h"
#include "iot/protocol.h"

typedef struct {
	GMainLoop *loop;
	GPtrArray *drivers;
	GDataInputStream *input;
} Monitor;

static void
monitor_emit (JsonBuilder *builder)
{
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autoptr (JsonNode) root = json_builder_get_root (builder);
	g_autofree gchar *text = NULL;

	json_generator_set_root (generator, root);
	text = json_generator_to_data (generator, NULL);
	printf ("%s\n", text);
	fflush (stdout);
}

static void
monitor_add_values (JsonBuilder *builder, KithDevice *device)
{
	GPtrArray *fields = kith_device_get_fields (device);
	json_builder_set_member_name (builder, "values");
	json_builder_begin_object (builder);
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		json_builder_set_member_name (builder, field->name);
		kith_device_record_add_value (builder, kith_device_get_value (device, field->name));
	}
	json_builder_end_object (builder);
}

static JsonBuilder *
monitor_event (const gchar *event, KithDevice *device)
{
	JsonBuilder *builder = json_builder_new ();
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "event");
	json_builder_add_string_value (builder, event);
	if (device != NULL) {
		json_builder_set_member_name (builder, "id");
		json_builder_add_string_value (builder, kith_device_get_id (device));
	}
	return builder;
}

static void
monitor_finish (JsonBuilder *builder)
{
	json_builder_end_object (builder);
	monitor_emit (builder);
	g_object_unref (builder);
}

static void
monitor_changed_cb (KithDevice *device, gpointer user_data)
{
	JsonBuilder *builder = monitor_event ("changed", device);
	monitor_add_values (builder, device);
	monitor_finish (builder);
}

static void
monitor_availability_cb (KithDevice *device, gpointer user_data)
{
	JsonBuilder *builder = monitor_event ("availability", device);
	json_builder_set_member_name (builder, "answering");
	json_builder_add_boolean_value (builder, kith_device_is_answering (device));
	if (!kith_device_is_answering (device)) {
		json_builder_set_member_name (builder, "reason");
		json_builder_add_string_value (builder, kith_device_get_silent_reason (device));
	}
	monitor_finish (builder);
}

static void
monitor_device_added_cb (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	JsonBuilder *builder = monitor_event ("added", device);
	GPtrArray *fields = kith_device_get_fields (device);

	json_builder_set_member_name (builder, "bus");
	json_builder_add_string_value (builder, kith_driver_get_bus_name (driver));
	json_builder_set_member_name (builder, "key");
	json_builder_add_string_value (builder, kith_device_get_key (device));
	json_builder_set_member_name (builder, "label");
	json_builder_add_string_value (builder, kith_device_get_label (device));
	json_builder_set_member_name (builder, "model");
	json_builder_add_string_value (builder, kith_device_get_model (device));
	json_builder_set_member_name (builder, "manufacturer");
	json_builder_add_string_value (builder, kith_device_get_manufacturer (device));
	json_builder_set_member_name (builder, "answering");
	json_builder_add_boolean_value (builder, kith_device_is_answering (device));
	json_builder_set_member_name (builder, "fields");
	json_builder_begin_array (builder);
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		json_builder_begin_object (builder);
		json_builder_set_member_name (builder, "name");
		json_builder_add_string_value (builder, field->name);
		json_builder_set_member_name (builder, "type");
		json_builder_add_string_value (builder, kith_value_type_to_string (field->type));
		json_builder_set_member_name (builder, "unit");
		json_builder_add_string_value (builder, field->unit);
		json_builder_set_member_name (builder, "writable");
		json_builder_add_boolean_value (builder, field->writable);
		if (field->min <= field->max) {
			json_builder_set_member_name (builder, "min");
			json_builder_add_double_value (builder, field->min);
			json_builder_set_member_name (builder, "max");
			json_builder_add_double_value (builder, field->max);
		}
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
	monitor_add_values (builder, device);
	monitor_finish (builder);
	g_signal_connect (device, "changed", G_CALLBACK (monitor_changed_cb), NULL);
	g_signal_connect (device, "availability-changed", G_CALLBACK (monitor_availability_cb),
	                  NULL);
}

static void
monitor_device_removed_cb (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	JsonBuilder *builder = monitor_event ("removed", device);
	json_builder_set_member_name (builder, "bus");
	json_builder_add_string_value (builder, kith_driver_get_bus_name (driver));
	monitor_finish (builder);
	g_signal_handlers_disconnect_by_func (device, monitor_changed_cb, NULL);
	g_signal_handlers_disconnect_by_func (device, monitor_availability_cb, NULL);
}

static void
monitor_read_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
	JsonBuilder *builder = monitor_event ("read", device);
	json_builder_set_member_name (builder, "ok");
	json_builder_add_boolean_value (builder, error == NULL);
	if (error != NULL) {
		json_builder_set_member_name (builder, "error");
		json_builder_add_string_value (builder, error->message);
	} else {
		monitor_add_values (builder, device);
	}
	monitor_finish (builder);
}

static void
monitor_write_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
	JsonBuilder *builder = monitor_event ("write", device);
	json_builder_set_member_name (builder, "ok");
	json_builder_add_boolean_value (builder, error == NULL);
	if (error != NULL) {
		json_builder_set_member_name (builder, "error");
		json_builder_add_string_value (builder, error->message);
	}
	monitor_finish (builder);
}

static KithDevice *
monitor_find (Monitor *monitor, const gchar *id)
{
	for (guint i = 0; i < monitor->drivers->len; i++) {
		KithDevice *device =
		        kith_driver_find_device (g_ptr_array_index (monitor->drivers, i), id);
		if (device != NULL)
			return device;
	}
	return NULL;
}

static void
monitor_error (const gchar *message)
{
	JsonBuilder *builder = monitor_event ("error", NULL);
	json_builder_set_member_name (builder, "message");
	json_builder_add_string_value (builder, message);
	monitor_finish (builder);
}

static void monitor_read_line (Monitor *monitor);

static void
monitor_command (Monitor *monitor, gchar *line)
{
	g_auto (GStrv) words = g_strsplit (g_strstrip (line), " ", 3);
	KithDevice *device;

	if (words[0] == NULL || words[0][0] == '\0')
		return;
	if (g_strcmp0 (words[0], "quit") == 0) {
		g_main_loop_quit (monitor->loop);
		return;
	}
	device = words[1] != NULL ? monitor_find (monitor, words[1]) : NULL;
	if (device == NULL) {
		monitor_error ("no such device");
		return;
	}
	if (g_strcmp0 (words[0], "read") == 0) {
		kith_driver_read (kith_device_get_driver (device), device, monitor_read_done_cb,
		                  NULL);
	} else if (g_strcmp0 (words[0], "write") == 0 && words[2] != NULL &&
	           strrchr (words[2], ' ') != NULL) {
		/* write ID NAME VALUE: the name may hold spaces, the value is the last word */
		gchar *value = strrchr (words[2], ' ');
		const gchar *condition = NULL;
		g_autofree gchar *message = NULL;
		g_autoptr (GPtrArray) params =
		        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_param_free);
		KithParam *param;

		*value++ = '\0';
		param = kith_control_parse_value (device, words[2], NULL, value, &condition,
		                                  &message);
		if (param == NULL) {
			monitor_error (message);
			return;
		}
		g_ptr_array_add (params, param);
		kith_driver_write (kith_device_get_driver (device), device, params,
		                   monitor_write_done_cb, NULL);
	} else {
		monitor_error ("unknown command");
	}
}

static void
monitor_line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	Monitor *monitor = user_data;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *line =
	        g_data_input_stream_read_line_finish_utf8 (monitor->input, result, NULL, &error);

	if (line == NULL) {
		g_main_loop_quit (monitor->loop);
		return;
	}
	monitor_command (monitor, line);
	monitor_read_line (monitor);
}

static void
monitor_read_line (Monitor *monitor)
{
	g_data_input_stream_read_line_async (monitor->input, G_PRIORITY_DEFAULT, NULL,
	                                     monitor_line_cb, monitor);
}

static gboolean
monitor_quit_cb (gpointer user_data)
{
	Monitor *monitor = user_data;
	g_main_loop_quit (monitor->loop);
	return G_SOURCE_REMOVE;
}

int
main (int argc, char *argv[])
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithConfig) config = NULL;
	g_autoptr (GInputStream) stdin_stream = NULL;
	g_autoptr (GMainLoop) loop = NULL;
	g_autoptr (GPtrArray) drivers = NULL;
	Monitor monitor = { 0 };
	JsonBuilder *builder;

	if (argc != 2) {
		g_printerr ("usage: %s CONFIG\n", argv[0]);
		return 2;
	}
	config = kith_config_load (argv[1], &error);
	if (config == NULL) {
		g_printerr ("%s\n", error->message);
		return 1;
	}
	loop = g_main_loop_new (NULL, FALSE);
	drivers = g_ptr_array_new_with_free_func (g_object_unref);
	monitor.loop = loop;
	monitor.drivers = drivers;
	for (guint i = 0; i < config->buses->len; i++) {
		KithBusConfig *bus = g_ptr_array_index (config->buses, i);
		KithDriver *driver = kith_driver_new (bus->driver, bus->name, &error);
		if (driver == NULL) {
			g_printerr ("%s\n", error->message);
			return 1;
		}
		g_ptr_array_add (monitor.drivers, driver);
		g_signal_connect (driver, "device-added", G_CALLBACK (monitor_device_added_cb),
		                  NULL);
		g_signal_connect (driver, "device-removed", G_CALLBACK (monitor_device_removed_cb),
		                  NULL);
		if (!kith_driver_setup (driver, config->keyfile, bus->group, &error)) {
			g_printerr ("%s\n", error->message);
			return 1;
		}
	}
	for (guint i = 0; i < monitor.drivers->len; i++) {
		if (!kith_driver_start (g_ptr_array_index (monitor.drivers, i), &error)) {
			g_printerr ("%s\n", error->message);
			return 1;
		}
	}
	builder = monitor_event ("started", NULL);
	monitor_finish (builder);
	stdin_stream = g_unix_input_stream_new (0, FALSE);
	monitor.input = g_data_input_stream_new (stdin_stream);
	monitor_read_line (&monitor);
	g_unix_signal_add (SIGTERM, monitor_quit_cb, &monitor);
	g_unix_signal_add (SIGINT, monitor_quit_cb, &monitor);
	g_main_loop_run (monitor.loop);
	for (guint i = 0; i < monitor.drivers->len; i++)
		kith_driver_stop (g_ptr_array_index (monitor.drivers, i));
	g_object_unref (monitor.input);
	return 0;
}
