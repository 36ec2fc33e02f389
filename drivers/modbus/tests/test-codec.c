/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "drivers/modbus/codec.h"

typedef struct {
	const gchar *type; /* as in a profile */
	gboolean word_little;
	gboolean byte_little;
	gdouble scale;
	gdouble offset;
	guint16 registers[8];
	KithValueType value_type;
	gboolean valid;
	gdouble number; /* numeric and int */
	const gchar *string;
} DecodeCase;

static KithModbusField
make_field (const gchar *type, gboolean word_little, gboolean byte_little, gdouble scale,
            gdouble offset)
{
	KithModbusField field = { .name = (gchar *)"F",
		                  .word_little = word_little,
		                  .byte_little = byte_little,
		                  .scale = scale != 0 ? scale : 1,
		                  .offset = offset };
	g_assert_true (kith_modbus_type_from_string (type, &field.type, &field.count));
	field.table = field.type == KITH_MODBUS_TYPE_BIT ? KITH_MODBUS_TABLE_COIL
	                                                 : KITH_MODBUS_TABLE_HOLDING;
	return field;
}

static const DecodeCase decode_cases[] = {
	{ "u16", FALSE, FALSE, 1, 0, { 0xFFFF }, KITH_VALUE_INT, TRUE, 65535 },
	{ "s16", FALSE, FALSE, 1, 0, { 0xFFFF }, KITH_VALUE_INT, TRUE, -1 },
	{ "s16", FALSE, FALSE, 1, 0, { 0x8000 }, KITH_VALUE_INT, TRUE, -32768 },
	{ "s16", FALSE, TRUE, 1, 0, { 0x0080 }, KITH_VALUE_INT, TRUE, -32768 },
	{ "u32", FALSE, FALSE, 1, 0, { 0x0001, 0x0002 }, KITH_VALUE_INT, TRUE, 65538 },
	{ "u32", TRUE, FALSE, 1, 0, { 0x0002, 0x0001 }, KITH_VALUE_INT, TRUE, 65538 },
	{ "u32", FALSE, TRUE, 1, 0, { 0x0100, 0x0200 }, KITH_VALUE_INT, TRUE, 65538 },
	{ "u32", TRUE, TRUE, 1, 0, { 0x0200, 0x0100 }, KITH_VALUE_INT, TRUE, 65538 },
	{ "u32", FALSE, FALSE, 1, 0, { 0xFFFF, 0xFFFF }, KITH_VALUE_INT, TRUE, 4294967295.0 },
	{ "s32", FALSE, FALSE, 1, 0, { 0xFFFF, 0xFFFE }, KITH_VALUE_INT, TRUE, -2 },
	{ "s32", TRUE, FALSE, 1, 0, { 0xFFFE, 0xFFFF }, KITH_VALUE_INT, TRUE, -2 },
	{ "u64", FALSE, FALSE, 1, 0, { 0, 0, 1, 0 }, KITH_VALUE_NUMERIC, TRUE, 65536 },
	{ "u64", TRUE, FALSE, 1, 0, { 0, 1, 0, 0 }, KITH_VALUE_NUMERIC, TRUE, 65536 },
	{ "s64", FALSE, FALSE, 1, 0, { 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF }, KITH_VALUE_INT, TRUE, -1 },
	{ "s64", TRUE, FALSE, 1, 0, { 0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF }, KITH_VALUE_INT, TRUE, -2 },
	{ "f32", FALSE, FALSE, 1, 0, { 0x4366, 0x8000 }, KITH_VALUE_NUMERIC, TRUE, 230.5 },
	{ "f32", TRUE, FALSE, 1, 0, { 0x8000, 0x4366 }, KITH_VALUE_NUMERIC, TRUE, 230.5 },
	{ "f32", FALSE, TRUE, 1, 0, { 0x6643, 0x0080 }, KITH_VALUE_NUMERIC, TRUE, 230.5 },
	{ "f32", TRUE, TRUE, 1, 0, { 0x0080, 0x6643 }, KITH_VALUE_NUMERIC, TRUE, 230.5 },
	/* 288.1 as a float is 288.100006…: the value keeps the float's 7 digits */
	{ "f32", FALSE, FALSE, 1, 0, { 0x4390, 0x0CCD }, KITH_VALUE_NUMERIC, TRUE, 288.1 },
	{ "f32", FALSE, FALSE, 1, 0, { 0x7FC0, 0x0000 }, KITH_VALUE_NUMERIC, FALSE, 0 },
	{ "f32", FALSE, FALSE, 1, 0, { 0x7F80, 0x0000 }, KITH_VALUE_NUMERIC, FALSE, 0 },
	{ "f64", FALSE, FALSE, 1, 0, { 0x3FF8, 0, 0, 0 }, KITH_VALUE_NUMERIC, TRUE, 1.5 },
	{ "f64", TRUE, FALSE, 1, 0, { 0, 0, 0, 0x3FF8 }, KITH_VALUE_NUMERIC, TRUE, 1.5 },
	{ "f64", FALSE, TRUE, 1, 0, { 0xF83F, 0, 0, 0 }, KITH_VALUE_NUMERIC, TRUE, 1.5 },
	/* value = raw * Scale + Offset */
	{ "u16", FALSE, FALSE, 0.1, -40, { 500 }, KITH_VALUE_NUMERIC, TRUE, 10 },
	{ "s16", FALSE, FALSE, 0.1, 0, { 0xFF38 }, KITH_VALUE_NUMERIC, TRUE, -20 },
	{ "u32", TRUE, FALSE, 0.01, 0, { 0x86A0, 0x0001 }, KITH_VALUE_NUMERIC, TRUE, 1000 },
	{ "s32", FALSE, FALSE, 10, 5, { 0xFFFF, 0xFFFF }, KITH_VALUE_NUMERIC, TRUE, -5 },
	{ "f32", FALSE, FALSE, 1000, 0, { 0x3F80, 0x0000 }, KITH_VALUE_NUMERIC, TRUE, 1000 },
	{ "u64", FALSE, FALSE, 0.001, 0, { 0, 0, 0, 1500 }, KITH_VALUE_NUMERIC, TRUE, 1.5 },
	{ "s64",
	  FALSE,
	  FALSE,
	  2,
	  1,
	  { 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF },
	  KITH_VALUE_NUMERIC,
	  TRUE,
	  -1 },
	{ "f64", FALSE, FALSE, 2, 1, { 0x3FF8, 0, 0, 0 }, KITH_VALUE_NUMERIC, TRUE, 4 },
	/* strings: high byte first, up to a NUL, trailing spaces dropped */
	{ "string:3",
	  FALSE,
	  FALSE,
	  1,
	  0,
	  { 0x4142, 0x4344, 0x4500 },
	  KITH_VALUE_STRING,
	  TRUE,
	  0,
	  "ABCDE" },
	{ "string:3",
	  FALSE,
	  FALSE,
	  1,
	  0,
	  { 0x4142, 0x2020, 0x2020 },
	  KITH_VALUE_STRING,
	  TRUE,
	  0,
	  "AB" },
	{ "string:2", FALSE, TRUE, 1, 0, { 0x4241, 0x4443 }, KITH_VALUE_STRING, TRUE, 0, "ABCD" },
	{ "string:2", TRUE, FALSE, 1, 0, { 0x4344, 0x4142 }, KITH_VALUE_STRING, TRUE, 0, "ABCD" },
	{ "string:1",
	  FALSE,
	  FALSE,
	  1,
	  0,
	  { 0xFF41 },
	  KITH_VALUE_STRING,
	  TRUE,
	  0,
	  "\xEF\xBF\xBD"
	  "A" },
};

static void
test_decode (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (decode_cases); i++) {
		const DecodeCase *c = &decode_cases[i];
		KithModbusField field =
		        make_field (c->type, c->word_little, c->byte_little, c->scale, c->offset);
		KithValue value = { 0 };

		g_test_message ("case %u: %s", i, c->type);
		kith_modbus_decode (&field, c->registers, 42, &value);
		g_assert_cmpint (value.type, ==, c->value_type);
		g_assert_cmpint (value.valid, ==, c->valid);
		g_assert_cmpint (value.timestamp, ==, 42);
		if (!c->valid)
			continue;
		if (c->value_type == KITH_VALUE_INT)
			g_assert_cmpfloat (value.integer, ==, c->number);
		else if (c->value_type == KITH_VALUE_NUMERIC)
			g_assert_cmpfloat_with_epsilon (value.number, c->number, 1e-9);
		else
			g_assert_cmpstr (value.string, ==, c->string);
		kith_value_clear (&value);
	}
}

static void
test_decode_bit (void)
{
	KithModbusField field = make_field ("bit", FALSE, FALSE, 1, 0);
	KithValue value = { 0 };

	g_assert_cmpint (kith_modbus_field_value_type (&field), ==, KITH_VALUE_BOOLEAN);
	kith_modbus_decode_bit (&field, TRUE, 7, &value);
	g_assert_true (value.valid && value.boolean && value.type == KITH_VALUE_BOOLEAN);
	kith_modbus_decode_bit (&field, FALSE, 7, &value);
	g_assert_true (value.valid && !value.boolean);
}

typedef struct {
	const gchar *type;
	gboolean word_little;
	gboolean byte_little;
	gdouble scale;
	gdouble offset;
	KithValueType value_type;
	gdouble number; /* numeric or int */
	gboolean ok;
	guint16 registers[4];
} EncodeCase;

static const EncodeCase encode_cases[] = {
	{ "u16", FALSE, FALSE, 0.1, 0, KITH_VALUE_NUMERIC, 21.3, TRUE, { 213 } },
	{ "s16", FALSE, FALSE, 0.1, 0, KITH_VALUE_NUMERIC, -5.5, TRUE, { 0xFFC9 } },
	{ "s16", FALSE, TRUE, 0.1, 0, KITH_VALUE_NUMERIC, -5.5, TRUE, { 0xC9FF } },
	{ "u16", FALSE, FALSE, 1, -40, KITH_VALUE_NUMERIC, 10, TRUE, { 50 } },
	{ "u16", FALSE, FALSE, 1, 0, KITH_VALUE_INT, 70000, FALSE },
	{ "u16", FALSE, FALSE, 1, 0, KITH_VALUE_INT, -1, FALSE },
	{ "s16", FALSE, FALSE, 1, 0, KITH_VALUE_INT, 32768, FALSE },
	{ "u16", FALSE, FALSE, 0.1, 0, KITH_VALUE_NUMERIC, 6553.6, FALSE },
	{ "u32", TRUE, FALSE, 1, 0, KITH_VALUE_INT, 65538, TRUE, { 0x0002, 0x0001 } },
	{ "u32", FALSE, FALSE, 1, 0, KITH_VALUE_INT, 65538, TRUE, { 0x0001, 0x0002 } },
	{ "s32", FALSE, FALSE, 1, 0, KITH_VALUE_INT, -2, TRUE, { 0xFFFF, 0xFFFE } },
	{ "s32", FALSE, FALSE, 1, 0, KITH_VALUE_INT, 2147483648.0, FALSE },
	{ "f32", FALSE, FALSE, 1, 0, KITH_VALUE_NUMERIC, 230.5, TRUE, { 0x4366, 0x8000 } },
	{ "f32", TRUE, TRUE, 1, 0, KITH_VALUE_NUMERIC, 230.5, TRUE, { 0x0080, 0x6643 } },
	{ "f32", FALSE, FALSE, 1, 0, KITH_VALUE_NUMERIC, 1e39, FALSE },
	{ "f64", FALSE, FALSE, 1, 0, KITH_VALUE_NUMERIC, 1.5, TRUE, { 0x3FF8, 0, 0, 0 } },
	{ "f64", TRUE, FALSE, 2, 1, KITH_VALUE_NUMERIC, 4, TRUE, { 0, 0, 0, 0x3FF8 } },
	{ "s64", FALSE, FALSE, 1, 0, KITH_VALUE_INT, -2, TRUE, { 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE } },
	{ "u64", FALSE, FALSE, 1, 0, KITH_VALUE_NUMERIC, 65536, TRUE, { 0, 0, 1, 0 } },
	{ "u64", FALSE, FALSE, 1, 0, KITH_VALUE_NUMERIC, -1, FALSE },
	{ "bit", FALSE, FALSE, 1, 0, KITH_VALUE_BOOLEAN, 1, TRUE, { 1 } },
	{ "bit", FALSE, FALSE, 1, 0, KITH_VALUE_BOOLEAN, 0, TRUE, { 0 } },
	{ "string:2", FALSE, FALSE, 1, 0, KITH_VALUE_STRING, 0, FALSE },
};

static void
test_encode (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (encode_cases); i++) {
		const EncodeCase *c = &encode_cases[i];
		KithModbusField field =
		        make_field (c->type, c->word_little, c->byte_little, c->scale, c->offset);
		KithValue value = { .type = c->value_type, .valid = TRUE };
		guint16 registers[4] = { 0xAAAA, 0xAAAA, 0xAAAA, 0xAAAA };
		g_autoptr (GError) error = NULL;
		gboolean ok;

		g_test_message ("case %u: %s %g", i, c->type, c->number);
		if (c->value_type == KITH_VALUE_INT)
			value.integer = (gint64)c->number;
		else if (c->value_type == KITH_VALUE_BOOLEAN)
			value.boolean = c->number != 0;
		else
			value.number = c->number;
		if (c->value_type == KITH_VALUE_STRING)
			value.string = (gchar *)"x";
		ok = kith_modbus_encode (&field, &value, registers, &error);
		g_assert_cmpint (ok, ==, c->ok);
		if (!ok) {
			/* the error names the field */
			g_assert_nonnull (strstr (error->message, "F"));
			continue;
		}
		for (guint j = 0; j < field.count; j++)
			g_assert_cmphex (registers[j], ==, c->registers[j]);
	}
}

/* every type and word/byte order: what is written reads back the same */
static void
test_round_trip (void)
{
	const gchar *types[] = { "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64" };
	const gdouble values[] = { 0, 1, 123, 4095.5, 65535 };

	for (guint t = 0; t < G_N_ELEMENTS (types); t++) {
		for (guint order = 0; order < 4; order++) {
			for (guint v = 0; v < G_N_ELEMENTS (values); v++) {
				KithModbusField field =
				        make_field (types[t], order & 1, order & 2, 0.5, 100);
				KithValue in = { .type = KITH_VALUE_NUMERIC,
					         .valid = TRUE,
					         .number = values[v] * 0.5 + 100 };
				KithValue out = { 0 };
				guint16 registers[4];
				g_autoptr (GError) error = NULL;

				if (field.type == KITH_MODBUS_TYPE_U16 && values[v] > 65535)
					continue;
				if (field.type == KITH_MODBUS_TYPE_S16 && values[v] > 32767)
					continue;
				g_assert_true (kith_modbus_encode (&field, &in, registers, &error));
				kith_modbus_decode (&field, registers, 0, &out);
				g_assert_true (out.valid);
				g_assert_cmpfloat_with_epsilon (out.number,
				                                field.type <= KITH_MODBUS_TYPE_S64
				                                        ? round (values[v]) * 0.5 +
				                                                  100
				                                        : in.number,
				                                1e-9);
			}
		}
	}
}

static void
test_value_type (void)
{
	KithModbusField field = make_field ("u16", FALSE, FALSE, 1, 0);
	g_assert_cmpint (kith_modbus_field_value_type (&field), ==, KITH_VALUE_INT);
	field.scale = 0.1;
	g_assert_cmpint (kith_modbus_field_value_type (&field), ==, KITH_VALUE_NUMERIC);
	field = make_field ("u64", FALSE, FALSE, 1, 0);
	g_assert_cmpint (kith_modbus_field_value_type (&field), ==, KITH_VALUE_NUMERIC);
	field = make_field ("f32", FALSE, FALSE, 1, 0);
	g_assert_cmpint (kith_modbus_field_value_type (&field), ==, KITH_VALUE_NUMERIC);
	field = make_field ("string:4", FALSE, FALSE, 1, 0);
	g_assert_cmpint (kith_modbus_field_value_type (&field), ==, KITH_VALUE_STRING);
	g_assert_cmpuint (field.count, ==, 4);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/modbus/codec/decode", test_decode);
	g_test_add_func ("/kith/modbus/codec/decode-bit", test_decode_bit);
	g_test_add_func ("/kith/modbus/codec/encode", test_encode);
	g_test_add_func ("/kith/modbus/codec/round-trip", test_round_trip);
	g_test_add_func ("/kith/modbus/codec/value-type", test_value_type);
	return g_test_run ();
}
