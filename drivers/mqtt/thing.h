/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "device.h"
#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/* a device's log line, with its id as a structured field */
#define KITH_MQTT_DEVICE_LOG(level, id, format, ...)                                               \
	g_log_structured (G_LOG_DOMAIN, level, "KITH_DEVICE", (id), "MESSAGE", "%s: " format,      \
	                  (id), ##__VA_ARGS__)

/*
 * What the driver knows of one device on the broker: the parts the conventions announced
 * (merged into the KithDevice's fields), which topic feeds which field, the state of its
 * availability topics, and the topics whose bad payloads were already said. No I/O.
 */
typedef struct _KithMqttThing KithMqttThing;

typedef enum {
	KITH_MQTT_THING_VALUES = 1 << 0,       /* a value changed */
	KITH_MQTT_THING_AVAILABILITY = 1 << 1, /* it came or went */
} KithMqttThingChange;

/* takes a reference on device */
KithMqttThing *kith_mqtt_thing_new (KithDevice *device, const gchar *key);
void kith_mqtt_thing_free (KithMqttThing *self);
KithDevice *kith_mqtt_thing_get_device (KithMqttThing *self);
const gchar *kith_mqtt_thing_get_key (KithMqttThing *self);

/* label, manufacturer, model and class of the announcement onto the device */
void kith_mqtt_thing_describe (KithMqttThing *self, const KithMqttDescription *description);
/* takes part, replacing the part of the same id */
void kith_mqtt_thing_set_part (KithMqttThing *self, KithMqttPart *part);
gboolean kith_mqtt_thing_remove_part (KithMqttThing *self, const gchar *id);
/* removes the parts whose id starts with prefix and are not in keep */
void kith_mqtt_thing_remove_parts_except (KithMqttThing *self, const gchar *prefix,
                                          GHashTable *keep);
guint kith_mqtt_thing_count_parts (KithMqttThing *self);
/* applies the parts to the device: fields added, redefined (keeping their values) and removed
 * (prune: also the fields no part defines, for a convention that describes all of a device at
 * once); FALSE if the device's fields did not change */
gboolean kith_mqtt_thing_sync (KithMqttThing *self, gboolean prune);

/* every topic it listens to (bindings and availability) into set */
void kith_mqtt_thing_collect_topics (KithMqttThing *self, GHashTable *set);
/* TRUE if the thing listens to topic */
gboolean kith_mqtt_thing_has_topic (KithMqttThing *self, const gchar *topic);

/* a message on one of its topics: values set on the device, availability noted; bad
 * payloads are said once per topic and skipped */
KithMqttThingChange kith_mqtt_thing_handle (KithMqttThing *self, KithMqttMessage *message);
/* says a bad payload on topic, once per topic (what: the field it was for) */
void kith_mqtt_thing_complain (KithMqttThing *self, const gchar *topic, const gchar *what,
                               const GError *error);
/* what its availability topics say (TRUE while none said anything); reason is set when not */
gboolean kith_mqtt_thing_is_available (KithMqttThing *self, const gchar **reason);

const KithMqttCommand *kith_mqtt_thing_find_command (KithMqttThing *self, const gchar *field);
/* TRUE if some topic feeds field (else a written value is taken as the new state) */
gboolean kith_mqtt_thing_has_state (KithMqttThing *self, const gchar *field);

G_END_DECLS
