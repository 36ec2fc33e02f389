/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "device-list.h"

#include "device-record.h"
#include "history.h"

/* last values and last seen are written at most this often (a batch: kind to SD cards) */
#define KITH_DEVICE_LIST_FLUSH_S 60

typedef struct _KithBusEntry {
	KithDriver *driver;
	guint max;          /* MaxDevices= (0: not set) */
	guint limit;        /* what is in force: G_MAXUINT while the configuration is read */
	guint count;        /* devices admitted */
	gboolean full_said; /* the limit was reached and said: once until it is not */
	gulong added_id;
	gulong removed_id;
	struct _KithBusEntry *replacing; /* the bus this one replaces (a reload) */
} KithBusEntry;

typedef struct {
	KithDevice *device;
	KithBusEntry *bus;
	gulong changed_id;
	gulong availability_id;
	gboolean dirty;
	gint64 last_seen; /* seconds since 1970 */
} KithDeviceEntry;

struct _KithDeviceList {
	KithDeviceListCallbacks callbacks;
	gpointer user_data;
	GPtrArray *buses;    /* KithBusEntry (owned) */
	GHashTable *entries; /* id -> KithDeviceEntry (owned) */
	GPtrArray *order;    /* KithDeviceEntry in the order they came */
	KithStore *store;
	guint flush_id;
	gboolean restoring; /* adding devices from the store: nothing to write */
	KithDeviceListClashFunc clash;
	gpointer clash_data;
	gboolean quiet;       /* a trial: refusals are not logged */
	KithHistory *history; /* every reading is kept there (not owned) */
};

static void kith_device_list_forget_bus (KithDeviceList *self, const gchar *bus);

static const gchar *
kith_bus_name (KithBusEntry *bus)
{
	return kith_driver_get_bus_name (bus->driver);
}

/* -- remembering ------------------------------------------------------------------------ */

static void
kith_device_list_write (KithDeviceList *self, KithDeviceEntry *entry)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *record = NULL;

	entry->dirty = FALSE;
	if (self->store == NULL || self->restoring)
		return;
	record = kith_device_record_to_json (entry->device);
	if (!kith_store_put_device (self->store, kith_device_get_id (entry->device),
	                            kith_bus_name (entry->bus), kith_device_get_key (entry->device),
	                            record, entry->last_seen, &error))
		g_warning ("%s: %s", kith_device_get_id (entry->device), error->message);
}

void
kith_device_list_flush (KithDeviceList *self)
{
	g_autoptr (GError) error = NULL;
	gboolean any = FALSE;

	g_clear_handle_id (&self->flush_id, g_source_remove);
	if (self->store == NULL)
		return;
	for (guint i = 0; i < self->order->len && !any; i++)
		any = ((KithDeviceEntry *)g_ptr_array_index (self->order, i))->dirty;
	if (!any)
		return;
	if (!kith_store_begin (self->store, &error)) {
		g_warning ("%s", error->message);
		return;
	}
	for (guint i = 0; i < self->order->len; i++) {
		KithDeviceEntry *entry = g_ptr_array_index (self->order, i);
		if (entry->dirty)
			kith_device_list_write (self, entry);
	}
	if (!kith_store_commit (self->store, &error))
		g_warning ("%s", error->message);
}

static gboolean
kith_device_list_flush_cb (gpointer user_data)
{
	KithDeviceList *self = user_data;
	self->flush_id = 0;
	kith_device_list_flush (self);
	return G_SOURCE_REMOVE;
}

static void
kith_device_list_touch (KithDeviceList *self, KithDeviceEntry *entry)
{
	if (kith_device_is_answering (entry->device))
		entry->last_seen = g_get_real_time () / G_USEC_PER_SEC;
	entry->dirty = TRUE;
	if (self->flush_id == 0 && self->store != NULL)
		self->flush_id = g_timeout_add_seconds (KITH_DEVICE_LIST_FLUSH_S,
		                                        kith_device_list_flush_cb, self);
}

static void
kith_device_list_changed_cb (KithDevice *device, gpointer user_data)
{
	KithDeviceList *self = user_data;
	KithDeviceEntry *entry = g_hash_table_lookup (self->entries, kith_device_get_id (device));
	if (entry != NULL && entry->device == device) {
		kith_device_list_touch (self, entry);
		kith_history_record (self->history, device);
	}
}

/* -- devices come and go ---------------------------------------------------------------- */

static void
kith_device_list_unwatch (KithDeviceEntry *entry)
{
	g_clear_signal_handler (&entry->changed_id, entry->device);
	g_clear_signal_handler (&entry->availability_id, entry->device);
}

static void
kith_device_list_watch (KithDeviceList *self, KithDeviceEntry *entry)
{
	entry->changed_id = g_signal_connect (entry->device, "changed",
	                                      G_CALLBACK (kith_device_list_changed_cb), self);
	entry->availability_id = g_signal_connect (entry->device, "availability-changed",
	                                           G_CALLBACK (kith_device_list_changed_cb), self);
}

static void
kith_device_entry_free (gpointer data)
{
	KithDeviceEntry *entry = data;
	kith_device_list_unwatch (entry);
	g_object_unref (entry->device);
	g_free (entry);
}

static gboolean
kith_device_list_admit_cb (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	KithBusEntry *bus = g_object_get_data (G_OBJECT (driver), "kith-bus-entry");
	KithDeviceList *self = user_data;
	const gchar *id = kith_device_get_id (device);
	KithDeviceEntry *entry = g_hash_table_lookup (self->entries, id);

	if (entry != NULL && entry->bus != bus && entry->bus != bus->replacing) {
		g_autofree gchar *message =
		        g_strdup_printf ("device id %s is used twice: by bus %s and bus %s", id,
		                         kith_bus_name (entry->bus), kith_bus_name (bus));
		if (!self->quiet)
			g_warning ("%s; the device of bus %s is refused", message,
			           kith_bus_name (bus));
		if (self->clash != NULL)
			self->clash (message, self->clash_data);
		return FALSE;
	}
	if (entry != NULL && entry->bus == bus->replacing)
		return TRUE; /* the same device, on the bus that replaces its own */
	if (bus->count >= bus->limit) {
		if (!bus->full_said && !self->quiet)
			g_warning ("bus %s: MaxDevices=%u reached: new devices are refused (device "
			           "%s the first); raise MaxDevices= in [bus:%s] to take more",
			           kith_bus_name (bus), bus->limit, id, kith_bus_name (bus));
		bus->full_said = TRUE;
		return FALSE;
	}
	return TRUE;
}

static void
kith_device_list_added_cb (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	KithDeviceList *self = user_data;
	KithBusEntry *bus = g_object_get_data (G_OBJECT (driver), "kith-bus-entry");
	KithDeviceEntry *entry = g_hash_table_lookup (self->entries, kith_device_get_id (device));

	if (entry != NULL) {
		/* a reload: the device of the bus being replaced is this one from now on */
		KithDevice *old = g_steal_pointer (&entry->device);
		g_signal_handler_disconnect (old, entry->changed_id);
		g_signal_handler_disconnect (old, entry->availability_id);
		entry->device = g_object_ref (device);
		entry->bus->count--;
		entry->bus = bus;
		bus->count++;
		kith_device_list_watch (self, entry);
		kith_device_list_touch (self, entry);
		if (self->callbacks.replaced != NULL)
			self->callbacks.replaced (old, device, self->user_data);
		g_object_unref (old);
		return;
	}
	entry = g_new0 (KithDeviceEntry, 1);
	entry->device = g_object_ref (device);
	entry->bus = bus;
	entry->last_seen = g_get_real_time () / G_USEC_PER_SEC;
	if (!kith_device_is_answering (device))
		entry->last_seen = kith_device_get_silent_since (device) / G_USEC_PER_SEC;
	bus->count++;
	g_hash_table_insert (self->entries, g_strdup (kith_device_get_id (device)), entry);
	g_ptr_array_add (self->order, entry);
	kith_device_list_watch (self, entry);
	kith_device_list_write (self, entry);
	if (self->callbacks.added != NULL)
		self->callbacks.added (device, self->user_data);
}

/* the device leaves: whoever speaks for it first, then the list */
static void
kith_device_list_drop (KithDeviceList *self, KithDeviceEntry *entry, gboolean forget)
{
	g_autoptr (KithDevice) device = g_object_ref (entry->device);
	KithBusEntry *bus = entry->bus;
	g_autoptr (GError) error = NULL;

	if (self->callbacks.removed != NULL)
		self->callbacks.removed (device, self->user_data);
	if (forget && self->store != NULL &&
	    !kith_store_delete_device (self->store, kith_device_get_id (device), &error))
		g_warning ("%s: %s", kith_device_get_id (device), error->message);
	if (forget)
		kith_history_forget (self->history, kith_device_get_id (device));
	g_ptr_array_remove (self->order, entry);
	g_hash_table_remove (self->entries, kith_device_get_id (device));
	if (--bus->count < bus->limit)
		bus->full_said = FALSE;
}

static void
kith_device_list_removed_cb (KithDriver *driver, KithDevice *device, gpointer user_data)
{
	KithDeviceList *self = user_data;
	KithDeviceEntry *entry = g_hash_table_lookup (self->entries, kith_device_get_id (device));

	if (entry == NULL || entry->device != device)
		return;
	g_message ("bus %s: %s is gone", kith_driver_get_bus_name (driver),
	           kith_device_get_id (device));
	/* its bus says it is gone: it is forgotten */
	kith_device_list_drop (self, entry, TRUE);
}

/* -- buses ------------------------------------------------------------------------------ */

KithDeviceList *
kith_device_list_new (const KithDeviceListCallbacks *callbacks, gpointer user_data)
{
	KithDeviceList *self = g_new0 (KithDeviceList, 1);

	self->callbacks = *callbacks;
	self->user_data = user_data;
	self->buses = g_ptr_array_new_with_free_func (g_free);
	/* keys are copies: a reload replaces the device object behind an id */
	self->entries =
	        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, kith_device_entry_free);
	self->order = g_ptr_array_new ();
	return self;
}

static void
kith_device_list_detach (KithBusEntry *bus)
{
	g_clear_signal_handler (&bus->added_id, bus->driver);
	g_clear_signal_handler (&bus->removed_id, bus->driver);
	kith_driver_set_admission (bus->driver, NULL, NULL);
	g_object_set_data (G_OBJECT (bus->driver), "kith-bus-entry", NULL);
}

void
kith_device_list_free (KithDeviceList *self)
{
	if (self == NULL)
		return;
	kith_device_list_flush (self);
	for (guint i = 0; i < self->buses->len; i++)
		kith_device_list_detach (g_ptr_array_index (self->buses, i));
	g_ptr_array_unref (self->order);
	g_hash_table_unref (self->entries);
	g_ptr_array_unref (self->buses);
	g_free (self);
}

static KithBusEntry *
kith_device_list_bus (KithDeviceList *self, KithDriver *driver)
{
	for (guint i = 0; i < self->buses->len; i++) {
		KithBusEntry *bus = g_ptr_array_index (self->buses, i);
		if (bus->driver == driver)
			return bus;
	}
	return NULL;
}

void
kith_device_list_add_bus (KithDeviceList *self, KithDriver *driver, guint max_devices)
{
	KithBusEntry *bus = g_new0 (KithBusEntry, 1);

	bus->driver = driver;
	bus->max = max_devices;
	/* while its configuration is read, a bus may create what it names */
	bus->limit = max_devices > 0 ? max_devices : G_MAXUINT;
	g_ptr_array_add (self->buses, bus);
	g_object_set_data (G_OBJECT (driver), "kith-bus-entry", bus);
	kith_driver_set_admission (driver, kith_device_list_admit_cb, self);
	bus->added_id = g_signal_connect (driver, "device-added",
	                                  G_CALLBACK (kith_device_list_added_cb), self);
	bus->removed_id = g_signal_connect (driver, "device-removed",
	                                    G_CALLBACK (kith_device_list_removed_cb), self);
}

void
kith_device_list_bus_ready (KithDeviceList *self, KithDriver *driver)
{
	KithBusEntry *bus = kith_device_list_bus (self, driver);
	if (bus != NULL && bus->max == 0)
		bus->limit = MAX (KITH_DEVICE_LIST_MAX_DEVICES, bus->count);
}

void
kith_device_list_remove_bus (KithDeviceList *self, KithDriver *driver, gboolean forget)
{
	KithBusEntry *bus = kith_device_list_bus (self, driver);
	g_autoptr (GPtrArray) leaving = g_ptr_array_new ();

	if (bus == NULL)
		return;
	kith_device_list_flush (self);
	for (guint i = 0; i < self->order->len; i++) {
		KithDeviceEntry *entry = g_ptr_array_index (self->order, i);
		if (entry->bus == bus)
			g_ptr_array_add (leaving, entry);
	}
	for (guint i = 0; i < leaving->len; i++)
		kith_device_list_drop (self, g_ptr_array_index (leaving, i), forget);
	/* what the store knows of the bus beyond its devices here goes too, unless a bus of the
	 * same name (a reload's) carries on */
	if (forget && self->store != NULL) {
		gboolean carried_on = FALSE;
		for (guint i = 0; i < self->buses->len; i++) {
			KithBusEntry *other = g_ptr_array_index (self->buses, i);
			carried_on |= other != bus &&
			              g_strcmp0 (kith_bus_name (other), kith_bus_name (bus)) == 0;
		}
		if (!carried_on)
			kith_device_list_forget_bus (self, kith_bus_name (bus));
	}
	kith_device_list_detach (bus);
	g_ptr_array_remove (self->buses, bus);
}

void
kith_device_list_replace_bus (KithDeviceList *self, KithDriver *old_driver, KithDriver *new_driver,
                              guint max_devices)
{
	KithBusEntry *old = kith_device_list_bus (self, old_driver);
	KithBusEntry *bus;

	kith_device_list_add_bus (self, new_driver, max_devices);
	bus = kith_device_list_bus (self, new_driver);
	bus->replacing = old;
}

void
kith_device_list_replaced (KithDeviceList *self, KithDriver *old_driver)
{
	KithBusEntry *old = kith_device_list_bus (self, old_driver);

	for (guint i = 0; old != NULL && i < self->buses->len; i++) {
		KithBusEntry *bus = g_ptr_array_index (self->buses, i);
		if (bus->replacing == old)
			bus->replacing = NULL;
	}
	/* what the new configuration of the bus no longer has is gone */
	if (old != NULL)
		kith_device_list_remove_bus (self, old_driver, TRUE);
}

/* -- the store ---------------------------------------------------------------------------- */

typedef struct {
	KithDeviceList *self;
	GPtrArray *stale; /* ids to forget */
	const gchar *only_bus;
} KithSweep;

static void
kith_device_list_sweep_cb (const gchar *device_id, const gchar *bus, const gchar *driver_key,
                           const gchar *record, gint64 first_seen, gint64 last_seen,
                           gpointer user_data)
{
	KithSweep *sweep = user_data;
	KithDeviceList *self = sweep->self;
	KithBusEntry *owner = NULL;

	if (sweep->only_bus != NULL) {
		g_ptr_array_add (sweep->stale, g_strdup (device_id));
		return;
	}
	for (guint i = 0; i < self->buses->len && owner == NULL; i++) {
		KithBusEntry *candidate = g_ptr_array_index (self->buses, i);
		if (g_strcmp0 (kith_bus_name (candidate), bus) == 0)
			owner = candidate;
	}
	/* its bus left the configuration, or a bus that names its devices no longer names it */
	if (owner == NULL || (!kith_driver_discovers (owner->driver) &&
	                      !g_hash_table_contains (self->entries, device_id)))
		g_ptr_array_add (sweep->stale, g_strdup (device_id));
}

static void
kith_device_list_forget (KithDeviceList *self, const gchar *only_bus)
{
	g_autoptr (GPtrArray) stale = g_ptr_array_new_with_free_func (g_free);
	KithSweep sweep = { self, stale, only_bus };
	g_autoptr (GError) error = NULL;

	kith_store_foreach_device (self->store, only_bus, kith_device_list_sweep_cb, &sweep);
	for (guint i = 0; i < stale->len; i++) {
		if (!kith_store_delete_device (self->store, g_ptr_array_index (stale, i), &error)) {
			g_warning ("%s", error->message);
			g_clear_error (&error);
		}
	}
	if (stale->len > 0)
		g_message ("%u devices no longer in the configuration forgotten", stale->len);
}

static void
kith_device_list_forget_bus (KithDeviceList *self, const gchar *bus)
{
	kith_device_list_forget (self, bus);
}

typedef struct {
	KithDeviceList *self;
	KithDriver *driver;
	guint restored;
} KithRestore;

static void
kith_device_list_restore_cb (const gchar *device_id, const gchar *bus, const gchar *driver_key,
                             const gchar *record, gint64 first_seen, gint64 last_seen,
                             gpointer user_data)
{
	KithRestore *restore = user_data;
	g_autoptr (GError) error = NULL;
	g_autoptr (KithDevice) device = NULL;

	if (g_hash_table_contains (restore->self->entries, device_id))
		return;
	device = kith_device_record_load (device_id, record, &error);
	if (device == NULL) {
		g_warning ("bus %s: %s", bus, error->message);
		return;
	}
	kith_device_set_key (device, driver_key);
	kith_device_set_silent_since (device, last_seen * G_USEC_PER_SEC,
	                              "not confirmed by its bus since kithd started");
	restore->self->restoring = TRUE;
	if (kith_driver_add_device (restore->driver, device))
		restore->restored++;
	restore->self->restoring = FALSE;
}

void
kith_device_list_restore (KithDeviceList *self, KithDriver *driver)
{
	KithRestore restore = { self, driver, 0 };

	if (self->store == NULL || !kith_driver_discovers (driver))
		return;
	kith_store_foreach_device (self->store, kith_driver_get_bus_name (driver),
	                           kith_device_list_restore_cb, &restore);
	if (restore.restored > 0)
		g_message ("bus %s: %u known devices back, not answering until the bus confirms "
		           "them",
		           kith_driver_get_bus_name (driver), restore.restored);
}

void
kith_device_list_open (KithDeviceList *self, KithStore *store)
{
	g_autoptr (GError) error = NULL;

	self->store = store;
	kith_device_list_forget (self, NULL);
	if (kith_store_begin (store, &error)) {
		for (guint i = 0; i < self->order->len; i++)
			kith_device_list_write (self, g_ptr_array_index (self->order, i));
		if (!kith_store_commit (store, &error))
			g_warning ("%s", error->message);
	} else {
		g_warning ("%s", error->message);
	}
	for (guint i = 0; i < self->buses->len; i++)
		kith_device_list_restore (
		        self, ((KithBusEntry *)g_ptr_array_index (self->buses, i))->driver);
}

void
kith_device_list_set_history (KithDeviceList *self, KithHistory *history)
{
	self->history = history;
}

void
kith_device_list_set_quiet (KithDeviceList *self, gboolean quiet)
{
	self->quiet = quiet;
}

void
kith_device_list_set_clash_func (KithDeviceList *self, KithDeviceListClashFunc func,
                                 gpointer user_data)
{
	self->clash = func;
	self->clash_data = user_data;
}

KithDevice *
kith_device_list_find (KithDeviceList *self, const gchar *id)
{
	KithDeviceEntry *entry = g_hash_table_lookup (self->entries, id);
	return entry != NULL ? entry->device : NULL;
}

GPtrArray *
kith_device_list_get_devices (KithDeviceList *self)
{
	GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
	for (guint i = 0; i < self->order->len; i++)
		g_ptr_array_add (
		        devices,
		        g_object_ref (
		                ((KithDeviceEntry *)g_ptr_array_index (self->order, i))->device));
	return devices;
}

guint
kith_device_list_get_count (KithDeviceList *self)
{
	return self->order->len;
}
