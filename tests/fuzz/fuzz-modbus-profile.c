/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A Modbus profile (a register map, drivers/modbus/profiles/NAME.conf) as a user may write one,
 * and what a bus does with it: the device's fields, the planner's requests, every block
 * answered (registers decoded into values, or an exception that splits the plan) and every
 * writable field written (encoded).
 *
 * An input is the profile's text; its bytes also fill the registers of the answers.
 */
#include <string.h>

#include "drivers/modbus/codec.h"
#include "drivers/modbus/profile.h"
#include "drivers/modbus/unit.h"
#include "fuzz.h"

#define S G_USEC_PER_SEC

/* the unit's answer to a block: registers from the input's bytes, or an exception */
static KithModbusRequest *
fuzz_answer (KithModbusUnit *unit, guint block, const uint8_t *data, size_t size, guint round)
{
	KithModbusRequest *request = kith_modbus_unit_read_request (unit, block);

	request->status = round == 1 ? KITH_MODBUS_STATUS_EXCEPTION : KITH_MODBUS_STATUS_OK;
	request->exception = round == 1 ? 2 : 0; /* illegal data address */
	request->message = g_strdup (kith_modbus_status_to_string (request->status));
	for (guint i = 0; request->registers != NULL && i < request->count; i++) {
		gsize at = (2 * (gsize)i + round) % MAX (size, 1);
		request->registers[i] =
		        size > 1 ? (guint16)(data[at] << 8 | data[(at + 1) % size]) : 0xffff;
	}
	for (guint i = 0; request->bits != NULL && i < request->count; i++)
		request->bits[i] = size > 0 ? (data[(i + round) % size] & 1) : 1;
	return request;
}

static void
fuzz_write (KithModbusUnit *unit, const KithModbusField *field)
{
	KithValue value = { .type = kith_modbus_field_value_type (field), .valid = TRUE };
	g_autoptr (KithModbusRequest) request = NULL;

	switch (value.type) {
	case KITH_VALUE_BOOLEAN:
		value.boolean = TRUE;
		break;
	case KITH_VALUE_INT:
		/* the largest value the field takes, as far as a gint64 holds it */
		value.integer = field->min <= field->max && field->max < 9e18 && field->max > -9e18
		                        ? (gint64)field->max
		                        : -1;
		break;
	case KITH_VALUE_STRING:
		value.string = g_strdup ("kith");
		break;
	default:
		value.number = field->min <= field->max ? field->max : 1e300;
		break;
	}
	request = kith_modbus_unit_write_request (unit, field->name, &value, NULL);
	kith_value_clear (&value);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	kith_fuzz_init ();
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autofree gchar *text = kith_fuzz_text (data, size);
	g_autoptr (KithModbusProfile) profile =
	        kith_modbus_profile_load_data ("fuzz", "/fuzz/fuzz.conf", text, NULL);
	g_autoptr (KithDevice) device = NULL;
	KithModbusQuirks quirks;
	KithModbusBackoff backoff = { S / 2, 10 * S };
	KithModbusUnit *unit;
	g_autofree gchar *status = NULL;

	if (profile == NULL)
		return 0;
	kith_modbus_quirks_init (&quirks);
	device = kith_device_new ("fuzz-1", "unit 1");
	kith_modbus_unit_add_fields (device, profile);
	unit = kith_modbus_unit_new (1, device, profile, &quirks, 10 * S, &backoff, 0);
	/* every block answered, then refused (split), then answered again */
	for (guint round = 0; round < 3; round++) {
		for (guint i = 0; i < unit->blocks->len && i < 256; i++) {
			g_autoptr (KithModbusRequest) request =
			        fuzz_answer (unit, i, data, size, round);
			kith_modbus_unit_read_done (unit, i, request, (gint64)round * 20 * S);
		}
		kith_modbus_unit_flush (unit);
	}
	for (guint i = 0; i < profile->fields->len; i++) {
		const KithModbusField *field = g_ptr_array_index (profile->fields, i);
		if (field->writable)
			fuzz_write (unit, field);
	}
	status = kith_device_format_status (device, NULL);
	kith_modbus_unit_free (unit);
	return 0;
}
