/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "profile.h"

G_BEGIN_DECLS

/*
 * The read planner: which requests read a unit's fields. Fields of one table and one period are
 * coalesced into as few requests as the limits allow (a request may span a gap of unused
 * registers up to max_gap, never more than max_registers or max_bits); a split memory says
 * where the unit refused a merged read, and the plan never crosses those places again. Pure:
 * no I/O, no clock.
 */

typedef struct {
	KithModbusTable table;
	guint16 address;
	guint16 count; /* registers, or bits */
	gint64 period; /* microseconds */
} KithModbusPlanItem;

typedef struct {
	guint max_registers; /* 1..125 */
	guint max_bits;      /* 1..2000 */
	guint max_gap;       /* registers; bits may span max_gap * 16 */
	gboolean one_per_field;
} KithModbusLimits;

typedef struct {
	KithModbusTable table;
	guint16 start;
	guint16 count;
	gint64 period;
	GArray *items; /* guint: indexes into the planned items, by address */
} KithModbusBlock;

/* the places where a unit refused a merged read: for each table, the addresses before which no
 * request continues */
typedef struct {
	GArray *points[KITH_MODBUS_TABLE_COUNT]; /* guint16, sorted, unique */
} KithModbusSplits;

void kith_modbus_limits_from_quirks (KithModbusLimits *limits, const KithModbusQuirks *quirks);

/* items: n plan items; skip: NULL or n booleans (items not to read); returns KithModbusBlock
 * ordered by table, period, address */
GPtrArray *kith_modbus_plan (const KithModbusPlanItem *items, guint n, const gboolean *skip,
                             const KithModbusLimits *limits, const KithModbusSplits *splits);
void kith_modbus_block_free (KithModbusBlock *block);

KithModbusSplits *kith_modbus_splits_new (void);
void kith_modbus_splits_free (KithModbusSplits *splits);
gboolean kith_modbus_splits_contains (const KithModbusSplits *splits, KithModbusTable table,
                                      guint16 address);
/*
 * a merged read was refused (illegal data address or value): remember where to split it.
 * A block that spans gaps is split at its gaps first (the unit may refuse unused registers);
 * a block without gaps is split between all its fields. FALSE if the block holds one field
 * only (nothing to split: that field is what the unit refuses).
 */
gboolean kith_modbus_splits_refine (KithModbusSplits *splits, const KithModbusBlock *block,
                                    const KithModbusPlanItem *items);

/*
 * RTU line time in microseconds of one transaction: request and response frames at a baud rate
 * and bits per character (10 for 8N1, 11 for 8E1 or 8N2), each followed by the 3.5-character
 * silence (1750 us above 19200 baud), plus the unit's turnaround
 */
gint64 kith_modbus_line_time (guint baud, guint bits_per_char, guint request_bytes,
                              guint response_bytes, gint64 turnaround);
/* the frame sizes of reading a block over RTU */
void kith_modbus_block_frames (KithModbusTable table, guint count, guint *request_bytes,
                               guint *response_bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithModbusSplits, kith_modbus_splits_free)

G_END_DECLS
