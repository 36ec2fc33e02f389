/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/tasmota.h"

#include <string.h>

#include "kith-error.h"

/* the units of Tasmota's sensor members (its own are not in the discovery message) */
static const gchar *const kith_mqtt_tasmota_units[][2] = {
	{ "Humidity", "%" },
	{ "Pressure", "hPa" },
	{ "SeaPressure", "hPa" },
	{ "Illuminance", "lx" },
	{ "Power", "W" },
	{ "ApparentPower", "VA" },
	{ "ReactivePower", "var" },
	{ "Voltage", "V" },
	{ "Current", "A" },
	{ "Total", "kWh" },
	{ "Today", "kWh" },
	{ "Yesterday", "kWh" },
	{ "Frequency", "Hz" },
	{ "CarbonDioxide", "ppm" },
	{ "CO2", "ppm" },
	{ "Distance", "cm" },
	{ "Gas", "%" },
	{ "Factor", "" },
};

typedef struct {
	const gchar *mac;
	JsonObject *config;
	gchar *cmnd; /* "cmnd/tasmota_ABCDEF/" */
	gchar *stat;
	gchar *tele;
	const gchar *on;
	const gchar *off;
} KithMqttTasmota;

gboolean
kith_mqtt_tasmota_parse_topic (const gchar *topic, gchar **mac, gboolean *sensors)
{
	g_auto (GStrv) levels = NULL;

	if (!g_str_has_prefix (topic, KITH_MQTT_TASMOTA_PREFIX "/"))
		return FALSE;
	levels = g_strsplit (topic + strlen (KITH_MQTT_TASMOTA_PREFIX "/"), "/", -1);
	if (g_strv_length (levels) != 2 || levels[0][0] == '\0')
		return FALSE;
	if (g_strcmp0 (levels[1], "config") != 0 && g_strcmp0 (levels[1], "sensors") != 0)
		return FALSE;
	*sensors = g_strcmp0 (levels[1], "sensors") == 0;
	*mac = g_strdup (levels[0]);
	return TRUE;
}

/* the full topic with %prefix%, %topic%, %hostname% and %id% filled in */
static gchar *
kith_mqtt_tasmota_full_topic (KithMqttTasmota *tasmota, guint index)
{
	static const gchar *const defaults[] = { "cmnd", "stat", "tele" };
	const gchar *full = kith_mqtt_json_get_string (tasmota->config, "ft");
	const gchar *topic = kith_mqtt_json_get_string (tasmota->config, "t");
	const gchar *host = kith_mqtt_json_get_string (tasmota->config, "hn");
	JsonArray *prefixes = kith_mqtt_json_get_array (tasmota->config, "tp");
	const gchar *prefix = NULL;
	gsize n = strlen (tasmota->mac);
	g_autoptr (GString) out = g_string_new (full != NULL ? full : "%prefix%/%topic%/");

	if (prefixes != NULL && index < json_array_get_length (prefixes))
		prefix = kith_mqtt_json_array_string (prefixes, index);
	g_string_replace (out, "%prefix%", prefix != NULL ? prefix : defaults[index], 0);
	g_string_replace (out, "%topic%", topic, 0);
	g_string_replace (out, "%hostname%", host != NULL ? host : "", 0);
	g_string_replace (out, "%id%", n >= 6 ? tasmota->mac + n - 6 : tasmota->mac, 0);
	if (out->len == 0 || out->str[out->len - 1] != '/')
		g_string_append_c (out, '/');
	return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
kith_mqtt_tasmota_bind_member (KithMqttPart *part, const gchar *topic, const gchar *field,
                               KithValueType type, const gchar *const *path,
                               KithMqttTasmota *tasmota)
{
	KithMqttBinding *binding =
	        kith_mqtt_binding_new (topic, field, type, kith_mqtt_extract_new_members (path));
	binding->optional = TRUE;
	if (type == KITH_VALUE_BOOLEAN) {
		binding->state_on = g_strdup (tasmota->on);
		binding->state_off = g_strdup (tasmota->off);
	}
	g_ptr_array_add (part->bindings, binding);
}

/* POWERn: stat/<t>/POWERn, stat/<t>/RESULT and tele/<t>/STATE; written on cmnd/<t>/POWERn */
static void
kith_mqtt_tasmota_power (KithMqttTasmota *tasmota, KithMqttPart *part, const gchar *name)
{
	const gchar *path[] = { name, NULL };
	g_autofree gchar *stat = g_strconcat (tasmota->stat, name, NULL);
	g_autofree gchar *result = g_strconcat (tasmota->stat, "RESULT", NULL);
	g_autofree gchar *state = g_strconcat (tasmota->tele, "STATE", NULL);
	g_autofree gchar *cmnd = g_strconcat (tasmota->cmnd, name, NULL);
	KithField *field = kith_mqtt_field_new (name, KITH_VALUE_BOOLEAN, NULL);
	KithMqttBinding *binding;
	KithMqttCommand *command;

	field->writable = TRUE;
	g_ptr_array_add (part->fields, field);
	binding = kith_mqtt_binding_new (stat, name, KITH_VALUE_BOOLEAN, NULL);
	binding->state_on = g_strdup (tasmota->on);
	binding->state_off = g_strdup (tasmota->off);
	g_ptr_array_add (part->bindings, binding);
	kith_mqtt_tasmota_bind_member (part, result, name, KITH_VALUE_BOOLEAN, path, tasmota);
	kith_mqtt_tasmota_bind_member (part, state, name, KITH_VALUE_BOOLEAN, path, tasmota);
	command = kith_mqtt_command_new (name, cmnd);
	command->payload_on = g_strdup (tasmota->on);
	command->payload_off = g_strdup (tasmota->off);
	g_ptr_array_add (part->commands, command);
}

/* a light's Dimmer (0-100 %) */
static void
kith_mqtt_tasmota_dimmer (KithMqttTasmota *tasmota, KithMqttPart *part)
{
	static const gchar *const path[] = { "Dimmer", NULL };
	g_autofree gchar *result = g_strconcat (tasmota->stat, "RESULT", NULL);
	g_autofree gchar *state = g_strconcat (tasmota->tele, "STATE", NULL);
	g_autofree gchar *cmnd = g_strconcat (tasmota->cmnd, "Dimmer", NULL);
	KithField *field = kith_mqtt_field_new ("Dimmer", KITH_VALUE_NUMERIC, "%");

	field->writable = TRUE;
	field->min = 0;
	field->max = 100;
	field->decimals = 0;
	field->status_decimals = 0;
	g_ptr_array_add (part->fields, field);
	kith_mqtt_tasmota_bind_member (part, result, "Dimmer", KITH_VALUE_NUMERIC, path, tasmota);
	kith_mqtt_tasmota_bind_member (part, state, "Dimmer", KITH_VALUE_NUMERIC, path, tasmota);
	g_ptr_array_add (part->commands, kith_mqtt_command_new ("Dimmer", cmnd));
}

static KithMqttPart *
kith_mqtt_tasmota_relays (KithMqttTasmota *tasmota)
{
	JsonArray *relays = kith_mqtt_json_get_array (tasmota->config, "rl");
	KithMqttPart *part = kith_mqtt_part_new ("config");
	g_autofree gchar *lwt = g_strconcat (tasmota->tele, "LWT", NULL);
	const gchar *online = kith_mqtt_json_get_string (tasmota->config, "onln");
	const gchar *offline = kith_mqtt_json_get_string (tasmota->config, "ofln");
	guint count = 0;
	gboolean light = FALSE;

	for (guint i = 0; relays != NULL && i < json_array_get_length (relays); i++) {
		gint64 kind = kith_mqtt_json_array_int (relays, i, 0);
		if (kind == 1 || kind == 2)
			count++;
	}
	for (guint i = 0; relays != NULL && i < json_array_get_length (relays); i++) {
		gint64 kind = kith_mqtt_json_array_int (relays, i, 0);
		g_autofree gchar *name = NULL;
		if (kind != 1 && kind != 2)
			continue; /* 0: none, 3: a shutter */
		name = count == 1 ? g_strdup ("POWER") : g_strdup_printf ("POWER%u", i + 1);
		kith_mqtt_tasmota_power (tasmota, part, name);
		light |= kind == 2;
	}
	if (light)
		kith_mqtt_tasmota_dimmer (tasmota, part);
	g_ptr_array_add (part->availability,
	                 kith_mqtt_availability_new (lwt, online != NULL ? online : "Online",
	                                             offline != NULL ? offline : "Offline", NULL));
	return part;
}

static const gchar *
kith_mqtt_tasmota_unit (const gchar *member, JsonObject *sn)
{
	const gchar *temperature = kith_mqtt_json_get_string (sn, "TempUnit");
	const gchar *pressure = kith_mqtt_json_get_string (sn, "PressureUnit");

	if (g_strcmp0 (member, "Temperature") == 0 || g_strcmp0 (member, "DewPoint") == 0)
		return g_strcmp0 (temperature, "F") == 0 ? "°F" : "°C";
	if (pressure != NULL && g_str_has_suffix (member, "Pressure"))
		return pressure;
	for (guint i = 0; i < G_N_ELEMENTS (kith_mqtt_tasmota_units); i++) {
		if (g_strcmp0 (kith_mqtt_tasmota_units[i][0], member) == 0)
			return kith_mqtt_tasmota_units[i][1];
	}
	return "";
}

/* every number of every sensor object of "sn": "<sensor> <member>" from tele/<t>/SENSOR */
static KithMqttPart *
kith_mqtt_tasmota_sensors (KithMqttTasmota *tasmota, JsonObject *sn)
{
	KithMqttPart *part = kith_mqtt_part_new ("sensors");
	g_autofree gchar *topic = g_strconcat (tasmota->tele, "SENSOR", NULL);
	JsonObjectIter iter;
	const gchar *sensor;
	JsonNode *node;

	json_object_iter_init (&iter, sn);
	while (json_object_iter_next (&iter, &sensor, &node)) {
		JsonObjectIter members;
		const gchar *member;
		JsonNode *value;

		if (!JSON_NODE_HOLDS_OBJECT (node))
			continue;
		json_object_iter_init (&members, json_node_get_object (node));
		while (json_object_iter_next (&members, &member, &value)) {
			const gchar *path[] = { sensor, member, NULL };
			g_autofree gchar *name = g_strdup_printf ("%s %s", sensor, member);
			KithField *field;

			if (!JSON_NODE_HOLDS_VALUE (value) ||
			    (json_node_get_value_type (value) != G_TYPE_INT64 &&
			     json_node_get_value_type (value) != G_TYPE_DOUBLE))
				continue;
			field = kith_mqtt_field_new (name, KITH_VALUE_NUMERIC,
			                             kith_mqtt_tasmota_unit (member, sn));
			g_ptr_array_add (part->fields, field);
			kith_mqtt_tasmota_bind_member (part, topic, name, KITH_VALUE_NUMERIC, path,
			                               tasmota);
		}
	}
	return part;
}

KithMqttDescription *
kith_mqtt_tasmota_parse (const gchar *mac, JsonNode *config, JsonNode *sensors, GError **error)
{
	KithMqttTasmota tasmota = { .mac = mac };
	g_autofree gchar *key = g_strconcat ("tasmota:", mac, NULL);
	g_autoptr (KithMqttDescription) description = NULL;
	JsonArray *names;
	const gchar *label;
	JsonArray *state;

	if (config == NULL || !JSON_NODE_HOLDS_OBJECT (config)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "config is not a JSON object");
		return NULL;
	}
	tasmota.config = json_node_get_object (config);
	if (kith_mqtt_json_get_string (tasmota.config, "t") == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "config has no topic (\"t\")");
		return NULL;
	}
	state = kith_mqtt_json_get_array (tasmota.config, "state");
	tasmota.off = state != NULL && json_array_get_length (state) >= 2
	                      ? kith_mqtt_json_array_string (state, 0)
	                      : NULL;
	tasmota.on = state != NULL && json_array_get_length (state) >= 2
	                     ? kith_mqtt_json_array_string (state, 1)
	                     : NULL;
	tasmota.off = tasmota.off != NULL ? tasmota.off : "OFF";
	tasmota.on = tasmota.on != NULL ? tasmota.on : "ON";
	tasmota.cmnd = kith_mqtt_tasmota_full_topic (&tasmota, 0);
	tasmota.stat = kith_mqtt_tasmota_full_topic (&tasmota, 1);
	tasmota.tele = kith_mqtt_tasmota_full_topic (&tasmota, 2);
	description = kith_mqtt_description_new (key, mac);
	names = kith_mqtt_json_get_array (tasmota.config, "fn");
	label = kith_mqtt_json_get_string (tasmota.config, "dn");
	if (label == NULL && names != NULL && json_array_get_length (names) > 0)
		label = kith_mqtt_json_array_string (names, 0);
	if (label == NULL)
		label = kith_mqtt_json_get_string (tasmota.config, "hn");
	description->label = g_strdup (label);
	description->model = g_strdup (kith_mqtt_json_get_string (tasmota.config, "md"));
	g_ptr_array_add (description->parts, kith_mqtt_tasmota_relays (&tasmota));
	if (sensors != NULL && JSON_NODE_HOLDS_OBJECT (sensors)) {
		JsonObject *sn = kith_mqtt_json_get_object (json_node_get_object (sensors), "sn");
		if (sn != NULL)
			g_ptr_array_add (description->parts,
			                 kith_mqtt_tasmota_sensors (&tasmota, sn));
	}
	g_free (tasmota.cmnd);
	g_free (tasmota.stat);
	g_free (tasmota.tele);
	return g_steal_pointer (&description);
}
