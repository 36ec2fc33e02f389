/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "codec.h"

#include <math.h>
#include <string.h>

#include "kith-error.h"

KithValueType
kith_modbus_field_value_type (const KithModbusField *field)
{
	switch (field->type) {
	case KITH_MODBUS_TYPE_BIT:
		return KITH_VALUE_BOOLEAN;
	case KITH_MODBUS_TYPE_STRING:
		return KITH_VALUE_STRING;
	case KITH_MODBUS_TYPE_U16:
	case KITH_MODBUS_TYPE_S16:
	case KITH_MODBUS_TYPE_U32:
	case KITH_MODBUS_TYPE_S32:
	case KITH_MODBUS_TYPE_S64:
		return field->scale == 1 && field->offset == 0 ? KITH_VALUE_INT
		                                               : KITH_VALUE_NUMERIC;
	default:
		return KITH_VALUE_NUMERIC;
	}
}

/* the registers in big-endian order (most significant word first, high byte first) */
static void
kith_modbus_normalize (const KithModbusField *field, const guint16 *in, guint16 *out)
{
	for (guint i = 0; i < field->count; i++) {
		guint16 word = field->word_little ? in[field->count - 1 - i] : in[i];
		out[i] = field->byte_little ? GUINT16_SWAP_LE_BE (word) : word;
	}
}

/* and back to the wire */
static void
kith_modbus_denormalize (const KithModbusField *field, const guint16 *in, guint16 *out)
{
	for (guint i = 0; i < field->count; i++) {
		guint16 word = field->byte_little ? GUINT16_SWAP_LE_BE (in[i]) : in[i];
		out[field->word_little ? field->count - 1 - i : i] = word;
	}
}

static guint64
kith_modbus_raw (const guint16 *words, guint count)
{
	guint64 raw = 0;
	for (guint i = 0; i < count; i++)
		raw = (raw << 16) | words[i];
	return raw;
}

static gchar *
kith_modbus_decode_string (const guint16 *words, guint count)
{
	g_autoptr (GString) text = g_string_sized_new (count * 2);

	for (guint i = 0; i < count * 2; i++) {
		gchar c = (gchar)(i % 2 == 0 ? words[i / 2] >> 8 : words[i / 2] & 0xff);
		if (c == '\0')
			break;
		g_string_append_c (text, c);
	}
	while (text->len > 0 && text->str[text->len - 1] == ' ')
		g_string_truncate (text, text->len - 1);
	return g_utf8_make_valid (text->str, (gssize)text->len);
}

void
kith_modbus_decode (const KithModbusField *field, const guint16 *registers, gint64 timestamp,
                    KithValue *out)
{
	guint16 words[125];
	guint64 raw;
	gdouble number = 0;
	gint64 integer = 0;

	kith_value_clear (out);
	out->type = kith_modbus_field_value_type (field);
	out->timestamp = timestamp;
	out->valid = TRUE;
	kith_modbus_normalize (field, registers, words);
	raw = kith_modbus_raw (words, MIN (field->count, 4));
	switch (field->type) {
	case KITH_MODBUS_TYPE_BIT:
		out->boolean = words[0] != 0;
		return;
	case KITH_MODBUS_TYPE_STRING:
		out->string = kith_modbus_decode_string (words, field->count);
		return;
	case KITH_MODBUS_TYPE_U16:
	case KITH_MODBUS_TYPE_U32:
		integer = (gint64)raw;
		number = (gdouble)raw;
		break;
	case KITH_MODBUS_TYPE_U64:
		number = (gdouble)raw;
		break;
	case KITH_MODBUS_TYPE_S16:
		integer = (gint16)raw;
		number = (gdouble)integer;
		break;
	case KITH_MODBUS_TYPE_S32:
		integer = (gint32)raw;
		number = (gdouble)integer;
		break;
	case KITH_MODBUS_TYPE_S64:
		integer = (gint64)raw;
		number = (gdouble)integer;
		break;
	case KITH_MODBUS_TYPE_F32: {
		guint32 bits = (guint32)raw;
		gchar text[G_ASCII_DTOSTR_BUF_SIZE];
		gfloat f;
		memcpy (&f, &bits, sizeof f);
		/* the float's own 7 digits: 288.1, not 288.100006103515625 */
		number = isfinite (f)
		                 ? g_ascii_strtod (g_ascii_formatd (text, sizeof text, "%.7g", f),
		                                   NULL)
		                 : f;
		break;
	}
	case KITH_MODBUS_TYPE_F64:
		memcpy (&number, &raw, sizeof number);
		break;
	}
	if (out->type == KITH_VALUE_INT) {
		out->integer = integer;
		return;
	}
	out->number = number * field->scale + field->offset;
	out->valid = isfinite (out->number);
}

void
kith_modbus_decode_bit (const KithModbusField *field, gboolean bit, gint64 timestamp,
                        KithValue *out)
{
	kith_value_clear (out);
	out->type = KITH_VALUE_BOOLEAN;
	out->valid = TRUE;
	out->boolean = bit;
	out->timestamp = timestamp;
}

static gboolean
kith_modbus_range (KithModbusType type, gdouble *low, gdouble *high)
{
	switch (type) {
	case KITH_MODBUS_TYPE_U16:
		*low = 0, *high = G_MAXUINT16;
		return TRUE;
	case KITH_MODBUS_TYPE_S16:
		*low = G_MININT16, *high = G_MAXINT16;
		return TRUE;
	case KITH_MODBUS_TYPE_U32:
		*low = 0, *high = G_MAXUINT32;
		return TRUE;
	case KITH_MODBUS_TYPE_S32:
		*low = G_MININT32, *high = G_MAXINT32;
		return TRUE;
	case KITH_MODBUS_TYPE_U64:
		/* 2^64 itself is not representable; stay below it */
		*low = 0, *high = 18446744073709549568.0;
		return TRUE;
	case KITH_MODBUS_TYPE_S64:
		*low = -9223372036854775808.0, *high = 9223372036854774784.0;
		return TRUE;
	default:
		return FALSE;
	}
}

static gboolean
kith_modbus_encode_number (const KithModbusField *field, gdouble number, guint16 *words,
                           GError **error)
{
	gdouble raw = (number - field->offset) / field->scale;
	gdouble low, high;
	guint64 bits = 0;

	if (field->type == KITH_MODBUS_TYPE_F32) {
		gfloat f = (gfloat)raw;
		guint32 b32;
		if (!isfinite (f)) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
			             "%s: %g does not fit a 32-bit float", field->name, number);
			return FALSE;
		}
		memcpy (&b32, &f, sizeof b32);
		bits = b32;
	} else if (field->type == KITH_MODBUS_TYPE_F64) {
		memcpy (&bits, &raw, sizeof bits);
	} else {
		raw = round (raw);
		if (!kith_modbus_range (field->type, &low, &high) || raw < low || raw > high) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
			             "%s: %g does not fit %s (raw %.0f)", field->name, number,
			             kith_modbus_type_to_string (field->type), raw);
			return FALSE;
		}
		bits = field->type == KITH_MODBUS_TYPE_U64 ? (guint64)raw : (guint64)(gint64)raw;
	}
	for (guint i = 0; i < field->count; i++)
		words[field->count - 1 - i] = (guint16)(bits >> (16 * i));
	return TRUE;
}

gboolean
kith_modbus_encode (const KithModbusField *field, const KithValue *value, guint16 *registers,
                    GError **error)
{
	guint16 words[4] = { 0 };

	if (field->type == KITH_MODBUS_TYPE_STRING || field->count > 4) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "%s cannot be written",
		             field->name);
		return FALSE;
	}
	switch (value->type) {
	case KITH_VALUE_BOOLEAN:
		if (field->type == KITH_MODBUS_TYPE_BIT) {
			registers[0] = value->boolean ? 1 : 0;
			return TRUE;
		}
		if (!kith_modbus_encode_number (field, value->boolean ? 1 : 0, words, error))
			return FALSE;
		break;
	case KITH_VALUE_INT:
		if (field->type == KITH_MODBUS_TYPE_S64 && field->scale == 1 &&
		    field->offset == 0) {
			for (guint i = 0; i < 4; i++)
				words[3 - i] = (guint16)((guint64)value->integer >> (16 * i));
			break;
		}
		if (!kith_modbus_encode_number (field, (gdouble)value->integer, words, error))
			return FALSE;
		break;
	case KITH_VALUE_NUMERIC:
		if (!kith_modbus_encode_number (field, value->number, words, error))
			return FALSE;
		break;
	default:
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "%s takes no %s", field->name,
		             kith_value_type_to_string (value->type));
		return FALSE;
	}
	if (field->type == KITH_MODBUS_TYPE_BIT) {
		registers[0] = words[0] != 0;
		return TRUE;
	}
	kith_modbus_denormalize (field, words, registers);
	return TRUE;
}
