/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/*
 * Shelly devices, keyed on the device id (shelly1-B929CC, shellyplus1pm-a8032ab12345).
 *
 * Gen1 answer "announce" on shellies/command with shellies/announce ({"id", "model", "mac",
 * …}) and publish one value per topic under shellies/<id>/ (relay/0 on|off, relay/0/power,
 * sensor/temperature, input/0, online true|false, …): each such topic becomes a part when it
 * is first seen. Commands: shellies/<id>/relay/<n>/command on|off, light/<n>/set.
 *
 * Gen2 and later publish <prefix>/online, <prefix>/status/<component> (switch:0, input:0, …)
 * and NotifyStatus frames on <prefix>/events/rpc, and answer JSON-RPC requests on
 * <prefix>/rpc on <src>/rpc: Shelly.GetDeviceInfo gives the id and model, Shelly.GetStatus
 * the components. Commands: Switch.Set and Light.Set on <prefix>/rpc.
 */

#define KITH_MQTT_SHELLY_GEN1_ANNOUNCE "shellies/announce"
#define KITH_MQTT_SHELLY_GEN1_COMMAND "shellies/command"

/* a gen1 device from its announce message */
KithMqttDescription *kith_mqtt_shelly_parse_announce (JsonNode *root, GError **error);
/* for shellies/<id>/<subtopic>: id and subtopic, FALSE for other topics */
gboolean kith_mqtt_shelly_gen1_split (const gchar *topic, gchar **id, gchar **subtopic);
/* the part a gen1 topic feeds (NULL: a topic that carries no value) */
KithMqttPart *kith_mqtt_shelly_gen1_part (const gchar *id, const gchar *subtopic);

/* the prefix of a gen2 topic (<prefix>/online, <prefix>/status/<component>,
 * <prefix>/events/rpc), NULL for other topics */
gchar *kith_mqtt_shelly_gen2_prefix (const gchar *topic);
/* a JSON-RPC request frame */
gchar *kith_mqtt_shelly_rpc_request (gint64 id, const gchar *src, const gchar *method);
/* a response frame: its id and result (owned by root); FALSE if it is none */
gboolean kith_mqtt_shelly_rpc_response (JsonNode *root, gint64 *id, JsonObject **result);
/* a gen2 device from Shelly.GetDeviceInfo and Shelly.GetStatus; src is the client's RPC
 * source (commands carry it) */
KithMqttDescription *kith_mqtt_shelly_gen2_describe (const gchar *prefix, JsonObject *info,
                                                     JsonObject *status, const gchar *src,
                                                     GError **error);

G_END_DECLS
