/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
	KITH_VALUE_NUMERIC,
	KITH_VALUE_BOOLEAN,
	KITH_VALUE_INT,
	KITH_VALUE_STRING,
} KithValueType;

/* the XEP-0323 field categories a field belongs to */
typedef enum {
	KITH_FIELD_MOMENTARY = 1 << 0,
	KITH_FIELD_STATUS = 1 << 1,
	KITH_FIELD_IDENTITY = 1 << 2,
	KITH_FIELD_COMPUTED = 1 << 3,
	KITH_FIELD_PEAK = 1 << 4,
} KithFieldCategory;

typedef struct {
	gchar *name;
	KithValueType type;
	gchar *unit;           /* numeric only; may be "" */
	guint decimals;        /* numeric: decimals written in readouts */
	guint status_decimals; /* numeric: decimals in the presence status line */
	gdouble presence_step; /* republish presence when the value moved this much */
	gboolean in_status;    /* part of the presence status line */
	gboolean writable;
	gdouble min, max; /* writable numeric/int range (min > max: unbounded) */
	KithFieldCategory categories;
} KithField;

typedef struct {
	KithValueType type;
	gboolean valid;
	gdouble number;
	gboolean boolean;
	gint64 integer;
	gchar *string;
	gint64 timestamp; /* g_get_real_time () of the sample */
} KithValue;

/* one requested write: a parameter name and its already-validated value */
typedef struct {
	gchar *name;
	KithValue value;
} KithParam;

KithField *kith_field_new (const gchar *name, KithValueType type, const gchar *unit);
void kith_field_free (KithField *field);
const gchar *kith_value_type_to_string (KithValueType type);
void kith_value_clear (KithValue *value);
void kith_value_copy (KithValue *dest, const KithValue *src);
gchar *kith_value_to_string (const KithValue *value, guint decimals);
gboolean kith_value_equal (const KithValue *a, const KithValue *b);
gboolean kith_parse_boolean (const gchar *text, gboolean *out);
KithParam *kith_param_new (const gchar *name, const KithValue *value);
void kith_param_free (KithParam *param);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithField, kith_field_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithParam, kith_param_free)

#define KITH_TYPE_DEVICE (kith_device_get_type ())
G_DECLARE_FINAL_TYPE (KithDevice, kith_device, KITH, DEVICE, GObject)

KithDevice *kith_device_new (const gchar *id, const gchar *label);
/* a device id from a bus name and a hardware key: "NAME-" + the key lowercased, every run of
 * characters outside [a-z0-9] replaced by one '-', trimmed of '-'; NULL if nothing is left */
gchar *kith_device_make_id (const gchar *bus, const gchar *key);
const gchar *kith_device_get_id (KithDevice *self);
const gchar *kith_device_get_label (KithDevice *self);
void kith_device_set_label (KithDevice *self, const gchar *label);
/* the driver's own key for the device (a topic, a unit id, an address): remembered in the store
 * with the device, so that a device known from an earlier run can be matched again */
const gchar *kith_device_get_key (KithDevice *self);
void kith_device_set_key (KithDevice *self, const gchar *key);
const gchar *kith_device_get_model (KithDevice *self);
void kith_device_set_model (KithDevice *self, const gchar *model);
/* XEP-0347 meta data: the manufacturer's domain and the device class */
const gchar *kith_device_get_manufacturer (KithDevice *self);
void kith_device_set_manufacturer (KithDevice *self, const gchar *manufacturer);
const gchar *kith_device_get_class (KithDevice *self);
void kith_device_set_class (KithDevice *self, const gchar *class_name);
gpointer kith_device_get_driver (KithDevice *self);
void kith_device_set_driver (KithDevice *self, gpointer driver);

/* availability. A device answers until its driver says it does not (a read timed out, an MQTT
 * availability topic said offline, an I2C chip NACKed); the driver says so again when it is
 * back. Each change emits ::availability-changed. reason: why it does not answer, for the log
 * and for requesters (NULL: "not answering"). */
void kith_device_set_answering (KithDevice *self, gboolean answering, const gchar *reason);
gboolean kith_device_is_answering (KithDevice *self);
/* g_get_real_time () when it stopped answering; 0 while it answers */
gint64 kith_device_get_silent_since (KithDevice *self);
const gchar *kith_device_get_silent_reason (KithDevice *self);
/* marks the device not answering since a given time (a device known from an earlier run, not
 * confirmed by its bus yet); no signal */
void kith_device_set_silent_since (KithDevice *self, gint64 since, const gchar *reason);

/* takes ownership of field; fields may be added and removed while the device lives (an MQTT
 * device gains an entity); call kith_device_emit_changed () afterwards */
void kith_device_add_field (KithDevice *self, KithField *field);
gboolean kith_device_remove_field (KithDevice *self, const gchar *name);
/* a copy of field (for a driver that rebuilds its fields) */
KithField *kith_field_copy (const KithField *field);
GPtrArray *kith_device_get_fields (KithDevice *self);
const KithField *kith_device_find_field (KithDevice *self, const gchar *name);
gboolean kith_device_has_writable (KithDevice *self);

/* current values, same order as the fields */
const KithValue *kith_device_get_value (KithDevice *self, const gchar *name);
void kith_device_set_value (KithDevice *self, const gchar *name, const KithValue *value);
void kith_device_set_number (KithDevice *self, const gchar *name, gdouble number, gint64 timestamp);
void kith_device_set_boolean (KithDevice *self, const gchar *name, gboolean value,
                              gint64 timestamp);
/* emits ::changed once after a batch of set_* calls */
void kith_device_emit_changed (KithDevice *self);

/* takes over what other (the same device's previous object: a reload, a restore) last held and
 * published, for the fields both have: no presence change for friends */
void kith_device_adopt_values (KithDevice *self, KithDevice *other);

/* the short human status used in presence, e.g. "21.4 °C, 48 %", of the status fields whose
 * names are in names (NULL: all) */
gchar *kith_device_format_status (KithDevice *self, GPtrArray *names);
/* the same of the values as they were at the last change that mattered (the last time
 * kith_device_status_changed () said TRUE): what friends were shown */
gchar *kith_device_format_published_status (KithDevice *self, GPtrArray *names);
/* TRUE if names is NULL (all) or holds name */
gboolean kith_field_names_contain (GPtrArray *names, const gchar *name);
/* TRUE if some value moved at least its presence step since the last call that returned TRUE */
gboolean kith_device_status_changed (KithDevice *self);

G_END_DECLS
