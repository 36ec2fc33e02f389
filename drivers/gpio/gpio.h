/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "driver.h"

G_BEGIN_DECLS

#define KITH_TYPE_GPIO_DRIVER (kith_gpio_driver_get_type ())
G_DECLARE_FINAL_TYPE (KithGpioDriver, kith_gpio_driver, KITH, GPIO_DRIVER, KithDriver)

G_END_DECLS
