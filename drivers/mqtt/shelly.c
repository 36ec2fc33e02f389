/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/shelly.h"

#include <string.h>

#include "kith-error.h"

/* gen1 topics under shellies/<id>/: N stands for a channel number */
static const struct {
	const gchar *pattern;
	const gchar *field; /* N replaced by the channel */
	KithValueType type;
	const gchar *unit;
	const gchar *command; /* subtopic written on/off, NULL: read only */
} kith_mqtt_shelly_gen1_topics[] = {
	{ "relay/N", "relayN", KITH_VALUE_BOOLEAN, NULL, "relay/N/command" },
	{ "relay/N/power", "relayN_power", KITH_VALUE_NUMERIC, "W", NULL },
	{ "relay/N/energy", "relayN_energy", KITH_VALUE_NUMERIC, "Wmin", NULL },
	{ "light/N", "lightN", KITH_VALUE_BOOLEAN, NULL, "light/N/command" },
	{ "light/N/power", "lightN_power", KITH_VALUE_NUMERIC, "W", NULL },
	{ "light/N/energy", "lightN_energy", KITH_VALUE_NUMERIC, "Wmin", NULL },
	{ "input/N", "inputN", KITH_VALUE_BOOLEAN, NULL, NULL },
	{ "emeter/N/power", "emeterN_power", KITH_VALUE_NUMERIC, "W", NULL },
	{ "emeter/N/voltage", "emeterN_voltage", KITH_VALUE_NUMERIC, "V", NULL },
	{ "emeter/N/current", "emeterN_current", KITH_VALUE_NUMERIC, "A", NULL },
	{ "emeter/N/total", "emeterN_total", KITH_VALUE_NUMERIC, "Wh", NULL },
	{ "emeter/N/pf", "emeterN_pf", KITH_VALUE_NUMERIC, "", NULL },
	{ "roller/N/pos", "rollerN_position", KITH_VALUE_NUMERIC, "%", NULL },
	{ "sensor/temperature", "temperature", KITH_VALUE_NUMERIC, "°C", NULL },
	{ "sensor/humidity", "humidity", KITH_VALUE_NUMERIC, "%", NULL },
	{ "sensor/battery", "battery", KITH_VALUE_NUMERIC, "%", NULL },
	{ "sensor/lux", "lux", KITH_VALUE_NUMERIC, "lx", NULL },
	{ "sensor/motion", "motion", KITH_VALUE_BOOLEAN, NULL, NULL },
	{ "sensor/flood", "flood", KITH_VALUE_BOOLEAN, NULL, NULL },
	{ "sensor/smoke", "smoke", KITH_VALUE_BOOLEAN, NULL, NULL },
	{ "sensor/state", "state", KITH_VALUE_STRING, NULL, NULL },
	{ "temperature", "device_temperature", KITH_VALUE_NUMERIC, "°C", NULL },
};

/* gen2 status members: the component type, the member path, the field suffix, type, unit */
static const struct {
	const gchar *component;
	const gchar *member;
	const gchar *submember;
	const gchar *suffix; /* "" for the component's main value */
	KithValueType type;
	const gchar *unit;
	const gchar *method; /* RPC that writes it, NULL: read only */
	const gchar *param;
} kith_mqtt_shelly_gen2_members[] = {
	{ "switch", "output", NULL, "", KITH_VALUE_BOOLEAN, NULL, "Switch.Set", "on" },
	{ "switch", "apower", NULL, "_power", KITH_VALUE_NUMERIC, "W", NULL, NULL },
	{ "switch", "voltage", NULL, "_voltage", KITH_VALUE_NUMERIC, "V", NULL, NULL },
	{ "switch", "current", NULL, "_current", KITH_VALUE_NUMERIC, "A", NULL, NULL },
	{ "switch", "aenergy", "total", "_energy", KITH_VALUE_NUMERIC, "Wh", NULL, NULL },
	{ "switch", "temperature", "tC", "_temperature", KITH_VALUE_NUMERIC, "°C", NULL, NULL },
	{ "light", "output", NULL, "", KITH_VALUE_BOOLEAN, NULL, "Light.Set", "on" },
	{ "light", "brightness", NULL, "_brightness", KITH_VALUE_NUMERIC, "%", "Light.Set",
	  "brightness" },
	{ "input", "state", NULL, "", KITH_VALUE_BOOLEAN, NULL, NULL, NULL },
	{ "temperature", "tC", NULL, "", KITH_VALUE_NUMERIC, "°C", NULL, NULL },
	{ "humidity", "rh", NULL, "", KITH_VALUE_NUMERIC, "%", NULL, NULL },
	{ "pm1", "apower", NULL, "_power", KITH_VALUE_NUMERIC, "W", NULL, NULL },
	{ "pm1", "voltage", NULL, "_voltage", KITH_VALUE_NUMERIC, "V", NULL, NULL },
	{ "pm1", "current", NULL, "_current", KITH_VALUE_NUMERIC, "A", NULL, NULL },
	{ "pm1", "aenergy", "total", "_energy", KITH_VALUE_NUMERIC, "Wh", NULL, NULL },
	{ "devicepower", "battery", "percent", "_battery", KITH_VALUE_NUMERIC, "%", NULL, NULL },
};

static KithMqttDescription *
kith_mqtt_shelly_description (const gchar *id, const gchar *label, const gchar *model)
{
	g_autofree gchar *key = g_strconcat ("shelly:", id, NULL);
	KithMqttDescription *description = kith_mqtt_description_new (key, id);
	description->label = g_strdup (label != NULL ? label : id);
	description->manufacturer = g_strdup ("Shelly");
	description->model = g_strdup (model);
	return description;
}

static KithMqttPart *
kith_mqtt_shelly_online_part (const gchar *topic)
{
	KithMqttPart *part = kith_mqtt_part_new ("online");
	g_ptr_array_add (part->availability,
	                 kith_mqtt_availability_new (topic, "true", "false", NULL));
	return part;
}

KithMqttDescription *
kith_mqtt_shelly_parse_announce (JsonNode *root, GError **error)
{
	JsonObject *obj =
	        root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
	const gchar *id = kith_mqtt_json_get_string (obj, "id");
	g_autofree gchar *online = NULL;
	KithMqttDescription *description;

	if (id == NULL || id[0] == '\0' || strchr (id, '/') != NULL || strchr (id, '+') != NULL ||
	    strchr (id, '#') != NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "announce without a device id");
		return NULL;
	}
	if (kith_mqtt_json_get_number (obj, "gen", &(gdouble){ 0 })) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "%s: a gen2 device (found through <id>/status instead)", id);
		return NULL;
	}
	description =
	        kith_mqtt_shelly_description (id, NULL, kith_mqtt_json_get_string (obj, "model"));
	online = g_strdup_printf ("shellies/%s/online", id);
	g_ptr_array_add (description->parts, kith_mqtt_shelly_online_part (online));
	return description;
}

gboolean
kith_mqtt_shelly_gen1_split (const gchar *topic, gchar **id, gchar **subtopic)
{
	const gchar *rest;
	const gchar *slash;

	if (!g_str_has_prefix (topic, "shellies/"))
		return FALSE;
	rest = topic + strlen ("shellies/");
	slash = strchr (rest, '/');
	if (slash == NULL || slash == rest || slash[1] == '\0')
		return FALSE;
	*id = g_strndup (rest, slash - rest);
	*subtopic = g_strdup (slash + 1);
	return TRUE;
}

/* matches subtopic against a pattern whose "N" level is a channel number; channel is set */
static gboolean
kith_mqtt_shelly_match (const gchar *pattern, const gchar *subtopic, gchar **channel)
{
	g_auto (GStrv) want = g_strsplit (pattern, "/", -1);
	g_auto (GStrv) have = g_strsplit (subtopic, "/", -1);

	if (g_strv_length (want) != g_strv_length (have))
		return FALSE;
	for (guint i = 0; want[i] != NULL; i++) {
		if (g_strcmp0 (want[i], "N") == 0) {
			if (have[i][0] == '\0' ||
			    strspn (have[i], "0123456789") != strlen (have[i]) ||
			    strlen (have[i]) > 2)
				return FALSE;
			g_free (*channel);
			*channel = g_strdup (have[i]);
		} else if (g_strcmp0 (want[i], have[i]) != 0) {
			return FALSE;
		}
	}
	return TRUE;
}

static gchar *
kith_mqtt_shelly_fill (const gchar *pattern, const gchar *channel)
{
	g_autoptr (GString) out = g_string_new (pattern);
	if (channel != NULL)
		g_string_replace (out, "N", channel, 0);
	return g_string_free (g_steal_pointer (&out), FALSE);
}

/* light/<n>/status: {"ison": true, "brightness": 50, …}; brightness written on light/<n>/set */
static KithMqttPart *
kith_mqtt_shelly_gen1_light_status (const gchar *id, const gchar *subtopic, const gchar *channel)
{
	static const gchar *const ison[] = { "ison", NULL };
	static const gchar *const brightness[] = { "brightness", NULL };
	g_autofree gchar *topic = g_strdup_printf ("shellies/%s/%s", id, subtopic);
	g_autofree gchar *name = g_strdup_printf ("light%s_brightness", channel);
	g_autofree gchar *light = g_strdup_printf ("light%s", channel);
	g_autofree gchar *set = g_strdup_printf ("shellies/%s/light/%s/set", id, channel);
	KithMqttPart *part = kith_mqtt_part_new (subtopic);
	KithField *field = kith_mqtt_field_new (name, KITH_VALUE_NUMERIC, "%");
	KithMqttBinding *binding;
	KithMqttCommand *command;

	field->writable = TRUE;
	field->min = 0;
	field->max = 100;
	field->decimals = 0;
	field->status_decimals = 0;
	g_ptr_array_add (part->fields, field);
	binding = kith_mqtt_binding_new (topic, name, KITH_VALUE_NUMERIC,
	                                 kith_mqtt_extract_new_members (brightness));
	binding->optional = TRUE;
	g_ptr_array_add (part->bindings, binding);
	binding = kith_mqtt_binding_new (topic, light, KITH_VALUE_BOOLEAN,
	                                 kith_mqtt_extract_new_members (ison));
	binding->optional = TRUE;
	g_ptr_array_add (part->bindings, binding);
	command = kith_mqtt_command_new (name, set);
	command->payload = g_strdup ("{\"turn\": \"on\", \"brightness\": {value}}");
	g_ptr_array_add (part->commands, command);
	return part;
}

KithMqttPart *
kith_mqtt_shelly_gen1_part (const gchar *id, const gchar *subtopic)
{
	g_autofree gchar *channel = NULL;

	if (kith_mqtt_shelly_match ("light/N/status", subtopic, &channel))
		return kith_mqtt_shelly_gen1_light_status (id, subtopic, channel);
	for (guint i = 0; i < G_N_ELEMENTS (kith_mqtt_shelly_gen1_topics); i++) {
		g_autofree gchar *name = NULL;
		g_autofree gchar *topic = NULL;
		KithMqttPart *part;
		KithField *field;

		if (!kith_mqtt_shelly_match (kith_mqtt_shelly_gen1_topics[i].pattern, subtopic,
		                             &channel))
			continue;
		name = kith_mqtt_shelly_fill (kith_mqtt_shelly_gen1_topics[i].field, channel);
		topic = g_strdup_printf ("shellies/%s/%s", id, subtopic);
		part = kith_mqtt_part_new (subtopic);
		field = kith_mqtt_field_new (name, kith_mqtt_shelly_gen1_topics[i].type,
		                             kith_mqtt_shelly_gen1_topics[i].unit);
		g_ptr_array_add (part->fields, field);
		g_ptr_array_add (part->bindings,
		                 kith_mqtt_binding_new (topic, name, field->type, NULL));
		if (kith_mqtt_shelly_gen1_topics[i].command != NULL) {
			g_autofree gchar *sub = kith_mqtt_shelly_fill (
			        kith_mqtt_shelly_gen1_topics[i].command, channel);
			g_autofree gchar *command_topic =
			        g_strdup_printf ("shellies/%s/%s", id, sub);
			KithMqttCommand *command = kith_mqtt_command_new (name, command_topic);
			command->payload_on = g_strdup ("on");
			command->payload_off = g_strdup ("off");
			g_ptr_array_add (part->commands, command);
			field->writable = TRUE;
		}
		return part;
	}
	return NULL;
}

/* a component name as Shelly writes them: switch:0, sys, wifi, … */
static gboolean
kith_mqtt_shelly_is_component (const gchar *name)
{
	const gchar *colon = strchr (name, ':');
	gsize n = strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789");

	if (n == 0 || n > 24)
		return FALSE;
	if (colon == NULL)
		return name[n] == '\0';
	return colon == name + n && colon[1] != '\0' &&
	       strspn (colon + 1, "0123456789") == strlen (colon + 1) && strlen (colon + 1) <= 3;
}

gchar *
kith_mqtt_shelly_gen2_prefix (const gchar *topic)
{
	g_auto (GStrv) levels = g_strsplit (topic, "/", -1);
	guint n = g_strv_length (levels);

	if (n < 2 || levels[0][0] == '\0' || g_strcmp0 (levels[0], "shellies") == 0)
		return NULL;
	if (n == 2 && g_strcmp0 (levels[1], "online") == 0)
		return g_strdup (levels[0]);
	if (n == 3 && g_strcmp0 (levels[1], "status") == 0 &&
	    kith_mqtt_shelly_is_component (levels[2]))
		return g_strdup (levels[0]);
	if (n == 3 && g_strcmp0 (levels[1], "events") == 0 && g_strcmp0 (levels[2], "rpc") == 0)
		return g_strdup (levels[0]);
	return NULL;
}

gchar *
kith_mqtt_shelly_rpc_request (gint64 id, const gchar *src, const gchar *method)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autoptr (JsonNode) root = NULL;

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "id");
	json_builder_add_int_value (builder, id);
	json_builder_set_member_name (builder, "src");
	json_builder_add_string_value (builder, src);
	json_builder_set_member_name (builder, "method");
	json_builder_add_string_value (builder, method);
	json_builder_end_object (builder);
	root = json_builder_get_root (builder);
	return json_to_string (root, FALSE);
}

gboolean
kith_mqtt_shelly_rpc_response (JsonNode *root, gint64 *id, JsonObject **result)
{
	JsonObject *frame =
	        root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
	gdouble number;

	if (frame == NULL || !kith_mqtt_json_get_number (frame, "id", &number))
		return FALSE;
	*id = (gint64)number;
	*result = kith_mqtt_json_get_object (frame, "result");
	return *result != NULL;
}

/* the fields, bindings and commands of one component of a gen2 status */
static KithMqttPart *
kith_mqtt_shelly_gen2_component (const gchar *prefix, const gchar *component, JsonObject *status,
                                 const gchar *src)
{
	g_autofree gchar *type = g_strdup (component);
	gchar *colon = strchr (type, ':');
	const gchar *channel = colon != NULL ? colon + 1 : "";
	g_autofree gchar *status_topic = g_strdup_printf ("%s/status/%s", prefix, component);
	g_autofree gchar *events_topic = g_strdup_printf ("%s/events/rpc", prefix);
	g_autofree gchar *rpc_topic = g_strdup_printf ("%s/rpc", prefix);
	KithMqttPart *part = kith_mqtt_part_new (component);

	if (colon != NULL)
		*colon = '\0';
	for (guint i = 0; i < G_N_ELEMENTS (kith_mqtt_shelly_gen2_members); i++) {
		const gchar *member = kith_mqtt_shelly_gen2_members[i].member;
		const gchar *submember = kith_mqtt_shelly_gen2_members[i].submember;
		const gchar *path[] = { member, submember, NULL };
		const gchar *event_path[] = { "params", component, member, submember, NULL };
		g_autofree gchar *name = NULL;
		KithField *field;
		KithMqttBinding *binding;

		if (g_strcmp0 (kith_mqtt_shelly_gen2_members[i].component, type) != 0 ||
		    json_object_get_member (status, member) == NULL)
			continue;
		name = g_strdup_printf ("%s%s%s", type, channel,
		                        kith_mqtt_shelly_gen2_members[i].suffix);
		field = kith_mqtt_field_new (name, kith_mqtt_shelly_gen2_members[i].type,
		                             kith_mqtt_shelly_gen2_members[i].unit);
		g_ptr_array_add (part->fields, field);
		binding = kith_mqtt_binding_new (status_topic, name, field->type,
		                                 kith_mqtt_extract_new_members (path));
		binding->optional = TRUE;
		g_ptr_array_add (part->bindings, binding);
		binding = kith_mqtt_binding_new (events_topic, name, field->type,
		                                 kith_mqtt_extract_new_members (event_path));
		binding->optional = TRUE;
		g_ptr_array_add (part->bindings, binding);
		if (kith_mqtt_shelly_gen2_members[i].method != NULL) {
			KithMqttCommand *command = kith_mqtt_command_new (name, rpc_topic);
			g_autoptr (JsonNode) source =
			        json_node_init_string (json_node_alloc (), src);
			g_autofree gchar *quoted = json_to_string (source, FALSE);
			command->payload = g_strdup_printf (
			        "{\"id\": 1, \"src\": %s, \"method\": \"%s\", \"params\": "
			        "{\"id\": %s, \"%s\": {value}}}",
			        quoted, kith_mqtt_shelly_gen2_members[i].method,
			        channel[0] != '\0' ? channel : "0",
			        kith_mqtt_shelly_gen2_members[i].param);
			field->writable = TRUE;
			if (field->type == KITH_VALUE_NUMERIC) {
				field->min = 0;
				field->max = 100;
			}
			g_ptr_array_add (part->commands, command);
		}
	}
	return part;
}

KithMqttDescription *
kith_mqtt_shelly_gen2_describe (const gchar *prefix, JsonObject *info, JsonObject *status,
                                const gchar *src, GError **error)
{
	const gchar *id = kith_mqtt_json_get_string (info, "id");
	g_autofree gchar *online = g_strdup_printf ("%s/online", prefix);
	KithMqttDescription *description;
	JsonObjectIter iter;
	const gchar *component;
	JsonNode *node;

	if (id == NULL || id[0] == '\0') {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "%s: Shelly.GetDeviceInfo without an id", prefix);
		return NULL;
	}
	description = kith_mqtt_shelly_description (id, kith_mqtt_json_get_string (info, "name"),
	                                            kith_mqtt_json_get_string (info, "model"));
	g_ptr_array_add (description->parts, kith_mqtt_shelly_online_part (online));
	json_object_iter_init (&iter, status);
	while (json_object_iter_next (&iter, &component, &node)) {
		KithMqttPart *part;
		if (!JSON_NODE_HOLDS_OBJECT (node) || !kith_mqtt_shelly_is_component (component))
			continue;
		part = kith_mqtt_shelly_gen2_component (prefix, component,
		                                        json_node_get_object (node), src);
		if (part->fields->len > 0)
			g_ptr_array_add (description->parts, part);
		else
			kith_mqtt_part_free (part);
	}
	return description;
}
