/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "driver.h"

G_BEGIN_DECLS

#define KITH_TYPE_MODBUS_DRIVER (kith_modbus_driver_get_type ())
G_DECLARE_FINAL_TYPE (KithModbusDriver, kith_modbus_driver, KITH, MODBUS_DRIVER, KithDriver)

G_END_DECLS
