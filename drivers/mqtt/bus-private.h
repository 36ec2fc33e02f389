/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "drivers/mqtt/bus.h"
#include "drivers/mqtt/thing.h"

G_BEGIN_DECLS

/* what bus.c (devices, routes, writes) and discovery.c (the conventions) share */
struct _KithMqttBus {
	KithDriver *driver;
	KithMqttBusOptions options; /* strings owned */
	KithMqttBusIo io;
	gpointer io_data;
	GHashTable *things; /* key -> KithMqttThing */
	GHashTable *routes; /* topic -> GPtrArray of KithMqttThing (the things') */
	GPtrArray *filters; /* the wildcard filters the conventions subscribed */
	gboolean connected;
	gchar *down_reason;
	gboolean refusal_said;
	GHashTable *said; /* topics whose problems were said (no device to say it for) */
	/* the conventions' own state */
	GHashTable *ha_configs;    /* Home Assistant discovery id -> key of its device */
	GHashTable *tasmota;       /* MAC -> KithMqttTasmotaCache */
	GHashTable *shelly_probes; /* gen2 prefixes asked who they are */
	GHashTable *rpc_pending;   /* RPC id -> KithMqttRpcPending */
	gint64 rpc_id;
};

/* applies an announcement: the device is created (or confirmed, when known from an earlier
 * run), its parts set; replace: the parts whose id starts with it and that the
 * announcement does not have are removed; prune: fields no part defines are removed. Takes
 * the description's parts. Returns the thing, NULL if there is none (refused, gone). */
KithMqttThing *kith_mqtt_bus_announce (KithMqttBus *self, KithMqttDescription *description,
                                       const gchar *replace, gboolean prune);
/* a part more for a thing (a Shelly gen1 topic seen the first time) */
void kith_mqtt_bus_add_part (KithMqttBus *self, KithMqttThing *thing, KithMqttPart *part);
/* removes the parts of a thing (all whose id starts with prefix); the device goes with its
 * last part */
void kith_mqtt_bus_remove_parts (KithMqttBus *self, KithMqttThing *thing, const gchar *prefix,
                                 gboolean exact);
/* the device is gone from the bus */
void kith_mqtt_bus_forget (KithMqttBus *self, KithMqttThing *thing);
/* hands a message to one thing and tells the core what changed */
void kith_mqtt_bus_deliver (KithMqttBus *self, KithMqttThing *thing, KithMqttMessage *message);
/* a problem with a message that belongs to no device, said once per topic */
void kith_mqtt_bus_complain (KithMqttBus *self, const gchar *topic, const gchar *message);
/* subscribes a wildcard filter of a convention */
void kith_mqtt_bus_listen (KithMqttBus *self, const gchar *filter);
gboolean kith_mqtt_bus_publish (KithMqttBus *self, const gchar *topic, const gchar *payload);

/* discovery.c */
void kith_mqtt_discovery_start (KithMqttBus *self);
void kith_mqtt_discovery_connected (KithMqttBus *self);
/* TRUE if a convention took the message */
gboolean kith_mqtt_discovery_message (KithMqttBus *self, KithMqttMessage *message, gboolean routed);
void kith_mqtt_discovery_clear (KithMqttBus *self);

G_END_DECLS
