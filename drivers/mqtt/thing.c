/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/thing.h"

#include "kith-error.h"

typedef enum {
	KITH_MQTT_PRESENCE_UNKNOWN,
	KITH_MQTT_PRESENCE_THERE,
	KITH_MQTT_PRESENCE_GONE,
} KithMqttPresence;

struct _KithMqttThing {
	KithDevice *device;
	gchar *key;
	GPtrArray *parts;     /* KithMqttPart, in the order they came */
	GHashTable *bindings; /* topic -> GPtrArray of KithMqttBinding (the parts') */
	GHashTable *sources;  /* topic -> GPtrArray of KithMqttAvailability (the parts') */
	GHashTable *presence; /* topic -> KithMqttPresence, kept across syncs */
	KithMqttAvailabilityMode mode;
	gchar *latest;      /* the availability topic that spoke last */
	gchar *reason;      /* why it is not available */
	GHashTable *owned;  /* the names of the fields the parts define */
	GHashTable *logged; /* topics whose bad payloads were said */
};

KithMqttThing *
kith_mqtt_thing_new (KithDevice *device, const gchar *key)
{
	KithMqttThing *self = g_new0 (KithMqttThing, 1);
	self->device = g_object_ref (device);
	self->key = g_strdup (key);
	self->parts = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_mqtt_part_free);
	self->bindings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                        (GDestroyNotify)g_ptr_array_unref);
	self->sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                       (GDestroyNotify)g_ptr_array_unref);
	self->presence = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->owned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->logged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	kith_device_set_key (device, key);
	return self;
}

void
kith_mqtt_thing_free (KithMqttThing *self)
{
	if (self == NULL)
		return;
	g_hash_table_unref (self->bindings);
	g_hash_table_unref (self->sources);
	g_hash_table_unref (self->presence);
	g_hash_table_unref (self->owned);
	g_hash_table_unref (self->logged);
	g_ptr_array_unref (self->parts);
	g_object_unref (self->device);
	g_free (self->key);
	g_free (self->latest);
	g_free (self->reason);
	g_free (self);
}

KithDevice *
kith_mqtt_thing_get_device (KithMqttThing *self)
{
	return self->device;
}

const gchar *
kith_mqtt_thing_get_key (KithMqttThing *self)
{
	return self->key;
}

void
kith_mqtt_thing_describe (KithMqttThing *self, const KithMqttDescription *description)
{
	if (description->label != NULL)
		kith_device_set_label (self->device, description->label);
	if (description->manufacturer != NULL)
		kith_device_set_manufacturer (self->device, description->manufacturer);
	if (description->model != NULL)
		kith_device_set_model (self->device, description->model);
	if (description->class_name != NULL)
		kith_device_set_class (self->device, description->class_name);
}

static gint
kith_mqtt_thing_part_index (KithMqttThing *self, const gchar *id)
{
	for (guint i = 0; i < self->parts->len; i++) {
		KithMqttPart *part = g_ptr_array_index (self->parts, i);
		if (g_strcmp0 (part->id, id) == 0)
			return (gint)i;
	}
	return -1;
}

void
kith_mqtt_thing_set_part (KithMqttThing *self, KithMqttPart *part)
{
	gint index = kith_mqtt_thing_part_index (self, part->id);
	if (index < 0) {
		g_ptr_array_add (self->parts, part);
		return;
	}
	kith_mqtt_part_free (g_ptr_array_index (self->parts, index));
	g_ptr_array_index (self->parts, index) = part;
}

gboolean
kith_mqtt_thing_remove_part (KithMqttThing *self, const gchar *id)
{
	gint index = kith_mqtt_thing_part_index (self, id);
	if (index < 0)
		return FALSE;
	g_ptr_array_remove_index (self->parts, (guint)index);
	return TRUE;
}

void
kith_mqtt_thing_remove_parts_except (KithMqttThing *self, const gchar *prefix, GHashTable *keep)
{
	for (guint i = self->parts->len; i > 0; i--) {
		KithMqttPart *part = g_ptr_array_index (self->parts, i - 1);
		if (g_str_has_prefix (part->id, prefix) && !g_hash_table_contains (keep, part->id))
			g_ptr_array_remove_index (self->parts, i - 1);
	}
}

guint
kith_mqtt_thing_count_parts (KithMqttThing *self)
{
	return self->parts->len;
}

static gboolean
kith_mqtt_field_equal (const KithField *a, const KithField *b)
{
	return g_strcmp0 (a->name, b->name) == 0 && a->type == b->type &&
	       g_strcmp0 (a->unit, b->unit) == 0 && a->decimals == b->decimals &&
	       a->status_decimals == b->status_decimals && a->presence_step == b->presence_step &&
	       a->in_status == b->in_status && a->writable == b->writable && a->min == b->min &&
	       a->max == b->max && a->categories == b->categories;
}

/* a field redefined: its value stays when the type does */
static void
kith_mqtt_thing_redefine (KithMqttThing *self, const KithField *field)
{
	const KithField *old = kith_device_find_field (self->device, field->name);
	KithValue value = { 0 };
	gboolean keep = old->type == field->type;

	if (keep)
		kith_value_copy (&value, kith_device_get_value (self->device, field->name));
	kith_device_remove_field (self->device, field->name);
	kith_device_add_field (self->device, kith_field_copy (field));
	if (keep)
		kith_device_set_value (self->device, field->name, &value);
	kith_value_clear (&value);
}

/* the fields of the parts (first definition of a name wins), in order */
static GPtrArray *
kith_mqtt_thing_defined_fields (KithMqttThing *self, GHashTable *names)
{
	GPtrArray *defined = g_ptr_array_new ();
	for (guint i = 0; i < self->parts->len; i++) {
		KithMqttPart *part = g_ptr_array_index (self->parts, i);
		for (guint j = 0; j < part->fields->len; j++) {
			KithField *field = g_ptr_array_index (part->fields, j);
			if (g_hash_table_add (names, g_strdup (field->name)))
				g_ptr_array_add (defined, field);
		}
	}
	return defined;
}

static gboolean
kith_mqtt_thing_sync_fields (KithMqttThing *self, gboolean prune)
{
	g_autoptr (GHashTable) names =
	        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr (GPtrArray) defined = kith_mqtt_thing_defined_fields (self, names);
	GPtrArray *fields = kith_device_get_fields (self->device);
	g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
	gboolean changed = FALSE;

	for (guint i = 0; i < fields->len; i++) {
		KithField *field = g_ptr_array_index (fields, i);
		if (!g_hash_table_contains (names, field->name) &&
		    (prune || g_hash_table_contains (self->owned, field->name)))
			g_ptr_array_add (gone, g_strdup (field->name));
	}
	for (guint i = 0; i < gone->len; i++)
		changed |= kith_device_remove_field (self->device, g_ptr_array_index (gone, i));
	for (guint i = 0; i < defined->len; i++) {
		KithField *field = g_ptr_array_index (defined, i);
		const KithField *old = kith_device_find_field (self->device, field->name);
		if (old == NULL) {
			kith_device_add_field (self->device, kith_field_copy (field));
			changed = TRUE;
		} else if (!kith_mqtt_field_equal (old, field)) {
			kith_mqtt_thing_redefine (self, field);
			changed = TRUE;
		}
	}
	g_hash_table_unref (self->owned);
	self->owned = g_steal_pointer (&names);
	return changed;
}

static void
kith_mqtt_thing_index (GHashTable *index, const gchar *topic, gpointer item)
{
	GPtrArray *list = g_hash_table_lookup (index, topic);
	if (list == NULL) {
		list = g_ptr_array_new ();
		g_hash_table_insert (index, g_strdup (topic), list);
	}
	g_ptr_array_add (list, item);
}

gboolean
kith_mqtt_thing_sync (KithMqttThing *self, gboolean prune)
{
	gboolean changed = kith_mqtt_thing_sync_fields (self, prune);
	GHashTableIter iter;
	gpointer topic;

	g_hash_table_remove_all (self->bindings);
	g_hash_table_remove_all (self->sources);
	self->mode = KITH_MQTT_AVAILABILITY_ALL;
	for (guint i = 0; i < self->parts->len; i++) {
		KithMqttPart *part = g_ptr_array_index (self->parts, i);
		for (guint j = 0; j < part->bindings->len; j++) {
			KithMqttBinding *binding = g_ptr_array_index (part->bindings, j);
			kith_mqtt_thing_index (self->bindings, binding->topic, binding);
		}
		for (guint j = 0; j < part->availability->len; j++) {
			KithMqttAvailability *source = g_ptr_array_index (part->availability, j);
			kith_mqtt_thing_index (self->sources, source->topic, source);
		}
		if (part->availability->len > 0 && part->mode != KITH_MQTT_AVAILABILITY_ALL)
			self->mode = part->mode;
	}
	/* what gone topics said no longer counts */
	g_hash_table_iter_init (&iter, self->presence);
	while (g_hash_table_iter_next (&iter, &topic, NULL)) {
		if (!g_hash_table_contains (self->sources, topic))
			g_hash_table_iter_remove (&iter);
	}
	return changed;
}

void
kith_mqtt_thing_collect_topics (KithMqttThing *self, GHashTable *set)
{
	GHashTableIter iter;
	gpointer topic;

	g_hash_table_iter_init (&iter, self->bindings);
	while (g_hash_table_iter_next (&iter, &topic, NULL))
		g_hash_table_add (set, g_strdup (topic));
	g_hash_table_iter_init (&iter, self->sources);
	while (g_hash_table_iter_next (&iter, &topic, NULL))
		g_hash_table_add (set, g_strdup (topic));
}

gboolean
kith_mqtt_thing_has_topic (KithMqttThing *self, const gchar *topic)
{
	return g_hash_table_contains (self->bindings, topic) ||
	       g_hash_table_contains (self->sources, topic);
}

void
kith_mqtt_thing_complain (KithMqttThing *self, const gchar *topic, const gchar *what,
                          const GError *error)
{
	if (!g_hash_table_add (self->logged, g_strdup (topic)))
		return;
	KITH_MQTT_DEVICE_LOG (G_LOG_LEVEL_MESSAGE, kith_device_get_id (self->device),
	                      "bad payload on %s for %s: %s (skipped; not said again for this "
	                      "topic)",
	                      topic, what, error->message);
}

static KithMqttThingChange
kith_mqtt_thing_apply_binding (KithMqttThing *self, KithMqttBinding *binding,
                               KithMqttMessage *message)
{
	const KithField *field = kith_device_find_field (self->device, binding->field);
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = NULL;
	KithMqttConversion conversion;
	KithValue value = { 0 };
	const KithValue *old;
	KithMqttThingChange change = 0;

	if (field == NULL)
		return 0;
	node = binding->extract != NULL
	               ? kith_mqtt_extract_run (binding->extract, message, &error)
	               : json_node_init_string (json_node_alloc (), message->payload);
	if (node == NULL) {
		if (!binding->optional ||
		    !g_error_matches (error, KITH_ERROR, KITH_ERROR_NOT_FOUND))
			kith_mqtt_thing_complain (self, message->topic, binding->field, error);
		return 0;
	}
	kith_mqtt_binding_get_conversion (binding, &conversion);
	conversion.type = field->type;
	if (!kith_mqtt_value_from_node (node, &conversion, &value, &error)) {
		kith_mqtt_thing_complain (self, message->topic, binding->field, error);
		return 0;
	}
	value.timestamp = g_get_real_time ();
	old = kith_device_get_value (self->device, binding->field);
	if (old == NULL || !kith_value_equal (old, &value))
		change = KITH_MQTT_THING_VALUES;
	kith_device_set_value (self->device, binding->field, &value);
	kith_value_clear (&value);
	return change;
}

/* what an availability payload says, or UNKNOWN */
static KithMqttPresence
kith_mqtt_thing_presence (KithMqttAvailability *source, KithMqttMessage *message)
{
	g_autoptr (JsonNode) node = NULL;
	g_autofree gchar *text = NULL;

	if (source->extract != NULL)
		node = kith_mqtt_extract_run (source->extract, message, NULL);
	text = node != NULL ? kith_mqtt_json_scalar_text (node) : NULL;
	if (text == NULL)
		text = g_strstrip (g_strdup (message->payload)); /* a plain payload, as older
		                                                    versions publish */
	if (g_strcmp0 (text, source->available) == 0)
		return KITH_MQTT_PRESENCE_THERE;
	if (g_strcmp0 (text, source->not_available) == 0)
		return KITH_MQTT_PRESENCE_GONE;
	if (g_ascii_strcasecmp (text, source->available) == 0)
		return KITH_MQTT_PRESENCE_THERE;
	if (g_ascii_strcasecmp (text, source->not_available) == 0)
		return KITH_MQTT_PRESENCE_GONE;
	return KITH_MQTT_PRESENCE_UNKNOWN;
}

KithMqttThingChange
kith_mqtt_thing_handle (KithMqttThing *self, KithMqttMessage *message)
{
	GPtrArray *bindings = g_hash_table_lookup (self->bindings, message->topic);
	GPtrArray *sources = g_hash_table_lookup (self->sources, message->topic);
	KithMqttThingChange change = 0;

	for (guint i = 0; bindings != NULL && i < bindings->len; i++)
		change |= kith_mqtt_thing_apply_binding (self, g_ptr_array_index (bindings, i),
		                                         message);
	for (guint i = 0; sources != NULL && i < sources->len; i++) {
		KithMqttAvailability *source = g_ptr_array_index (sources, i);
		KithMqttPresence presence = kith_mqtt_thing_presence (source, message);
		gboolean before = kith_mqtt_thing_is_available (self, NULL);

		if (presence == KITH_MQTT_PRESENCE_UNKNOWN) {
			g_autoptr (GError) error = g_error_new (
			        KITH_ERROR, KITH_ERROR_INVALID, "neither '%s' nor '%s'",
			        source->available, source->not_available);
			kith_mqtt_thing_complain (self, message->topic, "availability", error);
			continue;
		}
		g_hash_table_insert (self->presence, g_strdup (message->topic),
		                     GINT_TO_POINTER (presence));
		g_free (self->latest);
		self->latest = g_strdup (message->topic);
		if (kith_mqtt_thing_is_available (self, NULL) != before)
			change |= KITH_MQTT_THING_AVAILABILITY;
	}
	return change;
}

gboolean
kith_mqtt_thing_is_available (KithMqttThing *self, const gchar **reason)
{
	GHashTableIter iter;
	gpointer topic, value;
	const gchar *gone = NULL;
	gboolean there = FALSE;

	g_hash_table_iter_init (&iter, self->presence);
	while (g_hash_table_iter_next (&iter, &topic, &value)) {
		if (GPOINTER_TO_INT (value) == KITH_MQTT_PRESENCE_GONE)
			gone = topic;
		else if (GPOINTER_TO_INT (value) == KITH_MQTT_PRESENCE_THERE)
			there = TRUE;
	}
	if (self->mode == KITH_MQTT_AVAILABILITY_LATEST && self->latest != NULL)
		gone = GPOINTER_TO_INT (g_hash_table_lookup (self->presence, self->latest)) ==
		                       KITH_MQTT_PRESENCE_GONE
		               ? self->latest
		               : NULL;
	else if (self->mode == KITH_MQTT_AVAILABILITY_ANY && there)
		gone = NULL;
	if (gone == NULL)
		return TRUE;
	if (reason != NULL) {
		g_free (self->reason);
		self->reason = g_strdup_printf ("offline (%s)", (const gchar *)gone);
		*reason = self->reason;
	}
	return FALSE;
}

const KithMqttCommand *
kith_mqtt_thing_find_command (KithMqttThing *self, const gchar *field)
{
	for (guint i = 0; i < self->parts->len; i++) {
		KithMqttPart *part = g_ptr_array_index (self->parts, i);
		for (guint j = 0; j < part->commands->len; j++) {
			KithMqttCommand *command = g_ptr_array_index (part->commands, j);
			if (g_strcmp0 (command->field, field) == 0)
				return command;
		}
	}
	return NULL;
}

gboolean
kith_mqtt_thing_has_state (KithMqttThing *self, const gchar *field)
{
	for (guint i = 0; i < self->parts->len; i++) {
		KithMqttPart *part = g_ptr_array_index (self->parts, i);
		for (guint j = 0; j < part->bindings->len; j++) {
			KithMqttBinding *binding = g_ptr_array_index (part->bindings, j);
			if (g_strcmp0 (binding->field, field) == 0)
				return TRUE;
		}
	}
	return FALSE;
}
