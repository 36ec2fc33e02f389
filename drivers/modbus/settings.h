/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "link.h"
#include "profile.h"
#include "unit.h"

G_BEGIN_DECLS

/* the keys of a [bus:NAME] Driver=modbus group, parsed; errors are "[group] Key: …" */

typedef struct {
	guint8 id;
	gchar *profile;
} KithModbusUnitConfig;

typedef struct {
	KithModbusLinkSettings link;
	gint64 interval;  /* microseconds between polls */
	gchar *profiles;  /* Profiles=, NULL if not set */
	GPtrArray *units; /* KithModbusUnitConfig, by unit id */
	GArray *discover; /* guint8 unit ids to sweep; NULL: no sweep */
	guint discover_budget;
	gint64 discover_timeout;
	gint64 discover_interval;
	KithModbusQuirks quirks;
	KithModbusBackoff backoff;
} KithModbusSettings;

extern const gchar *const kith_modbus_settings_keys[];

gboolean kith_modbus_settings_load (KithModbusSettings *settings, GKeyFile *keyfile,
                                    const gchar *group, GError **error);
void kith_modbus_settings_clear (KithModbusSettings *settings);

G_END_DECLS
