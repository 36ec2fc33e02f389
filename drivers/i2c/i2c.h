/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "driver.h"

G_BEGIN_DECLS

#define KITH_TYPE_I2C_DRIVER (kith_i2c_driver_get_type ())
G_DECLARE_FINAL_TYPE (KithI2cDriver, kith_i2c_driver, KITH, I2C_DRIVER, KithDriver)

G_END_DECLS
