/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * A Home Assistant discovery config as its long form: abbreviated keys written out (also in
 * "device" and in the "availability" list), "~" at the start or end of a topic replaced by the
 * base topic, and for a component of a device-based config the root's shared keys merged in
 * (shared: the root, or NULL; the component's own keys win).
 */
JsonObject *kith_mqtt_homeassistant_normalize (JsonObject *config, JsonObject *shared);

G_END_DECLS
