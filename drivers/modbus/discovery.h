/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The sweep of Discover=: which unit ids to probe, in order, and when, so that probing takes at
 * most a share of the line's time (after a probe that kept the line busy t, the next one waits
 * t * (100 - budget) / budget). Pure: the caller gives the clock and the probes' cost.
 */

typedef struct {
	GArray *ids;    /* guint8, in sweep order */
	guint cursor;   /* the next index of ids */
	guint budget;   /* percent of the line's time, 1..100 */
	gint64 repeat;  /* microseconds between sweeps; 0: one sweep */
	gint64 next_at; /* monotonic time of the next probe; G_MAXINT64: done */
	gint64 started;
	gint64 bus_time; /* of this sweep */
	guint found;
	guint sweeps; /* sweeps finished */
} KithModbusDiscovery;

/* "1-247", "1-10;20;30-40"; ids outside min..max are an error */
GArray *kith_modbus_discovery_parse (const gchar *text, guint min, guint max, GError **error);
KithModbusDiscovery *kith_modbus_discovery_new (GArray *ids, guint budget, gint64 repeat,
                                                gint64 now);
void kith_modbus_discovery_free (KithModbusDiscovery *discovery);

typedef gboolean (*KithModbusDiscoverySkipFunc) (guint8 unit, gpointer user_data);
/* the next unit to probe now (ids skip says are known are passed over), or -1: none now */
gint kith_modbus_discovery_next (KithModbusDiscovery *discovery, gint64 now,
                                 KithModbusDiscoverySkipFunc skip, gpointer user_data);
/* a probe took bus_time on the line (the sweep ends in the next call of _next) */
void kith_modbus_discovery_done (KithModbusDiscovery *discovery, gboolean found, gint64 bus_time,
                                 gint64 now);
gint64 kith_modbus_discovery_due (KithModbusDiscovery *discovery);

G_END_DECLS
