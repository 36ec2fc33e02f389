/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/bus-private.h"

#include "kith-error.h"

/* at most this many topics without a device have their problems said */
#define KITH_MQTT_SAID_MAX 1024
/* Zigbee2MQTT's device list of a large network is larger than any state */
#define KITH_MQTT_LIST_MAX (16 * 1024 * 1024)
/* a topic read by at most this many devices is subscribed again for a newcomer */
#define KITH_MQTT_REFRESH_MAX 4

KithMqttBus *
kith_mqtt_bus_new (KithDriver *driver, const KithMqttBusOptions *options, const KithMqttBusIo *io,
                   gpointer io_data)
{
	KithMqttBus *self = g_new0 (KithMqttBus, 1);

	self->driver = driver;
	self->options = *options;
	self->options.discovery_prefix = g_strdup (options->discovery_prefix);
	self->options.base_topic = g_strdup (options->base_topic);
	self->options.rpc_source = g_strdup (options->rpc_source);
	self->io = *io;
	self->io_data = io_data;
	self->things = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                      (GDestroyNotify)kith_mqtt_thing_free);
	self->routes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                      (GDestroyNotify)g_ptr_array_unref);
	self->filters = g_ptr_array_new_with_free_func (g_free);
	self->said = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->down_reason = g_strdup ("not connected to the broker yet");
	return self;
}

void
kith_mqtt_bus_free (KithMqttBus *self)
{
	if (self == NULL)
		return;
	kith_mqtt_discovery_clear (self);
	g_hash_table_unref (self->routes);
	g_hash_table_unref (self->things);
	g_ptr_array_unref (self->filters);
	g_hash_table_unref (self->said);
	g_free ((gchar *)self->options.discovery_prefix);
	g_free ((gchar *)self->options.base_topic);
	g_free ((gchar *)self->options.rpc_source);
	g_free (self->down_reason);
	g_free (self);
}

void
kith_mqtt_bus_complain (KithMqttBus *self, const gchar *topic, const gchar *message)
{
	if (g_hash_table_contains (self->said, topic))
		return;
	if (g_hash_table_size (self->said) == KITH_MQTT_SAID_MAX) {
		g_hash_table_add (self->said, g_strdup (topic));
		g_message ("bus %s: more bad messages on other topics are not said",
		           kith_driver_get_bus_name (self->driver));
		return;
	}
	if (g_hash_table_size (self->said) > KITH_MQTT_SAID_MAX)
		return;
	g_hash_table_add (self->said, g_strdup (topic));
	g_message ("bus %s: %s: %s (skipped; not said again for this topic)",
	           kith_driver_get_bus_name (self->driver), topic, message);
}

/* a topic a convention's wildcard already brings needs no subscription of its own */
static gboolean
kith_mqtt_bus_covered (KithMqttBus *self, const gchar *topic)
{
	for (guint i = 0; i < self->filters->len; i++) {
		if (kith_mqtt_topic_matches (g_ptr_array_index (self->filters, i), topic))
			return TRUE;
	}
	return FALSE;
}

void
kith_mqtt_bus_listen (KithMqttBus *self, const gchar *filter)
{
	g_ptr_array_add (self->filters, g_strdup (filter));
	self->io.subscribe (filter, self->io_data);
}

gboolean
kith_mqtt_bus_publish (KithMqttBus *self, const gchar *topic, const gchar *payload)
{
	return self->io.publish (topic, payload, FALSE, NULL, NULL, self->io_data, NULL);
}

static void
kith_mqtt_bus_route_add (KithMqttBus *self, const gchar *topic, KithMqttThing *thing)
{
	GPtrArray *things = g_hash_table_lookup (self->routes, topic);

	if (!kith_mqtt_topic_is_valid (topic)) {
		KITH_MQTT_DEVICE_LOG (G_LOG_LEVEL_DEBUG,
		                      kith_device_get_id (kith_mqtt_thing_get_device (thing)),
		                      "'%s' is not a topic: not subscribed", topic);
		return;
	}
	if (things == NULL) {
		things = g_ptr_array_new ();
		g_hash_table_insert (self->routes, g_strdup (topic), things);
		if (!kith_mqtt_bus_covered (self, topic))
			self->io.subscribe (topic, self->io_data);
	}
	if (!g_ptr_array_find (things, thing, NULL))
		g_ptr_array_add (things, thing);
}

static void
kith_mqtt_bus_route_remove (KithMqttBus *self, const gchar *topic, KithMqttThing *thing)
{
	GPtrArray *things = g_hash_table_lookup (self->routes, topic);

	if (things == NULL || !g_ptr_array_remove_fast (things, thing) || things->len > 0)
		return;
	if (!kith_mqtt_bus_covered (self, topic))
		self->io.unsubscribe (topic, self->io_data);
	g_hash_table_remove (self->routes, topic);
}

static GHashTable *
kith_mqtt_bus_topics (KithMqttThing *thing)
{
	GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	if (thing != NULL)
		kith_mqtt_thing_collect_topics (thing, set);
	return set;
}

/* subscribes what the thing listens to now and no longer what it listened to before */
static void
kith_mqtt_bus_reroute (KithMqttBus *self, KithMqttThing *thing, GHashTable *before)
{
	g_autoptr (GHashTable) after = kith_mqtt_bus_topics (thing);
	GHashTableIter iter;
	gpointer topic;

	g_hash_table_iter_init (&iter, after);
	while (g_hash_table_iter_next (&iter, &topic, NULL)) {
		if (!g_hash_table_contains (before, topic))
			kith_mqtt_bus_route_add (self, topic, thing);
	}
	g_hash_table_iter_init (&iter, before);
	while (g_hash_table_iter_next (&iter, &topic, NULL)) {
		if (!g_hash_table_contains (after, topic))
			kith_mqtt_bus_route_remove (self, topic, thing);
	}
}

/* the state topics of a part */
static void
kith_mqtt_bus_part_topics (KithMqttPart *part, GHashTable *set)
{
	for (guint i = 0; i < part->bindings->len; i++) {
		KithMqttBinding *binding = g_ptr_array_index (part->bindings, i);
		g_hash_table_add (set, g_strdup (binding->topic));
	}
	for (guint i = 0; i < part->availability->len; i++) {
		KithMqttAvailability *source = g_ptr_array_index (part->availability, i);
		g_hash_table_add (set, g_strdup (source->topic));
	}
}

/*
 * A part that reads a topic the bus already subscribed (the second entity of a device on
 * the same state topic) missed its retained message: subscribing again has the broker send
 * it once more. Not for topics many devices share (a bridge's state): they would get it
 * once per newcomer.
 */
static void
kith_mqtt_bus_refresh (KithMqttBus *self, GHashTable *before, GHashTable *fresh)
{
	GHashTableIter iter;
	gpointer topic;

	if (fresh == NULL)
		return;
	g_hash_table_iter_init (&iter, fresh);
	while (g_hash_table_iter_next (&iter, &topic, NULL)) {
		GPtrArray *things = g_hash_table_lookup (self->routes, topic);
		if (g_hash_table_contains (before, topic) && things != NULL &&
		    things->len <= KITH_MQTT_REFRESH_MAX && !kith_mqtt_bus_covered (self, topic))
			self->io.subscribe (topic, self->io_data);
	}
}

static void
kith_mqtt_bus_update_answering (KithMqttBus *self, KithMqttThing *thing)
{
	const gchar *reason = self->down_reason;
	gboolean answering = self->connected && kith_mqtt_thing_is_available (thing, &reason);
	kith_device_set_answering (kith_mqtt_thing_get_device (thing), answering, reason);
}

void
kith_mqtt_bus_forget (KithMqttBus *self, KithMqttThing *thing)
{
	g_autoptr (KithDevice) device = g_object_ref (kith_mqtt_thing_get_device (thing));
	g_autoptr (GPtrArray) topics = g_ptr_array_new_with_free_func (g_free);
	GHashTableIter iter;
	gpointer topic, things;

	/* all its routes, also those of parts it no longer has */
	g_hash_table_iter_init (&iter, self->routes);
	while (g_hash_table_iter_next (&iter, &topic, &things)) {
		if (g_ptr_array_find (things, thing, NULL))
			g_ptr_array_add (topics, g_strdup (topic));
	}
	for (guint i = 0; i < topics->len; i++)
		kith_mqtt_bus_route_remove (self, g_ptr_array_index (topics, i), thing);
	KITH_MQTT_DEVICE_LOG (G_LOG_LEVEL_MESSAGE, kith_device_get_id (device),
	                      "gone from the broker (%s)", kith_mqtt_thing_get_key (thing));
	g_hash_table_remove (self->things, kith_mqtt_thing_get_key (thing));
	kith_driver_remove_device (self->driver, device);
}

/* the thing of a key: known, or the device of an earlier run, or a new device */
static KithMqttThing *
kith_mqtt_bus_thing_for (KithMqttBus *self, KithMqttDescription *description, gboolean *added)
{
	const gchar *bus = kith_driver_get_bus_name (self->driver);
	KithMqttThing *thing = g_hash_table_lookup (self->things, description->key);
	g_autofree gchar *id = NULL;
	g_autoptr (KithDevice) device = NULL;
	KithDevice *known;

	*added = FALSE;
	if (thing != NULL)
		return thing;
	known = kith_driver_find_device_by_key (self->driver, description->key);
	if (known == NULL) {
		id = kith_device_make_id (bus, description->hardware_id);
		if (id == NULL) {
			kith_mqtt_bus_complain (self, description->key,
			                        "no device id can be made of this hardware id");
			return NULL;
		}
		known = kith_driver_find_device (self->driver, id);
		if (known != NULL && kith_device_get_key (known) != NULL &&
		    g_hash_table_contains (self->things, kith_device_get_key (known))) {
			g_autofree gchar *text =
			        g_strdup_printf ("its id %s is the id of %s already", id,
			                         kith_device_get_key (known));
			kith_mqtt_bus_complain (self, description->key, text);
			return NULL;
		}
	}
	if (known != NULL) {
		KITH_MQTT_DEVICE_LOG (G_LOG_LEVEL_INFO, kith_device_get_id (known),
		                      "confirmed by the broker (%s)", description->key);
		device = g_object_ref (known);
	} else {
		device = kith_device_new (id, description->label);
		*added = TRUE;
	}
	thing = kith_mqtt_thing_new (device, description->key);
	g_hash_table_insert (self->things, g_strdup (description->key), thing);
	return thing;
}

/* a new device goes to the core; FALSE if the core refused it */
static gboolean
kith_mqtt_bus_admit (KithMqttBus *self, KithMqttThing *thing)
{
	KithDevice *device = kith_mqtt_thing_get_device (thing);

	if (!self->connected)
		kith_device_set_silent_since (device, g_get_real_time (), self->down_reason);
	if (kith_driver_add_device (self->driver, device))
		return TRUE;
	if (!self->refusal_said)
		g_message ("bus %s: the core refused %s (%s); further refusals on this bus are not "
		           "said",
		           kith_driver_get_bus_name (self->driver), kith_device_get_id (device),
		           kith_mqtt_thing_get_key (thing));
	self->refusal_said = TRUE;
	g_hash_table_remove (self->things, kith_mqtt_thing_get_key (thing));
	return FALSE;
}

/* after parts changed: fields, routes, presence */
static KithMqttThing *
kith_mqtt_bus_settle (KithMqttBus *self, KithMqttThing *thing, GHashTable *before,
                      GHashTable *fresh, gboolean prune, gboolean added)
{
	KithDevice *device = kith_mqtt_thing_get_device (thing);
	gboolean changed = kith_mqtt_thing_sync (thing, prune);

	if (kith_mqtt_thing_count_parts (thing) == 0) {
		if (added) {
			g_hash_table_remove (self->things, kith_mqtt_thing_get_key (thing));
			return NULL;
		}
		kith_mqtt_bus_forget (self, thing);
		return NULL;
	}
	if (added && !kith_mqtt_bus_admit (self, thing))
		return NULL;
	kith_mqtt_bus_reroute (self, thing, before);
	kith_mqtt_bus_refresh (self, before, fresh);
	kith_mqtt_bus_update_answering (self, thing);
	if (changed && !added)
		kith_device_emit_changed (device);
	return thing;
}

KithMqttThing *
kith_mqtt_bus_announce (KithMqttBus *self, KithMqttDescription *description, const gchar *replace,
                        gboolean prune)
{
	gboolean added;
	KithMqttThing *thing = kith_mqtt_bus_thing_for (self, description, &added);
	g_autoptr (GHashTable) before = NULL;
	g_autoptr (GHashTable) keep = NULL;
	g_autoptr (GHashTable) fresh = NULL;

	if (thing == NULL)
		return NULL;
	before = kith_mqtt_bus_topics (thing);
	kith_mqtt_thing_describe (thing, description);
	for (guint i = 0; description->removed != NULL && description->removed[i] != NULL; i++)
		kith_mqtt_thing_remove_part (thing, description->removed[i]);
	keep = g_hash_table_new (g_str_hash, g_str_equal);
	fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	while (description->parts->len > 0) {
		KithMqttPart *part = g_ptr_array_steal_index (description->parts, 0);
		g_hash_table_add (keep, part->id);
		kith_mqtt_bus_part_topics (part, fresh);
		kith_mqtt_thing_set_part (thing, part);
	}
	if (replace != NULL)
		kith_mqtt_thing_remove_parts_except (thing, replace, keep);
	return kith_mqtt_bus_settle (self, thing, before, fresh, prune, added);
}

void
kith_mqtt_bus_add_part (KithMqttBus *self, KithMqttThing *thing, KithMqttPart *part)
{
	g_autoptr (GHashTable) before = kith_mqtt_bus_topics (thing);
	g_autoptr (GHashTable) fresh =
	        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

	kith_mqtt_bus_part_topics (part, fresh);
	kith_mqtt_thing_set_part (thing, part);
	kith_mqtt_bus_settle (self, thing, before, fresh, FALSE, FALSE);
}

void
kith_mqtt_bus_remove_parts (KithMqttBus *self, KithMqttThing *thing, const gchar *prefix,
                            gboolean exact)
{
	g_autoptr (GHashTable) before = kith_mqtt_bus_topics (thing);
	g_autoptr (GHashTable) none = g_hash_table_new (g_str_hash, g_str_equal);

	if (exact)
		kith_mqtt_thing_remove_part (thing, prefix);
	else
		kith_mqtt_thing_remove_parts_except (thing, prefix, none);
	kith_mqtt_bus_settle (self, thing, before, NULL, FALSE, FALSE);
}

gboolean
kith_mqtt_bus_add (KithMqttBus *self, KithMqttDescription *description)
{
	return kith_mqtt_bus_announce (self, description, NULL, TRUE) != NULL;
}

void
kith_mqtt_bus_deliver (KithMqttBus *self, KithMqttThing *thing, KithMqttMessage *message)
{
	KithMqttThingChange change = kith_mqtt_thing_handle (thing, message);

	if (change & KITH_MQTT_THING_AVAILABILITY)
		kith_mqtt_bus_update_answering (self, thing);
	if (change & KITH_MQTT_THING_VALUES)
		kith_device_emit_changed (kith_mqtt_thing_get_device (thing));
}

void
kith_mqtt_bus_start (KithMqttBus *self)
{
	kith_mqtt_discovery_start (self);
}

void
kith_mqtt_bus_set_connected (KithMqttBus *self, gboolean connected, const gchar *reason)
{
	GHashTableIter iter;
	gpointer thing;

	self->connected = connected;
	g_free (self->down_reason);
	self->down_reason = connected ? NULL
	                              : g_strdup_printf ("the broker is not reachable (%s)",
	                                                 reason != NULL ? reason : "disconnected");
	g_hash_table_iter_init (&iter, self->things);
	while (g_hash_table_iter_next (&iter, NULL, &thing))
		kith_mqtt_bus_update_answering (self, thing);
	if (connected)
		kith_mqtt_discovery_connected (self);
}

/* a message without a device to say it for: to the devices of its topic, or said once */
static void
kith_mqtt_bus_refuse (KithMqttBus *self, KithMqttMessage *message, GPtrArray *things,
                      const GError *error)
{
	for (guint i = 0; things != NULL && i < things->len; i++)
		kith_mqtt_thing_complain (g_ptr_array_index (things, i), message->topic,
		                          "all fields", error);
	if (things == NULL)
		kith_mqtt_bus_complain (self, message->topic, error->message);
}

void
kith_mqtt_bus_message (KithMqttBus *self, const gchar *topic, const gchar *payload, gsize length,
                       gboolean retained)
{
	GPtrArray *routed = g_hash_table_lookup (self->routes, topic);
	g_autoptr (GError) error = NULL;
	KithMqttMessage message;
	gsize max = self->options.zigbee2mqtt && g_str_has_suffix (topic, "/bridge/devices")
	                    ? KITH_MQTT_LIST_MAX
	                    : KITH_MQTT_PAYLOAD_MAX;

	kith_mqtt_message_init (&message, topic, payload, length, retained);
	if (!kith_mqtt_message_check (&message, max, &error)) {
		kith_mqtt_bus_refuse (self, &message, routed, error);
		return;
	}
	if (routed != NULL) {
		/* a copy: a delivery may change the routes */
		g_autoptr (GPtrArray) things = g_ptr_array_copy (routed, NULL, NULL);
		for (guint i = 0; i < things->len; i++)
			kith_mqtt_bus_deliver (self, g_ptr_array_index (things, i), &message);
	}
	kith_mqtt_discovery_message (self, &message, routed != NULL);
	kith_mqtt_message_clear (&message);
}

gboolean
kith_mqtt_bus_is_confirmed (KithMqttBus *self, KithDevice *device)
{
	const gchar *key = kith_device_get_key (device);
	KithMqttThing *thing = key != NULL ? g_hash_table_lookup (self->things, key) : NULL;
	return thing != NULL && kith_mqtt_thing_get_device (thing) == device;
}

typedef struct {
	KithMqttBus *bus;
	KithDevice *device;
	KithWriteFunc done;
	gpointer user_data;
	guint outstanding;
	GError *error;
	GPtrArray *optimistic; /* KithParam: written values that no state topic will confirm */
} KithMqttWrite;

static gboolean
kith_mqtt_bus_write_finish_cb (gpointer data)
{
	KithMqttWrite *write = data;

	if (write->error == NULL && write->optimistic->len > 0) {
		for (guint i = 0; i < write->optimistic->len; i++) {
			KithParam *param = g_ptr_array_index (write->optimistic, i);
			param->value.timestamp = g_get_real_time ();
			kith_device_set_value (write->device, param->name, &param->value);
		}
		kith_device_emit_changed (write->device);
	}
	write->done (write->device, write->error, write->user_data);
	g_clear_error (&write->error);
	g_ptr_array_unref (write->optimistic);
	g_object_unref (write->device);
	g_free (write);
	return G_SOURCE_REMOVE;
}

static void
kith_mqtt_bus_write_published_cb (const GError *error, gpointer data)
{
	KithMqttWrite *write = data;

	if (error != NULL && write->error == NULL)
		write->error = g_error_copy (error);
	if (--write->outstanding == 0)
		kith_mqtt_bus_write_finish_cb (write);
}

/* publishes one parameter; FALSE with error if it could not be sent */
static gboolean
kith_mqtt_bus_write_param (KithMqttBus *self, KithMqttThing *thing, KithParam *param,
                           KithMqttWrite *write, GError **error)
{
	const KithMqttCommand *command = kith_mqtt_thing_find_command (thing, param->name);
	g_autofree gchar *payload = NULL;

	if (command == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "%s is not writable",
		             param->name);
		return FALSE;
	}
	if (!kith_mqtt_topic_is_valid (command->topic)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "%s: its command topic '%s' is not a topic", param->name,
		             command->topic);
		return FALSE;
	}
	payload = kith_mqtt_command_render (command, &param->value, error);
	if (payload == NULL)
		return FALSE;
	write->outstanding++;
	if (!self->io.publish (command->topic, payload, command->retain,
	                       kith_mqtt_bus_write_published_cb, write, self->io_data, error)) {
		write->outstanding--;
		return FALSE;
	}
	KITH_MQTT_DEVICE_LOG (G_LOG_LEVEL_DEBUG, kith_device_get_id (write->device),
	                      "%s: published %s on %s", param->name, payload, command->topic);
	if (!kith_mqtt_thing_has_state (thing, param->name) && !command->press)
		g_ptr_array_add (write->optimistic, kith_param_new (param->name, &param->value));
	return TRUE;
}

void
kith_mqtt_bus_write (KithMqttBus *self, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                     gpointer user_data)
{
	const gchar *key = kith_device_get_key (device);
	KithMqttThing *thing = key != NULL ? g_hash_table_lookup (self->things, key) : NULL;
	KithMqttWrite *write = g_new0 (KithMqttWrite, 1);

	write->bus = self;
	write->device = g_object_ref (device);
	write->done = done;
	write->user_data = user_data;
	write->optimistic = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_param_free);
	write->outstanding = 1; /* this function's own, dropped at its end */
	if (thing == NULL || kith_mqtt_thing_get_device (thing) != device)
		write->error = g_error_new (KITH_ERROR, KITH_ERROR_BUS,
		                            "%s has not been seen on the broker since kithd "
		                            "started",
		                            kith_device_get_id (device));
	else if (!kith_device_is_answering (device))
		write->error = g_error_new (KITH_ERROR, KITH_ERROR_BUS, "%s is not answering: %s",
		                            kith_device_get_id (device),
		                            kith_device_get_silent_reason (device));
	for (guint i = 0; write->error == NULL && i < params->len; i++)
		kith_mqtt_bus_write_param (self, thing, g_ptr_array_index (params, i), write,
		                           &write->error);
	/* the result always comes from the main loop, after this returns */
	if (--write->outstanding == 0)
		g_idle_add (kith_mqtt_bus_write_finish_cb, write);
}
