/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Reading the keys of a GKeyFile group with errors that name the group and the key:
 * "[group] Key: message" (the caller prefixes the file). An absent key leaves *out alone.
 */

gboolean kith_modbus_key_fail (GError **error, const gchar *group, const gchar *key,
                               const gchar *format, ...) G_GNUC_PRINTF (4, 5);
gboolean kith_modbus_key_get_double (GKeyFile *keyfile, const gchar *group, const gchar *key,
                                     gdouble *out, GError **error);
/* decimal or 0x hex, 0..max */
gboolean kith_modbus_key_get_unsigned (GKeyFile *keyfile, const gchar *group, const gchar *key,
                                       guint64 max, guint64 *out, GError **error);
/* *out: 1 or 0 */
gboolean kith_modbus_key_get_bool (GKeyFile *keyfile, const gchar *group, const gchar *key,
                                   gint *out, GError **error);
gboolean kith_modbus_key_get_seconds (GKeyFile *keyfile, const gchar *group, const gchar *key,
                                      gdouble min, gdouble max, gdouble *out, GError **error);
/* *out: the index of the value in choices (case-insensitive) */
gboolean kith_modbus_key_get_choice (GKeyFile *keyfile, const gchar *group, const gchar *key,
                                     const gchar *const *choices, gint *out, GError **error);

G_END_DECLS
