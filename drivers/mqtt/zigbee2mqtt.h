/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/*
 * Zigbee2MQTT: the retained <base>/bridge/devices list (ieee_address, friendly_name,
 * definition {vendor, model, exposes}) gives every device, keyed on its IEEE address so that
 * a rename keeps the device; its state is <base>/<friendly_name> (JSON, one member per
 * exposed property), its availability <base>/<friendly_name>/availability and the bridge's
 * <base>/bridge/state, its commands <base>/<friendly_name>/set ({"property": value}).
 */

/* one description per usable device of the list (the coordinator, unsupported, disabled or
 * not yet interviewed devices are left out; notes say why for the ones worth saying) */
GPtrArray *kith_mqtt_zigbee2mqtt_parse_devices (const gchar *base, JsonNode *root, GPtrArray *notes,
                                                GError **error);

G_END_DECLS
