/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-gpio"

#include "gpio.h"

#include "gpio-config.h"
#include "item.h"
#include "kith-error.h"

/* seconds between attempts to request lines whose chip is missing or busy */
#define KITH_GPIO_RETRY_SECONDS 10

struct _KithGpioDriver {
	KithDriver parent_instance;
	GPtrArray *items; /* KithGpioItem */
	guint retry_id;
	gboolean started;
};

G_DEFINE_FINAL_TYPE (KithGpioDriver, kith_gpio_driver, KITH_TYPE_DRIVER)

static KithGpioItem *
kith_gpio_find_item (KithGpioDriver *self, KithDevice *device)
{
	for (guint i = 0; i < self->items->len; i++) {
		KithGpioItem *item = g_ptr_array_index (self->items, i);
		if (kith_gpio_item_get_device (item) == device)
			return item;
	}
	return NULL;
}

static KithDevice *
kith_gpio_new_device (KithGpioDriver *self, KithGpioItemConfig *config)
{
	const gchar *bus = kith_driver_get_bus_name (KITH_DRIVER (self));
	g_autofree gchar *id = kith_device_make_id (bus, config->item);
	g_autofree gchar *label = config->label != NULL
	                                  ? g_strdup (config->label)
	                                  : g_strdup_printf ("%s on %s", config->item, bus);
	KithDevice *device = kith_device_new (id, label);
	const gchar *model = "GPIO input", *class_name = "DigitalInput";

	if (config->direction == KITH_GPIO_OUTPUT) {
		model = "GPIO output";
		class_name = "DigitalOutput";
	} else if (config->mode == KITH_GPIO_MODE_COUNTER) {
		model = "GPIO pulse counter";
		class_name = "PulseCounter";
	}
	kith_device_set_key (device, config->item);
	kith_device_set_model (device, model);
	kith_device_set_class (device, class_name);
	kith_gpio_item_add_fields (config, device);
	return device;
}

static gboolean
kith_gpio_setup (KithDriver *driver, GKeyFile *keyfile, const gchar *group, GError **error)
{
	KithGpioDriver *self = KITH_GPIO_DRIVER (driver);
	g_autofree gchar *prefix = g_strdup_printf ("%s:", group);
	g_autofree gchar *chip = g_key_file_get_string (keyfile, group, "Chip", NULL);
	g_auto (GStrv) groups = g_key_file_get_groups (keyfile, NULL);

	if (chip != NULL)
		g_strstrip (chip);
	for (guint i = 0; groups[i] != NULL; i++) {
		g_autoptr (KithGpioItemConfig) config = NULL;
		g_autoptr (KithDevice) device = NULL;

		if (!g_str_has_prefix (groups[i], prefix))
			continue;
		config = kith_gpio_item_config_parse (keyfile, groups[i], chip, error);
		if (config == NULL)
			return FALSE;
		device = kith_gpio_new_device (self, config);
		if (!kith_driver_add_device (driver, device))
			continue;
		g_ptr_array_add (self->items,
		                 kith_gpio_item_new (g_steal_pointer (&config), device));
	}
	return TRUE;
}

static gboolean kith_gpio_retry_cb (gpointer user_data);

static void
kith_gpio_schedule_retry (KithGpioDriver *self)
{
	if (self->retry_id == 0 && self->started)
		self->retry_id =
		        g_timeout_add_seconds (KITH_GPIO_RETRY_SECONDS, kith_gpio_retry_cb, self);
}

static void
kith_gpio_item_closed_cb (gpointer item, gpointer user_data)
{
	kith_gpio_schedule_retry (KITH_GPIO_DRIVER (user_data));
}

/* opens the items that are not open; TRUE if some still are not */
static gboolean
kith_gpio_open_items (KithGpioDriver *self)
{
	gboolean missing = FALSE;
	for (guint i = 0; i < self->items->len; i++) {
		KithGpioItem *item = g_ptr_array_index (self->items, i);
		if (!kith_gpio_item_is_open (item) && !kith_gpio_item_open (item, NULL))
			missing = TRUE;
	}
	return missing;
}

static gboolean
kith_gpio_retry_cb (gpointer user_data)
{
	KithGpioDriver *self = user_data;
	if (kith_gpio_open_items (self))
		return G_SOURCE_CONTINUE;
	self->retry_id = 0;
	return G_SOURCE_REMOVE;
}

static gboolean
kith_gpio_start (KithDriver *driver, GError **error)
{
	KithGpioDriver *self = KITH_GPIO_DRIVER (driver);

	self->started = TRUE;
	for (guint i = 0; i < self->items->len; i++)
		kith_gpio_item_set_closed_func (g_ptr_array_index (self->items, i),
		                                kith_gpio_item_closed_cb, self);
	/* a missing chip or a busy line is the device's problem, not the daemon's: it does not
	 * answer, and the lines are requested again until they can be */
	if (kith_gpio_open_items (self))
		kith_gpio_schedule_retry (self);
	return TRUE;
}

typedef struct {
	KithGpioDriver *self;
	KithDevice *device;
	GPtrArray *params; /* NULL: a read */
	gpointer done;
	gpointer user_data;
} KithGpioJob;

/* answers from an idle callback: the core expects its callbacks after the call returned */
static gboolean
kith_gpio_job_cb (gpointer user_data)
{
	KithGpioJob *job = user_data;
	g_autoptr (GError) error = NULL;
	KithGpioItem *item = kith_gpio_find_item (job->self, job->device);

	if (item == NULL)
		error = g_error_new (KITH_ERROR, KITH_ERROR_NOT_FOUND, "%s is gone",
		                     kith_device_get_id (job->device));
	else if (job->params != NULL)
		kith_gpio_item_write (item, job->params, &error);
	else
		kith_gpio_item_refresh (item, &error);
	if (job->params != NULL) {
		((KithWriteFunc)job->done) (job->device, error, job->user_data);
		g_ptr_array_unref (job->params);
	} else {
		((KithReadFunc)job->done) (job->device, error, job->user_data);
	}
	g_object_unref (job->device);
	g_object_unref (job->self);
	g_free (job);
	return G_SOURCE_REMOVE;
}

static void
kith_gpio_queue (KithGpioDriver *self, KithDevice *device, GPtrArray *params, gpointer done,
                 gpointer user_data)
{
	KithGpioJob *job = g_new0 (KithGpioJob, 1);
	job->self = g_object_ref (self);
	job->device = g_object_ref (device);
	job->params = params != NULL ? g_ptr_array_ref (params) : NULL;
	job->done = done;
	job->user_data = user_data;
	g_idle_add (kith_gpio_job_cb, job);
}

static void
kith_gpio_read (KithDriver *driver, KithDevice *device, KithReadFunc done, gpointer user_data)
{
	kith_gpio_queue (KITH_GPIO_DRIVER (driver), device, NULL, done, user_data);
}

static void
kith_gpio_write (KithDriver *driver, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                 gpointer user_data)
{
	kith_gpio_queue (KITH_GPIO_DRIVER (driver), device, params, done, user_data);
}

static void
kith_gpio_stop (KithDriver *driver)
{
	KithGpioDriver *self = KITH_GPIO_DRIVER (driver);
	self->started = FALSE;
	g_clear_handle_id (&self->retry_id, g_source_remove);
	/* the lines go back to the kernel: outputs keep no level of ours */
	g_ptr_array_set_size (self->items, 0);
}

static void
kith_gpio_describe (KithDriver *driver, GString *out)
{
	KithGpioDriver *self = KITH_GPIO_DRIVER (driver);
	for (guint i = 0; i < self->items->len; i++) {
		KithGpioItem *item = g_ptr_array_index (self->items, i);
		KithGpioItemConfig *config = kith_gpio_item_get_config (item);
		g_autofree gchar *lines = g_strjoinv (", ", config->lines);
		g_string_append_printf (out, "  %s: %s, line%s %s on %s\n",
		                        kith_device_get_id (kith_gpio_item_get_device (item)),
		                        kith_device_get_model (kith_gpio_item_get_device (item)),
		                        config->lines[1] != NULL ? "s" : "", lines,
		                        config->chip != NULL ? config->chip : "any chip");
	}
}

static void
kith_gpio_driver_finalize (GObject *object)
{
	KithGpioDriver *self = KITH_GPIO_DRIVER (object);
	g_clear_handle_id (&self->retry_id, g_source_remove);
	g_ptr_array_unref (self->items);
	G_OBJECT_CLASS (kith_gpio_driver_parent_class)->finalize (object);
}

static void
kith_gpio_driver_class_init (KithGpioDriverClass *klass)
{
	KithDriverClass *driver_class = KITH_DRIVER_CLASS (klass);
	G_OBJECT_CLASS (klass)->finalize = kith_gpio_driver_finalize;
	driver_class->setup = kith_gpio_setup;
	driver_class->start = kith_gpio_start;
	driver_class->read = kith_gpio_read;
	driver_class->write = kith_gpio_write;
	driver_class->stop = kith_gpio_stop;
	driver_class->describe = kith_gpio_describe;
	driver_class->keys = kith_gpio_bus_keys;
	driver_class->item_keys = kith_gpio_item_keys;
}

static void
kith_gpio_driver_init (KithGpioDriver *self)
{
	self->items = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_gpio_item_free);
}
