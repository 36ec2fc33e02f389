/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/homeassistant.h"
#include "drivers/mqtt/homeassistant-config.h"

#include <string.h>

#include "kith-error.h"

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

/* what one entity is being turned into */
typedef struct {
	JsonObject *config;
	const gchar *platform;
	gchar *name; /* the field's name */
	KithMqttPart *part;
} KithMqttHaEntity;

/* a string member that is not empty */
static gboolean
kith_mqtt_ha_has (KithMqttHaEntity *entity, const gchar *key)
{
	const gchar *value = kith_mqtt_json_get_string (entity->config, key);
	return value != NULL && value[0] != '\0';
}

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

	if (!kith_mqtt_ha_has (entity, "state_topic")) {
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
	if (!kith_mqtt_ha_has (entity, "state_topic")) {
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
	if (!kith_mqtt_ha_has (entity, "brightness_state_topic") &&
	    !kith_mqtt_ha_has (entity, "brightness_command_topic"))
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
	const gchar *state_topic =
	        kith_mqtt_ha_has (entity, "state_topic")
	                ? kith_mqtt_json_get_string (entity->config, "state_topic")
	                : NULL;
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
	g_autoptr (JsonObject) shared = kith_mqtt_homeassistant_normalize (root, NULL);
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
		config = kith_mqtt_homeassistant_normalize (json_node_get_object (node), shared);
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
	config = kith_mqtt_homeassistant_normalize (json_node_get_object (root), NULL);
	part = kith_mqtt_ha_entity (config, topic->component, topic->discovery_id, topic->object_id,
	                            error);
	if (part == NULL)
		return NULL;
	description = kith_mqtt_ha_description (config, topic->discovery_id);
	g_ptr_array_add (description->parts, part);
	return g_steal_pointer (&description);
}
