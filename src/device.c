/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "device.h"

#include <math.h>
#include <string.h>

struct _KithDevice {
	GObject parent_instance;
	gchar *id;
	gchar *label;
	gchar *model;
	gchar *manufacturer;
	gchar *class_name;
	gchar *key;
	gint64 silent_since; /* 0: answering */
	gchar *silent_reason;
	gpointer driver;   /* weak: the driver owns its devices */
	GPtrArray *fields; /* KithField */
	GArray *values;    /* KithValue, index = field index */
	GArray *published; /* KithValue, values at the last status publication */
	gboolean published_once;
};

enum { SIGNAL_CHANGED, SIGNAL_AVAILABILITY_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

G_DEFINE_TYPE (KithDevice, kith_device, G_TYPE_OBJECT)

static gint kith_device_field_index (KithDevice *self, const gchar *name);

KithField *
kith_field_new (const gchar *name, KithValueType type, const gchar *unit)
{
	KithField *field = g_new0 (KithField, 1);
	field->name = g_strdup (name);
	field->type = type;
	field->unit = g_strdup (unit != NULL ? unit : "");
	field->categories = KITH_FIELD_MOMENTARY;
	field->min = 1;
	field->max = 0;
	return field;
}

void
kith_field_free (KithField *field)
{
	if (field == NULL)
		return;
	g_free (field->name);
	g_free (field->unit);
	g_free (field);
}

const gchar *
kith_value_type_to_string (KithValueType type)
{
	switch (type) {
	case KITH_VALUE_NUMERIC:
		return "numeric";
	case KITH_VALUE_BOOLEAN:
		return "boolean";
	case KITH_VALUE_INT:
		return "int";
	case KITH_VALUE_STRING:
		return "string";
	}
	return "string";
}

void
kith_value_clear (KithValue *value)
{
	g_clear_pointer (&value->string, g_free);
	value->valid = FALSE;
}

void
kith_value_copy (KithValue *dest, const KithValue *src)
{
	kith_value_clear (dest);
	*dest = *src;
	dest->string = g_strdup (src->string);
}

gchar *
kith_value_to_string (const KithValue *value, guint decimals)
{
	switch (value->type) {
	case KITH_VALUE_NUMERIC: {
		gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
		g_autofree gchar *format = g_strdup_printf ("%%.%uf", MIN (decimals, 12u));
		return g_strdup (g_ascii_formatd (buf, sizeof buf, format, value->number));
	}
	case KITH_VALUE_BOOLEAN:
		return g_strdup (value->boolean ? "true" : "false");
	case KITH_VALUE_INT:
		return g_strdup_printf ("%" G_GINT64_FORMAT, value->integer);
	case KITH_VALUE_STRING:
		return g_strdup (value->string != NULL ? value->string : "");
	}
	return g_strdup ("");
}

gboolean
kith_value_equal (const KithValue *a, const KithValue *b)
{
	if (a->type != b->type || a->valid != b->valid)
		return FALSE;
	switch (a->type) {
	case KITH_VALUE_NUMERIC:
		return a->number == b->number;
	case KITH_VALUE_BOOLEAN:
		return !a->boolean == !b->boolean;
	case KITH_VALUE_INT:
		return a->integer == b->integer;
	case KITH_VALUE_STRING:
		return g_strcmp0 (a->string, b->string) == 0;
	}
	return FALSE;
}

/* xs:boolean, accepted case-insensitively because some peers send True/False */
gboolean
kith_parse_boolean (const gchar *text, gboolean *out)
{
	if (text == NULL)
		return FALSE;
	if (g_ascii_strcasecmp (text, "true") == 0 || g_strcmp0 (text, "1") == 0) {
		*out = TRUE;
		return TRUE;
	}
	if (g_ascii_strcasecmp (text, "false") == 0 || g_strcmp0 (text, "0") == 0) {
		*out = FALSE;
		return TRUE;
	}
	return FALSE;
}

KithParam *
kith_param_new (const gchar *name, const KithValue *value)
{
	KithParam *param = g_new0 (KithParam, 1);
	param->name = g_strdup (name);
	kith_value_copy (&param->value, value);
	return param;
}

void
kith_param_free (KithParam *param)
{
	if (param == NULL)
		return;
	g_free (param->name);
	kith_value_clear (&param->value);
	g_free (param);
}

static void
kith_device_clear_values (GArray *values)
{
	for (guint i = 0; i < values->len; i++)
		kith_value_clear (&g_array_index (values, KithValue, i));
}

static void
kith_device_finalize (GObject *object)
{
	KithDevice *self = KITH_DEVICE (object);
	kith_device_clear_values (self->values);
	kith_device_clear_values (self->published);
	g_array_unref (self->values);
	g_array_unref (self->published);
	g_ptr_array_unref (self->fields);
	g_free (self->id);
	g_free (self->label);
	g_free (self->model);
	g_free (self->manufacturer);
	g_free (self->class_name);
	g_free (self->key);
	g_free (self->silent_reason);
	G_OBJECT_CLASS (kith_device_parent_class)->finalize (object);
}

static void
kith_device_class_init (KithDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	object_class->finalize = kith_device_finalize;
	signals[SIGNAL_CHANGED] =
	        g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                      NULL, NULL, G_TYPE_NONE, 0);
	signals[SIGNAL_AVAILABILITY_CHANGED] =
	        g_signal_new ("availability-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
	                      0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kith_device_init (KithDevice *self)
{
	self->fields = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_field_free);
	self->values = g_array_new (FALSE, TRUE, sizeof (KithValue));
	self->published = g_array_new (FALSE, TRUE, sizeof (KithValue));
}

KithDevice *
kith_device_new (const gchar *id, const gchar *label)
{
	KithDevice *self = g_object_new (KITH_TYPE_DEVICE, NULL);
	self->id = g_strdup (id);
	self->label = g_strdup (label != NULL ? label : id);
	return self;
}

gchar *
kith_device_make_id (const gchar *bus, const gchar *key)
{
	g_autoptr (GString) id = g_string_new (NULL);
	gboolean dash = FALSE;

	for (const gchar *p = key != NULL ? key : ""; *p != '\0'; p++) {
		gchar c = g_ascii_tolower (*p);
		if (g_ascii_isalnum (c) && (c & 0x80) == 0) {
			if (dash && id->len > 0)
				g_string_append_c (id, '-');
			dash = FALSE;
			g_string_append_c (id, c);
		} else {
			dash = TRUE;
		}
	}
	if (id->len == 0)
		return NULL;
	return g_strdup_printf ("%s-%s", bus, id->str);
}

const gchar *
kith_device_get_id (KithDevice *self)
{
	return self->id;
}

const gchar *
kith_device_get_label (KithDevice *self)
{
	return self->label;
}

void
kith_device_set_label (KithDevice *self, const gchar *label)
{
	if (label == NULL || label[0] == '\0')
		return;
	g_free (self->label);
	self->label = g_strdup (label);
}

const gchar *
kith_device_get_key (KithDevice *self)
{
	return self->key;
}

void
kith_device_set_key (KithDevice *self, const gchar *key)
{
	g_free (self->key);
	self->key = g_strdup (key);
}

void
kith_device_set_answering (KithDevice *self, gboolean answering, const gchar *reason)
{
	if (answering == (self->silent_since == 0))
		return;
	g_clear_pointer (&self->silent_reason, g_free);
	if (answering) {
		self->silent_since = 0;
	} else {
		self->silent_since = g_get_real_time ();
		self->silent_reason = g_strdup (reason != NULL ? reason : "not answering");
	}
	g_signal_emit (self, signals[SIGNAL_AVAILABILITY_CHANGED], 0);
}

gboolean
kith_device_is_answering (KithDevice *self)
{
	return self->silent_since == 0;
}

gint64
kith_device_get_silent_since (KithDevice *self)
{
	return self->silent_since;
}

const gchar *
kith_device_get_silent_reason (KithDevice *self)
{
	return self->silent_since != 0 ? self->silent_reason : NULL;
}

void
kith_device_set_silent_since (KithDevice *self, gint64 since, const gchar *reason)
{
	g_clear_pointer (&self->silent_reason, g_free);
	self->silent_since = MAX (since, 1);
	self->silent_reason = g_strdup (reason != NULL ? reason : "not answering");
}

const gchar *
kith_device_get_model (KithDevice *self)
{
	return self->model;
}

void
kith_device_set_model (KithDevice *self, const gchar *model)
{
	g_free (self->model);
	self->model = g_strdup (model);
}

const gchar *
kith_device_get_manufacturer (KithDevice *self)
{
	return self->manufacturer;
}

void
kith_device_set_manufacturer (KithDevice *self, const gchar *manufacturer)
{
	g_free (self->manufacturer);
	self->manufacturer = g_strdup (manufacturer);
}

const gchar *
kith_device_get_class (KithDevice *self)
{
	return self->class_name;
}

void
kith_device_set_class (KithDevice *self, const gchar *class_name)
{
	g_free (self->class_name);
	self->class_name = g_strdup (class_name);
}

gpointer
kith_device_get_driver (KithDevice *self)
{
	return self->driver;
}

void
kith_device_set_driver (KithDevice *self, gpointer driver)
{
	self->driver = driver;
}

void
kith_device_add_field (KithDevice *self, KithField *field)
{
	KithValue empty = { .type = field->type };
	g_ptr_array_add (self->fields, field);
	g_array_append_val (self->values, empty);
	g_array_append_val (self->published, empty);
}

gboolean
kith_device_remove_field (KithDevice *self, const gchar *name)
{
	gint i = kith_device_field_index (self, name);
	if (i < 0)
		return FALSE;
	kith_value_clear (&g_array_index (self->values, KithValue, i));
	kith_value_clear (&g_array_index (self->published, KithValue, i));
	g_array_remove_index (self->values, (guint)i);
	g_array_remove_index (self->published, (guint)i);
	g_ptr_array_remove_index (self->fields, (guint)i);
	return TRUE;
}

KithField *
kith_field_copy (const KithField *field)
{
	KithField *copy = g_new0 (KithField, 1);
	*copy = *field;
	copy->name = g_strdup (field->name);
	copy->unit = g_strdup (field->unit);
	return copy;
}

GPtrArray *
kith_device_get_fields (KithDevice *self)
{
	return self->fields;
}

static gint
kith_device_field_index (KithDevice *self, const gchar *name)
{
	for (guint i = 0; i < self->fields->len; i++) {
		KithField *field = g_ptr_array_index (self->fields, i);
		if (g_strcmp0 (field->name, name) == 0)
			return (gint)i;
	}
	return -1;
}

const KithField *
kith_device_find_field (KithDevice *self, const gchar *name)
{
	gint i = kith_device_field_index (self, name);
	return i < 0 ? NULL : g_ptr_array_index (self->fields, i);
}

gboolean
kith_device_has_writable (KithDevice *self)
{
	for (guint i = 0; i < self->fields->len; i++) {
		KithField *field = g_ptr_array_index (self->fields, i);
		if (field->writable)
			return TRUE;
	}
	return FALSE;
}

const KithValue *
kith_device_get_value (KithDevice *self, const gchar *name)
{
	gint i = kith_device_field_index (self, name);
	return i < 0 ? NULL : &g_array_index (self->values, KithValue, i);
}

void
kith_device_set_value (KithDevice *self, const gchar *name, const KithValue *value)
{
	gint i = kith_device_field_index (self, name);
	if (i < 0) {
		g_warning ("%s: no field %s", self->id, name);
		return;
	}
	kith_value_copy (&g_array_index (self->values, KithValue, i), value);
}

void
kith_device_set_number (KithDevice *self, const gchar *name, gdouble number, gint64 timestamp)
{
	KithValue value = {
		.type = KITH_VALUE_NUMERIC, .valid = TRUE, .number = number, .timestamp = timestamp
	};
	kith_device_set_value (self, name, &value);
}

void
kith_device_set_boolean (KithDevice *self, const gchar *name, gboolean boolean, gint64 timestamp)
{
	KithValue value = { .type = KITH_VALUE_BOOLEAN,
		            .valid = TRUE,
		            .boolean = boolean,
		            .timestamp = timestamp };
	kith_device_set_value (self, name, &value);
}

void
kith_device_emit_changed (KithDevice *self)
{
	g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
kith_device_adopt_values (KithDevice *self, KithDevice *other)
{
	for (guint i = 0; i < self->fields->len; i++) {
		KithField *field = g_ptr_array_index (self->fields, i);
		gint j = kith_device_field_index (other, field->name);
		KithValue *value = &g_array_index (self->values, KithValue, i);
		if (j < 0)
			continue;
		/* a value the new object already has (a fresh sample) wins */
		if (!value->valid)
			kith_value_copy (value, &g_array_index (other->values, KithValue, j));
		kith_value_copy (&g_array_index (self->published, KithValue, i),
		                 &g_array_index (other->published, KithValue, j));
	}
	self->published_once = other->published_once;
}

gboolean
kith_field_names_contain (GPtrArray *names, const gchar *name)
{
	return names == NULL || g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL);
}

static gchar *
kith_device_format (KithDevice *self, GArray *values, GPtrArray *names)
{
	g_autoptr (GString) status = g_string_new (NULL);
	for (guint i = 0; i < self->fields->len; i++) {
		KithField *field = g_ptr_array_index (self->fields, i);
		KithValue *value = &g_array_index (values, KithValue, i);
		if (!field->in_status || !kith_field_names_contain (names, field->name))
			continue;
		if (status->len > 0)
			g_string_append (status, ", ");
		if (!value->valid) {
			g_string_append_printf (status, "%s unknown", field->name);
			continue;
		}
		if (value->type == KITH_VALUE_BOOLEAN) {
			g_string_append (status, value->boolean ? "on" : "off");
		} else {
			g_autofree gchar *text =
			        kith_value_to_string (value, field->status_decimals);
			g_string_append (status, text);
			if (field->unit != NULL && field->unit[0] != '\0')
				g_string_append_printf (status, " %s", field->unit);
		}
	}
	return g_string_free (g_steal_pointer (&status), FALSE);
}

gchar *
kith_device_format_status (KithDevice *self, GPtrArray *names)
{
	return kith_device_format (self, self->values, names);
}

gchar *
kith_device_format_published_status (KithDevice *self, GPtrArray *names)
{
	return kith_device_format (self, self->published_once ? self->published : self->values,
	                           names);
}

static gboolean
kith_device_value_moved (const KithField *field, const KithValue *now, const KithValue *then)
{
	if (now->valid != then->valid)
		return TRUE;
	if (!now->valid)
		return FALSE;
	switch (now->type) {
	case KITH_VALUE_NUMERIC:
		return fabs (now->number - then->number) >= MAX (field->presence_step, 1e-9);
	case KITH_VALUE_INT:
		return (gdouble)ABS (now->integer - then->integer) >= MAX (field->presence_step, 1);
	default:
		return !kith_value_equal (now, then);
	}
}

gboolean
kith_device_status_changed (KithDevice *self)
{
	gboolean moved = !self->published_once;
	for (guint i = 0; i < self->fields->len && !moved; i++) {
		KithField *field = g_ptr_array_index (self->fields, i);
		if (field->in_status)
			moved = kith_device_value_moved (
			        field, &g_array_index (self->values, KithValue, i),
			        &g_array_index (self->published, KithValue, i));
	}
	if (!moved)
		return FALSE;
	for (guint i = 0; i < self->fields->len; i++)
		kith_value_copy (&g_array_index (self->published, KithValue, i),
		                 &g_array_index (self->values, KithValue, i));
	self->published_once = TRUE;
	return TRUE;
}
