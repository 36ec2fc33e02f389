/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "device.h"

G_BEGIN_DECLS

/* what the store keeps of a device: its label, meta data, fields and last values, as JSON */
gchar *kith_device_record_to_json (KithDevice *device);
/* a value as JSON (number, boolean, integer, string; null when it is not valid) */
void kith_device_record_add_value (JsonBuilder *builder, const KithValue *value);
/* a device made again from its record (no driver data: it waits for its bus) */
KithDevice *kith_device_record_load (const gchar *id, const gchar *json, GError **error);

G_END_DECLS
