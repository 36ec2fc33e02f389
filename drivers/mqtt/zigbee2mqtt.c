/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/zigbee2mqtt.h"

#include <string.h>

#include "kith-error.h"

/* exposes access bits */
#define KITH_MQTT_Z2M_ACCESS_STATE 1
#define KITH_MQTT_Z2M_ACCESS_SET 2

typedef struct {
	KithMqttPart *part;
	gchar *state_topic;
	gchar *set_topic;
} KithMqttZ2mDevice;

static gchar *
kith_mqtt_z2m_json_text (JsonNode *node)
{
	return node != NULL ? json_to_string (node, FALSE) : NULL;
}

static void
kith_mqtt_z2m_binary (KithMqttZ2mDevice *device, JsonObject *expose, KithField *field,
                      KithMqttBinding *binding, KithMqttCommand *command)
{
	JsonNode *on = json_object_get_member (expose, "value_on");
	JsonNode *off = json_object_get_member (expose, "value_off");

	if (binding != NULL && on != NULL && off != NULL) {
		binding->state_on = kith_mqtt_json_scalar_text (on);
		binding->state_off = kith_mqtt_json_scalar_text (off);
	}
	if (command != NULL) {
		command->payload_on = kith_mqtt_z2m_json_text (on);
		command->payload_off = kith_mqtt_z2m_json_text (off);
	}
}

static void
kith_mqtt_z2m_numeric (JsonObject *expose, KithField *field)
{
	const gchar *unit = kith_mqtt_json_get_string (expose, "unit");
	gdouble min, max;

	g_free (field->unit);
	field->unit = g_strdup (unit != NULL ? unit : "");
	if (field->writable && kith_mqtt_json_get_number (expose, "value_min", &min) &&
	    kith_mqtt_json_get_number (expose, "value_max", &max) && min <= max) {
		field->min = min;
		field->max = max;
	}
}

static GStrv
kith_mqtt_z2m_enum_values (JsonObject *expose)
{
	JsonArray *values = kith_mqtt_json_get_array (expose, "values");
	g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

	for (guint i = 0; values != NULL && i < json_array_get_length (values); i++) {
		g_autofree gchar *text =
		        kith_mqtt_json_scalar_text (json_array_get_element (values, i));
		if (text != NULL)
			g_strv_builder_add (builder, text);
	}
	return g_strv_builder_end (builder);
}

/* one exposed property as a field */
static void
kith_mqtt_z2m_property (KithMqttZ2mDevice *device, JsonObject *expose)
{
	const gchar *type = kith_mqtt_json_get_string (expose, "type");
	const gchar *property = kith_mqtt_json_get_string (expose, "property");
	const gchar *category = kith_mqtt_json_get_string (expose, "category");
	const gchar *path[] = { property, NULL };
	gdouble access = KITH_MQTT_Z2M_ACCESS_STATE;
	KithValueType value_type;
	KithMqttBinding *binding = NULL;
	KithMqttCommand *command = NULL;
	KithField *field;

	kith_mqtt_json_get_number (expose, "access", &access);
	if (property == NULL || property[0] == '\0' ||
	    kith_mqtt_part_find_field (device->part, property) != NULL ||
	    ((gint)access & (KITH_MQTT_Z2M_ACCESS_STATE | KITH_MQTT_Z2M_ACCESS_SET)) == 0)
		return;
	if (g_strcmp0 (type, "binary") == 0)
		value_type = KITH_VALUE_BOOLEAN;
	else if (g_strcmp0 (type, "numeric") == 0)
		value_type = KITH_VALUE_NUMERIC;
	else if (g_strcmp0 (type, "enum") == 0 || g_strcmp0 (type, "text") == 0)
		value_type = KITH_VALUE_STRING;
	else
		return; /* list, composite: not a single value */
	field = kith_mqtt_field_new (property, value_type, NULL);
	if (category != NULL || g_strcmp0 (property, "linkquality") == 0)
		field->in_status = FALSE;
	g_ptr_array_add (device->part->fields, field);
	if ((gint)access & KITH_MQTT_Z2M_ACCESS_STATE) {
		binding = kith_mqtt_binding_new (device->state_topic, property, value_type,
		                                 kith_mqtt_extract_new_members (path));
		binding->optional = TRUE; /* a state message carries what changed */
		g_ptr_array_add (device->part->bindings, binding);
	}
	if ((gint)access & KITH_MQTT_Z2M_ACCESS_SET) {
		g_autoptr (JsonNode) name = json_node_init_string (json_node_alloc (), property);
		g_autofree gchar *quoted = json_to_string (name, FALSE);
		command = kith_mqtt_command_new (property, device->set_topic);
		command->payload = g_strdup_printf ("{%s: {value}}", quoted);
		command->json = TRUE;
		field->writable = TRUE;
		g_ptr_array_add (device->part->commands, command);
	}
	if (value_type == KITH_VALUE_BOOLEAN)
		kith_mqtt_z2m_binary (device, expose, field, binding, command);
	else if (value_type == KITH_VALUE_NUMERIC)
		kith_mqtt_z2m_numeric (expose, field);
	else if (command != NULL && g_strcmp0 (type, "enum") == 0)
		command->options = kith_mqtt_z2m_enum_values (expose);
}

static void
kith_mqtt_z2m_exposes (KithMqttZ2mDevice *device, JsonArray *exposes, guint depth)
{
	for (guint i = 0; exposes != NULL && i < json_array_get_length (exposes) && depth < 4;
	     i++) {
		JsonNode *node = json_array_get_element (exposes, i);
		JsonObject *expose;
		JsonArray *features;

		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		expose = json_node_get_object (node);
		features = kith_mqtt_json_get_array (expose, "features");
		if (g_strcmp0 (kith_mqtt_json_get_string (expose, "type"), "composite") == 0)
			continue; /* a color or a schedule: several values in one */
		if (features != NULL)
			kith_mqtt_z2m_exposes (device, features, depth + 1);
		else
			kith_mqtt_z2m_property (device, expose);
	}
}

/* {"state": "online"} or, from older versions, online */
static void
kith_mqtt_z2m_availability (KithMqttPart *part, const gchar *topic)
{
	static const gchar *const path[] = { "state", NULL };
	g_ptr_array_add (part->availability,
	                 kith_mqtt_availability_new (topic, "online", "offline",
	                                             kith_mqtt_extract_new_members (path)));
}

static KithMqttDescription *
kith_mqtt_z2m_device (const gchar *base, JsonObject *entry, GPtrArray *notes)
{
	const gchar *ieee = kith_mqtt_json_get_string (entry, "ieee_address");
	const gchar *name = kith_mqtt_json_get_string (entry, "friendly_name");
	const gchar *type = kith_mqtt_json_get_string (entry, "type");
	JsonObject *definition = kith_mqtt_json_get_object (entry, "definition");
	g_autofree gchar *hardware_id = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *topic = NULL;
	KithMqttDescription *description;
	KithMqttZ2mDevice device = { 0 };

	if (ieee == NULL || name == NULL || g_strcmp0 (type, "Coordinator") == 0 ||
	    kith_mqtt_json_get_boolean (entry, "disabled", FALSE) ||
	    !kith_mqtt_json_get_boolean (entry, "interview_completed", TRUE))
		return NULL;
	if (definition == NULL) {
		g_ptr_array_add (
		        notes, g_strcmp0 (name, ieee) == 0
		                       ? g_strdup_printf ("%s: not supported by Zigbee2MQTT", ieee)
		                       : g_strdup_printf ("%s (%s): not supported by "
		                                          "Zigbee2MQTT",
		                                          name, ieee));
		return NULL;
	}
	hardware_id = g_ascii_strdown (g_str_has_prefix (ieee, "0x") ? ieee + 2 : ieee, -1);
	key = g_strconcat ("zigbee2mqtt:", hardware_id, NULL);
	description = kith_mqtt_description_new (key, hardware_id);
	description->label = g_strdup (name);
	description->manufacturer = g_strdup (kith_mqtt_json_get_string (definition, "vendor"));
	description->model = g_strdup (kith_mqtt_json_get_string (definition, "model"));
	device.part = kith_mqtt_part_new ("");
	device.state_topic = g_strdup_printf ("%s/%s", base, name);
	device.set_topic = g_strdup_printf ("%s/%s/set", base, name);
	kith_mqtt_z2m_exposes (&device, kith_mqtt_json_get_array (definition, "exposes"), 0);
	topic = g_strdup_printf ("%s/%s/availability", base, name);
	kith_mqtt_z2m_availability (device.part, topic);
	g_free (topic);
	topic = g_strdup_printf ("%s/bridge/state", base);
	kith_mqtt_z2m_availability (device.part, topic);
	g_ptr_array_add (description->parts, device.part);
	g_free (device.state_topic);
	g_free (device.set_topic);
	return description;
}

GPtrArray *
kith_mqtt_zigbee2mqtt_parse_devices (const gchar *base, JsonNode *root, GPtrArray *notes,
                                     GError **error)
{
	g_autoptr (GPtrArray) descriptions =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_mqtt_description_free);
	JsonArray *array;

	if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "bridge/devices is not a JSON array");
		return NULL;
	}
	array = json_node_get_array (root);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		JsonNode *node = json_array_get_element (array, i);
		KithMqttDescription *description;

		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		description = kith_mqtt_z2m_device (base, json_node_get_object (node), notes);
		if (description != NULL)
			g_ptr_array_add (descriptions, description);
	}
	return g_steal_pointer (&descriptions);
}
