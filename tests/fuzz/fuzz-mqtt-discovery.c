/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Messages from an MQTT broker, through the bus of the MQTT driver without a broker: the
 * discovery conventions (Home Assistant, Zigbee2MQTT, Tasmota, Shelly) make, change and remove
 * devices, and the state messages of the topics they listen to set values. Then every
 * writable field of every device is written once (the commands are published), and every
 * text a device holds must be UTF-8: it ends up in stanzas.
 *
 * An input is lines in pairs: a topic, then its payload (one line; JSON needs none). A topic no
 * broker would forward (not UTF-8, a wildcard) is skipped with its payload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/mqtt/bus.h"
#include "drivers/mqtt/payload.h"
#include "fuzz.h"

/* more messages than this in one input are not looked at */
#define KITH_FUZZ_MAX_MESSAGES 64

static void
fuzz_io_subscribe (const gchar *filter, gpointer user_data)
{
}

static void
fuzz_io_unsubscribe (const gchar *filter, gpointer user_data)
{
}

typedef struct {
	KithMqttPublishFunc done;
	gpointer data;
} FuzzAck;

static gboolean
fuzz_io_ack_cb (gpointer user_data)
{
	FuzzAck *ack = user_data;
	ack->done (NULL, ack->data);
	g_free (ack);
	return G_SOURCE_REMOVE;
}

static gboolean
fuzz_io_publish (const gchar *topic, const gchar *payload, gboolean retain,
                 KithMqttPublishFunc done, gpointer done_data, gpointer user_data, GError **error)
{
	if (!g_utf8_validate (topic, -1, NULL)) {
		fprintf (stderr, "kith-fuzz: published to a topic that is not UTF-8\n");
		abort ();
	}
	if (done != NULL) {
		FuzzAck *ack = g_new0 (FuzzAck, 1);
		ack->done = done;
		ack->data = done_data;
		g_idle_add (fuzz_io_ack_cb, ack);
	}
	return TRUE;
}

static const KithMqttBusIo fuzz_io = {
	.subscribe = fuzz_io_subscribe,
	.unsubscribe = fuzz_io_unsubscribe,
	.publish = fuzz_io_publish,
};

static void
fuzz_write_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
}

static void
fuzz_check_text (const gchar *what, const gchar *text)
{
	if (text != NULL && !g_utf8_validate (text, -1, NULL)) {
		fprintf (stderr, "kith-fuzz: a device's %s is not UTF-8\n", what);
		abort ();
	}
}

/* what a device shows friends is text they can be sent; every writable field takes a value */
static void
fuzz_device (KithMqttBus *bus, KithDevice *device)
{
	GPtrArray *fields = kith_device_get_fields (device);
	g_autofree gchar *status = kith_device_format_status (device, NULL);
	g_autoptr (GPtrArray) params =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_param_free);

	fuzz_check_text ("id", kith_device_get_id (device));
	fuzz_check_text ("label", kith_device_get_label (device));
	fuzz_check_text ("model", kith_device_get_model (device));
	fuzz_check_text ("manufacturer", kith_device_get_manufacturer (device));
	fuzz_check_text ("status", status);
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		const KithValue *value = kith_device_get_value (device, field->name);
		g_autofree gchar *text = value != NULL ? kith_value_to_string (value, 3) : NULL;
		KithValue written = { .type = field->type, .valid = TRUE };

		fuzz_check_text ("field name", field->name);
		fuzz_check_text ("field unit", field->unit);
		fuzz_check_text ("value", text);
		if (!field->writable)
			continue;
		if (field->type == KITH_VALUE_BOOLEAN)
			written.boolean = TRUE;
		else if (field->type == KITH_VALUE_STRING)
			written.string = g_strdup ("on");
		else if (field->type == KITH_VALUE_INT)
			written.integer = field->min <= field->max ? (gint64)field->min : 1;
		else
			written.number = field->min <= field->max ? field->min : 1.5;
		g_ptr_array_add (params, kith_param_new (field->name, &written));
		kith_value_clear (&written);
	}
	if (params->len > 0)
		kith_mqtt_bus_write (bus, device, params, fuzz_write_done_cb, NULL);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	kith_fuzz_init ();
	return 0;
}

/* the next line of the input: a new string, *length its bytes (it may hold NUL bytes) */
static gchar *
fuzz_next_line (const uint8_t **data, const uint8_t *end, gsize *length)
{
	const uint8_t *start = *data;
	const uint8_t *newline;

	if (start >= end)
		return NULL;
	newline = memchr (start, '\n', (size_t)(end - start));
	*length = (gsize)((newline != NULL ? newline : end) - start);
	*data = newline != NULL ? newline + 1 : end;
	return kith_fuzz_text (start, *length);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;
	KithMqttBusOptions options = { .homeassistant = TRUE,
		                       .zigbee2mqtt = TRUE,
		                       .tasmota = TRUE,
		                       .shelly = TRUE,
		                       .discovery_prefix = "homeassistant",
		                       .base_topic = "zigbee2mqtt",
		                       .rpc_source = "kith-fuzz" };
	g_autoptr (KithDriver) driver = kith_driver_new ("mqtt", "fuzz", NULL);
	KithMqttBus *bus = kith_mqtt_bus_new (driver, &options, &fuzz_io, NULL);
	g_autoptr (GPtrArray) devices = NULL;

	kith_mqtt_bus_start (bus);
	kith_mqtt_bus_set_connected (bus, TRUE, NULL);
	for (guint i = 0; i < KITH_FUZZ_MAX_MESSAGES; i++) {
		gsize topic_length, length;
		g_autofree gchar *topic = fuzz_next_line (&data, end, &topic_length);
		g_autofree gchar *payload = fuzz_next_line (&data, end, &length);

		if (payload == NULL)
			break;
		/* a broker forwards only what it accepted: a topic of UTF-8 without wildcards */
		if (strlen (topic) != topic_length || !kith_mqtt_topic_is_valid (topic))
			continue;
		kith_mqtt_bus_message (bus, topic, payload, length, FALSE);
	}
	/* a copy: a write may change the devices */
	devices = g_ptr_array_new_with_free_func (g_object_unref);
	for (guint i = 0; i < kith_driver_get_devices (driver)->len; i++)
		g_ptr_array_add (devices, g_object_ref (g_ptr_array_index (
		                                  kith_driver_get_devices (driver), i)));
	for (guint i = 0; i < devices->len; i++)
		fuzz_device (bus, g_ptr_array_index (devices, i));
	kith_mqtt_bus_set_connected (bus, FALSE, "fuzz");
	for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
		;
	kith_mqtt_bus_free (bus);
	return 0;
}
