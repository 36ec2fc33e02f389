/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-i2c"

#include "i2c.h"

#include <string.h>

#include "chips.h"
#include "kith-error.h"
#include "readout.h"
#include "scan.h"

struct _KithI2cDriver {
	KithDriver parent_instance;
	guint adapter;
	gboolean scan;
	gboolean scan_addresses[128];
	GPtrArray *named;    /* KithI2cNamed from Addresses= */
	guint interval;      /* seconds between readouts */
	GPtrArray *readouts; /* KithI2cReadout */
	GString *found;      /* what the last scan found, for describe */
	gboolean scanned;    /* a scan completed */
	gboolean scanning;
	gboolean started;
	guint poll_id;
	gchar *scan_error; /* the last scan failure, said once */
};

G_DEFINE_FINAL_TYPE (KithI2cDriver, kith_i2c_driver, KITH_TYPE_DRIVER)

static const gchar *const kith_i2c_keys[] = {
	"Driver", "Adapter", "Scan", "Addresses", "Interval", NULL,
};

/* what a scan found at one address */
typedef struct {
	guint address;
	const KithI2cChip *chip; /* NULL: answers, not identified */
	gboolean busy;           /* in use by a kernel driver */
} KithI2cFound;

typedef struct {
	guint adapter;
	gboolean addresses[128];
} KithI2cScanJob;

static gchar *
kith_i2c_key (guint address, const KithI2cChip *chip)
{
	return g_strdup_printf ("0x%02x:%s", address, chip->name);
}

static KithI2cReadout *
kith_i2c_find_readout (KithI2cDriver *self, KithDevice *device)
{
	for (guint i = 0; i < self->readouts->len; i++) {
		KithI2cReadout *readout = g_ptr_array_index (self->readouts, i);
		if (kith_i2c_readout_get_device (readout) == device)
			return readout;
	}
	return NULL;
}

static KithDevice *
kith_i2c_new_device (KithI2cDriver *self, guint address, const KithI2cChip *chip)
{
	const gchar *bus = kith_driver_get_bus_name (KITH_DRIVER (self));
	g_autofree gchar *hardware = g_strdup_printf ("%02x-%s", address, chip->name);
	g_autofree gchar *id = kith_device_make_id (bus, hardware);
	g_autofree gchar *key = kith_i2c_key (address, chip);
	g_autofree gchar *label =
	        g_strdup_printf ("%s at 0x%02x on i2c-%u", chip->model, address, self->adapter);
	KithDevice *device = kith_device_new (id, label);

	kith_device_set_key (device, key);
	kith_device_set_model (device, chip->model);
	kith_device_set_manufacturer (device, chip->manufacturer);
	kith_device_set_class (device, "Sensor");
	kith_i2c_readout_add_fields (chip, device);
	return device;
}

/* a device (new, or known from an earlier run) gets its readout */
static KithI2cReadout *
kith_i2c_attach (KithI2cDriver *self, KithDevice *device, guint address, const KithI2cChip *chip)
{
	KithI2cReadout *readout = kith_i2c_readout_new (device, chip, self->adapter, address);
	g_ptr_array_add (self->readouts, readout);
	return readout;
}

static gboolean
kith_i2c_get_uint (GKeyFile *keyfile, const gchar *group, const gchar *key, guint min, guint max,
                   guint *out, GError **error)
{
	g_autofree gchar *value = g_key_file_get_string (keyfile, group, key, NULL);
	guint64 number;

	if (value == NULL || g_strstrip (value)[0] == '\0')
		return TRUE;
	if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "[%s] %s: '%s' is not a number in %u..%u", group, key, value, min,
		             max);
		return FALSE;
	}
	*out = (guint)number;
	return TRUE;
}

static gboolean
kith_i2c_setup (KithDriver *driver, GKeyFile *keyfile, const gchar *group, GError **error)
{
	KithI2cDriver *self = KITH_I2C_DRIVER (driver);
	g_autofree gchar *addresses = g_key_file_get_string (keyfile, group, "Addresses", NULL);
	g_autoptr (GError) error_local = NULL;

	if (!kith_i2c_get_uint (keyfile, group, "Adapter", 0, 1023, &self->adapter, error) ||
	    !kith_i2c_get_uint (keyfile, group, "Interval", 1, 86400, &self->interval, error))
		return FALSE;
	if (g_key_file_has_key (keyfile, group, "Scan", NULL)) {
		self->scan = g_key_file_get_boolean (keyfile, group, "Scan", &error_local);
		if (error_local != NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "[%s] Scan: not true or false", group);
			return FALSE;
		}
	}
	/* without a scan every device is named in the configuration: nothing to give back */
	kith_driver_set_discovers (driver, self->scan);
	if (!kith_i2c_parse_addresses (addresses, kith_i2c_chip_names (), self->scan_addresses,
	                               self->named, &error_local)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] Addresses: %s", group,
		             error_local->message);
		return FALSE;
	}
	for (guint i = 0; i < self->named->len; i++) {
		KithI2cNamed *named = g_ptr_array_index (self->named, i);
		const KithI2cChip *chip = kith_i2c_chip_find (named->chip);
		g_autoptr (KithDevice) device = kith_i2c_new_device (self, named->address, chip);

		if (!kith_i2c_chip_can_live_at (chip, named->address))
			g_message ("bus %s: a %s is not usually at 0x%02x; used there as named",
			           kith_driver_get_bus_name (driver), chip->model, named->address);
		if (kith_driver_add_device (driver, device))
			kith_i2c_attach (self, device, named->address, chip);
	}
	return TRUE;
}

/* on the worker thread: i2cdetect's probes, then the chip-id registers of what answered */
static gpointer
kith_i2c_scan_run (gpointer data, GCancellable *cancellable, GError **error)
{
	KithI2cScanJob *job = data;
	g_autoptr (KithI2cAdapter) adapter = kith_i2c_adapter_open (job->adapter, error);
	g_autoptr (GArray) found = g_array_new (FALSE, TRUE, sizeof (KithI2cFound));
	gulong funcs;

	if (adapter == NULL)
		return NULL;
	funcs = kith_i2c_adapter_get_funcs (adapter);
	for (guint address = 0; address < 128; address++) {
		g_autoptr (GError) error_local = NULL;
		KithI2cFound entry = { .address = address };
		KithI2cProbe probe = kith_i2c_scan_probe (address, funcs);
		guint8 byte;
		gboolean answered;

		if (!job->addresses[address] || probe == KITH_I2C_PROBE_NONE)
			continue;
		if (g_cancellable_is_cancelled (cancellable))
			break;
		if (!kith_i2c_adapter_select (adapter, address, &error_local)) {
			if (g_error_matches (error_local, KITH_ERROR, KITH_ERROR_FORBIDDEN)) {
				entry.busy = TRUE;
				g_array_append_val (found, entry);
			}
			continue;
		}
		answered = probe == KITH_I2C_PROBE_QUICK_WRITE
		                   ? kith_i2c_quick_write (adapter, NULL)
		                   : kith_i2c_receive_byte (adapter, &byte, NULL);
		if (!answered)
			continue;
		entry.chip = kith_i2c_chip_identify (adapter, address);
		g_array_append_val (found, entry);
	}
	return g_steal_pointer (&found);
}

static void
kith_i2c_scan_found (KithI2cDriver *self, GArray *found)
{
	const gchar *bus = kith_driver_get_bus_name (KITH_DRIVER (self));

	g_string_truncate (self->found, 0);
	for (guint i = 0; i < found->len; i++) {
		KithI2cFound *entry = &g_array_index (found, KithI2cFound, i);
		g_autofree gchar *line = NULL;

		if (entry->busy)
			line = g_strdup_printf ("0x%02x: in use by a kernel driver (not probed)",
			                        entry->address);
		else if (entry->chip == NULL)
			line = g_strdup_printf (
			        "0x%02x: unknown chip (answers, no chip-id register "
			        "identifies it; name it in Addresses= if it is one "
			        "kith reads)",
			        entry->address);
		else if (entry->chip->step == NULL)
			line = g_strdup_printf (
			        "0x%02x: %s (identified; kith has no driver for it)",
			        entry->address, entry->chip->model);
		else
			line = g_strdup_printf ("0x%02x: %s", entry->address, entry->chip->model);
		g_string_append_printf (self->found, "  %s\n", line);
		g_message ("bus %s: i2c-%u %s", bus, self->adapter, line);
	}
	if (found->len == 0)
		g_message ("bus %s: nothing answers on i2c-%u", bus, self->adapter);
}

static void
kith_i2c_scan_add (KithI2cDriver *self, GArray *found)
{
	KithDriver *driver = KITH_DRIVER (self);
	KithWorker *worker = kith_driver_get_worker (driver);

	for (guint i = 0; i < found->len; i++) {
		KithI2cFound *entry = &g_array_index (found, KithI2cFound, i);
		g_autofree gchar *key = NULL;
		g_autoptr (KithDevice) device = NULL;
		KithDevice *known;

		if (entry->chip == NULL || entry->chip->step == NULL)
			continue;
		key = kith_i2c_key (entry->address, entry->chip);
		known = kith_driver_find_device_by_key (driver, key);
		if (known != NULL) {
			if (kith_i2c_find_readout (self, known) == NULL)
				kith_i2c_attach (self, known, entry->address, entry->chip);
			continue;
		}
		device = kith_i2c_new_device (self, entry->address, entry->chip);
		/* not answering until its first readout */
		kith_device_set_silent_since (device, g_get_real_time (), "not read yet");
		if (!kith_driver_add_device (driver, device))
			continue;
		kith_i2c_readout_run (kith_i2c_attach (self, device, entry->address, entry->chip),
		                      worker, NULL, NULL);
	}
}

static void
kith_i2c_scan_done_cb (gpointer result, const GError *error, gpointer user_data)
{
	g_autoptr (KithI2cDriver) self = user_data;
	g_autoptr (GArray) found = result;

	self->scanning = FALSE;
	if (error != NULL) {
		/* tried again at the next poll: the adapter may come (a module, a USB adapter) */
		if (self->started && g_strcmp0 (self->scan_error, error->message) != 0)
			g_warning ("bus %s: scan of i2c-%u: %s (trying again every %u s)",
			           kith_driver_get_bus_name (KITH_DRIVER (self)), self->adapter,
			           error->message, self->interval);
		g_free (self->scan_error);
		self->scan_error = g_strdup (error->message);
		return;
	}
	self->scanned = TRUE;
	kith_i2c_scan_found (self, found);
	if (self->started)
		kith_i2c_scan_add (self, found);
}

static void
kith_i2c_scan (KithI2cDriver *self)
{
	KithI2cScanJob *job;

	if (!self->scan || self->scanned || self->scanning)
		return;
	job = g_new0 (KithI2cScanJob, 1);
	job->adapter = self->adapter;
	memcpy (job->addresses, self->scan_addresses, sizeof (job->addresses));
	self->scanning = TRUE;
	kith_worker_push (kith_driver_get_worker (KITH_DRIVER (self)), kith_i2c_scan_run, job,
	                  g_free, (GDestroyNotify)g_array_unref, NULL, kith_i2c_scan_done_cb,
	                  g_object_ref (self));
}

static gboolean
kith_i2c_poll_cb (gpointer user_data)
{
	KithI2cDriver *self = user_data;
	KithWorker *worker = kith_driver_get_worker (KITH_DRIVER (self));

	kith_i2c_scan (self);
	for (guint i = 0; i < self->readouts->len; i++)
		kith_i2c_readout_run (g_ptr_array_index (self->readouts, i), worker, NULL, NULL);
	return G_SOURCE_CONTINUE;
}

static gboolean
kith_i2c_start (KithDriver *driver, GError **error)
{
	KithI2cDriver *self = KITH_I2C_DRIVER (driver);
	GPtrArray *devices = kith_driver_get_devices (driver);

	/* the devices of earlier scans, given back by the core: read by their keys until the
	 * bus confirms them */
	for (guint i = 0; i < devices->len; i++) {
		KithDevice *device = g_ptr_array_index (devices, i);
		g_autofree gchar *name = NULL;
		const KithI2cChip *chip;
		guint address;

		if (kith_i2c_find_readout (self, device) != NULL)
			continue;
		if (kith_device_get_key (device) == NULL ||
		    !kith_i2c_parse_named (kith_device_get_key (device), &address, &name) ||
		    (chip = kith_i2c_chip_find (name)) == NULL || chip->step == NULL) {
			g_message ("bus %s: %s is no chip kith reads; removed",
			           kith_driver_get_bus_name (driver), kith_device_get_id (device));
			kith_driver_remove_device (driver, device);
			i--;
			continue;
		}
		kith_i2c_attach (self, device, address, chip);
	}
	self->started = TRUE;
	kith_i2c_poll_cb (self);
	self->poll_id = g_timeout_add_seconds (self->interval, kith_i2c_poll_cb, self);
	return TRUE;
}

static void
kith_i2c_read (KithDriver *driver, KithDevice *device, KithReadFunc done, gpointer user_data)
{
	KithI2cDriver *self = KITH_I2C_DRIVER (driver);
	KithI2cReadout *readout = kith_i2c_find_readout (self, device);

	if (readout == NULL) {
		g_autoptr (GError) error =
		        g_error_new (KITH_ERROR, KITH_ERROR_NOT_FOUND, "%s is not on this bus",
		                     kith_device_get_id (device));
		done (device, error, user_data);
		return;
	}
	kith_i2c_readout_run (readout, kith_driver_get_worker (driver), done, user_data);
}

static void
kith_i2c_stop (KithDriver *driver)
{
	KithI2cDriver *self = KITH_I2C_DRIVER (driver);
	self->started = FALSE;
	g_clear_handle_id (&self->poll_id, g_source_remove);
	for (guint i = 0; i < self->readouts->len; i++)
		kith_i2c_readout_stop (g_ptr_array_index (self->readouts, i));
}

/* --check-config: the chips kith reads, and what a scan finds now (an explicit admin action) */
static void
kith_i2c_describe (KithDriver *driver, GString *out)
{
	KithI2cDriver *self = KITH_I2C_DRIVER (driver);
	g_autofree gchar *names = g_strjoinv (", ", (gchar **)kith_i2c_chip_names ());

	g_string_append_printf (out, "  chips kith reads: %s\n", names);
	if (!self->scan) {
		g_string_append (out, "  no scan (Scan=false)\n");
		return;
	}
	if (!self->scanned && !self->started) {
		g_autoptr (GError) error = NULL;
		KithI2cScanJob job = { .adapter = self->adapter };
		g_autoptr (GArray) found = NULL;

		memcpy (job.addresses, self->scan_addresses, sizeof (job.addresses));
		found = kith_i2c_scan_run (&job, NULL, &error);
		if (found == NULL) {
			g_string_append_printf (out, "  scan of i2c-%u: %s\n", self->adapter,
			                        error->message);
			return;
		}
		self->scanned = TRUE;
		kith_i2c_scan_found (self, found);
	}
	g_string_append_printf (out, "  scan of i2c-%u:\n%s", self->adapter,
	                        self->found->len > 0 ? self->found->str : "  nothing answers\n");
}

static void
kith_i2c_driver_finalize (GObject *object)
{
	KithI2cDriver *self = KITH_I2C_DRIVER (object);
	g_clear_handle_id (&self->poll_id, g_source_remove);
	g_ptr_array_unref (self->readouts);
	g_ptr_array_unref (self->named);
	g_string_free (self->found, TRUE);
	g_free (self->scan_error);
	G_OBJECT_CLASS (kith_i2c_driver_parent_class)->finalize (object);
}

static void
kith_i2c_driver_class_init (KithI2cDriverClass *klass)
{
	KithDriverClass *driver_class = KITH_DRIVER_CLASS (klass);
	G_OBJECT_CLASS (klass)->finalize = kith_i2c_driver_finalize;
	driver_class->setup = kith_i2c_setup;
	driver_class->start = kith_i2c_start;
	driver_class->read = kith_i2c_read;
	driver_class->stop = kith_i2c_stop;
	driver_class->describe = kith_i2c_describe;
	driver_class->keys = kith_i2c_keys;
	driver_class->discovers = TRUE;
}

static void
kith_i2c_driver_init (KithI2cDriver *self)
{
	self->adapter = 1;
	self->scan = TRUE;
	self->interval = 10;
	self->named = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_i2c_named_free);
	self->readouts = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_i2c_readout_unref);
	self->found = g_string_new (NULL);
}
