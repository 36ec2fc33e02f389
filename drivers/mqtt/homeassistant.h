/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/*
 * Home Assistant MQTT discovery, as a consumer: per-entity configs at
 * <prefix>/<component>/[<node_id>/]<object_id>/config and device-based configs at
 * <prefix>/device/<object_id>/config (a "cmps" map of components). The entities of one
 * device (the same first device.identifiers entry) become the fields of one device; an entity
 * is a part whose id is its discovery id.
 */

typedef struct {
	gchar *component;    /* sensor, switch, …, or "device" for a device-based config */
	gchar *discovery_id; /* "<component>/[<node_id>/]<object_id>" */
	gchar *object_id;
} KithMqttHaTopic;

/* TRUE if topic is a discovery config topic under prefix */
gboolean kith_mqtt_homeassistant_parse_topic (const gchar *prefix, const gchar *topic,
                                              KithMqttHaTopic *out);
void kith_mqtt_ha_topic_clear (KithMqttHaTopic *topic);

/*
 * A config (abbreviated or not, with "~") as one device with the entities it announces.
 * An entity of a device-based config that cannot be used is left out and said in notes (one
 * string each); a per-entity config that cannot be used fails with KITH_ERROR_INVALID (an
 * unsupported component or template, a missing topic). For a device-based config, the parts
 * it no longer has are in description->removed when it says so ("p" alone).
 */
KithMqttDescription *kith_mqtt_homeassistant_parse (const KithMqttHaTopic *topic, JsonNode *root,
                                                    GPtrArray *notes, GError **error);

G_END_DECLS
