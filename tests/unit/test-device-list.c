/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The device list: admission (ids unique across buses, MaxDevices), what the store remembers,
 * and devices known from before coming back to a discovering bus. */
#include <glib/gstdio.h>
#include <string.h>

#include "device-list.h"
#include "device-record.h"
#include "driver.h"

typedef struct {
	GPtrArray *added;   /* ids */
	GPtrArray *removed; /* ids */
	GPtrArray *clashes;
} Seen;

static void
added_cb (KithDevice *device, gpointer user_data)
{
	g_ptr_array_add (((Seen *)user_data)->added, g_strdup (kith_device_get_id (device)));
}

static void
removed_cb (KithDevice *device, gpointer user_data)
{
	g_ptr_array_add (((Seen *)user_data)->removed, g_strdup (kith_device_get_id (device)));
}

static void
clash_cb (const gchar *message, gpointer user_data)
{
	g_ptr_array_add (((Seen *)user_data)->clashes, g_strdup (message));
}

static const KithDeviceListCallbacks callbacks = {
	.added = added_cb,
	.removed = removed_cb,
};

static void
seen_init (Seen *seen)
{
	seen->added = g_ptr_array_new_with_free_func (g_free);
	seen->removed = g_ptr_array_new_with_free_func (g_free);
	seen->clashes = g_ptr_array_new_with_free_func (g_free);
}

static void
seen_clear (Seen *seen)
{
	g_ptr_array_unref (seen->added);
	g_ptr_array_unref (seen->removed);
	g_ptr_array_unref (seen->clashes);
}

static KithDevice *
make_device (const gchar *id, gdouble temperature)
{
	KithDevice *device = kith_device_new (id, "A thermometer");
	KithField *field = kith_field_new ("Temperature", KITH_VALUE_NUMERIC, "°C");

	field->decimals = 2;
	field->presence_step = 0.5;
	field->in_status = TRUE;
	kith_device_add_field (device, field);
	field = kith_field_new ("Fan", KITH_VALUE_BOOLEAN, NULL);
	field->writable = TRUE;
	kith_device_add_field (device, field);
	kith_device_set_number (device, "Temperature", temperature,
	                        G_GINT64_CONSTANT (1764000000) * G_USEC_PER_SEC);
	kith_device_set_manufacturer (device, "example.net");
	kith_device_set_model (device, "T1");
	return device;
}

/* the record the store keeps gives the same device back */
static void
test_record (void)
{
	g_autoptr (KithDevice) device = make_device ("b-t", 21.25);
	g_autofree gchar *json = kith_device_record_to_json (device);
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDevice) again = kith_device_record_load ("b-t", json, &error);
	const KithField *field;

	g_assert_no_error (error);
	g_assert_cmpstr (kith_device_get_label (again), ==, "A thermometer");
	g_assert_cmpstr (kith_device_get_model (again), ==, "T1");
	g_assert_cmpuint (kith_device_get_fields (again)->len, ==, 2);
	field = kith_device_find_field (again, "Temperature");
	g_assert_cmpstr (field->unit, ==, "°C");
	g_assert_true (field->in_status);
	g_assert_cmpfloat (field->presence_step, ==, 0.5);
	g_assert_true (kith_device_find_field (again, "Fan")->writable);
	g_assert_cmpfloat (kith_device_get_value (again, "Temperature")->number, ==, 21.25);
	g_assert_false (kith_device_get_value (again, "Fan")->valid);

	/* a broken record is an error, never a crash */
	g_assert_null (kith_device_record_load ("b-t", "{\"fields\":[{\"type\":\"x\"}]}", &error));
	g_assert_nonnull (error);
	g_clear_error (&error);
	g_assert_null (kith_device_record_load ("b-t", "not json", &error));
	g_assert_nonnull (error);
}

/* two buses want the same id: the second is refused; MaxDevices stops a bus */
static void
test_admission (void)
{
	Seen seen;
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDriver) a = kith_driver_new ("sim", "a", &error);
	g_autoptr (KithDriver) b = kith_driver_new ("sim", "b", &error);
	KithDeviceList *list;

	seen_init (&seen);
	list = kith_device_list_new (&callbacks, &seen);
	/* warnings end a test: the refusals are seen through the clash function and counts */
	kith_device_list_set_quiet (list, TRUE);
	kith_device_list_set_clash_func (list, clash_cb, &seen);
	kith_device_list_add_bus (list, a, 0);
	kith_device_list_add_bus (list, b, 2);
	kith_device_list_bus_ready (list, a);
	kith_device_list_bus_ready (list, b);
	{
		g_autoptr (KithDevice) one = make_device ("x-1", 20);
		g_autoptr (KithDevice) twin = make_device ("x-1", 20);
		g_assert_true (kith_driver_add_device (a, one));
		g_assert_false (kith_driver_add_device (b, twin));
	}
	g_assert_cmpuint (seen.clashes->len, ==, 1);
	g_assert_nonnull (strstr (g_ptr_array_index (seen.clashes, 0), "bus a and bus b"));
	for (guint i = 0; i < 4; i++) {
		g_autofree gchar *id = g_strdup_printf ("b-%u", i);
		g_autoptr (KithDevice) device = make_device (id, 20);
		g_assert_cmpint (kith_driver_add_device (b, device), ==, i < 2);
	}
	g_assert_cmpuint (kith_device_list_get_count (list), ==, 3);
	g_assert_cmpuint (seen.added->len, ==, 3);
	/* one gone: there is room again */
	kith_driver_remove_device (b, kith_driver_find_device (b, "b-0"));
	g_assert_cmpuint (seen.removed->len, ==, 1);
	{
		g_autoptr (KithDevice) device = make_device ("b-9", 20);
		g_assert_true (kith_driver_add_device (b, device));
	}
	kith_device_list_free (list);
	seen_clear (&seen);
}

static void
collect_cb (const gchar *device_id, const gchar *bus, const gchar *driver_key, const gchar *record,
            gint64 first_seen, gint64 last_seen, gpointer user_data)
{
	g_ptr_array_add (user_data, g_strdup_printf ("%s@%s:%s", device_id, bus, driver_key));
}

/* remembered in the store; gone when its bus says so; back, not answering, on a discovering
 * bus after a restart */
static void
test_store_and_restore (void)
{
	g_autofree gchar *dir = g_dir_make_tmp ("kith-list-XXXXXX", NULL);
	g_autoptr (GError) error = NULL;
	g_autoptr (KithStore) store = kith_store_open (dir, &error);
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
	Seen seen;

	g_assert_no_error (error);
	/* a discovering bus: devices come from the bus, not the configuration */
	g_key_file_set_string (keyfile, "bus:m", "Announce", "60");
	seen_init (&seen);
	{
		g_autoptr (KithDriver) bus = kith_driver_new ("sim", "m", &error);
		KithDeviceList *list = kith_device_list_new (&callbacks, &seen);
		g_autoptr (KithDevice) kept = make_device ("m-kept", 19.5);
		g_autoptr (KithDevice) gone = make_device ("m-gone", 18);

		kith_device_list_add_bus (list, bus, 0);
		g_assert_true (kith_driver_setup (bus, keyfile, "bus:m", &error));
		g_assert_true (kith_driver_discovers (bus));
		kith_device_list_bus_ready (list, bus);
		kith_device_list_open (list, store);
		kith_device_set_key (kept, "hw-0001");
		g_assert_true (kith_driver_add_device (bus, kept));
		g_assert_true (kith_driver_add_device (bus, gone));
		kith_device_set_number (kept, "Temperature", 22.75, g_get_real_time ());
		kith_device_emit_changed (kept);
		kith_driver_remove_device (bus, gone);
		kith_device_list_flush (list);
		kith_store_foreach_device (store, NULL, collect_cb, rows);
		g_assert_cmpuint (rows->len, ==, 1);
		g_assert_cmpstr (g_ptr_array_index (rows, 0), ==, "m-kept@m:hw-0001");
		/* kithd stops: the device stays known */
		kith_device_list_remove_bus (list, bus, FALSE);
		kith_device_list_free (list);
	}
	{
		/* the next run: back at once, not answering, with its last value and key */
		g_autoptr (KithDriver) bus = kith_driver_new ("sim", "m", &error);
		KithDeviceList *list = kith_device_list_new (&callbacks, &seen);
		KithDevice *back;

		kith_device_list_add_bus (list, bus, 0);
		g_assert_true (kith_driver_setup (bus, keyfile, "bus:m", &error));
		kith_device_list_bus_ready (list, bus);
		kith_device_list_open (list, store);
		back = kith_driver_find_device (bus, "m-kept");
		g_assert_nonnull (back);
		g_assert_false (kith_device_is_answering (back));
		g_assert_cmpstr (kith_device_get_key (back), ==, "hw-0001");
		g_assert_cmpfloat (kith_device_get_value (back, "Temperature")->number, ==, 22.75);
		g_assert_null (kith_driver_find_device (bus, "m-gone"));
		/* the bus leaves the configuration: forgotten */
		kith_device_list_remove_bus (list, bus, TRUE);
		g_ptr_array_set_size (rows, 0);
		kith_store_foreach_device (store, NULL, collect_cb, rows);
		g_assert_cmpuint (rows->len, ==, 0);
		kith_device_list_free (list);
	}
	seen_clear (&seen);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/device-list/record", test_record);
	g_test_add_func ("/kith/device-list/admission", test_admission);
	g_test_add_func ("/kith/device-list/store-and-restore", test_store_and_restore);
	return g_test_run ();
}
