/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include <string.h>

#include "drivers/mqtt/bus-private.h"
#include "drivers/mqtt/homeassistant.h"
#include "drivers/mqtt/shelly.h"
#include "drivers/mqtt/tasmota.h"
#include "drivers/mqtt/zigbee2mqtt.h"
#include "kith-error.h"

/* outstanding Shelly RPC requests (a flood of prefixes must not grow this without end) */
#define KITH_MQTT_PROBES_MAX 256

typedef struct {
	JsonNode *config;
	JsonNode *sensors;
} KithMqttTasmotaCache;

typedef struct {
	gchar *prefix;
	JsonNode *info; /* the answer to Shelly.GetDeviceInfo, once there */
} KithMqttRpcPending;

static void
kith_mqtt_tasmota_cache_free (KithMqttTasmotaCache *cache)
{
	g_clear_pointer (&cache->config, json_node_unref);
	g_clear_pointer (&cache->sensors, json_node_unref);
	g_free (cache);
}

static void
kith_mqtt_rpc_pending_free (KithMqttRpcPending *pending)
{
	g_free (pending->prefix);
	g_clear_pointer (&pending->info, json_node_unref);
	g_free (pending);
}

void
kith_mqtt_discovery_clear (KithMqttBus *self)
{
	g_clear_pointer (&self->ha_configs, g_hash_table_unref);
	g_clear_pointer (&self->tasmota, g_hash_table_unref);
	g_clear_pointer (&self->shelly_probes, g_hash_table_unref);
	g_clear_pointer (&self->rpc_pending, g_hash_table_unref);
}

void
kith_mqtt_discovery_start (KithMqttBus *self)
{
	g_autofree gchar *filter = NULL;

	self->ha_configs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->tasmota = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                       (GDestroyNotify)kith_mqtt_tasmota_cache_free);
	self->shelly_probes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->rpc_pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
	                                           (GDestroyNotify)kith_mqtt_rpc_pending_free);
	if (self->options.homeassistant) {
		filter = g_strdup_printf ("%s/+/+/config", self->options.discovery_prefix);
		kith_mqtt_bus_listen (self, filter);
		g_free (filter);
		filter = g_strdup_printf ("%s/+/+/+/config", self->options.discovery_prefix);
		kith_mqtt_bus_listen (self, filter);
		g_clear_pointer (&filter, g_free);
	}
	if (self->options.zigbee2mqtt) {
		filter = g_strdup_printf ("%s/bridge/devices", self->options.base_topic);
		kith_mqtt_bus_listen (self, filter);
		g_clear_pointer (&filter, g_free);
	}
	if (self->options.tasmota) {
		kith_mqtt_bus_listen (self, KITH_MQTT_TASMOTA_PREFIX "/+/config");
		kith_mqtt_bus_listen (self, KITH_MQTT_TASMOTA_PREFIX "/+/sensors");
	}
	if (self->options.shelly) {
		kith_mqtt_bus_listen (self, "shellies/#");
		kith_mqtt_bus_listen (self, "+/online");
		kith_mqtt_bus_listen (self, "+/status/+");
		kith_mqtt_bus_listen (self, "+/events/rpc");
		filter = g_strdup_printf ("%s/rpc", self->options.rpc_source);
		kith_mqtt_bus_listen (self, filter);
	}
}

void
kith_mqtt_discovery_connected (KithMqttBus *self)
{
	if (!self->options.shelly)
		return;
	/* gen1 devices answer with shellies/announce; gen2 prefixes are asked again */
	kith_mqtt_bus_publish (self, KITH_MQTT_SHELLY_GEN1_COMMAND, "announce");
	g_hash_table_remove_all (self->shelly_probes);
	g_hash_table_remove_all (self->rpc_pending);
}

static KithMqttThing *
kith_mqtt_discovery_thing (KithMqttBus *self, const gchar *key)
{
	return key != NULL ? g_hash_table_lookup (self->things, key) : NULL;
}

/* a config gone: its entities leave their device */
static void
kith_mqtt_discovery_ha_remove (KithMqttBus *self, const KithMqttHaTopic *topic)
{
	const gchar *key = g_hash_table_lookup (self->ha_configs, topic->discovery_id);
	KithMqttThing *thing = kith_mqtt_discovery_thing (self, key);
	gboolean device_based = g_strcmp0 (topic->component, "device") == 0;
	g_autofree gchar *prefix = g_strconcat (topic->discovery_id, "/", NULL);

	if (thing != NULL)
		kith_mqtt_bus_remove_parts (
		        self, thing, device_based ? prefix : topic->discovery_id, !device_based);
	g_hash_table_remove (self->ha_configs, topic->discovery_id);
}

static void
kith_mqtt_discovery_homeassistant (KithMqttBus *self, const KithMqttHaTopic *topic,
                                   KithMqttMessage *message)
{
	g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (KithMqttDescription) description = NULL;
	g_autoptr (GError) error = NULL;
	gboolean device_based = g_strcmp0 (topic->component, "device") == 0;
	g_autofree gchar *prefix = g_strconcat (topic->discovery_id, "/", NULL);
	const gchar *owner;
	JsonNode *root;

	if (message->length == 0) {
		kith_mqtt_discovery_ha_remove (self, topic);
		return;
	}
	root = kith_mqtt_message_get_json (message, &error);
	if (root != NULL)
		description = kith_mqtt_homeassistant_parse (topic, root, notes, &error);
	for (guint i = 0; i < notes->len; i++) {
		g_autofree gchar *where = g_strdup_printf ("%s#%u", message->topic, i);
		kith_mqtt_bus_complain (self, where, g_ptr_array_index (notes, i));
	}
	if (description == NULL) {
		kith_mqtt_bus_complain (self, message->topic, error->message);
		kith_mqtt_discovery_ha_remove (self, topic); /* what it announced before is void */
		return;
	}
	owner = g_hash_table_lookup (self->ha_configs, topic->discovery_id);
	if (owner != NULL && g_strcmp0 (owner, description->key) != 0)
		kith_mqtt_discovery_ha_remove (self, topic); /* moved to another device */
	if (kith_mqtt_bus_announce (self, description, device_based ? prefix : NULL, FALSE) != NULL)
		g_hash_table_insert (self->ha_configs, g_strdup (topic->discovery_id),
		                     g_strdup (description->key));
}

/* the devices of a convention the bus no longer lists, this run's and earlier runs' */
static void
kith_mqtt_discovery_forget_unlisted (KithMqttBus *self, const gchar *prefix, GHashTable *listed)
{
	GPtrArray *devices = kith_driver_get_devices (self->driver);
	g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);

	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		const gchar *key = kith_device_get_key (device);
		if (key != NULL && g_str_has_prefix (key, prefix) &&
		    !g_hash_table_contains (listed, key))
			g_ptr_array_add (gone, g_object_ref (device));
	}
	for (guint i = 0; i < gone->len; i++) {
		KithDevice *device = g_ptr_array_index (gone, i);
		KithMqttThing *thing =
		        kith_mqtt_discovery_thing (self, kith_device_get_key (device));
		if (thing != NULL && kith_mqtt_thing_get_device (thing) == device)
			kith_mqtt_bus_forget (self, thing);
		else
			kith_driver_remove_device (self->driver, device);
	}
}

static void
kith_mqtt_discovery_zigbee2mqtt (KithMqttBus *self, KithMqttMessage *message)
{
	g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) descriptions = NULL;
	g_autoptr (GHashTable) listed =
	        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr (GError) error = NULL;
	JsonNode *root = kith_mqtt_message_get_json (message, &error);

	if (root != NULL)
		descriptions = kith_mqtt_zigbee2mqtt_parse_devices (self->options.base_topic, root,
		                                                    notes, &error);
	if (descriptions == NULL) {
		kith_mqtt_bus_complain (self, message->topic, error->message);
		return;
	}
	for (guint i = 0; i < notes->len; i++) {
		g_autofree gchar *where = g_strdup_printf ("%s#%s", message->topic,
		                                           (gchar *)g_ptr_array_index (notes, i));
		kith_mqtt_bus_complain (self, where, g_ptr_array_index (notes, i));
	}
	for (guint i = 0; i < descriptions->len; i++) {
		KithMqttDescription *description = g_ptr_array_index (descriptions, i);
		g_hash_table_add (listed, g_strdup (description->key));
		kith_mqtt_bus_announce (self, description, NULL, TRUE);
	}
	kith_mqtt_discovery_forget_unlisted (self, "zigbee2mqtt:", listed);
}

static void
kith_mqtt_discovery_tasmota (KithMqttBus *self, const gchar *mac, gboolean sensors,
                             KithMqttMessage *message)
{
	KithMqttTasmotaCache *cache = g_hash_table_lookup (self->tasmota, mac);
	g_autofree gchar *key = g_strconcat ("tasmota:", mac, NULL);
	g_autoptr (KithMqttDescription) description = NULL;
	g_autoptr (GError) error = NULL;
	JsonNode *root = NULL;

	if (message->length > 0) {
		root = kith_mqtt_message_get_json (message, &error);
		if (root == NULL) {
			kith_mqtt_bus_complain (self, message->topic, error->message);
			return;
		}
	} else if (!sensors) {
		KithMqttThing *thing = kith_mqtt_discovery_thing (self, key);
		g_hash_table_remove (self->tasmota, mac);
		if (thing != NULL)
			kith_mqtt_bus_forget (self, thing);
		return;
	}
	if (cache == NULL) {
		cache = g_new0 (KithMqttTasmotaCache, 1);
		g_hash_table_insert (self->tasmota, g_strdup (mac), cache);
	}
	if (sensors) {
		g_clear_pointer (&cache->sensors, json_node_unref);
		cache->sensors = root != NULL ? json_node_ref (root) : NULL;
	} else {
		g_clear_pointer (&cache->config, json_node_unref);
		cache->config = json_node_ref (root);
	}
	if (cache->config == NULL)
		return; /* the sensors of a device whose config comes next */
	description = kith_mqtt_tasmota_parse (mac, cache->config, cache->sensors, &error);
	if (description == NULL) {
		kith_mqtt_bus_complain (self, message->topic, error->message);
		return;
	}
	kith_mqtt_bus_announce (self, description, NULL, TRUE);
}

static void
kith_mqtt_discovery_shelly_announce (KithMqttBus *self, KithMqttMessage *message)
{
	g_autoptr (KithMqttDescription) description = NULL;
	g_autoptr (GError) error = NULL;
	JsonNode *root = kith_mqtt_message_get_json (message, &error);

	if (root != NULL)
		description = kith_mqtt_shelly_parse_announce (root, &error);
	if (description == NULL) {
		if (!g_error_matches (error, KITH_ERROR, KITH_ERROR_INVALID) ||
		    strstr (error->message, "gen2") == NULL)
			kith_mqtt_bus_complain (self, message->topic, error->message);
		return;
	}
	kith_mqtt_bus_announce (self, description, NULL, FALSE);
}

/* shellies/<id>/<subtopic> of a known gen1 device: a part when first seen */
static gboolean
kith_mqtt_discovery_shelly_gen1 (KithMqttBus *self, KithMqttMessage *message)
{
	g_autofree gchar *id = NULL;
	g_autofree gchar *subtopic = NULL;
	g_autofree gchar *key = NULL;
	KithMqttThing *thing;
	KithMqttPart *part;

	if (!kith_mqtt_shelly_gen1_split (message->topic, &id, &subtopic))
		return FALSE;
	key = g_strconcat ("shelly:", id, NULL);
	thing = kith_mqtt_discovery_thing (self, key);
	if (thing == NULL || kith_mqtt_thing_has_topic (thing, message->topic))
		return TRUE;
	part = kith_mqtt_shelly_gen1_part (id, subtopic);
	if (part == NULL)
		return TRUE;
	kith_mqtt_bus_add_part (self, thing, part);
	if (g_hash_table_contains (self->things, key))
		kith_mqtt_bus_deliver (self, thing, message);
	return TRUE;
}

static void
kith_mqtt_discovery_rpc (KithMqttBus *self, const gchar *prefix, const gchar *method,
                         JsonNode *info)
{
	g_autofree gchar *topic = g_strdup_printf ("%s/rpc", prefix);
	g_autofree gchar *request = NULL;
	KithMqttRpcPending *pending;
	gint64 id = ++self->rpc_id;

	if (g_hash_table_size (self->rpc_pending) >= KITH_MQTT_PROBES_MAX)
		return;
	request = kith_mqtt_shelly_rpc_request (id, self->options.rpc_source, method);
	if (!kith_mqtt_bus_publish (self, topic, request))
		return;
	pending = g_new0 (KithMqttRpcPending, 1);
	pending->prefix = g_strdup (prefix);
	pending->info = info != NULL ? json_node_ref (info) : NULL;
	g_hash_table_insert (self->rpc_pending, g_memdup2 (&id, sizeof id), pending);
}

/* an unknown gen2 prefix: ask it who it is */
static void
kith_mqtt_discovery_shelly_probe (KithMqttBus *self, KithMqttMessage *message)
{
	g_autofree gchar *prefix = kith_mqtt_shelly_gen2_prefix (message->topic);

	if (prefix == NULL || g_hash_table_contains (self->shelly_probes, prefix) ||
	    g_hash_table_size (self->shelly_probes) >= KITH_MQTT_PROBES_MAX)
		return;
	if (g_str_has_suffix (message->topic, "/online") &&
	    g_strcmp0 (message->payload, "true") != 0)
		return;
	g_hash_table_add (self->shelly_probes, g_strdup (prefix));
	kith_mqtt_discovery_rpc (self, prefix, "Shelly.GetDeviceInfo", NULL);
}

/* the status the device gave, as if it had published it on its status topics */
static void
kith_mqtt_discovery_shelly_status (KithMqttBus *self, KithMqttThing *thing, const gchar *prefix,
                                   JsonObject *status)
{
	JsonObjectIter iter;
	const gchar *component;
	JsonNode *node;

	json_object_iter_init (&iter, status);
	while (json_object_iter_next (&iter, &component, &node)) {
		g_autofree gchar *topic = g_strdup_printf ("%s/status/%s", prefix, component);
		g_autofree gchar *payload = json_to_string (node, FALSE);
		KithMqttMessage message;

		if (!kith_mqtt_thing_has_topic (thing, topic))
			continue;
		kith_mqtt_message_init (&message, topic, payload, strlen (payload), FALSE);
		kith_mqtt_bus_deliver (self, thing, &message);
		kith_mqtt_message_clear (&message);
	}
}

static void
kith_mqtt_discovery_shelly_reply (KithMqttBus *self, KithMqttMessage *message)
{
	g_autoptr (KithMqttDescription) description = NULL;
	g_autoptr (GError) error = NULL;
	JsonNode *root = kith_mqtt_message_get_json (message, NULL);
	KithMqttRpcPending *pending;
	JsonObject *result = NULL;
	KithMqttThing *thing;
	gint64 id;

	if (!kith_mqtt_shelly_rpc_response (root, &id, &result) ||
	    (pending = g_hash_table_lookup (self->rpc_pending, &id)) == NULL)
		return;
	if (pending->info == NULL) {
		JsonNode *info = json_node_init_object (json_node_alloc (), result);
		kith_mqtt_discovery_rpc (self, pending->prefix, "Shelly.GetStatus", info);
		json_node_unref (info);
		g_hash_table_remove (self->rpc_pending, &id);
		return;
	}
	description = kith_mqtt_shelly_gen2_describe (pending->prefix,
	                                              json_node_get_object (pending->info), result,
	                                              self->options.rpc_source, &error);
	if (description == NULL) {
		kith_mqtt_bus_complain (self, message->topic, error->message);
	} else {
		thing = kith_mqtt_bus_announce (self, description, NULL, TRUE);
		if (thing != NULL)
			kith_mqtt_discovery_shelly_status (self, thing, pending->prefix, result);
	}
	g_hash_table_remove (self->rpc_pending, &id);
}

static gboolean
kith_mqtt_discovery_shelly (KithMqttBus *self, KithMqttMessage *message, gboolean routed)
{
	g_autofree gchar *replies = g_strdup_printf ("%s/rpc", self->options.rpc_source);

	if (g_strcmp0 (message->topic, KITH_MQTT_SHELLY_GEN1_ANNOUNCE) == 0) {
		kith_mqtt_discovery_shelly_announce (self, message);
		return TRUE;
	}
	if (g_strcmp0 (message->topic, replies) == 0) {
		kith_mqtt_discovery_shelly_reply (self, message);
		return TRUE;
	}
	if (g_str_has_prefix (message->topic, "shellies/"))
		return routed || kith_mqtt_discovery_shelly_gen1 (self, message);
	if (!routed)
		kith_mqtt_discovery_shelly_probe (self, message);
	return TRUE;
}

gboolean
kith_mqtt_discovery_message (KithMqttBus *self, KithMqttMessage *message, gboolean routed)
{
	KithMqttHaTopic topic;
	g_autofree gchar *mac = NULL;
	gboolean sensors;

	if (self->options.homeassistant &&
	    kith_mqtt_homeassistant_parse_topic (self->options.discovery_prefix, message->topic,
	                                         &topic)) {
		kith_mqtt_discovery_homeassistant (self, &topic, message);
		kith_mqtt_ha_topic_clear (&topic);
		return TRUE;
	}
	if (self->options.zigbee2mqtt &&
	    g_str_has_prefix (message->topic, self->options.base_topic) &&
	    g_strcmp0 (message->topic + strlen (self->options.base_topic), "/bridge/devices") ==
	            0) {
		kith_mqtt_discovery_zigbee2mqtt (self, message);
		return TRUE;
	}
	if (self->options.tasmota &&
	    kith_mqtt_tasmota_parse_topic (message->topic, &mac, &sensors)) {
		kith_mqtt_discovery_tasmota (self, mac, sensors, message);
		return TRUE;
	}
	if (self->options.shelly)
		return kith_mqtt_discovery_shelly (self, message, routed);
	return FALSE;
}
