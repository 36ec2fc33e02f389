/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/homeassistant-config.h"

#include <string.h>

#include "drivers/mqtt/payload.h"

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

JsonObject *
kith_mqtt_homeassistant_normalize (JsonObject *config, JsonObject *shared)
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
