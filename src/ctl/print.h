/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* kithctl's text output from kithd's replies (the JSON objects README.md describes); pure,
 * so that it is table-tested */

/* lines of cells as a table: columns padded to their widest cell, the last not padded */
void kith_ctl_print_table (GString *out, GPtrArray *rows);
/* "online", "offline", or "not answering since 2026-12-03 14:02 UTC" */
gchar *kith_ctl_print_state (JsonObject *device);
/* "Temperature 21.4 °C, Humidity 48.0 %" ("-" for a value not known yet) */
gchar *kith_ctl_print_values (JsonArray *values);
void kith_ctl_print_status (GString *out, JsonObject *reply);
void kith_ctl_print_devices (GString *out, JsonObject *reply);
void kith_ctl_print_friends (GString *out, JsonObject *reply);
/* one line per event; local_time: the terminal's time zone, else UTC */
void kith_ctl_print_event (GString *out, JsonObject *event, gboolean local_time);

G_END_DECLS
