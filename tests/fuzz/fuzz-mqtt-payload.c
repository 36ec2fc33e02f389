/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the MQTT driver does with a payload: the checks (size, UTF-8), the JSON, a JsonPath of
 * an explicit device (ValuePath=), the conversions to each value type (with the texts of true
 * and false, scale and offset), a topic and a filter of the configuration.
 *
 * An input is a JsonPath (or a topic filter) on the first line, the texts of true and false
 * (or a topic) on the second, the payload after it (it may hold NUL bytes).
 */
#include <string.h>

#include "drivers/mqtt/payload.h"
#include "fuzz.h"

static gchar *
fuzz_line (const uint8_t **data, const uint8_t *end)
{
	const uint8_t *start = *data;
	const uint8_t *newline = start < end ? memchr (start, '\n', (size_t)(end - start)) : NULL;
	gsize length = (gsize)((newline != NULL ? newline : end) - start);

	*data = newline != NULL ? newline + 1 : end;
	return kith_fuzz_text (start, length);
}

static void
fuzz_convert (JsonNode *node, const gchar *state_on, const gchar *state_off)
{
	static const KithValueType types[] = { KITH_VALUE_NUMERIC, KITH_VALUE_BOOLEAN,
		                               KITH_VALUE_INT, KITH_VALUE_STRING };
	g_autofree gchar *text = kith_mqtt_json_scalar_text (node);

	for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
		KithMqttConversion plain = { .type = types[i], .scale = 1 };
		KithMqttConversion custom = { .type = types[i],
			                      .state_on = state_on,
			                      .state_off = state_off,
			                      .scale = 0.1,
			                      .offset = -40 };
		KithValue value = { 0 };

		if (kith_mqtt_value_from_node (node, &plain, &value, NULL))
			g_free (kith_value_to_string (&value, 6));
		kith_value_clear (&value);
		if (kith_mqtt_value_from_node (node, &custom, &value, NULL) &&
		    value.type == KITH_VALUE_NUMERIC)
			g_free (kith_mqtt_format_number (value.number));
		kith_value_clear (&value);
	}
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	kith_fuzz_init ();
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;
	g_autofree gchar *path = fuzz_line (&data, end);
	g_autofree gchar *states = fuzz_line (&data, end);
	g_autofree gchar *payload = kith_fuzz_text (data, (size_t)(end - data));
	g_auto (GStrv) state = g_strsplit (states, " ", 2);
	g_autoptr (KithMqttExtract) by_path = kith_mqtt_extract_new_path (path, NULL);
	g_autoptr (KithMqttExtract) whole = kith_mqtt_extract_new_payload ();
	KithMqttMessage message;
	JsonNode *root;

	(void)kith_mqtt_topic_is_valid (path);
	(void)kith_mqtt_topic_is_valid (states);
	(void)kith_mqtt_topic_matches (path, states);
	kith_mqtt_message_init (&message, states, payload, (gsize)(end - data), FALSE);
	if (!kith_mqtt_message_check (&message, KITH_MQTT_PAYLOAD_MAX, NULL))
		return 0;
	root = kith_mqtt_message_get_json (&message, NULL);
	if (root != NULL && JSON_NODE_HOLDS_OBJECT (root)) {
		JsonObject *object = json_node_get_object (root);
		JsonArray *array = kith_mqtt_json_get_array (object, path);
		gdouble number;

		(void)kith_mqtt_json_get_string (object, path);
		(void)kith_mqtt_json_get_number (object, path, &number);
		(void)kith_mqtt_json_get_boolean (object, path, FALSE);
		(void)kith_mqtt_json_get_object (object, path);
		for (guint i = 0; array != NULL && i < 4; i++) {
			(void)kith_mqtt_json_array_string (array, i);
			(void)kith_mqtt_json_array_int (array, i, -1);
			(void)kith_mqtt_json_array_object (array, i);
		}
	}
	for (guint i = 0; i < 2; i++) {
		KithMqttExtract *extract = i == 0 ? whole : by_path;
		g_autoptr (JsonNode) node =
		        extract != NULL ? kith_mqtt_extract_run (extract, &message, NULL) : NULL;
		if (node != NULL)
			fuzz_convert (node, state[0] != NULL && state[1] != NULL ? state[0] : NULL,
			              state[0] != NULL ? state[1] : NULL);
	}
	kith_mqtt_message_clear (&message);
	return 0;
}
