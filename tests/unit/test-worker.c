/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>

#include "driver.h"
#include "worker.h"

typedef struct {
	GMainLoop *loop;
	GPtrArray *order; /* results in delivery order */
	guint cancelled;
	guint expected;
	GThread *main_thread;
} Fixture;

static gpointer
run_sleep_cb (gpointer data, GCancellable *cancellable, GError **error)
{
	guint ms = GPOINTER_TO_UINT (data);
	/* a blocking call, cut short by cancellation in steps of 10 ms */
	for (guint waited = 0; waited < ms; waited += 10) {
		if (g_cancellable_set_error_if_cancelled (cancellable, error))
			return NULL;
		g_usleep (10 * 1000);
	}
	return g_strdup_printf ("slept %u", ms);
}

static void
done_cb (gpointer result, const GError *error, gpointer user_data)
{
	Fixture *fixture = user_data;

	g_assert_true (g_thread_self () == fixture->main_thread);
	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		fixture->cancelled++;
	else
		g_ptr_array_add (fixture->order, result);
	if (fixture->order->len + fixture->cancelled == fixture->expected && fixture->loop != NULL)
		g_main_loop_quit (fixture->loop);
}

static void
fixture_init (Fixture *fixture)
{
	fixture->loop = g_main_loop_new (NULL, FALSE);
	fixture->order = g_ptr_array_new_with_free_func (g_free);
	fixture->main_thread = g_thread_self ();
}

static void
fixture_clear (Fixture *fixture)
{
	g_main_loop_unref (fixture->loop);
	g_ptr_array_unref (fixture->order);
}

/* jobs run one after the other, in order, and their results come back on the main loop */
static void
test_worker_order (void)
{
	Fixture fixture = { 0 };
	g_autoptr (KithWorker) worker = kith_worker_new ("test");

	fixture_init (&fixture);
	fixture.expected = 3;
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (30), NULL, g_free, NULL, done_cb,
	                  &fixture);
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (0), NULL, g_free, NULL, done_cb,
	                  &fixture);
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (10), NULL, g_free, NULL, done_cb,
	                  &fixture);
	g_assert_cmpuint (kith_worker_get_pending (worker), ==, 3);
	g_main_loop_run (fixture.loop);
	g_assert_cmpuint (fixture.order->len, ==, 3);
	g_assert_cmpstr (g_ptr_array_index (fixture.order, 0), ==, "slept 30");
	g_assert_cmpstr (g_ptr_array_index (fixture.order, 1), ==, "slept 0");
	g_assert_cmpstr (g_ptr_array_index (fixture.order, 2), ==, "slept 10");
	g_assert_cmpuint (kith_worker_get_pending (worker), ==, 0);
	fixture_clear (&fixture);
}

static gboolean
tick_cb (gpointer user_data)
{
	guint *ticks = user_data;
	(*ticks)++;
	return G_SOURCE_CONTINUE;
}

/* a job that blocks leaves the main loop free, and cancel_all ends it and the queued ones */
static void
test_worker_cancel (void)
{
	Fixture fixture = { 0 };
	g_autoptr (KithWorker) worker = kith_worker_new ("test");
	guint ticks = 0;
	guint tick_id;

	fixture_init (&fixture);
	fixture.expected = 2;
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (5000), NULL, g_free, NULL,
	                  done_cb, &fixture);
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (5000), NULL, g_free, NULL,
	                  done_cb, &fixture);
	tick_id = g_timeout_add (10, tick_cb, &ticks);
	/* the main loop keeps ticking while the worker blocks */
	while (ticks < 10)
		g_main_context_iteration (NULL, TRUE);
	kith_worker_cancel_all (worker);
	g_main_loop_run (fixture.loop);
	g_source_remove (tick_id);
	g_assert_cmpuint (fixture.cancelled, ==, 2);
	g_assert_cmpuint (fixture.order->len, ==, 0);
	fixture_clear (&fixture);
}

/* freeing the worker while a job blocks answers every job at once, and nothing after */
static void
test_worker_free_blocked (void)
{
	Fixture fixture = { 0 };
	KithWorker *worker = kith_worker_new ("test");
	gint64 started;

	fixture_init (&fixture);
	fixture.expected = 100; /* never reached: the loop is not run */
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (200), NULL, g_free, NULL, done_cb,
	                  &fixture);
	kith_worker_push (worker, run_sleep_cb, GUINT_TO_POINTER (200), NULL, g_free, NULL, done_cb,
	                  &fixture);
	g_usleep (20 * 1000);
	started = g_get_monotonic_time ();
	kith_worker_free (worker);
	g_assert_cmpint (g_get_monotonic_time () - started, <, 100 * 1000);
	g_assert_cmpuint (fixture.cancelled, ==, 2);
	/* the thread's late hand-over is dropped */
	for (guint i = 0; i < 30; i++) {
		while (g_main_context_iteration (NULL, FALSE))
			;
		g_usleep (10 * 1000);
	}
	g_assert_cmpuint (fixture.cancelled, ==, 2);
	g_assert_cmpuint (fixture.order->len, ==, 0);
	fixture_clear (&fixture);
}

static void
on_added (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	GPtrArray *seen = user_data;
	g_ptr_array_add (seen, g_strdup_printf ("+%s", kith_device_get_id (device)));
}

static void
on_removed (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	GPtrArray *seen = user_data;
	g_ptr_array_add (seen, g_strdup_printf ("-%s", kith_device_get_id (device)));
}

static gboolean
admit_cb (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	return !g_str_has_suffix (kith_device_get_id (device), "-refused");
}

/* devices come and go at runtime; the admission check refuses; ids stay unique */
static void
test_driver_devices (void)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDriver) driver = kith_driver_new ("sim", "b", &error);
	g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (KithDevice) one = kith_device_new ("b-one", NULL);
	g_autoptr (KithDevice) twin = kith_device_new ("b-one", NULL);
	g_autoptr (KithDevice) refused = kith_device_new ("b-refused", NULL);

	g_assert_no_error (error);
	g_signal_connect (driver, "device-added", G_CALLBACK (on_added), seen);
	g_signal_connect (driver, "device-removed", G_CALLBACK (on_removed), seen);
	kith_driver_set_admission (driver, admit_cb, NULL);
	kith_device_set_key (one, "0x00AB");
	g_assert_true (kith_driver_add_device (driver, one));
	g_assert_false (kith_driver_add_device (driver, twin));
	g_assert_false (kith_driver_add_device (driver, refused));
	g_assert_true (kith_driver_find_device (driver, "b-one") == one);
	g_assert_true (kith_driver_find_device_by_key (driver, "0x00AB") == one);
	g_assert_true (kith_device_get_driver (one) == driver);
	kith_driver_remove_device (driver, one);
	g_assert_null (kith_driver_find_device (driver, "b-one"));
	g_assert_null (kith_device_get_driver (one));
	g_assert_cmpuint (seen->len, ==, 2);
	g_assert_cmpstr (g_ptr_array_index (seen, 0), ==, "+b-one");
	g_assert_cmpstr (g_ptr_array_index (seen, 1), ==, "-b-one");
}

static void
test_device_make_id (void)
{
	static const struct {
		const gchar *key;
		const gchar *id;
	} cases[] = {
		{ "0x00158D00012ABCDE", "home-0x00158d00012abcde" },
		{ "--Shelly Plug S (kitchen)--", "home-shelly-plug-s-kitchen" },
		{ "zigbee2mqtt_0x1234", "home-zigbee2mqtt-0x1234" },
		{ "é€", NULL },
		{ "", NULL },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree gchar *id = kith_device_make_id ("home", cases[i].key);
		g_assert_cmpstr (id, ==, cases[i].id);
	}
}

static void
on_availability (KithDevice *device, gpointer user_data)
{
	(*(guint *)user_data)++;
}

static void
test_device_availability (void)
{
	g_autoptr (KithDevice) device = kith_device_new ("b-one", NULL);
	guint changes = 0;

	g_signal_connect (device, "availability-changed", G_CALLBACK (on_availability), &changes);
	g_assert_true (kith_device_is_answering (device));
	kith_device_set_answering (device, TRUE, NULL);
	g_assert_cmpuint (changes, ==, 0);
	kith_device_set_answering (device, FALSE, "timeout");
	g_assert_false (kith_device_is_answering (device));
	g_assert_cmpstr (kith_device_get_silent_reason (device), ==, "timeout");
	g_assert_cmpint (kith_device_get_silent_since (device), >, 0);
	kith_device_set_answering (device, FALSE, "again");
	g_assert_cmpuint (changes, ==, 1);
	kith_device_set_answering (device, TRUE, NULL);
	g_assert_cmpuint (changes, ==, 2);
	g_assert_null (kith_device_get_silent_reason (device));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/worker/order", test_worker_order);
	g_test_add_func ("/kith/worker/cancel", test_worker_cancel);
	g_test_add_func ("/kith/worker/free-blocked", test_worker_free_blocked);
	g_test_add_func ("/kith/driver/devices", test_driver_devices);
	g_test_add_func ("/kith/device/make-id", test_device_make_id);
	g_test_add_func ("/kith/device/availability", test_device_availability);
	return g_test_run ();
}
