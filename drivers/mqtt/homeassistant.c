/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/homeassistant.h"

#include <string.h>

#include "kith-error.h"

/* the abbreviations of discovery payloads (Home Assistant's abbreviations.py), for the keys
 * this consumer reads */
static const gchar *const kith_mqtt_ha_abbreviations[][2] = {
	{ "avty", "availability" },
	{ "avty_mode", "availability_mode" },
	{ "avty_t", "availability_topic" },
	{ "avty_tpl", "availability_template" },
	{ "bri_cmd_t", "brightness_command_topic" },
	{ "bri_cmd_tpl", "brightness_command_template" },
	{ "bri_scl", "brightness_scale" },
	{ "bri_stat_t", "brightness_state_topic" },
	{ "bri_val_tpl", "brightness_value_template" },
	{ "clrm", "color_mode" },
	{ "cmd_t", "command_topic" },
	{ "cmd_tpl", "command_template" },
	{ "cmps", "components" },
	{ "dev", "device" },
	{ "dev_cla", "device_class" },
	{ "e", "encoding" },
	{ "en", "enabled_by_default" },
	{ "ent_cat", "entity_category" },
	{ "ic", "icon" },
	{ "json_attr_t", "json_attributes_topic" },
	{ "json_attr_tpl", "json_attributes_template" },
	{ "o", "origin" },
	{ "obj_id", "object_id" },
	{ "ops", "options" },
	{ "opt", "optimistic" },
	{ "p", "platform" },
	{ "pl_avail", "payload_available" },
	{ "pl_not_avail", "payload_not_available" },
	{ "pl_off", "payload_off" },
	{ "pl_on", "payload_on" },
	{ "pl_prs", "payload_press" },
	{ "ret", "retain" },
	{ "stat_cla", "state_class" },
	{ "stat_off", "state_off" },
	{ "stat_on", "state_on" },
	{ "stat_t", "state_topic" },
	{ "stat_tpl", "state_template" },
	{ "stat_val_tpl", "state_value_template" },
	{ "sug_dsp_prc", "suggested_display_precision" },
	{ "sup_clrm", "supported_color_modes" },
	{ "t", "topic" },
	{ "uniq_id", "unique_id" },
	{ "unit_of_meas", "unit_of_measurement" },
	{ "val_tpl", "value_template" },
};

static const gchar *const kith_mqtt_ha_device_abbreviations[][2] = {
	{ "cns", "connections" },   { "cu", "configuration_url" },
	{ "ids", "identifiers" },   { "mf", "manufacturer" },
	{ "mdl", "model" },         { "mdl_id", "model_id" },
	{ "hw", "hw_version" },     { "sw", "sw_version" },
	{ "sa", "suggested_area" }, { "sn", "serial_number" },
	{ "url", "support_url" },
};

/* the device classes of sensors whose state is not a number */
static const gchar *const kith_mqtt_ha_text_classes[] = { "enum", "timestamp", "date", NULL };

gboolean
kith_mqtt_homeassistant_parse_topic (const gchar *prefix, const gchar *topic, KithMqttHaTopic *out)
{
	gsize n = strlen (prefix);
	g_auto (GStrv) levels = NULL;
	guint count;

	memset (out, 0, sizeof *out);
	if (strncmp (topic, prefix, n) != 0 || topic[n] != '/')
		return FALSE;
	levels = g_strsplit (topic + n + 1, "/", -1);
	count = g_strv_length (levels);
	if ((count != 3 && count != 4) || g_strcmp0 (levels[count - 1], "config") != 0)
		return FALSE;
	for (guint i = 0; i + 1 < count; i++) {
		if (levels[i][0] == '\0')
			return FALSE;
	}
	if (g_strcmp0 (levels[0], "device") == 0 && count != 3)
		return FALSE;
	out->component = g_strdup (levels[0]);
	out->object_id = g_strdup (levels[count - 2]);
	out->discovery_id = count == 3
	                            ? g_strdup_printf ("%s/%s", levels[0], levels[1])
	                            : g_strdup_printf ("%s/%s/%s", levels[0], levels[1], levels[2]);
	return TRUE;
}

void
kith_mqtt_ha_topic_clear (KithMqttHaTopic *topic)
{
	g_clear_pointer (&topic->component, g_free);
	g_clear_pointer (&topic->discovery_id, g_free);
	g_clear_pointer (&topic->object_id, g_free);
}

static const gchar *
kith_mqtt_ha_expand (const gchar *const table[][2], gsize n, const gchar *key)
{
	for (gsize i = 0; i < n; i++) {
		if (g_strcmp0 (table[i][0], key) == 0)
			return table[i][1];
	}
	return key;
}

static JsonObject *kith_mqtt_ha_expand_object (JsonObject *obj, gboolean device);

static JsonNode *
kith_mqtt_ha_expand_member (const gchar *key, JsonNode *node)
{
	if (g_strcmp0 (key, "device") == 0 && JSON_NODE_HOLDS_OBJECT (node)) {
		g_autoptr (JsonObject) device =
		        kith_mqtt_ha_expand_object (json_node_get_object (node), TRUE);
		return json_node_init_object (json_node_alloc (), device);
	}
	if (g_strcmp0 (key, "availability") == 0 && JSON_NODE_HOLDS_ARRAY (node)) {
		JsonArray *array = json_node_get_array (node);
		g_autoptr (JsonArray) copy = json_array_new ();
		for (guint i = 0; i < json_array_get_length (array); i++) {
			JsonNode *entry = json_array_get_element (array, i);
			if (JSON_NODE_HOLDS_OBJECT (entry)) {
				g_autoptr (JsonObject) expanded = kith_mqtt_ha_expand_object (
				        json_node_get_object (entry), FALSE);
				json_array_add_object_element (copy, g_steal_pointer (&expanded));
			}
		}
		return json_node_init_array (json_node_alloc (), copy);
	}
	if (g_strcmp0 (key, "components") == 0 && JSON_NODE_HOLDS_OBJECT (node))
		return json_node_ref (node); /* each component is expanded on its own */
	return json_node_copy (node);
}

/* a copy of obj with its abbreviated keys written out */
static JsonObject *
kith_mqtt_ha_expand_object (JsonObject *obj, gboolean device)
{
	JsonObject *copy = json_object_new ();
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *node;

	json_object_iter_init (&iter, obj);
	while (json_object_iter_next (&iter, &key, &node)) {
		const gchar *name =
		        device ? kith_mqtt_ha_expand (
		                         kith_mqtt_ha_device_abbreviations,
		                         G_N_ELEMENTS (kith_mqtt_ha_device_abbreviations), key)
		               : kith_mqtt_ha_expand (kith_mqtt_ha_abbreviations,
		                                      G_N_ELEMENTS (kith_mqtt_ha_abbreviations),
		                                      key);
		json_object_set_member (copy, name,
		                        device ? json_node_copy (node)
		                               : kith_mqtt_ha_expand_member (name, node));
	}
	return copy;
}

/* "~" at the start or end of a topic stands for the base topic given as "~" */
static void
kith_mqtt_ha_substitute_base (JsonObject *obj, const gchar *base)
{
	GList *members = json_object_get_members (obj);

	for (GList *l = members; l != NULL; l = l->next) {
		const gchar *key = l->data;
		const gchar *value = kith_mqtt_json_get_string (obj, key);
		gsize n;
		g_autofree gchar *topic = NULL;

		if (value == NULL || value[0] == '\0' || !g_str_has_suffix (key, "topic"))
			continue;
		n = strlen (value);
		if (value[0] == '~') {
			topic = g_strconcat (base, value + 1, NULL);
		} else if (value[n - 1] == '~') {
			g_autofree gchar *head = g_strndup (value, n - 1);
			topic = g_strconcat (head, base, NULL);
		}
		if (topic != NULL)
			json_object_set_string_member (obj, key, topic);
	}
	g_list_free (members);
}

/* the config with abbreviations expanded and "~" replaced, components' shared keys merged in */
static JsonObject *
kith_mqtt_ha_normalize (JsonObject *config, JsonObject *shared)
{
	g_autoptr (JsonObject) merged = json_object_new ();
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *node;
	JsonObject *expanded;
	const gchar *base;
	JsonArray *availability;

	if (shared != NULL) {
		json_object_iter_init (&iter, shared);
		while (json_object_iter_next (&iter, &key, &node)) {
			if (g_strcmp0 (key, "components") != 0)
				json_object_set_member (merged, key, json_node_ref (node));
		}
	}
	json_object_iter_init (&iter, config);
	while (json_object_iter_next (&iter, &key, &node))
		json_object_set_member (merged, key, json_node_ref (node));
	expanded = kith_mqtt_ha_expand_object (merged, FALSE);
	base = kith_mqtt_json_get_string (expanded, "~");
	if (base == NULL)
		return expanded;
	kith_mqtt_ha_substitute_base (expanded, base);
	availability = kith_mqtt_json_get_array (expanded, "availability");
	for (guint i = 0; availability != NULL && i < json_array_get_length (availability); i++) {
		JsonNode *entry = json_array_get_element (availability, i);
		if (JSON_NODE_HOLDS_OBJECT (entry))
			kith_mqtt_ha_substitute_base (json_node_get_object (entry), base);
	}
	return expanded;
}

/* what one entity is being turned into */
typedef struct {
	JsonObject *config;
	const gchar *platform;
	gchar *name; /* the field's name */
	KithMqttPart *part;
} KithMqttHaEntity;

static KithMqttExtract *
kith_mqtt_ha_extract (KithMqttHaEntity *entity, const gchar *key, GError **error)
{
	const gchar *text = kith_mqtt_json_get_string (entity->config, key);
	KithMqttTemplate *template;

	if (text == NULL || text[0] == '\0')
		return NULL;
	template = kith_mqtt_template_new (text, error);
	if (template == NULL) {
		g_prefix_error (error, "%s: ", key);
		return NULL;
	}
	return kith_mqtt_extract_new_template (template);
}

/* {{ value }} is the only template a command takes: it becomes {value} */
static gboolean
kith_mqtt_ha_command_payload (KithMqttHaEntity *entity, const gchar *key, gchar **out,
                              GError **error)
{
	const gchar *text = kith_mqtt_json_get_string (entity->config, key);
	g_autoptr (GRegex) regex = NULL;
	g_autofree gchar *payload = NULL;

	*out = NULL;
	if (text == NULL || text[0] == '\0')
		return TRUE;
	regex = g_regex_new ("\\{\\{\\s*value\\s*\\}\\}", 0, 0, NULL);
	payload = g_regex_replace_literal (regex, text, -1, 0, "{value}", 0, NULL);
	if (payload == NULL || strstr (payload, "{{") != NULL || strstr (payload, "{%") != NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "%s: unsupported template '%s' (only {{ value }} is)", key, text);
		return FALSE;
	}
	*out = g_steal_pointer (&payload);
	return TRUE;
}

static KithField *
kith_mqtt_ha_add_field (KithMqttHaEntity *entity, const gchar *name, KithValueType type)
{
	const gchar *category = kith_mqtt_json_get_string (entity->config, "entity_category");
	KithField *field = kith_mqtt_field_new (name, type, NULL);
	gdouble precision;

	if (category != NULL)
		field->in_status = FALSE; /* diagnostic and config entities stay out of presence */
	if (kith_mqtt_json_get_number (entity->config, "suggested_display_precision", &precision) &&
	    precision >= 0 && precision <= 6) {
		field->decimals = (guint)precision;
		field->status_decimals = (guint)precision;
	}
	g_ptr_array_add (entity->part->fields, field);
	return field;
}

/* the state of a field from a topic (optional: no binding without the topic) */
static gboolean
kith_mqtt_ha_bind (KithMqttHaEntity *entity, const gchar *field, KithValueType type,
                   const gchar *topic_key, const gchar *template_key, GError **error)
{
	const gchar *topic = kith_mqtt_json_get_string (entity->config, topic_key);
	g_autoptr (GError) error_local = NULL;
	KithMqttExtract *extract = kith_mqtt_ha_extract (entity, template_key, &error_local);

	if (error_local != NULL) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	if (topic == NULL || topic[0] == '\0') {
		kith_mqtt_extract_unref (extract);
		return TRUE;
	}
	g_ptr_array_add (entity->part->bindings,
	                 kith_mqtt_binding_new (topic, field, type, extract));
	return TRUE;
}

static KithMqttBinding *
kith_mqtt_ha_last_binding (KithMqttHaEntity *entity, const gchar *field)
{
	GPtrArray *bindings = entity->part->bindings;
	KithMqttBinding *last =
	        bindings->len > 0 ? g_ptr_array_index (bindings, bindings->len - 1) : NULL;
	return last != NULL && g_strcmp0 (last->field, field) == 0 ? last : NULL;
}

/* a command to command_topic (none without it); the field becomes writable */
static KithMqttCommand *
kith_mqtt_ha_command (KithMqttHaEntity *entity, KithField *field, const gchar *topic_key,
                      const gchar *template_key, GError **error)
{
	const gchar *topic = kith_mqtt_json_get_string (entity->config, topic_key);
	KithMqttCommand *command;
	gchar *payload = NULL;

	if (topic == NULL || topic[0] == '\0')
		return NULL;
	if (template_key != NULL &&
	    !kith_mqtt_ha_command_payload (entity, template_key, &payload, error))
		return NULL;
	command = kith_mqtt_command_new (field->name, topic);
	command->payload = payload;
	command->retain = kith_mqtt_json_get_boolean (entity->config, "retain", FALSE);
	field->writable = TRUE;
	g_ptr_array_add (entity->part->commands, command);
	return command;
}

/* the same, FALSE only for a command template that is not supported */
static gboolean
kith_mqtt_ha_command_checked (KithMqttHaEntity *entity, KithField *field, const gchar *topic_key,
                              const gchar *template_key, KithMqttCommand **out, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	KithMqttCommand *command =
	        kith_mqtt_ha_command (entity, field, topic_key, template_key, &error_local);

	if (error_local != NULL) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return FALSE;
	}
	if (out != NULL)
		*out = command;
	return TRUE;
}

static gboolean
kith_mqtt_ha_is_numeric_sensor (KithMqttHaEntity *entity)
{
	const gchar *device_class = kith_mqtt_json_get_string (entity->config, "device_class");
	KithMqttBinding *binding = kith_mqtt_ha_last_binding (entity, entity->name);
	KithMqttTemplate *template = binding != NULL && binding->extract != NULL
	                                     ? kith_mqtt_extract_get_template (binding->extract)
	                                     : NULL;

	if (device_class != NULL)
		return !g_strv_contains (kith_mqtt_ha_text_classes, device_class);
	return kith_mqtt_json_get_string (entity->config, "unit_of_measurement") != NULL ||
	       kith_mqtt_json_get_string (entity->config, "state_class") != NULL ||
	       (template != NULL && kith_mqtt_template_is_numeric (template));
}

static gboolean
kith_mqtt_ha_sensor (KithMqttHaEntity *entity, GError **error)
{
	const gchar *unit = kith_mqtt_json_get_string (entity->config, "unit_of_measurement");
	KithMqttBinding *binding;
	KithMqttTemplate *template;
	KithValueType type = KITH_VALUE_STRING;
	KithField *field;

	if (kith_mqtt_json_get_string (entity->config, "state_topic") == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "no state_topic");
		return FALSE;
	}
	if (!kith_mqtt_ha_bind (entity, entity->name, KITH_VALUE_STRING, "state_topic",
	                        "value_template", error))
		return FALSE;
	binding = kith_mqtt_ha_last_binding (entity, entity->name);
	template =
	        binding->extract != NULL ? kith_mqtt_extract_get_template (binding->extract) : NULL;
	if (kith_mqtt_ha_is_numeric_sensor (entity))
		type = template != NULL && kith_mqtt_template_is_integer (template) && unit == NULL
		               ? KITH_VALUE_INT
		               : KITH_VALUE_NUMERIC;
	binding->type = type;
	field = kith_mqtt_ha_add_field (entity, entity->name, type);
	if (type != KITH_VALUE_STRING && unit != NULL) {
		g_free (field->unit);
		field->unit = g_strdup (unit);
	}
	return TRUE;
}

/* a boolean state: state_on/state_off, else payload_on/payload_off, else defaults */
static void
kith_mqtt_ha_boolean_texts (KithMqttHaEntity *entity, KithMqttBinding *binding,
                            const gchar *default_on, const gchar *default_off)
{
	const gchar *on = kith_mqtt_json_get_string (entity->config, "state_on");
	const gchar *off = kith_mqtt_json_get_string (entity->config, "state_off");

	if (on == NULL)
		on = kith_mqtt_json_get_string (entity->config, "payload_on");
	if (off == NULL)
		off = kith_mqtt_json_get_string (entity->config, "payload_off");
	binding->state_on = g_strdup (on != NULL ? on : default_on);
	binding->state_off = g_strdup (off != NULL ? off : default_off);
}

static gboolean
kith_mqtt_ha_binary_sensor (KithMqttHaEntity *entity, GError **error)
{
	if (kith_mqtt_json_get_string (entity->config, "state_topic") == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "no state_topic");
		return FALSE;
	}
	if (!kith_mqtt_ha_bind (entity, entity->name, KITH_VALUE_BOOLEAN, "state_topic",
	                        "value_template", error))
		return FALSE;
	kith_mqtt_ha_boolean_texts (entity, kith_mqtt_ha_last_binding (entity, entity->name), "ON",
	                            "OFF");
	kith_mqtt_ha_add_field (entity, entity->name, KITH_VALUE_BOOLEAN);
	return TRUE;
}

/* an on/off entity: switch, or a light of the default schema */
static gboolean
kith_mqtt_ha_on_off (KithMqttHaEntity *entity, const gchar *template_key, GError **error)
{
	KithField *field = kith_mqtt_ha_add_field (entity, entity->name, KITH_VALUE_BOOLEAN);
	KithMqttBinding *binding;
	KithMqttCommand *command;
	const gchar *on = kith_mqtt_json_get_string (entity->config, "payload_on");
	const gchar *off = kith_mqtt_json_get_string (entity->config, "payload_off");
	g_autoptr (GError) error_local = NULL;

	if (!kith_mqtt_ha_bind (entity, entity->name, KITH_VALUE_BOOLEAN, "state_topic",
	                        template_key, error))
		return FALSE;
	binding = kith_mqtt_ha_last_binding (entity, entity->name);
	if (binding != NULL)
		kith_mqtt_ha_boolean_texts (entity, binding, "ON", "OFF");
	command = kith_mqtt_ha_command (entity, field, "command_topic", NULL, &error_local);
	if (command != NULL) {
		command->payload_on = g_strdup (on != NULL ? on : "ON");
		command->payload_off = g_strdup (off != NULL ? off : "OFF");
	}
	return TRUE;
}

static void
kith_mqtt_ha_brightness_field (KithMqttHaEntity *entity, const gchar *name, KithField **out)
{
	gdouble scale = 255;
	KithField *field;

	kith_mqtt_json_get_number (entity->config, "brightness_scale", &scale);
	field = kith_mqtt_ha_add_field (entity, name, KITH_VALUE_NUMERIC);
	field->decimals = 0;
	field->status_decimals = 0;
	field->min = 0;
	field->max = scale > 0 ? scale : 255;
	*out = field;
}

static gboolean
kith_mqtt_ha_light_default (KithMqttHaEntity *entity, GError **error)
{
	g_autofree gchar *name = g_strdup_printf ("%s brightness", entity->name);
	KithField *field;

	if (!kith_mqtt_ha_on_off (entity, "state_value_template", error))
		return FALSE;
	if (kith_mqtt_json_get_string (entity->config, "brightness_state_topic") == NULL &&
	    kith_mqtt_json_get_string (entity->config, "brightness_command_topic") == NULL)
		return TRUE;
	kith_mqtt_ha_brightness_field (entity, name, &field);
	if (!kith_mqtt_ha_bind (entity, name, KITH_VALUE_NUMERIC, "brightness_state_topic",
	                        "brightness_value_template", error))
		return FALSE;
	return kith_mqtt_ha_command_checked (entity, field, "brightness_command_topic",
	                                     "brightness_command_template", NULL, error);
}

static gboolean
kith_mqtt_ha_light_has_brightness (KithMqttHaEntity *entity)
{
	JsonArray *modes = kith_mqtt_json_get_array (entity->config, "supported_color_modes");

	if (kith_mqtt_json_get_boolean (entity->config, "brightness", FALSE))
		return TRUE;
	for (guint i = 0; modes != NULL && i < json_array_get_length (modes); i++) {
		const gchar *mode = kith_mqtt_json_array_string (modes, i);
		if (mode != NULL && g_strcmp0 (mode, "onoff") != 0)
			return TRUE;
	}
	return FALSE;
}

/* schema json: {"state": "ON", "brightness": 255} both ways */
static gboolean
kith_mqtt_ha_light_json (KithMqttHaEntity *entity, GError **error)
{
	static const gchar *const state_path[] = { "state", NULL };
	static const gchar *const brightness_path[] = { "brightness", NULL };
	const gchar *state_topic = kith_mqtt_json_get_string (entity->config, "state_topic");
	g_autofree gchar *name = g_strdup_printf ("%s brightness", entity->name);
	KithField *field = kith_mqtt_ha_add_field (entity, entity->name, KITH_VALUE_BOOLEAN);
	KithMqttCommand *command;

	if (state_topic != NULL) {
		KithMqttBinding *binding =
		        kith_mqtt_binding_new (state_topic, entity->name, KITH_VALUE_BOOLEAN,
		                               kith_mqtt_extract_new_members (state_path));
		binding->state_on = g_strdup ("ON");
		binding->state_off = g_strdup ("OFF");
		g_ptr_array_add (entity->part->bindings, binding);
	}
	command = kith_mqtt_ha_command (entity, field, "command_topic", NULL, error);
	if (command != NULL) {
		command->payload_on = g_strdup ("{\"state\": \"ON\"}");
		command->payload_off = g_strdup ("{\"state\": \"OFF\"}");
	}
	if (!kith_mqtt_ha_light_has_brightness (entity))
		return TRUE;
	kith_mqtt_ha_brightness_field (entity, name, &field);
	if (state_topic != NULL) {
		KithMqttBinding *binding =
		        kith_mqtt_binding_new (state_topic, name, KITH_VALUE_NUMERIC,
		                               kith_mqtt_extract_new_members (brightness_path));
		binding->optional = TRUE;
		g_ptr_array_add (entity->part->bindings, binding);
	}
	command = kith_mqtt_ha_command (entity, field, "command_topic", NULL, error);
	if (command != NULL)
		command->payload = g_strdup ("{\"state\": \"ON\", \"brightness\": {value}}");
	return TRUE;
}

static gboolean
kith_mqtt_ha_light (KithMqttHaEntity *entity, GError **error)
{
	const gchar *schema = kith_mqtt_json_get_string (entity->config, "schema");

	if (schema == NULL || g_strcmp0 (schema, "default") == 0 ||
	    g_strcmp0 (schema, "basic") == 0)
		return kith_mqtt_ha_light_default (entity, error);
	if (g_strcmp0 (schema, "json") == 0)
		return kith_mqtt_ha_light_json (entity, error);
	g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "light schema '%s' is not supported",
	             schema);
	return FALSE;
}

static gboolean
kith_mqtt_ha_number (KithMqttHaEntity *entity, GError **error)
{
	const gchar *unit = kith_mqtt_json_get_string (entity->config, "unit_of_measurement");
	KithField *field = kith_mqtt_ha_add_field (entity, entity->name, KITH_VALUE_NUMERIC);

	field->min = 1;
	field->max = 100;
	kith_mqtt_json_get_number (entity->config, "min", &field->min);
	kith_mqtt_json_get_number (entity->config, "max", &field->max);
	if (unit != NULL) {
		g_free (field->unit);
		field->unit = g_strdup (unit);
	}
	if (!kith_mqtt_ha_bind (entity, entity->name, KITH_VALUE_NUMERIC, "state_topic",
	                        "value_template", error))
		return FALSE;
	return kith_mqtt_ha_command_checked (entity, field, "command_topic", "command_template",
	                                     NULL, error);
}

static gboolean
kith_mqtt_ha_select (KithMqttHaEntity *entity, GError **error)
{
	JsonArray *options = kith_mqtt_json_get_array (entity->config, "options");
	g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
	KithField *field = kith_mqtt_ha_add_field (entity, entity->name, KITH_VALUE_STRING);
	KithMqttCommand *command;

	for (guint i = 0; options != NULL && i < json_array_get_length (options); i++) {
		const gchar *option = kith_mqtt_json_array_string (options, i);
		if (option != NULL)
			g_strv_builder_add (builder, option);
	}
	if (!kith_mqtt_ha_bind (entity, entity->name, KITH_VALUE_STRING, "state_topic",
	                        "value_template", error))
		return FALSE;
	if (!kith_mqtt_ha_command_checked (entity, field, "command_topic", "command_template",
	                                   &command, error))
		return FALSE;
	if (command != NULL)
		command->options = g_strv_builder_end (builder);
	return TRUE;
}

static gboolean
kith_mqtt_ha_button (KithMqttHaEntity *entity, GError **error)
{
	const gchar *press = kith_mqtt_json_get_string (entity->config, "payload_press");
	KithField *field = kith_mqtt_ha_add_field (entity, entity->name, KITH_VALUE_BOOLEAN);
	KithMqttCommand *command;

	field->in_status = FALSE;
	command = kith_mqtt_ha_command (entity, field, "command_topic", NULL, NULL);
	if (command == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "no command_topic");
		return FALSE;
	}
	command->press = TRUE;
	command->payload_on = g_strdup (press != NULL ? press : "PRESS");
	return TRUE;
}

static void
kith_mqtt_ha_availability (KithMqttHaEntity *entity, GError **error)
{
	JsonArray *list = kith_mqtt_json_get_array (entity->config, "availability");
	const gchar *topic = kith_mqtt_json_get_string (entity->config, "availability_topic");
	const gchar *mode = kith_mqtt_json_get_string (entity->config, "availability_mode");
	const gchar *on = kith_mqtt_json_get_string (entity->config, "payload_available");
	const gchar *off = kith_mqtt_json_get_string (entity->config, "payload_not_available");

	if (topic != NULL) {
		g_autoptr (GError) error_local = NULL;
		KithMqttExtract *extract =
		        kith_mqtt_ha_extract (entity, "availability_template", &error_local);
		if (error_local != NULL) {
			g_propagate_error (error, g_steal_pointer (&error_local));
			return;
		}
		g_ptr_array_add (entity->part->availability,
		                 kith_mqtt_availability_new (topic, on != NULL ? on : "online",
		                                             off != NULL ? off : "offline",
		                                             extract));
	}
	for (guint i = 0; list != NULL && i < json_array_get_length (list); i++) {
		JsonObject *entry = kith_mqtt_json_array_object (list, i);
		const gchar *entry_topic = kith_mqtt_json_get_string (entry, "topic");
		const gchar *entry_on = kith_mqtt_json_get_string (entry, "payload_available");
		const gchar *entry_off = kith_mqtt_json_get_string (entry, "payload_not_available");
		const gchar *text = kith_mqtt_json_get_string (entry, "value_template");
		KithMqttExtract *extract = NULL;

		if (entry_topic == NULL)
			continue;
		if (text != NULL) {
			KithMqttTemplate *template = kith_mqtt_template_new (text, error);
			if (template == NULL)
				return;
			extract = kith_mqtt_extract_new_template (template);
		}
		g_ptr_array_add (entity->part->availability,
		                 kith_mqtt_availability_new (
		                         entry_topic, entry_on != NULL ? entry_on : "online",
		                         entry_off != NULL ? entry_off : "offline", extract));
	}
	if (g_strcmp0 (mode, "any") == 0)
		entity->part->mode = KITH_MQTT_AVAILABILITY_ANY;
	else if (g_strcmp0 (mode, "latest") == 0)
		entity->part->mode = KITH_MQTT_AVAILABILITY_LATEST;
}

static const struct {
	const gchar *platform;
	gboolean (*parse) (KithMqttHaEntity *entity, GError **error);
} kith_mqtt_ha_platforms[] = {
	{ "sensor", kith_mqtt_ha_sensor },
	{ "binary_sensor", kith_mqtt_ha_binary_sensor },
	{ "switch", NULL },
	{ "light", kith_mqtt_ha_light },
	{ "number", kith_mqtt_ha_number },
	{ "select", kith_mqtt_ha_select },
	{ "button", kith_mqtt_ha_button },
};

static gboolean
kith_mqtt_ha_switch (KithMqttHaEntity *entity, GError **error)
{
	return kith_mqtt_ha_on_off (entity, "value_template", error);
}

/* one entity as a part; NULL with the reason it cannot be used */
static KithMqttPart *
kith_mqtt_ha_entity (JsonObject *config, const gchar *platform, const gchar *part_id,
                     const gchar *object_id, GError **error)
{
	const gchar *name = kith_mqtt_json_get_string (config, "name");
	const gchar *own_object_id = kith_mqtt_json_get_string (config, "object_id");
	KithMqttHaEntity entity = { .config = config, .platform = platform };
	g_autoptr (KithMqttPart) part = kith_mqtt_part_new (part_id);
	gboolean (*parse) (KithMqttHaEntity *, GError **) = NULL;
	g_autoptr (GError) error_local = NULL;
	gboolean known = FALSE;
	gboolean ok;

	for (guint i = 0; i < G_N_ELEMENTS (kith_mqtt_ha_platforms); i++) {
		if (g_strcmp0 (kith_mqtt_ha_platforms[i].platform, platform) == 0) {
			parse = kith_mqtt_ha_platforms[i].parse;
			known = TRUE;
		}
	}
	if (!known) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "component '%s' is not supported", platform);
		return NULL;
	}
	if (parse == NULL)
		parse = kith_mqtt_ha_switch;
	if (name != NULL && name[0] != '\0')
		entity.name = g_strstrip (g_strdup (name));
	else
		entity.name = g_strdup (own_object_id != NULL ? own_object_id : object_id);
	entity.part = part;
	ok = parse (&entity, &error_local);
	if (ok)
		kith_mqtt_ha_availability (&entity, &error_local);
	g_free (entity.name);
	if (error_local != NULL) {
		g_propagate_error (error, g_steal_pointer (&error_local));
		return NULL;
	}
	return ok ? g_steal_pointer (&part) : NULL;
}

/* the first device identifier, else the entity's unique_id, else its discovery id */
static gchar *
kith_mqtt_ha_hardware_id (JsonObject *config, const gchar *discovery_id)
{
	JsonObject *device = kith_mqtt_json_get_object (config, "device");
	JsonNode *identifiers =
	        device != NULL ? json_object_get_member (device, "identifiers") : NULL;
	const gchar *unique_id = kith_mqtt_json_get_string (config, "unique_id");

	if (identifiers != NULL && JSON_NODE_HOLDS_ARRAY (identifiers) &&
	    json_array_get_length (json_node_get_array (identifiers)) > 0) {
		JsonNode *first = json_array_get_element (json_node_get_array (identifiers), 0);
		g_autofree gchar *text = kith_mqtt_json_scalar_text (first);
		if (text != NULL && text[0] != '\0')
			return g_steal_pointer (&text);
	} else if (identifiers != NULL && JSON_NODE_HOLDS_VALUE (identifiers)) {
		g_autofree gchar *text = kith_mqtt_json_scalar_text (identifiers);
		if (text != NULL && text[0] != '\0')
			return g_steal_pointer (&text);
	}
	if (unique_id != NULL && unique_id[0] != '\0')
		return g_strdup (unique_id);
	return g_strdup (discovery_id);
}

static KithMqttDescription *
kith_mqtt_ha_description (JsonObject *config, const gchar *discovery_id)
{
	g_autofree gchar *hardware_id = kith_mqtt_ha_hardware_id (config, discovery_id);
	g_autofree gchar *key = g_strconcat ("homeassistant:", hardware_id, NULL);
	KithMqttDescription *description = kith_mqtt_description_new (key, hardware_id);
	JsonObject *device = kith_mqtt_json_get_object (config, "device");
	const gchar *label = kith_mqtt_json_get_string (device, "name");

	if (label == NULL)
		label = kith_mqtt_json_get_string (config, "name");
	description->label = g_strdup (label);
	description->manufacturer = g_strdup (kith_mqtt_json_get_string (device, "manufacturer"));
	description->model = g_strdup (kith_mqtt_json_get_string (device, "model"));
	return description;
}

static KithMqttDescription *
kith_mqtt_ha_parse_device (const KithMqttHaTopic *topic, JsonObject *root, GPtrArray *notes,
                           GError **error)
{
	g_autoptr (JsonObject) shared = kith_mqtt_ha_normalize (root, NULL);
	JsonObject *components = kith_mqtt_json_get_object (shared, "components");
	g_autoptr (KithMqttDescription) description = NULL;
	g_autoptr (GStrvBuilder) removed = g_strv_builder_new ();
	JsonObjectIter iter;
	const gchar *id;
	JsonNode *node;

	if (components == NULL || kith_mqtt_json_get_object (shared, "device") == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "a device config needs \"device\" and \"components\"");
		return NULL;
	}
	description = kith_mqtt_ha_description (shared, topic->discovery_id);
	json_object_iter_init (&iter, components);
	while (json_object_iter_next (&iter, &id, &node)) {
		g_autofree gchar *part_id = g_strdup_printf ("%s/%s", topic->discovery_id, id);
		g_autoptr (JsonObject) config = NULL;
		g_autoptr (GError) error_local = NULL;
		const gchar *platform;
		KithMqttPart *part;

		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		config = kith_mqtt_ha_normalize (json_node_get_object (node), shared);
		platform = kith_mqtt_json_get_string (config, "platform");
		if (json_object_get_size (json_node_get_object (node)) == 1 && platform != NULL) {
			g_strv_builder_add (removed, part_id); /* "p" alone: the entity is gone */
			continue;
		}
		part = kith_mqtt_ha_entity (config, platform != NULL ? platform : "", part_id, id,
		                            &error_local);
		if (part == NULL) {
			g_ptr_array_add (notes,
			                 g_strdup_printf ("%s: %s", part_id,
			                                  error_local != NULL ? error_local->message
			                                                      : "not usable"));
			continue;
		}
		g_ptr_array_add (description->parts, part);
	}
	description->removed = g_strv_builder_end (removed);
	return g_steal_pointer (&description);
}

KithMqttDescription *
kith_mqtt_homeassistant_parse (const KithMqttHaTopic *topic, JsonNode *root, GPtrArray *notes,
                               GError **error)
{
	g_autoptr (JsonObject) config = NULL;
	g_autoptr (KithMqttDescription) description = NULL;
	KithMqttPart *part;

	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "config is not a JSON object");
		return NULL;
	}
	if (g_strcmp0 (topic->component, "device") == 0)
		return kith_mqtt_ha_parse_device (topic, json_node_get_object (root), notes, error);
	config = kith_mqtt_ha_normalize (json_node_get_object (root), NULL);
	part = kith_mqtt_ha_entity (config, topic->component, topic->discovery_id, topic->object_id,
	                            error);
	if (part == NULL)
		return NULL;
	description = kith_mqtt_ha_description (config, topic->discovery_id);
	g_ptr_array_add (description->parts, part);
	return g_steal_pointer (&description);
}
