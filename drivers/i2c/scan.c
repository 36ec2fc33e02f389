/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "scan.h"

#include <linux/i2c.h>
#include <string.h>

#include "kith-error.h"

KithI2cProbe
kith_i2c_scan_probe (guint address, gulong funcs)
{
	gboolean eeprom_like =
	        (address >= 0x30 && address <= 0x37) || (address >= 0x50 && address <= 0x5F);

	if (address < KITH_I2C_FIRST_ADDRESS || address > KITH_I2C_LAST_ADDRESS)
		return KITH_I2C_PROBE_NONE;
	if (eeprom_like)
		return (funcs & I2C_FUNC_SMBUS_READ_BYTE) ? KITH_I2C_PROBE_RECEIVE_BYTE
		                                          : KITH_I2C_PROBE_NONE;
	return (funcs & I2C_FUNC_SMBUS_QUICK) ? KITH_I2C_PROBE_QUICK_WRITE : KITH_I2C_PROBE_NONE;
}

const gchar *
kith_i2c_probe_to_string (KithI2cProbe probe)
{
	switch (probe) {
	case KITH_I2C_PROBE_QUICK_WRITE:
		return "quick write";
	case KITH_I2C_PROBE_RECEIVE_BYTE:
		return "receive byte";
	case KITH_I2C_PROBE_NONE:
		break;
	}
	return "none";
}

void
kith_i2c_named_free (KithI2cNamed *named)
{
	if (named == NULL)
		return;
	g_free (named->chip);
	g_free (named);
}

/* "0x76", "76" (hex either way) */
static gboolean
kith_i2c_parse_address (const gchar *text, guint *address)
{
	guint64 value;
	if (g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X"))
		text += 2;
	if (text[0] == '\0' || strlen (text) > 2 ||
	    !g_ascii_string_to_unsigned (text, 16, 0, 0x7F, &value, NULL))
		return FALSE;
	*address = (guint)value;
	return TRUE;
}

gboolean
kith_i2c_parse_named (const gchar *text, guint *address, gchar **chip)
{
	g_auto (GStrv) parts = g_strsplit (text, ":", 2);

	if (parts[0] == NULL || parts[1] == NULL)
		return FALSE;
	g_strstrip (parts[0]);
	g_strstrip (parts[1]);
	if (!kith_i2c_parse_address (parts[0], address) || parts[1][0] == '\0')
		return FALSE;
	*chip = g_ascii_strdown (parts[1], -1);
	return TRUE;
}

static gboolean
kith_i2c_check_scan_address (const gchar *entry, guint address, GError **error)
{
	if (address >= KITH_I2C_FIRST_ADDRESS && address <= KITH_I2C_LAST_ADDRESS)
		return TRUE;
	g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
	             "%s: 0x%02x is reserved (scanned addresses are 0x%02x-0x%02x)", entry, address,
	             KITH_I2C_FIRST_ADDRESS, KITH_I2C_LAST_ADDRESS);
	return FALSE;
}

static gboolean
kith_i2c_parse_entry (const gchar *entry, const gchar *const *chips, gboolean scan[128],
                      gboolean *any_scan, GPtrArray *named, GError **error)
{
	g_auto (GStrv) range = NULL;
	guint first, last;
	gchar *chip = NULL;

	if (strchr (entry, ':') != NULL) {
		if (!kith_i2c_parse_named (entry, &first, &chip)) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "'%s' is not ADDRESS:CHIP (e.g. 0x76:bme280)", entry);
			return FALSE;
		}
		if (chips != NULL && !g_strv_contains (chips, chip)) {
			g_autofree gchar *known = g_strjoinv (", ", (gchar **)chips);
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "%s: unknown chip '%s' (known: %s)", entry, chip, known);
			g_free (chip);
			return FALSE;
		}
		if (first < 0x03 || first > KITH_I2C_LAST_ADDRESS) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "%s: 0x%02x is a reserved address", entry, first);
			g_free (chip);
			return FALSE;
		}
		for (guint i = 0; i < named->len; i++) {
			KithI2cNamed *other = g_ptr_array_index (named, i);
			if (other->address == first) {
				g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
				             "0x%02x is named twice", first);
				g_free (chip);
				return FALSE;
			}
		}
		KithI2cNamed *item = g_new0 (KithI2cNamed, 1);
		item->address = first;
		item->chip = chip;
		g_ptr_array_add (named, item);
		return TRUE;
	}
	range = g_strsplit (entry, "-", 2);
	if (!kith_i2c_parse_address (g_strstrip (range[0]), &first) ||
	    (range[1] != NULL && !kith_i2c_parse_address (g_strstrip (range[1]), &last))) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "'%s' is not an address (0x08-0x77), a range (0x40-0x47) or "
		             "ADDRESS:CHIP",
		             entry);
		return FALSE;
	}
	if (range[1] == NULL)
		last = first;
	if (!kith_i2c_check_scan_address (entry, first, error) ||
	    !kith_i2c_check_scan_address (entry, last, error))
		return FALSE;
	if (last < first) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "%s: an empty range", entry);
		return FALSE;
	}
	for (guint a = first; a <= last; a++)
		scan[a] = TRUE;
	*any_scan = TRUE;
	return TRUE;
}

gboolean
kith_i2c_parse_addresses (const gchar *text, const gchar *const *chips, gboolean scan[128],
                          GPtrArray *named, GError **error)
{
	g_auto (GStrv) entries = g_strsplit (text != NULL ? text : "", ";", -1);
	gboolean any_scan = FALSE;

	memset (scan, 0, sizeof (gboolean) * 128);
	for (guint i = 0; entries[i] != NULL; i++) {
		g_strstrip (entries[i]);
		if (entries[i][0] == '\0')
			continue;
		if (!kith_i2c_parse_entry (entries[i], chips, scan, &any_scan, named, error))
			return FALSE;
	}
	if (!any_scan) {
		for (guint a = KITH_I2C_FIRST_ADDRESS; a <= KITH_I2C_LAST_ADDRESS; a++)
			scan[a] = TRUE;
	}
	/* a named chip is used as named and never probed */
	for (guint i = 0; i < named->len; i++)
		scan[((KithI2cNamed *)g_ptr_array_index (named, i))->address] = FALSE;
	return TRUE;
}
