/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "drivers/mqtt/description.h"

G_BEGIN_DECLS

/*
 * Explicit devices: [bus:NAME:ITEM] groups for devices that follow no discovery convention.
 * The item is the device's name (id NAME-ITEM). Device keys: Label, Manufacturer, Model,
 * Class, Topic (the state topic of fields without their own), AvailabilityTopic,
 * PayloadAvailable, PayloadNotAvailable. Field keys are <Field>.<Property>, the field named
 * by the user: Topic, Path (a JsonPath into the payload; none: the whole payload), Type
 * (numeric | int | boolean | string), Unit, Scale, Offset, Decimals, PayloadOn, PayloadOff,
 * Status, and for a parameter CommandTopic, Payload ({value} stands for the value), Min, Max,
 * Options.
 */

/* the keys of an item group, for the core's check (patterns for the field keys) */
extern const gchar *const kith_mqtt_item_keys[];

/* the device of group [bus:NAME:ITEM]; errors name the group and key */
KithMqttDescription *kith_mqtt_items_parse (GKeyFile *keyfile, const gchar *group,
                                            const gchar *item, GError **error);

G_END_DECLS
