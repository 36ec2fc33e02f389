/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "keys.h"

#include <math.h>

#include "kith-error.h"

gboolean
kith_modbus_key_fail (GError **error, const gchar *group, const gchar *key, const gchar *format,
                      ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	if (key != NULL)
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s: %s", group, key,
		             message);
	else
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s", group, message);
	return FALSE;
}

/* a number key: absent leaves *out alone */
gboolean
kith_modbus_key_get_double (GKeyFile *keyfile, const gchar *group, const gchar *key, gdouble *out,
                            GError **error)
{
	g_autofree gchar *text = g_key_file_get_value (keyfile, group, key, NULL);
	gchar *end = NULL;
	gdouble value;

	if (text == NULL)
		return TRUE;
	g_strstrip (text);
	value = g_ascii_strtod (text, &end);
	if (text[0] == '\0' || *end != '\0' || !isfinite (value))
		return kith_modbus_key_fail (error, group, key, "'%s' is not a number", text);
	*out = value;
	return TRUE;
}

/* a non-negative integer key, decimal or 0x hex: absent leaves *out alone */
gboolean
kith_modbus_key_get_unsigned (GKeyFile *keyfile, const gchar *group, const gchar *key, guint64 max,
                              guint64 *out, GError **error)
{
	g_autofree gchar *text = g_key_file_get_value (keyfile, group, key, NULL);
	gchar *end = NULL;
	guint64 value;

	if (text == NULL)
		return TRUE;
	g_strstrip (text);
	if (text[0] == '\0' || text[0] == '-' || text[0] == '+')
		return kith_modbus_key_fail (error, group, key, "'%s' is not a number", text);
	value = g_ascii_strtoull (text, &end, 0);
	if (*end != '\0')
		return kith_modbus_key_fail (error, group, key, "'%s' is not a number", text);
	if (value > max)
		return kith_modbus_key_fail (error, group, key,
		                             "%s is out of range 0..%" G_GUINT64_FORMAT, text, max);
	*out = value;
	return TRUE;
}

gboolean
kith_modbus_key_get_bool (GKeyFile *keyfile, const gchar *group, const gchar *key, gint *out,
                          GError **error)
{
	g_autoptr (GError) error_local = NULL;
	gboolean value;

	if (!g_key_file_has_key (keyfile, group, key, NULL))
		return TRUE;
	value = g_key_file_get_boolean (keyfile, group, key, &error_local);
	if (error_local != NULL) {
		g_autofree gchar *text = g_key_file_get_value (keyfile, group, key, NULL);
		return kith_modbus_key_fail (error, group, key, "'%s' is not true or false", text);
	}
	*out = value ? 1 : 0;
	return TRUE;
}

gboolean
kith_modbus_key_get_seconds (GKeyFile *keyfile, const gchar *group, const gchar *key, gdouble min,
                             gdouble max, gdouble *out, GError **error)
{
	gdouble value = *out;

	if (!g_key_file_has_key (keyfile, group, key, NULL))
		return TRUE;
	if (!kith_modbus_key_get_double (keyfile, group, key, &value, error))
		return FALSE;
	if (value < min || value > max)
		return kith_modbus_key_fail (error, group, key, "%g is out of range %g..%g seconds",
		                             value, min, max);
	*out = value;
	return TRUE;
}

gboolean
kith_modbus_key_get_choice (GKeyFile *keyfile, const gchar *group, const gchar *key,
                            const gchar *const *choices, gint *out, GError **error)
{
	g_autofree gchar *text = g_key_file_get_value (keyfile, group, key, NULL);
	g_autofree gchar *known = NULL;

	if (text == NULL)
		return TRUE;
	g_strstrip (text);
	for (gint i = 0; choices[i] != NULL; i++) {
		if (g_ascii_strcasecmp (text, choices[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	known = g_strjoinv (", ", (gchar **)choices);
	return kith_modbus_key_fail (error, group, key, "'%s' is not one of %s", text, known);
}
