/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "unit.h"

#include <modbus.h>

#include "codec.h"
#include "kith-error.h"

/* when a block of the old plan is due (now for a block that is new) */
static gint64
kith_modbus_unit_old_due (GPtrArray *blocks, GArray *due, const KithModbusBlock *block, gint64 now)
{
	for (guint i = 0; blocks != NULL && i < blocks->len; i++) {
		const KithModbusBlock *old = g_ptr_array_index (blocks, i);
		if (old->table == block->table && old->start == block->start &&
		    old->count == block->count && old->period == block->period)
			return g_array_index (due, gint64, i);
	}
	return now;
}

static void
kith_modbus_unit_plan (KithModbusUnit *unit, gint64 now)
{
	g_autoptr (GPtrArray) old = g_steal_pointer (&unit->blocks);
	g_autoptr (GArray) old_due = g_array_copy (unit->due);

	unit->blocks = kith_modbus_plan (unit->items, unit->profile->fields->len, unit->disabled,
	                                 &unit->limits, unit->splits);
	/* a request the new plan keeps keeps its schedule */
	g_array_set_size (unit->due, unit->blocks->len);
	for (guint i = 0; i < unit->blocks->len; i++)
		g_array_index (unit->due, gint64, i) = kith_modbus_unit_old_due (
		        old, old_due, g_ptr_array_index (unit->blocks, i), now);
}

KithModbusUnit *
kith_modbus_unit_new (guint8 id, KithDevice *device, KithModbusProfile *profile,
                      const KithModbusQuirks *bus_quirks, gint64 interval,
                      const KithModbusBackoff *backoff, gint64 now)
{
	KithModbusUnit *unit = g_new0 (KithModbusUnit, 1);
	guint n = profile->fields->len;

	unit->id = id;
	unit->device = g_object_ref (device);
	unit->profile = kith_modbus_profile_ref (profile);
	kith_modbus_quirks_merge (&unit->quirks, bus_quirks, &profile->quirks);
	kith_modbus_limits_from_quirks (&unit->limits, &unit->quirks);
	unit->items = g_new0 (KithModbusPlanItem, n);
	unit->disabled = g_new0 (gboolean, n);
	for (guint i = 0; i < n; i++) {
		const KithModbusField *field = g_ptr_array_index (profile->fields, i);
		unit->items[i].table = field->table;
		unit->items[i].address = field->address;
		unit->items[i].count = (guint16)field->count;
		unit->items[i].period =
		        field->interval > 0 ? (gint64)(field->interval * G_USEC_PER_SEC) : interval;
	}
	unit->splits = kith_modbus_splits_new ();
	unit->due = g_array_new (FALSE, TRUE, sizeof (gint64));
	unit->backoff = *backoff;
	unit->step = backoff->first;
	kith_modbus_unit_plan (unit, now);
	if (!kith_device_is_answering (device)) {
		/* known from an earlier run, not confirmed yet: a probe says whether it is there */
		unit->state = KITH_MODBUS_UNIT_SILENT;
		unit->probe_due = now;
	}
	return unit;
}

void
kith_modbus_unit_free (KithModbusUnit *unit)
{
	if (unit == NULL)
		return;
	g_object_unref (unit->device);
	kith_modbus_profile_unref (unit->profile);
	g_free (unit->items);
	g_free (unit->disabled);
	kith_modbus_splits_free (unit->splits);
	g_clear_pointer (&unit->blocks, g_ptr_array_unref);
	g_array_unref (unit->due);
	g_free (unit);
}

const gchar *
kith_modbus_unit_get_id (KithModbusUnit *unit)
{
	return kith_device_get_id (unit->device);
}

static KithField *
kith_modbus_unit_field (const KithModbusField *source)
{
	KithField *field =
	        kith_field_new (source->name, kith_modbus_field_value_type (source), source->unit);
	field->decimals = (guint)source->decimals;
	field->status_decimals = (guint)source->decimals;
	field->presence_step = source->deadband;
	field->in_status = source->presence;
	field->writable = source->writable;
	if (source->writable) {
		field->min = source->min;
		field->max = source->max;
		field->categories = KITH_FIELD_MOMENTARY | KITH_FIELD_STATUS;
	}
	return field;
}

void
kith_modbus_unit_add_fields (KithDevice *device, KithModbusProfile *profile)
{
	for (guint i = 0; i < profile->fields->len; i++) {
		const KithModbusField *source = g_ptr_array_index (profile->fields, i);
		const KithField *known = kith_device_find_field (device, source->name);

		/* a device known from an earlier run keeps its fields (and their last values)
		 * unless the profile changed a field's type since */
		if (known != NULL && known->type == kith_modbus_field_value_type (source))
			continue;
		if (known != NULL)
			kith_device_remove_field (device, source->name);
		kith_device_add_field (device, kith_modbus_unit_field (source));
	}
}

gint64
kith_modbus_unit_next_due (KithModbusUnit *unit)
{
	gint64 due = G_MAXINT64;

	if (unit->blocks->len == 0)
		return G_MAXINT64;
	if (unit->state != KITH_MODBUS_UNIT_OK)
		return unit->probe_due;
	for (guint i = 0; i < unit->due->len; i++)
		due = MIN (due, g_array_index (unit->due, gint64, i));
	return due;
}

gint
kith_modbus_unit_pick (KithModbusUnit *unit, gint64 now)
{
	gint best = -1;

	if (unit->blocks->len == 0)
		return -1;
	if (unit->state != KITH_MODBUS_UNIT_OK)
		return unit->probe_due <= now ? 0 : -1;
	for (guint i = 0; i < unit->due->len; i++) {
		gint64 due = g_array_index (unit->due, gint64, i);
		if (due <= now && (best < 0 || due < g_array_index (unit->due, gint64, best)))
			best = (gint)i;
	}
	return best;
}

KithModbusRequest *
kith_modbus_unit_read_request (KithModbusUnit *unit, guint index)
{
	const KithModbusBlock *block = g_ptr_array_index (unit->blocks, index);
	KithModbusRequest *request = kith_modbus_request_new (KITH_MODBUS_REQUEST_READ, unit->id);

	request->table = block->table;
	request->address = block->start;
	request->count = block->count;
	if (kith_modbus_table_is_bits (block->table))
		request->bits = g_new0 (guint8, block->count);
	else
		request->registers = g_new0 (guint16, block->count);
	unit->requests++;
	return request;
}

static void
kith_modbus_unit_store (KithModbusUnit *unit, const KithModbusBlock *block,
                        const KithModbusRequest *request)
{
	gint64 timestamp = g_get_real_time ();

	for (guint i = 0; i < block->items->len; i++) {
		guint index = g_array_index (block->items, guint, i);
		const KithModbusField *field = g_ptr_array_index (unit->profile->fields, index);
		guint offset = field->address - block->start;
		const KithValue *old = kith_device_get_value (unit->device, field->name);
		KithValue value = { 0 };

		if (request->bits != NULL)
			kith_modbus_decode_bit (field, request->bits[offset] != 0, timestamp,
			                        &value);
		else
			kith_modbus_decode (field, request->registers + offset, timestamp, &value);
		if (old == NULL || !kith_value_equal (old, &value))
			unit->dirty = TRUE;
		kith_device_set_value (unit->device, field->name, &value);
		kith_value_clear (&value);
	}
}

/* the fields of a block the unit refuses one by one: never read again */
static void
kith_modbus_unit_disable (KithModbusUnit *unit, const KithModbusBlock *block,
                          const KithModbusRequest *request)
{
	for (guint i = 0; i < block->items->len; i++) {
		guint index = g_array_index (block->items, guint, i);
		const KithModbusField *field = g_ptr_array_index (unit->profile->fields, index);
		KithValue invalid = { .type = kith_modbus_field_value_type (field) };

		unit->disabled[index] = TRUE;
		kith_device_set_value (unit->device, field->name, &invalid);
		unit->dirty = TRUE;
		KITH_MODBUS_DEVICE_LOG (G_LOG_LEVEL_WARNING, kith_modbus_unit_get_id (unit),
		                        "field %s (%s %u) refused (%s); not read again",
		                        field->name, kith_modbus_table_to_string (field->table),
		                        field->address, request->message);
	}
}

static KithModbusUnitReadResult
kith_modbus_unit_refused (KithModbusUnit *unit, guint index, KithModbusRequest *request, gint64 now)
{
	const KithModbusBlock *block = g_ptr_array_index (unit->blocks, index);
	guint8 code = request->exception;

	/* busy, failure, acknowledge: the unit is there and may answer the next time */
	if (code != MODBUS_EXCEPTION_ILLEGAL_FUNCTION &&
	    code != MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS &&
	    code != MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE) {
		KITH_MODBUS_DEVICE_LOG (G_LOG_LEVEL_DEBUG, kith_modbus_unit_get_id (unit), "%s",
		                        request->message);
		return KITH_MODBUS_UNIT_READ_REFUSED;
	}
	/* a table the unit does not have: splitting would not help */
	if (code != MODBUS_EXCEPTION_ILLEGAL_FUNCTION &&
	    kith_modbus_splits_refine (unit->splits, block, unit->items)) {
		KITH_MODBUS_DEVICE_LOG (G_LOG_LEVEL_INFO, kith_modbus_unit_get_id (unit),
		                        "the unit refuses %s %u..%u in one request (%s): split "
		                        "from now on",
		                        kith_modbus_table_to_string (block->table), block->start,
		                        block->start + block->count - 1, request->message);
	} else {
		kith_modbus_unit_disable (unit, block, request);
	}
	kith_modbus_unit_plan (unit, now);
	return KITH_MODBUS_UNIT_READ_REFUSED;
}

void
kith_modbus_unit_answered (KithModbusUnit *unit, gint64 now)
{
	KithModbusUnitState was = unit->state;

	unit->state = KITH_MODBUS_UNIT_OK;
	unit->step = unit->backoff.first;
	if (was == KITH_MODBUS_UNIT_OK)
		return;
	/* back: everything is read again now */
	for (guint i = 0; i < unit->due->len; i++)
		g_array_index (unit->due, gint64, i) = now;
	if (was == KITH_MODBUS_UNIT_SILENT) {
		KITH_MODBUS_DEVICE_LOG (G_LOG_LEVEL_MESSAGE, kith_modbus_unit_get_id (unit), "%s",
		                        "answers again");
		kith_device_set_answering (unit->device, TRUE, NULL);
	}
}

void
kith_modbus_unit_failed (KithModbusUnit *unit, const gchar *reason, gint64 now)
{
	switch (unit->state) {
	case KITH_MODBUS_UNIT_OK:
		/* one lost reply on a noisy line is not an outage yet: probe again soon */
		unit->state = KITH_MODBUS_UNIT_SUSPECT;
		unit->step = unit->backoff.first;
		KITH_MODBUS_DEVICE_LOG (G_LOG_LEVEL_DEBUG, kith_modbus_unit_get_id (unit), "%s",
		                        reason);
		break;
	case KITH_MODBUS_UNIT_SUSPECT:
		unit->state = KITH_MODBUS_UNIT_SILENT;
		unit->step = MIN (unit->step * 2, unit->backoff.max);
		KITH_MODBUS_DEVICE_LOG (G_LOG_LEVEL_MESSAGE, kith_modbus_unit_get_id (unit),
		                        "does not answer (%s); probed every %.1f s at most", reason,
		                        unit->backoff.max / 1e6);
		kith_device_set_answering (unit->device, FALSE, reason);
		break;
	case KITH_MODBUS_UNIT_SILENT:
		unit->step = MIN (unit->step * 2, unit->backoff.max);
		kith_device_set_answering (unit->device, FALSE, reason);
		break;
	}
	unit->probe_due = now + unit->step;
}

void
kith_modbus_unit_line_down (KithModbusUnit *unit, const gchar *reason)
{
	unit->state = KITH_MODBUS_UNIT_SILENT;
	unit->step = unit->backoff.first;
	unit->probe_due = G_MAXINT64;
	kith_device_set_answering (unit->device, FALSE, reason);
}

void
kith_modbus_unit_line_up (KithModbusUnit *unit, gint64 now)
{
	if (unit->state != KITH_MODBUS_UNIT_OK)
		unit->probe_due = now;
}

KithModbusUnitReadResult
kith_modbus_unit_read_done (KithModbusUnit *unit, guint index, KithModbusRequest *request,
                            gint64 now)
{
	const KithModbusBlock *block;
	gint64 *due;

	if (index >= unit->blocks->len)
		return KITH_MODBUS_UNIT_READ_FAILED;
	block = g_ptr_array_index (unit->blocks, index);
	due = &g_array_index (unit->due, gint64, index);
	switch (request->status) {
	case KITH_MODBUS_STATUS_OK:
	case KITH_MODBUS_STATUS_EXCEPTION:
		kith_modbus_unit_answered (unit, now);
		/* a poll: on schedule, but never a burst of catching up. A read before its time (a
		 * readout): the next poll a period from now; every early read used to push the
		 * polls a period further, so a few readouts stopped them for as many periods,
		 * and with them the noticing of a unit that stopped answering */
		*due = *due <= now ? MAX (*due + block->period, now) : now + block->period;
		if (request->status == KITH_MODBUS_STATUS_EXCEPTION)
			return kith_modbus_unit_refused (unit, index, request, now);
		kith_modbus_unit_store (unit, block, request);
		return KITH_MODBUS_UNIT_READ_OK;
	default:
		kith_modbus_unit_failed (unit, request->message, now);
		return KITH_MODBUS_UNIT_READ_FAILED;
	}
}

void
kith_modbus_unit_flush (KithModbusUnit *unit)
{
	if (!unit->dirty)
		return;
	unit->dirty = FALSE;
	kith_device_emit_changed (unit->device);
}

KithModbusRequest *
kith_modbus_unit_write_request (KithModbusUnit *unit, const gchar *name, const KithValue *value,
                                GError **error)
{
	const KithModbusField *field = kith_modbus_profile_find_field (unit->profile, name);
	g_autoptr (KithModbusRequest) request = NULL;
	guint16 words[4] = { 0 };

	if (field == NULL || !field->writable) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "%s: %s is not writable",
		             kith_modbus_unit_get_id (unit), name);
		return NULL;
	}
	if (!kith_modbus_encode (field, value, words, error)) {
		g_prefix_error (error, "%s: ", kith_modbus_unit_get_id (unit));
		return NULL;
	}
	request = kith_modbus_request_new (KITH_MODBUS_REQUEST_WRITE, unit->id);
	request->table = field->table;
	request->address = field->address;
	request->count = (guint16)field->count;
	request->write_multiple = unit->quirks.write_multiple > 0;
	if (field->table == KITH_MODBUS_TABLE_COIL) {
		request->bits = g_new0 (guint8, 1);
		request->bits[0] = (guint8)words[0];
	} else {
		request->registers = g_memdup2 (words, sizeof (guint16) * field->count);
	}
	unit->requests++;
	return g_steal_pointer (&request);
}
