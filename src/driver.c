/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "kith-build.h"

#include "driver.h"
#include "kith-error.h"

#ifdef KITH_DRIVER_SIM
#include "drivers/sim/sim.h"
#endif
#ifdef KITH_DRIVER_MQTT
#include "drivers/mqtt/mqtt.h"
#endif
#ifdef KITH_DRIVER_GPIO
#include "drivers/gpio/gpio.h"
#endif
#ifdef KITH_DRIVER_I2C
#include "drivers/i2c/i2c.h"
#endif
#ifdef KITH_DRIVER_MODBUS
#include "drivers/modbus/modbus.h"
#endif

typedef struct {
	gchar *bus_name;
	GPtrArray *devices; /* KithDevice, in the order they were added */
	GHashTable *by_id;  /* id -> KithDevice (not owned) */
	KithDriverAdmitFunc admit;
	gpointer admit_data;
	KithWorker *worker;
	gint discovers; /* -1: as the class says */
} KithDriverPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (KithDriver, kith_driver, G_TYPE_OBJECT)

enum { SIGNAL_DEVICE_ADDED, SIGNAL_DEVICE_REMOVED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

typedef struct {
	const gchar *name;
	GType (*get_type) (void);
} KithDriverEntry;

static const KithDriverEntry kith_drivers[] = {
#ifdef KITH_DRIVER_SIM
	{ "sim", kith_sim_driver_get_type },
#endif
#ifdef KITH_DRIVER_MQTT
	{ "mqtt", kith_mqtt_driver_get_type },
#endif
#ifdef KITH_DRIVER_GPIO
	{ "gpio", kith_gpio_driver_get_type },
#endif
#ifdef KITH_DRIVER_I2C
	{ "i2c", kith_i2c_driver_get_type },
#endif
#ifdef KITH_DRIVER_MODBUS
	{ "modbus", kith_modbus_driver_get_type },
#endif
	{ NULL, NULL },
};

static const gchar *const kith_driver_name_list[] = {
#ifdef KITH_DRIVER_SIM
	"sim",
#endif
#ifdef KITH_DRIVER_MQTT
	"mqtt",
#endif
#ifdef KITH_DRIVER_GPIO
	"gpio",
#endif
#ifdef KITH_DRIVER_I2C
	"i2c",
#endif
#ifdef KITH_DRIVER_MODBUS
	"modbus",
#endif
	NULL,
};

static void
kith_driver_finalize (GObject *object)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (KITH_DRIVER (object));
	kith_worker_free (priv->worker);
	g_hash_table_unref (priv->by_id);
	g_ptr_array_unref (priv->devices);
	g_free (priv->bus_name);
	G_OBJECT_CLASS (kith_driver_parent_class)->finalize (object);
}

static void
kith_driver_class_init (KithDriverClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = kith_driver_finalize;
	signals[SIGNAL_DEVICE_ADDED] =
	        g_signal_new ("device-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                      NULL, NULL, G_TYPE_NONE, 1, KITH_TYPE_DEVICE);
	signals[SIGNAL_DEVICE_REMOVED] =
	        g_signal_new ("device-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
	                      NULL, NULL, NULL, G_TYPE_NONE, 1, KITH_TYPE_DEVICE);
}

static void
kith_driver_init (KithDriver *self)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	priv->devices = g_ptr_array_new_with_free_func (g_object_unref);
	priv->by_id = g_hash_table_new (g_str_hash, g_str_equal);
	priv->discovers = -1;
}

const gchar *const *
kith_driver_names (void)
{
	return kith_driver_name_list;
}

KithDriver *
kith_driver_new (const gchar *driver_name, const gchar *bus_name, GError **error)
{
	for (guint i = 0; kith_drivers[i].name != NULL; i++) {
		if (g_strcmp0 (kith_drivers[i].name, driver_name) == 0) {
			KithDriver *self = g_object_new (kith_drivers[i].get_type (), NULL);
			KithDriverPrivate *priv = kith_driver_get_instance_private (self);
			priv->bus_name = g_strdup (bus_name);
			return self;
		}
	}
	{
		g_autofree gchar *known = g_strjoinv (", ", (gchar **)kith_driver_name_list);
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "unknown driver '%s' (known: %s)", driver_name,
		             known[0] != '\0' ? known : "none");
	}
	return NULL;
}

const gchar *const *
kith_driver_get_keys (KithDriver *self)
{
	static const gchar *const none[] = { NULL };
	const gchar *const *keys = KITH_DRIVER_GET_CLASS (self)->keys;
	return keys != NULL ? keys : none;
}

const gchar *const *
kith_driver_get_item_keys (KithDriver *self)
{
	return KITH_DRIVER_GET_CLASS (self)->item_keys;
}

const gchar *
kith_driver_get_bus_name (KithDriver *self)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	return priv->bus_name;
}

GPtrArray *
kith_driver_get_devices (KithDriver *self)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	return priv->devices;
}

KithDevice *
kith_driver_find_device (KithDriver *self, const gchar *id)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	return id != NULL ? g_hash_table_lookup (priv->by_id, id) : NULL;
}

KithDevice *
kith_driver_find_device_by_key (KithDriver *self, const gchar *key)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	for (guint i = 0; key != NULL && i < priv->devices->len; i++) {
		KithDevice *device = g_ptr_array_index (priv->devices, i);
		if (g_strcmp0 (kith_device_get_key (device), key) == 0)
			return device;
	}
	return NULL;
}

gboolean
kith_driver_add_device (KithDriver *self, KithDevice *device)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	const gchar *id = kith_device_get_id (device);

	if (g_hash_table_contains (priv->by_id, id)) {
		g_message ("bus %s: device %s is already there; not added twice", priv->bus_name,
		           id);
		return FALSE;
	}
	if (priv->admit != NULL && !priv->admit (self, device, priv->admit_data))
		return FALSE;
	kith_device_set_driver (device, self);
	g_ptr_array_add (priv->devices, g_object_ref (device));
	g_hash_table_insert (priv->by_id, (gpointer)id, device);
	g_signal_emit (self, signals[SIGNAL_DEVICE_ADDED], 0, device);
	return TRUE;
}

void
kith_driver_remove_device (KithDriver *self, KithDevice *device)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	g_autoptr (KithDevice) kept = NULL;
	guint index;

	if (!g_ptr_array_find (priv->devices, device, &index))
		return;
	kept = g_object_ref (device);
	g_hash_table_remove (priv->by_id, kith_device_get_id (device));
	g_ptr_array_remove_index (priv->devices, index);
	g_signal_emit (self, signals[SIGNAL_DEVICE_REMOVED], 0, device);
	kith_device_set_driver (device, NULL);
}

void
kith_driver_set_admission (KithDriver *self, KithDriverAdmitFunc admit, gpointer user_data)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	priv->admit = admit;
	priv->admit_data = user_data;
}

gboolean
kith_driver_discovers (KithDriver *self)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	return priv->discovers >= 0 ? priv->discovers : KITH_DRIVER_GET_CLASS (self)->discovers;
}

void
kith_driver_set_discovers (KithDriver *self, gboolean discovers)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	priv->discovers = discovers ? 1 : 0;
}

KithWorker *
kith_driver_get_worker (KithDriver *self)
{
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	if (priv->worker == NULL)
		priv->worker = kith_worker_new (priv->bus_name);
	return priv->worker;
}

gboolean
kith_driver_setup (KithDriver *self, GKeyFile *keyfile, const gchar *group, GError **error)
{
	KithDriverClass *klass = KITH_DRIVER_GET_CLASS (self);
	return klass->setup == NULL || klass->setup (self, keyfile, group, error);
}

gboolean
kith_driver_start (KithDriver *self, GError **error)
{
	KithDriverClass *klass = KITH_DRIVER_GET_CLASS (self);
	return klass->start == NULL || klass->start (self, error);
}

void
kith_driver_read (KithDriver *self, KithDevice *device, KithReadFunc done, gpointer user_data)
{
	KithDriverClass *klass = KITH_DRIVER_GET_CLASS (self);
	if (klass->read == NULL) {
		g_autoptr (GError) error =
		        g_error_new (KITH_ERROR, KITH_ERROR_INVALID, "device %s cannot be read",
		                     kith_device_get_id (device));
		done (device, error, user_data);
		return;
	}
	klass->read (self, device, done, user_data);
}

void
kith_driver_write (KithDriver *self, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                   gpointer user_data)
{
	KithDriverClass *klass = KITH_DRIVER_GET_CLASS (self);
	if (klass->write == NULL) {
		g_autoptr (GError) error =
		        g_error_new (KITH_ERROR, KITH_ERROR_INVALID,
		                     "device %s has nothing writable", kith_device_get_id (device));
		done (device, error, user_data);
		return;
	}
	klass->write (self, device, params, done, user_data);
}

void
kith_driver_stop (KithDriver *self)
{
	KithDriverClass *klass = KITH_DRIVER_GET_CLASS (self);
	KithDriverPrivate *priv = kith_driver_get_instance_private (self);
	if (klass->stop != NULL)
		klass->stop (self);
	if (priv->worker != NULL)
		kith_worker_cancel_all (priv->worker);
}

void
kith_driver_describe (KithDriver *self, GString *out)
{
	KithDriverClass *klass = KITH_DRIVER_GET_CLASS (self);
	if (klass->describe != NULL)
		klass->describe (self, out);
}
