/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "discovery.h"

#include "kith-error.h"

static gboolean
kith_modbus_discovery_id (const gchar *text, guint min, guint max, guint *out, GError **error)
{
	guint64 value;
	g_autoptr (GError) error_local = NULL;

	if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, &error_local)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "'%s' is not a unit id %u..%u",
		             text, min, max);
		return FALSE;
	}
	*out = (guint)value;
	return TRUE;
}

GArray *
kith_modbus_discovery_parse (const gchar *text, guint min, guint max, GError **error)
{
	g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint8));
	g_auto (GStrv) parts = g_strsplit (text, ";", -1);
	gboolean seen[256] = { FALSE };

	for (guint i = 0; parts[i] != NULL; i++) {
		g_auto (GStrv) ends = g_strsplit (g_strstrip (parts[i]), "-", 2);
		guint first, last;
		if (ends[0] == NULL || ends[0][0] == '\0')
			continue;
		if (!kith_modbus_discovery_id (g_strstrip (ends[0]), min, max, &first, error))
			return NULL;
		last = first;
		if (ends[1] != NULL &&
		    !kith_modbus_discovery_id (g_strstrip (ends[1]), min, max, &last, error))
			return NULL;
		if (last < first) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "'%s' is not a range (from low to high)", parts[i]);
			return NULL;
		}
		for (guint id = first; id <= last; id++) {
			guint8 unit = (guint8)id;
			if (!seen[id])
				g_array_append_val (ids, unit);
			seen[id] = TRUE;
		}
	}
	if (ids->len == 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "'%s' names no unit id", text);
		return NULL;
	}
	return g_steal_pointer (&ids);
}

KithModbusDiscovery *
kith_modbus_discovery_new (GArray *ids, guint budget, gint64 repeat, gint64 now)
{
	KithModbusDiscovery *discovery = g_new0 (KithModbusDiscovery, 1);
	discovery->ids = g_array_ref (ids);
	discovery->budget = CLAMP (budget, 1, 100);
	discovery->repeat = repeat;
	discovery->next_at = now;
	discovery->started = now;
	return discovery;
}

void
kith_modbus_discovery_free (KithModbusDiscovery *discovery)
{
	if (discovery == NULL)
		return;
	g_array_unref (discovery->ids);
	g_free (discovery);
}

static void
kith_modbus_discovery_end_sweep (KithModbusDiscovery *discovery, gint64 now)
{
	discovery->sweeps++;
	discovery->cursor = 0;
	discovery->next_at = discovery->repeat > 0 ? now + discovery->repeat : G_MAXINT64;
}

gint
kith_modbus_discovery_next (KithModbusDiscovery *discovery, gint64 now,
                            KithModbusDiscoverySkipFunc skip, gpointer user_data)
{
	if (discovery->next_at > now)
		return -1;
	if (discovery->cursor == 0) {
		discovery->started = now;
		discovery->bus_time = 0;
		discovery->found = 0;
	}
	while (discovery->cursor < discovery->ids->len) {
		guint8 unit = g_array_index (discovery->ids, guint8, discovery->cursor);
		discovery->cursor++;
		if (skip == NULL || !skip (unit, user_data))
			return unit;
	}
	kith_modbus_discovery_end_sweep (discovery, now);
	return -1;
}

void
kith_modbus_discovery_done (KithModbusDiscovery *discovery, gboolean found, gint64 bus_time,
                            gint64 now)
{
	discovery->bus_time += bus_time;
	if (found)
		discovery->found++;
	/* the line is ours for bus_time; give the others their share before the next probe */
	discovery->next_at = now + bus_time * (100 - discovery->budget) / discovery->budget;
}

gint64
kith_modbus_discovery_due (KithModbusDiscovery *discovery)
{
	return discovery->next_at;
}
