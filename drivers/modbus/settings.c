/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "settings.h"

#include <modbus.h>
#include <string.h>

#include "discovery.h"
#include "keys.h"
#include "kith-error.h"

const gchar *const kith_modbus_settings_keys[] = {
	"Driver",
	"Transport",
	"Host",
	"Port",
	"Device",
	"Baud",
	"Parity",
	"DataBits",
	"StopBits",
	"Rs485",
	"Rts",
	"RtsDelay",
	"Units",
	"Profiles",
	"Interval",
	"Timeout",
	"ByteTimeout",
	"Discover",
	"DiscoverBudget",
	"DiscoverTimeout",
	"DiscoverInterval",
	"MaxRegisters",
	"MaxBits",
	"MaxGap",
	"OneRequestPerField",
	"WriteMultiple",
	"RequestPause",
	"UnitSwitchDelay",
	"BackoffMax",
	NULL,
};

static const gchar *const kith_modbus_tcp_only[] = { "Host", "Port", NULL };
static const gchar *const kith_modbus_rtu_only[] = {
	"Device", "Baud", "Parity", "DataBits", "StopBits", "Rs485", "Rts", "RtsDelay", NULL,
};

static void
kith_modbus_unit_config_free (KithModbusUnitConfig *config)
{
	g_free (config->profile);
	g_free (config);
}

void
kith_modbus_settings_clear (KithModbusSettings *settings)
{
	kith_modbus_link_settings_clear (&settings->link);
	g_clear_pointer (&settings->profiles, g_free);
	g_clear_pointer (&settings->units, g_ptr_array_unref);
	g_clear_pointer (&settings->discover, g_array_unref);
}

static gboolean
kith_modbus_settings_transport (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                                GError **error)
{
	static const gchar *const transports[] = { "tcp", "rtu", NULL };
	gint transport = -1;
	const gchar *const *other;

	if (!kith_modbus_key_get_choice (keyfile, group, "Transport", transports, &transport,
	                                 error))
		return FALSE;
	if (transport < 0)
		return kith_modbus_key_fail (error, group, "Transport", "missing (tcp or rtu)");
	settings->link.rtu = transport == 1;
	other = settings->link.rtu ? kith_modbus_tcp_only : kith_modbus_rtu_only;
	for (guint i = 0; other[i] != NULL; i++)
		if (g_key_file_has_key (keyfile, group, other[i], NULL))
			return kith_modbus_key_fail (error, group, other[i],
			                             "applies to Transport=%s only",
			                             settings->link.rtu ? "tcp" : "rtu");
	return TRUE;
}

static gboolean
kith_modbus_settings_tcp (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                          GError **error)
{
	guint64 port = 502;

	settings->link.host = g_key_file_get_string (keyfile, group, "Host", NULL);
	if (settings->link.host == NULL || g_strstrip (settings->link.host)[0] == '\0')
		return kith_modbus_key_fail (error, group, "Host", "missing (Transport=tcp)");
	if (!kith_modbus_key_get_unsigned (keyfile, group, "Port", 65535, &port, error))
		return FALSE;
	if (port == 0)
		return kith_modbus_key_fail (error, group, "Port", "must be 1..65535");
	settings->link.port = (guint)port;
	return TRUE;
}

static gboolean
kith_modbus_settings_rtu (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                          GError **error)
{
	static const gchar *const parities[] = { "N", "E", "O", NULL };
	static const gchar *const rts_modes[] = { "none", "up", "down", NULL };
	guint64 baud = 9600, data_bits = 8, stop_bits = 1;
	gint parity = 0, rts = 0, rs485 = 0;
	gdouble rts_delay = 0;

	settings->link.device = g_key_file_get_string (keyfile, group, "Device", NULL);
	if (settings->link.device == NULL || g_strstrip (settings->link.device)[0] == '\0')
		return kith_modbus_key_fail (error, group, "Device", "missing (Transport=rtu)");
	if (!kith_modbus_key_get_unsigned (keyfile, group, "Baud", 4000000, &baud, error) ||
	    !kith_modbus_key_get_choice (keyfile, group, "Parity", parities, &parity, error) ||
	    !kith_modbus_key_get_unsigned (keyfile, group, "DataBits", 8, &data_bits, error) ||
	    !kith_modbus_key_get_unsigned (keyfile, group, "StopBits", 2, &stop_bits, error) ||
	    !kith_modbus_key_get_bool (keyfile, group, "Rs485", &rs485, error) ||
	    !kith_modbus_key_get_choice (keyfile, group, "Rts", rts_modes, &rts, error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "RtsDelay", 0, 1, &rts_delay, error))
		return FALSE;
	if (baud < 50)
		return kith_modbus_key_fail (error, group, "Baud",
		                             "%" G_GUINT64_FORMAT " is not a baud rate", baud);
	if (data_bits < 5)
		return kith_modbus_key_fail (error, group, "DataBits", "must be 5..8");
	if (stop_bits < 1)
		return kith_modbus_key_fail (error, group, "StopBits", "must be 1 or 2");
	settings->link.baud = (guint)baud;
	settings->link.parity = parities[parity][0];
	settings->link.data_bits = (guint)data_bits;
	settings->link.stop_bits = (guint)stop_bits;
	settings->link.rs485 = rs485;
	settings->link.rts = rts == 1   ? MODBUS_RTU_RTS_UP
	                     : rts == 2 ? MODBUS_RTU_RTS_DOWN
	                                : MODBUS_RTU_RTS_NONE;
	settings->link.rts_delay = (gint64)(rts_delay * G_USEC_PER_SEC);
	return TRUE;
}

static gint
kith_modbus_unit_config_compare (gconstpointer a, gconstpointer b)
{
	const KithModbusUnitConfig *ua = *(KithModbusUnitConfig *const *)a;
	const KithModbusUnitConfig *ub = *(KithModbusUnitConfig *const *)b;
	return (gint)ua->id - (gint)ub->id;
}

/* libmodbus addresses 0-247 and 255 over TCP */
static gboolean
kith_modbus_settings_check_ids (GArray *ids, const gchar *group, const gchar *key, GError **error)
{
	for (guint i = 0; i < ids->len; i++) {
		guint8 id = g_array_index (ids, guint8, i);
		if (id > 247 && id < 255)
			return kith_modbus_key_fail (error, group, key,
			                             "unit %u cannot be addressed over Modbus TCP "
			                             "(0-247 or 255)",
			                             id);
	}
	return TRUE;
}

/* "17:eastron-sdm120", "3-5:xy-md02" */
static gboolean
kith_modbus_settings_unit (KithModbusSettings *settings, const gchar *entry, guint min, guint max,
                           gboolean *seen, const gchar *group, GError **error)
{
	g_auto (GStrv) parts = g_strsplit (entry, ":", 2);
	g_autoptr (GArray) ids = NULL;
	g_autoptr (GError) error_local = NULL;
	const gchar *profile;

	if (parts[1] == NULL || g_strstrip (parts[1])[0] == '\0')
		return kith_modbus_key_fail (error, group, "Units",
		                             "'%s' is not <unit id>:<profile>", entry);
	profile = parts[1];
	if (!kith_modbus_profile_name_is_valid (profile))
		return kith_modbus_key_fail (error, group, "Units",
		                             "'%s' is not a profile name (letters, digits, '-', "
		                             "'_', '.')",
		                             profile);
	ids = kith_modbus_discovery_parse (parts[0], min, max, &error_local);
	if (ids == NULL || strchr (parts[0], ';') != NULL)
		return kith_modbus_key_fail (error, group, "Units", "%s",
		                             error_local != NULL ? error_local->message
		                                                 : "one id or range per entry");
	if (!kith_modbus_settings_check_ids (ids, group, "Units", error))
		return FALSE;
	for (guint i = 0; i < ids->len; i++) {
		guint8 id = g_array_index (ids, guint8, i);
		KithModbusUnitConfig *config;
		if (seen[id])
			return kith_modbus_key_fail (error, group, "Units",
			                             "unit %u is listed twice", id);
		seen[id] = TRUE;
		config = g_new0 (KithModbusUnitConfig, 1);
		config->id = id;
		config->profile = g_strdup (profile);
		g_ptr_array_add (settings->units, config);
	}
	return TRUE;
}

static gboolean
kith_modbus_settings_units (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                            GError **error)
{
	g_auto (GStrv) entries = g_key_file_get_string_list (keyfile, group, "Units", NULL, NULL);
	guint min = settings->link.rtu ? 1 : 0;
	guint max = settings->link.rtu ? 247 : 255;
	gboolean seen[256] = { FALSE };

	settings->units =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_modbus_unit_config_free);
	for (guint i = 0; entries != NULL && entries[i] != NULL; i++) {
		if (g_strstrip (entries[i])[0] == '\0')
			continue;
		if (!kith_modbus_settings_unit (settings, entries[i], min, max, seen, group, error))
			return FALSE;
	}
	g_ptr_array_sort (settings->units, kith_modbus_unit_config_compare);
	return TRUE;
}

static gboolean
kith_modbus_settings_discover (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                               GError **error)
{
	g_autofree gchar *range = g_key_file_get_string (keyfile, group, "Discover", NULL);
	g_autoptr (GError) error_local = NULL;
	guint64 budget = 10;
	gdouble timeout = settings->link.timeout / 1e6;
	gdouble interval = 0;

	if (!kith_modbus_key_get_unsigned (keyfile, group, "DiscoverBudget", 100, &budget, error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "DiscoverTimeout", 0.01, 60, &timeout,
	                                  error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "DiscoverInterval", 0, 365 * 86400.0,
	                                  &interval, error))
		return FALSE;
	if (budget == 0)
		return kith_modbus_key_fail (error, group, "DiscoverBudget", "must be 1..100");
	settings->discover_budget = (guint)budget;
	settings->discover_timeout = (gint64)(timeout * G_USEC_PER_SEC);
	settings->discover_interval = (gint64)(interval * G_USEC_PER_SEC);
	if (range == NULL || g_strstrip (range)[0] == '\0')
		return TRUE;
	settings->discover = kith_modbus_discovery_parse (
	        range, settings->link.rtu ? 1 : 0, settings->link.rtu ? 247 : 255, &error_local);
	if (settings->discover == NULL)
		return kith_modbus_key_fail (error, group, "Discover", "%s", error_local->message);
	return kith_modbus_settings_check_ids (settings->discover, group, "Discover", error);
}

static gboolean
kith_modbus_settings_timing (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                             GError **error)
{
	gdouble interval = 10, timeout = 0.5, byte_timeout = settings->link.rtu ? 0.1 : 0.5;
	gdouble backoff_max = 10;

	if (!kith_modbus_key_get_seconds (keyfile, group, "Interval", 0.05, 86400, &interval,
	                                  error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "Timeout", 0.01, 60, &timeout, error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "ByteTimeout", 0.001, 60, &byte_timeout,
	                                  error) ||
	    !kith_modbus_key_get_seconds (keyfile, group, "BackoffMax", 0.5, 3600, &backoff_max,
	                                  error))
		return FALSE;
	settings->interval = (gint64)(interval * G_USEC_PER_SEC);
	settings->link.timeout = (gint64)(timeout * G_USEC_PER_SEC);
	settings->link.byte_timeout = (gint64)(byte_timeout * G_USEC_PER_SEC);
	settings->backoff.first = 500 * 1000;
	settings->backoff.max = (gint64)(backoff_max * G_USEC_PER_SEC);
	return TRUE;
}

gboolean
kith_modbus_settings_load (KithModbusSettings *settings, GKeyFile *keyfile, const gchar *group,
                           GError **error)
{
	memset (settings, 0, sizeof *settings);
	kith_modbus_quirks_init (&settings->quirks);
	if (!kith_modbus_settings_transport (settings, keyfile, group, error))
		return FALSE;
	if (settings->link.rtu ? !kith_modbus_settings_rtu (settings, keyfile, group, error)
	                       : !kith_modbus_settings_tcp (settings, keyfile, group, error))
		return FALSE;
	if (!kith_modbus_settings_timing (settings, keyfile, group, error) ||
	    !kith_modbus_settings_units (settings, keyfile, group, error) ||
	    !kith_modbus_settings_discover (settings, keyfile, group, error) ||
	    !kith_modbus_quirks_load (&settings->quirks, keyfile, group, error))
		return FALSE;
	settings->profiles = g_key_file_get_string (keyfile, group, "Profiles", NULL);
	if (settings->profiles != NULL && g_strstrip (settings->profiles)[0] == '\0')
		g_clear_pointer (&settings->profiles, g_free);
	if (settings->profiles != NULL && !g_file_test (settings->profiles, G_FILE_TEST_IS_DIR))
		return kith_modbus_key_fail (error, group, "Profiles", "%s is not a directory",
		                             settings->profiles);
	if (settings->units->len == 0 && settings->discover == NULL)
		return kith_modbus_key_fail (error, group, "Units",
		                             "missing: a bus needs Units= or Discover=");
	return TRUE;
}
