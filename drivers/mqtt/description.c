/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/description.h"

#include <string.h>

#include "kith-error.h"

KithMqttBinding *
kith_mqtt_binding_new (const gchar *topic, const gchar *field, KithValueType type,
                       KithMqttExtract *extract)
{
	KithMqttBinding *binding = g_new0 (KithMqttBinding, 1);
	binding->topic = g_strdup (topic);
	binding->field = g_strdup (field);
	binding->type = type;
	binding->extract = extract;
	binding->scale = 1;
	return binding;
}

void
kith_mqtt_binding_free (KithMqttBinding *binding)
{
	if (binding == NULL)
		return;
	g_free (binding->topic);
	g_free (binding->field);
	kith_mqtt_extract_unref (binding->extract);
	g_free (binding->state_on);
	g_free (binding->state_off);
	g_free (binding);
}

void
kith_mqtt_binding_get_conversion (const KithMqttBinding *binding, KithMqttConversion *conversion)
{
	conversion->type = binding->type;
	conversion->state_on = binding->state_on;
	conversion->state_off = binding->state_off;
	conversion->scale = binding->scale;
	conversion->offset = binding->offset;
}

KithMqttCommand *
kith_mqtt_command_new (const gchar *field, const gchar *topic)
{
	KithMqttCommand *command = g_new0 (KithMqttCommand, 1);
	command->field = g_strdup (field);
	command->topic = g_strdup (topic);
	command->scale = 1;
	return command;
}

void
kith_mqtt_command_free (KithMqttCommand *command)
{
	if (command == NULL)
		return;
	g_free (command->field);
	g_free (command->topic);
	g_free (command->payload);
	g_free (command->payload_on);
	g_free (command->payload_off);
	g_strfreev (command->options);
	g_free (command);
}

KithMqttAvailability *
kith_mqtt_availability_new (const gchar *topic, const gchar *available, const gchar *not_available,
                            KithMqttExtract *extract)
{
	KithMqttAvailability *availability = g_new0 (KithMqttAvailability, 1);
	availability->topic = g_strdup (topic);
	availability->available = g_strdup (available);
	availability->not_available = g_strdup (not_available);
	availability->extract = extract;
	return availability;
}

void
kith_mqtt_availability_free (KithMqttAvailability *availability)
{
	if (availability == NULL)
		return;
	g_free (availability->topic);
	g_free (availability->available);
	g_free (availability->not_available);
	kith_mqtt_extract_unref (availability->extract);
	g_free (availability);
}

KithMqttPart *
kith_mqtt_part_new (const gchar *id)
{
	KithMqttPart *part = g_new0 (KithMqttPart, 1);
	part->id = g_strdup (id);
	part->fields = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_field_free);
	part->bindings = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_mqtt_binding_free);
	part->commands = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_mqtt_command_free);
	part->availability =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_mqtt_availability_free);
	return part;
}

void
kith_mqtt_part_free (KithMqttPart *part)
{
	if (part == NULL)
		return;
	g_free (part->id);
	g_ptr_array_unref (part->fields);
	g_ptr_array_unref (part->bindings);
	g_ptr_array_unref (part->commands);
	g_ptr_array_unref (part->availability);
	g_free (part);
}

KithField *
kith_mqtt_part_find_field (KithMqttPart *part, const gchar *name)
{
	for (guint i = 0; i < part->fields->len; i++) {
		KithField *field = g_ptr_array_index (part->fields, i);
		if (g_strcmp0 (field->name, name) == 0)
			return field;
	}
	return NULL;
}

KithField *
kith_mqtt_field_new (const gchar *name, KithValueType type, const gchar *unit)
{
	KithField *field = kith_field_new (name, type, unit);
	if (type == KITH_VALUE_NUMERIC) {
		field->decimals = 2;
		field->status_decimals = 1;
	}
	field->in_status = TRUE;
	return field;
}

KithMqttDescription *
kith_mqtt_description_new (const gchar *key, const gchar *hardware_id)
{
	KithMqttDescription *description = g_new0 (KithMqttDescription, 1);
	description->key = g_strdup (key);
	description->hardware_id = g_strdup (hardware_id);
	description->parts = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_mqtt_part_free);
	return description;
}

void
kith_mqtt_description_free (KithMqttDescription *description)
{
	if (description == NULL)
		return;
	g_free (description->key);
	g_free (description->hardware_id);
	g_free (description->label);
	g_free (description->manufacturer);
	g_free (description->model);
	g_free (description->class_name);
	g_ptr_array_unref (description->parts);
	g_strfreev (description->removed);
	g_free (description);
}

/* the value as text for the payload */
static gchar *
kith_mqtt_command_value_text (const KithMqttCommand *command, const KithValue *value,
                              GError **error)
{
	switch (value->type) {
	case KITH_VALUE_BOOLEAN:
		if (command->press && !value->boolean) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
			             "%s is a button: write true to press it", command->field);
			return NULL;
		}
		if (value->boolean && command->payload_on != NULL)
			return g_strdup (command->payload_on);
		if (!value->boolean && command->payload_off != NULL)
			return g_strdup (command->payload_off);
		return g_strdup (value->boolean ? "true" : "false");
	case KITH_VALUE_NUMERIC:
		return kith_mqtt_format_number ((value->number - command->offset) /
		                                (command->scale != 0 ? command->scale : 1));
	case KITH_VALUE_INT:
		if (command->scale != 1 || command->offset != 0)
			return kith_mqtt_format_number (
			        ((gdouble)value->integer - command->offset) /
			        (command->scale != 0 ? command->scale : 1));
		return g_strdup_printf ("%" G_GINT64_FORMAT, value->integer);
	case KITH_VALUE_STRING:
		if (command->options != NULL &&
		    !g_strv_contains ((const gchar *const *)command->options, value->string)) {
			g_autofree gchar *offered = g_strjoinv (", ", command->options);
			g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
			             "%s: '%s' is not one of %s", command->field, value->string,
			             offered);
			return NULL;
		}
		if (command->json) {
			g_autoptr (JsonNode) node =
			        json_node_init_string (json_node_alloc (), value->string);
			return json_to_string (node, FALSE);
		}
		return g_strdup (value->string != NULL ? value->string : "");
	}
	return g_strdup ("");
}

gchar *
kith_mqtt_command_render (const KithMqttCommand *command, const KithValue *value, GError **error)
{
	g_autofree gchar *text = kith_mqtt_command_value_text (command, value, error);
	g_auto (GStrv) pieces = NULL;

	if (text == NULL)
		return NULL;
	if (command->payload == NULL)
		return g_steal_pointer (&text);
	pieces = g_strsplit (command->payload, "{value}", -1);
	return g_strjoinv (text, pieces);
}
