/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "planner.h"

#include <modbus.h>

void
kith_modbus_limits_from_quirks (KithModbusLimits *limits, const KithModbusQuirks *quirks)
{
	limits->max_registers = quirks->max_registers > 0 ? (guint)quirks->max_registers
	                                                  : MODBUS_MAX_READ_REGISTERS;
	limits->max_bits = quirks->max_bits > 0 ? (guint)quirks->max_bits : MODBUS_MAX_READ_BITS;
	limits->max_gap = quirks->max_gap >= 0 ? (guint)quirks->max_gap : 10;
	limits->one_per_field = quirks->one_per_field > 0;
}

typedef struct {
	const KithModbusPlanItem *items;
} KithModbusSortContext;

static gint
kith_modbus_item_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
	const KithModbusSortContext *context = user_data;
	const KithModbusPlanItem *ia = &context->items[*(const guint *)a];
	const KithModbusPlanItem *ib = &context->items[*(const guint *)b];

	if (ia->table != ib->table)
		return ia->table < ib->table ? -1 : 1;
	if (ia->period != ib->period)
		return ia->period < ib->period ? -1 : 1;
	if (ia->address != ib->address)
		return ia->address < ib->address ? -1 : 1;
	if (ia->count != ib->count)
		return ia->count < ib->count ? -1 : 1;
	return *(const guint *)a < *(const guint *)b ? -1 : 1;
}

/* TRUE if a split point lies in (start, address]: a request from start may not reach address */
static gboolean
kith_modbus_splits_between (const KithModbusSplits *splits, KithModbusTable table, guint start,
                            guint address)
{
	GArray *points = splits != NULL ? splits->points[table] : NULL;
	for (guint i = 0; points != NULL && i < points->len; i++) {
		guint point = g_array_index (points, guint16, i);
		if (point > start && point <= address)
			return TRUE;
	}
	return FALSE;
}

static KithModbusBlock *
kith_modbus_block_new (const KithModbusPlanItem *item, guint index)
{
	KithModbusBlock *block = g_new0 (KithModbusBlock, 1);
	block->table = item->table;
	block->start = item->address;
	block->count = item->count;
	block->period = item->period;
	block->items = g_array_new (FALSE, FALSE, sizeof (guint));
	g_array_append_val (block->items, index);
	return block;
}

/* TRUE if item joins block within the limits */
static gboolean
kith_modbus_block_takes (const KithModbusBlock *block, const KithModbusPlanItem *item,
                         const KithModbusLimits *limits, const KithModbusSplits *splits)
{
	gboolean bits = kith_modbus_table_is_bits (item->table);
	guint end = (guint)block->start + block->count;
	guint new_end = MAX (end, (guint)item->address + item->count);
	guint max_gap = bits ? limits->max_gap * 16 : limits->max_gap;
	guint max_count = bits ? limits->max_bits : limits->max_registers;

	if (limits->one_per_field || block->table != item->table || block->period != item->period)
		return FALSE;
	if (item->address > end && item->address - end > max_gap)
		return FALSE;
	if (new_end - block->start > max_count)
		return FALSE;
	return !kith_modbus_splits_between (splits, item->table, block->start, item->address);
}

GPtrArray *
kith_modbus_plan (const KithModbusPlanItem *items, guint n, const gboolean *skip,
                  const KithModbusLimits *limits, const KithModbusSplits *splits)
{
	GPtrArray *blocks = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_modbus_block_free);
	g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
	KithModbusSortContext context = { items };
	KithModbusBlock *block = NULL;

	for (guint i = 0; i < n; i++)
		if (skip == NULL || !skip[i])
			g_array_append_val (order, i);
	g_array_sort_with_data (order, kith_modbus_item_compare, &context);
	for (guint i = 0; i < order->len; i++) {
		guint index = g_array_index (order, guint, i);
		const KithModbusPlanItem *item = &items[index];
		if (block != NULL && kith_modbus_block_takes (block, item, limits, splits)) {
			guint end = MAX ((guint)block->start + block->count,
			                 (guint)item->address + item->count);
			block->count = (guint16)(end - block->start);
			g_array_append_val (block->items, index);
			continue;
		}
		block = kith_modbus_block_new (item, index);
		g_ptr_array_add (blocks, block);
	}
	return blocks;
}

void
kith_modbus_block_free (KithModbusBlock *block)
{
	g_array_unref (block->items);
	g_free (block);
}

KithModbusSplits *
kith_modbus_splits_new (void)
{
	KithModbusSplits *splits = g_new0 (KithModbusSplits, 1);
	for (guint i = 0; i < KITH_MODBUS_TABLE_COUNT; i++)
		splits->points[i] = g_array_new (FALSE, FALSE, sizeof (guint16));
	return splits;
}

void
kith_modbus_splits_free (KithModbusSplits *splits)
{
	if (splits == NULL)
		return;
	for (guint i = 0; i < KITH_MODBUS_TABLE_COUNT; i++)
		g_array_unref (splits->points[i]);
	g_free (splits);
}

gboolean
kith_modbus_splits_contains (const KithModbusSplits *splits, KithModbusTable table, guint16 address)
{
	GArray *points = splits->points[table];
	for (guint i = 0; i < points->len; i++)
		if (g_array_index (points, guint16, i) == address)
			return TRUE;
	return FALSE;
}

static gint
kith_modbus_u16_compare (gconstpointer a, gconstpointer b)
{
	return (gint) * (const guint16 *)a - (gint) * (const guint16 *)b;
}

static gboolean
kith_modbus_splits_add (KithModbusSplits *splits, KithModbusTable table, guint16 address)
{
	if (kith_modbus_splits_contains (splits, table, address))
		return FALSE;
	g_array_append_val (splits->points[table], address);
	g_array_sort (splits->points[table], kith_modbus_u16_compare);
	return TRUE;
}

gboolean
kith_modbus_splits_refine (KithModbusSplits *splits, const KithModbusBlock *block,
                           const KithModbusPlanItem *items)
{
	gboolean added = FALSE;
	guint end = block->start;

	/* first the gaps: a unit may refuse registers it does not have */
	for (guint i = 0; i < block->items->len; i++) {
		const KithModbusPlanItem *item = &items[g_array_index (block->items, guint, i)];
		if (item->address > end)
			added |= kith_modbus_splits_add (splits, block->table, item->address);
		end = MAX (end, (guint)item->address + item->count);
	}
	if (added)
		return TRUE;
	/* then between every field: some units answer one field per request only */
	for (guint i = 0; i < block->items->len; i++) {
		const KithModbusPlanItem *item = &items[g_array_index (block->items, guint, i)];
		if (item->address > block->start)
			added |= kith_modbus_splits_add (splits, block->table, item->address);
	}
	return added;
}

gint64
kith_modbus_line_time (guint baud, guint bits_per_char, guint request_bytes, guint response_bytes,
                       gint64 turnaround)
{
	gdouble char_us = 1e6 * bits_per_char / baud;
	gdouble silence = baud > 19200 ? 1750.0 : 3.5 * char_us;
	return (gint64)((request_bytes + response_bytes) * char_us + 2 * silence) + turnaround;
}

void
kith_modbus_block_frames (KithModbusTable table, guint count, guint *request_bytes,
                          guint *response_bytes)
{
	/* unit, function, start, quantity, CRC; unit, function, byte count, data, CRC */
	*request_bytes = 8;
	*response_bytes = 5 + (kith_modbus_table_is_bits (table) ? (count + 7) / 8 : 2 * count);
}
