/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Home Assistant value templates as a discovery config brings them: compiled (refused when
 * unsupported), then rendered for a payload, the result made a value of each type.
 *
 * An input is the template on its first line, the payload after it.
 */
#include <string.h>

#include "drivers/mqtt/payload.h"
#include "drivers/mqtt/template.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	kith_fuzz_init ();
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autofree gchar *input = kith_fuzz_text (data, size);
	gchar *newline = strchr (input, '\n');
	const gchar *payload = "";
	g_autoptr (KithMqttTemplate) template = NULL;
	g_autoptr (JsonNode) node = NULL;
	KithMqttMessage message;
	JsonNode *root = NULL;
	static const KithValueType types[] = { KITH_VALUE_NUMERIC, KITH_VALUE_BOOLEAN,
		                               KITH_VALUE_INT, KITH_VALUE_STRING };

	if (newline != NULL) {
		*newline = '\0';
		payload = newline + 1;
	}
	template = kith_mqtt_template_new (input, NULL);
	if (template == NULL)
		return 0;
	(void)kith_mqtt_template_get_text (template);
	(void)kith_mqtt_template_is_numeric (template);
	(void)kith_mqtt_template_is_integer (template);
	kith_mqtt_message_init (&message, "t", payload, strlen (payload), FALSE);
	if (kith_mqtt_message_check (&message, KITH_MQTT_PAYLOAD_MAX, NULL)) {
		if (kith_mqtt_template_uses_json (template))
			root = kith_mqtt_message_get_json (&message, NULL);
		node = kith_mqtt_template_render (template, payload, root, NULL);
	}
	for (guint i = 0; node != NULL && i < G_N_ELEMENTS (types); i++) {
		KithMqttConversion conversion = { .type = types[i], .scale = 1 };
		KithValue value = { 0 };
		if (kith_mqtt_value_from_node (node, &conversion, &value, NULL))
			g_free (kith_value_to_string (&value, 3));
		kith_value_clear (&value);
	}
	kith_mqtt_message_clear (&message);
	return 0;
}
