/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "driver.h"
#include "drivers/mqtt/client.h"
#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/*
 * The devices of one broker: what the discovery conventions and the configuration announce
 * becomes KithDevices of the driver (created, confirmed when known from an earlier run,
 * changed, removed), each message is routed to the devices listening to its topic, and
 * writes become publications. It reaches the broker only through the functions of
 * KithMqttBusIo, so that it runs in tests without one.
 */
typedef struct _KithMqttBus KithMqttBus;

typedef struct {
	gboolean homeassistant;
	gboolean zigbee2mqtt;
	gboolean tasmota;
	gboolean shelly;
	const gchar *discovery_prefix; /* Home Assistant's, "homeassistant" */
	const gchar *base_topic;       /* Zigbee2MQTT's, "zigbee2mqtt" */
	const gchar *rpc_source;       /* the src of Shelly RPC requests: replies on <src>/rpc */
} KithMqttBusOptions;

typedef struct {
	/* subscribing to a filter subscribed already subscribes again (the broker sends its
	 * retained message once more) */
	void (*subscribe) (const gchar *filter, gpointer user_data);
	void (*unsubscribe) (const gchar *filter, gpointer user_data);
	/* publishes; done runs once the broker has it (or not); FALSE: not sent */
	gboolean (*publish) (const gchar *topic, const gchar *payload, gboolean retain,
	                     KithMqttPublishFunc done, gpointer done_data, gpointer user_data,
	                     GError **error);
} KithMqttBusIo;

/* driver: the driver whose devices these are (not referenced: it owns the bus) */
KithMqttBus *kith_mqtt_bus_new (KithDriver *driver, const KithMqttBusOptions *options,
                                const KithMqttBusIo *io, gpointer io_data);
void kith_mqtt_bus_free (KithMqttBus *self);

/* an explicit device of the configuration (before start); FALSE if it was not added */
gboolean kith_mqtt_bus_add (KithMqttBus *self, KithMqttDescription *description);
/* subscribes what the conventions listen to */
void kith_mqtt_bus_start (KithMqttBus *self);
/* the broker connection came or went: every device answers or not accordingly */
void kith_mqtt_bus_set_connected (KithMqttBus *self, gboolean connected, const gchar *reason);
/* a message from the broker; payload is NUL-terminated */
void kith_mqtt_bus_message (KithMqttBus *self, const gchar *topic, const gchar *payload,
                            gsize length, gboolean retained);

/* publishes the commands of params; done runs on the main loop */
void kith_mqtt_bus_write (KithMqttBus *self, KithDevice *device, GPtrArray *params,
                          KithWriteFunc done, gpointer user_data);
/* TRUE if the bus announced device in this run (else it is one known from an earlier run) */
gboolean kith_mqtt_bus_is_confirmed (KithMqttBus *self, KithDevice *device);

G_END_DECLS
