/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "device.h"
#include "link.h"
#include "planner.h"
#include "profile.h"

G_BEGIN_DECLS

/* a log line about a device: the id leads the message and is a field of its own */
#define KITH_MODBUS_DEVICE_LOG(level, id, format, ...)                                             \
	g_log_structured (G_LOG_DOMAIN, level, "KITH_DEVICE", id, "MESSAGE", "%s: " format, id,    \
	                  __VA_ARGS__)

/*
 * One unit on the line: its device, its profile, the requests that read it (from the planner,
 * with what it refused remembered) and when each is due, and whether it answers. A unit that
 * fails once is probed again after the first backoff step; failing again it is shown not
 * answering and probed with a backoff that doubles up to a bound, so it costs the other units
 * at most one timeout per backoff window. Main loop only.
 */

typedef enum {
	KITH_MODBUS_UNIT_OK,
	KITH_MODBUS_UNIT_SUSPECT, /* failed once: probed again soon, still shown answering */
	KITH_MODBUS_UNIT_SILENT,  /* shown not answering, probed with backoff */
} KithModbusUnitState;

typedef struct {
	gint64 first; /* the first backoff step, microseconds */
	gint64 max;   /* the bound */
} KithModbusBackoff;

typedef struct {
	guint8 id;
	KithDevice *device;
	KithModbusProfile *profile;
	KithModbusQuirks quirks; /* the bus's and the profile's, the stricter of each */
	KithModbusLimits limits;
	KithModbusPlanItem *items; /* one per profile field */
	gboolean *disabled;        /* fields the unit refuses, not read again */
	KithModbusSplits *splits;
	GPtrArray *blocks; /* KithModbusBlock */
	GArray *due;       /* gint64 per block, monotonic */
	KithModbusUnitState state;
	KithModbusBackoff backoff;
	gint64 step; /* the current backoff step */
	gint64 probe_due;
	gboolean dirty;   /* values changed since the last ::changed */
	guint64 requests; /* requests sent, for the log and the tests */
} KithModbusUnit;

typedef enum {
	KITH_MODBUS_UNIT_READ_OK,      /* values stored */
	KITH_MODBUS_UNIT_READ_REFUSED, /* an exception: the plan changed or fields were dropped */
	KITH_MODBUS_UNIT_READ_FAILED,  /* no (usable) answer */
} KithModbusUnitReadResult;

/* interval: the bus's period in microseconds, for fields without their own */
KithModbusUnit *kith_modbus_unit_new (guint8 id, KithDevice *device, KithModbusProfile *profile,
                                      const KithModbusQuirks *bus_quirks, gint64 interval,
                                      const KithModbusBackoff *backoff, gint64 now);
void kith_modbus_unit_free (KithModbusUnit *unit);

/* the fields of a profile as device fields */
void kith_modbus_unit_add_fields (KithDevice *device, KithModbusProfile *profile);

/* the monotonic time of its next request (G_MAXINT64: nothing to read) */
gint64 kith_modbus_unit_next_due (KithModbusUnit *unit);
/* the block to read now (a probe when it fails), or -1 */
gint kith_modbus_unit_pick (KithModbusUnit *unit, gint64 now);
KithModbusRequest *kith_modbus_unit_read_request (KithModbusUnit *unit, guint block);
/* stores a read's outcome: values, splits, the backoff and availability */
KithModbusUnitReadResult kith_modbus_unit_read_done (KithModbusUnit *unit, guint block,
                                                     KithModbusRequest *request, gint64 now);
/* another request to the unit answered (a write) or did not: the same availability rules */
void kith_modbus_unit_answered (KithModbusUnit *unit, gint64 now);
void kith_modbus_unit_failed (KithModbusUnit *unit, const gchar *reason, gint64 now);
/* the line is down: not answering, probed once it is back */
void kith_modbus_unit_line_down (KithModbusUnit *unit, const gchar *reason);
void kith_modbus_unit_line_up (KithModbusUnit *unit, gint64 now);
/* emits ::changed if some value changed since the last time */
void kith_modbus_unit_flush (KithModbusUnit *unit);
/* a write request for a parameter; NULL with an error if the field cannot take the value */
KithModbusRequest *kith_modbus_unit_write_request (KithModbusUnit *unit, const gchar *name,
                                                   const KithValue *value, GError **error);
/* a log line's context: "bus-17 (unit 17)" */
const gchar *kith_modbus_unit_get_id (KithModbusUnit *unit);

G_END_DECLS
