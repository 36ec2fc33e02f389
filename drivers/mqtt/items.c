/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/items.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "kith-error.h"

static const gchar *const kith_mqtt_item_field_properties[] = {
	"Topic",    "Path",      "Type",       "Unit",   "Scale",        "Offset",
	"Decimals", "PayloadOn", "PayloadOff", "Status", "CommandTopic", "Payload",
	"Min",      "Max",       "Options",    NULL,
};

const gchar *const kith_mqtt_item_keys[] = {
	"Label",
	"Manufacturer",
	"Model",
	"Class",
	"Topic",
	"AvailabilityTopic",
	"PayloadAvailable",
	"PayloadNotAvailable",
	"*.Topic",
	"*.Path",
	"*.Type",
	"*.Unit",
	"*.Scale",
	"*.Offset",
	"*.Decimals",
	"*.PayloadOn",
	"*.PayloadOff",
	"*.Status",
	"*.CommandTopic",
	"*.Payload",
	"*.Min",
	"*.Max",
	"*.Options",
	NULL,
};

typedef struct {
	GKeyFile *keyfile;
	const gchar *group;
	const gchar *name; /* the field */
	KithMqttPart *part;
} KithMqttItemField;

static gboolean kith_mqtt_item_fail (GError **error, const gchar *group, const gchar *key,
                                     const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
kith_mqtt_item_fail (GError **error, const gchar *group, const gchar *key, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s: %s", group, key, message);
	return FALSE;
}

/* the value of <field>.<property>, NULL if absent */
static gchar *
kith_mqtt_item_get (KithMqttItemField *item, const gchar *property, gchar **key_out)
{
	g_autofree gchar *key = g_strdup_printf ("%s.%s", item->name, property);
	gchar *value = g_key_file_get_string (item->keyfile, item->group, key, NULL);

	if (value != NULL)
		g_strstrip (value);
	if (key_out != NULL)
		*key_out = g_steal_pointer (&key);
	return value;
}

static gboolean
kith_mqtt_item_get_number (KithMqttItemField *item, const gchar *property, gdouble *out,
                           gboolean *present, GError **error)
{
	g_autofree gchar *key = NULL;
	g_autofree gchar *text = kith_mqtt_item_get (item, property, &key);
	gchar *end = NULL;

	if (present != NULL)
		*present = text != NULL;
	if (text == NULL)
		return TRUE;
	errno = 0;
	*out = g_ascii_strtod (text, &end);
	if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite (*out))
		return kith_mqtt_item_fail (error, item->group, key, "'%s' is not a number", text);
	return TRUE;
}

static gboolean
kith_mqtt_item_type (KithMqttItemField *item, KithValueType *type, GError **error)
{
	static const KithValueType types[] = { KITH_VALUE_NUMERIC, KITH_VALUE_INT,
		                               KITH_VALUE_BOOLEAN, KITH_VALUE_STRING };
	g_autofree gchar *key = NULL;
	g_autofree gchar *text = kith_mqtt_item_get (item, "Type", &key);

	*type = KITH_VALUE_NUMERIC;
	if (text == NULL)
		return TRUE;
	for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
		if (g_strcmp0 (text, kith_value_type_to_string (types[i])) == 0) {
			*type = types[i];
			return TRUE;
		}
	}
	return kith_mqtt_item_fail (error, item->group, key,
	                            "'%s' is not a type (numeric, int, boolean or string)", text);
}

/* the binding of a field with a state topic */
static gboolean
kith_mqtt_item_binding (KithMqttItemField *item, KithField *field, const gchar *topic,
                        GError **error)
{
	g_autofree gchar *key = NULL;
	g_autofree gchar *path = kith_mqtt_item_get (item, "Path", &key);
	g_autofree gchar *on = kith_mqtt_item_get (item, "PayloadOn", NULL);
	g_autofree gchar *off = kith_mqtt_item_get (item, "PayloadOff", NULL);
	KithMqttExtract *extract = NULL;
	KithMqttBinding *binding;

	if (path != NULL && path[0] != '\0') {
		extract = kith_mqtt_extract_new_path (path, error);
		if (extract == NULL) {
			g_prefix_error (error, "[%s] %s: ", item->group, key);
			return FALSE;
		}
	}
	binding = kith_mqtt_binding_new (topic, field->name, field->type, extract);
	binding->state_on = g_steal_pointer (&on);
	binding->state_off = g_steal_pointer (&off);
	if (!kith_mqtt_item_get_number (item, "Scale", &binding->scale, NULL, error) ||
	    !kith_mqtt_item_get_number (item, "Offset", &binding->offset, NULL, error)) {
		kith_mqtt_binding_free (binding);
		return FALSE;
	}
	g_ptr_array_add (item->part->bindings, binding);
	return TRUE;
}

static gboolean
kith_mqtt_item_command (KithMqttItemField *item, KithField *field, const gchar *topic,
                        GError **error)
{
	KithMqttCommand *command = kith_mqtt_command_new (field->name, topic);
	g_autofree gchar *options = kith_mqtt_item_get (item, "Options", NULL);
	gboolean has_min = FALSE, has_max = FALSE;
	gdouble min = 0, max = 0;

	g_ptr_array_add (item->part->commands, command);
	field->writable = TRUE;
	command->payload = kith_mqtt_item_get (item, "Payload", NULL);
	command->payload_on = kith_mqtt_item_get (item, "PayloadOn", NULL);
	command->payload_off = kith_mqtt_item_get (item, "PayloadOff", NULL);
	if (options != NULL && field->type == KITH_VALUE_STRING) {
		command->options = g_strsplit (options, ";", -1);
		for (guint i = 0; command->options[i] != NULL; i++)
			g_strstrip (command->options[i]);
	}
	if (!kith_mqtt_item_get_number (item, "Scale", &command->scale, NULL, error) ||
	    !kith_mqtt_item_get_number (item, "Offset", &command->offset, NULL, error) ||
	    !kith_mqtt_item_get_number (item, "Min", &min, &has_min, error) ||
	    !kith_mqtt_item_get_number (item, "Max", &max, &has_max, error))
		return FALSE;
	if (command->scale == 0) {
		g_autofree gchar *key = g_strdup_printf ("%s.Scale", item->name);
		return kith_mqtt_item_fail (error, item->group, key, "must not be 0");
	}
	if (has_min || has_max) {
		field->min = has_min ? min : -G_MAXDOUBLE;
		field->max = has_max ? max : G_MAXDOUBLE;
	}
	return TRUE;
}

static gboolean
kith_mqtt_item_field (KithMqttItemField *item, const gchar *device_topic, GError **error)
{
	g_autofree gchar *topic = kith_mqtt_item_get (item, "Topic", NULL);
	g_autofree gchar *command_topic = kith_mqtt_item_get (item, "CommandTopic", NULL);
	g_autofree gchar *unit = kith_mqtt_item_get (item, "Unit", NULL);
	g_autofree gchar *status = kith_mqtt_item_get (item, "Status", NULL);
	g_autofree gchar *status_key = g_strdup_printf ("%s.Status", item->name);
	const gchar *state_topic = topic != NULL && topic[0] != '\0' ? topic : device_topic;
	KithValueType type;
	KithField *field;
	gdouble decimals = 2;

	if (!kith_mqtt_item_type (item, &type, error))
		return FALSE;
	if ((state_topic == NULL || state_topic[0] == '\0') &&
	    (command_topic == NULL || command_topic[0] == '\0')) {
		g_autofree gchar *key = g_strdup_printf ("%s.Topic", item->name);
		return kith_mqtt_item_fail (error, item->group, key,
		                            "missing: the field needs a topic (or Topic= of the "
		                            "device, or a CommandTopic)");
	}
	if ((state_topic != NULL && strpbrk (state_topic, "+#") != NULL) ||
	    (command_topic != NULL && strpbrk (command_topic, "+#") != NULL)) {
		g_autofree gchar *key = g_strdup_printf ("%s.Topic", item->name);
		return kith_mqtt_item_fail (error, item->group, key,
		                            "a topic of a field names one topic (no + or #)");
	}
	field = kith_mqtt_field_new (item->name, type,
	                             type == KITH_VALUE_NUMERIC || type == KITH_VALUE_INT ? unit
	                                                                                  : NULL);
	g_ptr_array_add (item->part->fields, field);
	if (!kith_mqtt_item_get_number (item, "Decimals", &decimals, NULL, error))
		return FALSE;
	field->decimals = (guint)CLAMP (decimals, 0, 12);
	field->status_decimals = MIN (field->decimals, 1);
	if (status != NULL && !kith_parse_boolean (status, &field->in_status))
		return kith_mqtt_item_fail (error, item->group, status_key,
		                            "'%s' is not true or false", status);
	if (state_topic != NULL && state_topic[0] != '\0' &&
	    !kith_mqtt_item_binding (item, field, state_topic, error))
		return FALSE;
	if (command_topic != NULL && command_topic[0] != '\0' &&
	    !kith_mqtt_item_command (item, field, command_topic, error))
		return FALSE;
	return TRUE;
}

/* the fields named by the <field>.<property> keys, in the order they first appear */
static gboolean
kith_mqtt_items_field_names (GKeyFile *keyfile, const gchar *group, GPtrArray *names,
                             GError **error)
{
	g_auto (GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const gchar *dot = strrchr (keys[i], '.');
		g_autofree gchar *name = NULL;

		if (dot == NULL)
			continue;
		if (!g_strv_contains (kith_mqtt_item_field_properties, dot + 1))
			return kith_mqtt_item_fail (error, group, keys[i],
			                            "unknown field property '%s'", dot + 1);
		name = g_strstrip (g_strndup (keys[i], dot - keys[i]));
		if (name[0] == '\0')
			return kith_mqtt_item_fail (error, group, keys[i], "no field name");
		if (!g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL))
			g_ptr_array_add (names, g_steal_pointer (&name));
	}
	return TRUE;
}

KithMqttDescription *
kith_mqtt_items_parse (GKeyFile *keyfile, const gchar *group, const gchar *item, GError **error)
{
	g_autofree gchar *key = g_strconcat ("item:", item, NULL);
	g_autoptr (KithMqttDescription) description = kith_mqtt_description_new (key, item);
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_autofree gchar *topic = g_key_file_get_string (keyfile, group, "Topic", NULL);
	g_autofree gchar *availability =
	        g_key_file_get_string (keyfile, group, "AvailabilityTopic", NULL);
	KithMqttPart *part = kith_mqtt_part_new ("");

	g_ptr_array_add (description->parts, part);
	description->label = g_key_file_get_string (keyfile, group, "Label", NULL);
	if (description->label == NULL)
		description->label = g_strdup (item);
	description->manufacturer = g_key_file_get_string (keyfile, group, "Manufacturer", NULL);
	description->model = g_key_file_get_string (keyfile, group, "Model", NULL);
	description->class_name = g_key_file_get_string (keyfile, group, "Class", NULL);
	if (!kith_mqtt_items_field_names (keyfile, group, names, error))
		return NULL;
	if (names->len == 0) {
		kith_mqtt_item_fail (error, group, "Topic",
		                     "no fields: give each field keys such as "
		                     "Temperature.Path=$.temperature");
		return NULL;
	}
	for (guint i = 0; i < names->len; i++) {
		KithMqttItemField field = { .keyfile = keyfile,
			                    .group = group,
			                    .name = g_ptr_array_index (names, i),
			                    .part = part };
		if (!kith_mqtt_item_field (&field, topic != NULL ? g_strstrip (topic) : NULL,
		                           error))
			return NULL;
	}
	if (availability != NULL && g_strstrip (availability)[0] != '\0') {
		g_autofree gchar *on =
		        g_key_file_get_string (keyfile, group, "PayloadAvailable", NULL);
		g_autofree gchar *off =
		        g_key_file_get_string (keyfile, group, "PayloadNotAvailable", NULL);
		g_ptr_array_add (part->availability,
		                 kith_mqtt_availability_new (availability,
		                                             on != NULL ? on : "online",
		                                             off != NULL ? off : "offline", NULL));
	}
	return g_steal_pointer (&description);
}
