/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "driver.h"

G_BEGIN_DECLS

/* [bus:NAME] Driver=mqtt: the devices announced on a broker (see drivers/mqtt/README.md) */
#define KITH_TYPE_MQTT_DRIVER (kith_mqtt_driver_get_type ())
G_DECLARE_FINAL_TYPE (KithMqttDriver, kith_mqtt_driver, KITH, MQTT_DRIVER, KithDriver)

G_END_DECLS
