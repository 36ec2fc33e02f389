/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "driver.h"

G_BEGIN_DECLS

#define KITH_TYPE_SIM_DRIVER (kith_sim_driver_get_type ())
G_DECLARE_FINAL_TYPE (KithSimDriver, kith_sim_driver, KITH, SIM_DRIVER, KithDriver)

/* the simulated climate at a given time: deterministic, changes slowly */
gdouble kith_sim_temperature (guint index, gint64 unix_seconds);
gdouble kith_sim_humidity (guint index, gint64 unix_seconds);

G_END_DECLS
