/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "overview.h"

#include <unistd.h>

#include "device-record.h"
#include "driver.h"

void
kith_overview_count (KithDaemon *daemon, KithOverviewCounts *counts)
{
	g_autoptr (GPtrArray) devices = kith_daemon_get_devices (daemon);

	counts->devices = devices->len;
	counts->online = 0;
	counts->not_answering = 0;
	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		KithIdentity *identity =
		        kith_daemon_get_identity (daemon, kith_device_get_id (device));
		if (identity != NULL && kith_identity_is_online (identity))
			counts->online++;
		if (!kith_device_is_answering (device))
			counts->not_answering++;
	}
}

gchar *
kith_overview_status_line (KithDaemon *daemon)
{
	KithOverviewCounts counts;

	kith_overview_count (daemon, &counts);
	return g_strdup_printf ("%u device%s: %u online, %u not answering", counts.devices,
	                        counts.devices == 1 ? "" : "s", counts.online,
	                        counts.not_answering);
}

gchar *
kith_overview_format_time (gint64 real_time)
{
	g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (real_time / G_USEC_PER_SEC);
	return time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

static void
kith_overview_member_string (JsonBuilder *builder, const gchar *name, const gchar *value)
{
	json_builder_set_member_name (builder, name);
	if (value != NULL)
		json_builder_add_string_value (builder, value);
	else
		json_builder_add_null_value (builder);
}

static void
kith_overview_member_int (JsonBuilder *builder, const gchar *name, gint64 value)
{
	json_builder_set_member_name (builder, name);
	json_builder_add_int_value (builder, value);
}

static void
kith_overview_member_bool (JsonBuilder *builder, const gchar *name, gboolean value)
{
	json_builder_set_member_name (builder, name);
	json_builder_add_boolean_value (builder, value);
}

void
kith_overview_add_status (JsonBuilder *builder, KithDaemon *daemon, gint64 started_at)
{
	KithConfig *config = kith_daemon_get_config (daemon);
	KithOverviewCounts counts;

	kith_overview_count (daemon, &counts);
	kith_overview_member_string (builder, "version", KITH_VERSION);
	kith_overview_member_int (builder, "pid", getpid ());
	kith_overview_member_int (builder, "uptime",
	                          (g_get_monotonic_time () - started_at) / G_USEC_PER_SEC);
	kith_overview_member_string (builder, "config", config->path);
	kith_overview_member_string (builder, "stateDirectory", config->state_directory);
	kith_overview_member_string (builder, "mode",
	                             config->mode == KITH_MODE_COMPONENT ? "component" : "client");
	kith_overview_member_string (builder, "domain", config->device_domain);
	kith_overview_member_string (builder, "policy",
	                             kith_policy_kind_to_string (config->policy));
	kith_overview_member_int (builder, "devices", counts.devices);
	kith_overview_member_int (builder, "online", counts.online);
	kith_overview_member_int (builder, "notAnswering", counts.not_answering);
}

void
kith_overview_add_values (JsonBuilder *builder, KithDevice *device)
{
	GPtrArray *fields = kith_device_get_fields (device);

	json_builder_begin_array (builder);
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		const KithValue *value = kith_device_get_value (device, field->name);
		gboolean valid = value != NULL && value->valid;
		g_autofree gchar *text =
		        valid ? kith_value_to_string (value, field->decimals) : NULL;

		json_builder_begin_object (builder);
		kith_overview_member_string (builder, "name", field->name);
		json_builder_set_member_name (builder, "value");
		kith_device_record_add_value (builder, value);
		kith_overview_member_string (builder, "unit",
		                             field->unit != NULL ? field->unit : "");
		if (text != NULL && field->unit != NULL && field->unit[0] != '\0') {
			gchar *with_unit = g_strconcat (text, " ", field->unit, NULL);
			g_free (text);
			text = with_unit;
		}
		kith_overview_member_string (builder, "text", text);
		if (valid && value->timestamp > 0) {
			g_autofree gchar *time = kith_overview_format_time (value->timestamp);
			kith_overview_member_string (builder, "time", time);
		}
		kith_overview_member_bool (builder, "writable", field->writable);
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
}

void
kith_overview_add_device (JsonBuilder *builder, KithDaemon *daemon, KithDevice *device)
{
	KithConfig *config = kith_daemon_get_config (daemon);
	const gchar *id = kith_device_get_id (device);
	KithIdentity *identity = kith_daemon_get_identity (daemon, id);
	KithDriver *driver = kith_device_get_driver (device);
	g_autofree gchar *jid = g_strdup_printf ("%s@%s", id, config->device_domain);

	json_builder_begin_object (builder);
	kith_overview_member_string (builder, "id", id);
	kith_overview_member_string (builder, "label", kith_device_get_label (device));
	kith_overview_member_string (builder, "jid", jid);
	kith_overview_member_string (builder, "resource", config->resource);
	kith_overview_member_string (builder, "bus",
	                             driver != NULL ? kith_driver_get_bus_name (driver) : NULL);
	kith_overview_member_bool (builder, "online",
	                           identity != NULL && kith_identity_is_online (identity));
	kith_overview_member_bool (builder, "answering", kith_device_is_answering (device));
	if (!kith_device_is_answering (device)) {
		g_autofree gchar *since =
		        kith_overview_format_time (kith_device_get_silent_since (device));
		kith_overview_member_string (builder, "silentSince", since);
		kith_overview_member_string (builder, "silentReason",
		                             kith_device_get_silent_reason (device));
	}
	if (identity != NULL) {
		g_autoptr (GPtrArray) friends = kith_identity_get_friends (identity);
		g_autoptr (GPtrArray) pending = kith_identity_get_pending (identity);
		kith_overview_member_int (builder, "friends", friends->len);
		kith_overview_member_int (builder, "pending", pending->len);
		kith_overview_member_string (builder, "owner", kith_identity_get_owner (identity));
	}
	json_builder_set_member_name (builder, "values");
	kith_overview_add_values (builder, device);
	json_builder_end_object (builder);
}
