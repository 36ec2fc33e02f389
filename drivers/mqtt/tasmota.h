/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/*
 * Tasmota's own discovery: retained tasmota/discovery/<MAC>/config (topic, full topic, the
 * prefixes cmnd/stat/tele, relays, the texts of ON and OFF, the LWT payloads) and
 * tasmota/discovery/<MAC>/sensors (the sensors and their members). Relays are POWER (one) or
 * POWER1..n, fed by stat/<t>/POWERn, stat/<t>/RESULT and tele/<t>/STATE and written on
 * cmnd/<t>/POWERn; sensors are "<sensor> <member>" fed by tele/<t>/SENSOR; tele/<t>/LWT says
 * whether the device is there. Keyed on the MAC.
 */

#define KITH_MQTT_TASMOTA_PREFIX "tasmota/discovery"

/* TRUE for tasmota/discovery/<mac>/config or …/sensors; mac is set */
gboolean kith_mqtt_tasmota_parse_topic (const gchar *topic, gchar **mac, gboolean *sensors);

/* the device from its config and, if known, its sensors message (NULL: not yet) */
KithMqttDescription *kith_mqtt_tasmota_parse (const gchar *mac, JsonNode *config, JsonNode *sensors,
                                              GError **error);

G_END_DECLS
