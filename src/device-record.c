/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "device-record.h"

#include <json-glib/json-glib.h>

#include "kith-error.h"

void
kith_device_record_add_value (JsonBuilder *builder, const KithValue *value)
{
	if (value == NULL || !value->valid) {
		json_builder_add_null_value (builder);
		return;
	}
	switch (value->type) {
	case KITH_VALUE_NUMERIC:
		json_builder_add_double_value (builder, value->number);
		break;
	case KITH_VALUE_BOOLEAN:
		json_builder_add_boolean_value (builder, value->boolean);
		break;
	case KITH_VALUE_INT:
		json_builder_add_int_value (builder, value->integer);
		break;
	case KITH_VALUE_STRING:
		json_builder_add_string_value (builder, value->string != NULL ? value->string : "");
		break;
	}
}

static void
kith_record_member_string (JsonBuilder *builder, const gchar *name, const gchar *value)
{
	if (value == NULL)
		return;
	json_builder_set_member_name (builder, name);
	json_builder_add_string_value (builder, value);
}

static void
kith_record_add_field (JsonBuilder *builder, const KithField *field, const KithValue *value)
{
	json_builder_begin_object (builder);
	kith_record_member_string (builder, "name", field->name);
	kith_record_member_string (builder, "type", kith_value_type_to_string (field->type));
	kith_record_member_string (builder, "unit", field->unit);
	json_builder_set_member_name (builder, "decimals");
	json_builder_add_int_value (builder, field->decimals);
	json_builder_set_member_name (builder, "statusDecimals");
	json_builder_add_int_value (builder, field->status_decimals);
	json_builder_set_member_name (builder, "presenceStep");
	json_builder_add_double_value (builder, field->presence_step);
	json_builder_set_member_name (builder, "inStatus");
	json_builder_add_boolean_value (builder, field->in_status);
	json_builder_set_member_name (builder, "writable");
	json_builder_add_boolean_value (builder, field->writable);
	if (field->min <= field->max) {
		json_builder_set_member_name (builder, "min");
		json_builder_add_double_value (builder, field->min);
		json_builder_set_member_name (builder, "max");
		json_builder_add_double_value (builder, field->max);
	}
	json_builder_set_member_name (builder, "categories");
	json_builder_add_int_value (builder, field->categories);
	if (value != NULL && value->valid) {
		json_builder_set_member_name (builder, "value");
		kith_device_record_add_value (builder, value);
		json_builder_set_member_name (builder, "time");
		json_builder_add_int_value (builder, value->timestamp);
	}
	json_builder_end_object (builder);
}

gchar *
kith_device_record_to_json (KithDevice *device)
{
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	g_autoptr (JsonGenerator) generator = json_generator_new ();
	g_autoptr (JsonNode) root = NULL;
	GPtrArray *fields = kith_device_get_fields (device);

	json_builder_begin_object (builder);
	kith_record_member_string (builder, "label", kith_device_get_label (device));
	kith_record_member_string (builder, "manufacturer", kith_device_get_manufacturer (device));
	kith_record_member_string (builder, "model", kith_device_get_model (device));
	kith_record_member_string (builder, "class", kith_device_get_class (device));
	json_builder_set_member_name (builder, "fields");
	json_builder_begin_array (builder);
	for (guint i = 0; i < fields->len; i++) {
		const KithField *field = g_ptr_array_index (fields, i);
		kith_record_add_field (builder, field, kith_device_get_value (device, field->name));
	}
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	root = json_builder_get_root (builder);
	json_generator_set_root (generator, root);
	return json_generator_to_data (generator, NULL);
}

static gboolean
kith_record_type (const gchar *name, KithValueType *type)
{
	static const KithValueType types[] = { KITH_VALUE_NUMERIC, KITH_VALUE_BOOLEAN,
		                               KITH_VALUE_INT, KITH_VALUE_STRING };
	for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
		if (g_strcmp0 (name, kith_value_type_to_string (types[i])) == 0) {
			*type = types[i];
			return TRUE;
		}
	}
	return FALSE;
}

/* the last value a field held, as the record has it */
static void
kith_record_load_value (KithDevice *device, const KithField *field, JsonObject *object)
{
	JsonNode *node = json_object_get_member (object, "value");
	KithValue value = { .type = field->type, .valid = TRUE };

	if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
		return;
	value.timestamp = json_object_get_int_member_with_default (object, "time", 0);
	switch (field->type) {
	case KITH_VALUE_NUMERIC:
		value.number = json_node_get_double (node);
		break;
	case KITH_VALUE_BOOLEAN:
		value.boolean = json_node_get_boolean (node);
		break;
	case KITH_VALUE_INT:
		value.integer = json_node_get_int (node);
		break;
	case KITH_VALUE_STRING:
		value.string = (gchar *)json_node_get_string (node);
		break;
	}
	kith_device_set_value (device, field->name, &value);
}

static gboolean
kith_record_load_field (KithDevice *device, JsonObject *object, GError **error)
{
	const gchar *name = json_object_get_string_member_with_default (object, "name", NULL);
	const gchar *type_name = json_object_get_string_member_with_default (object, "type", NULL);
	KithValueType type;
	KithField *field;

	if (name == NULL || !kith_record_type (type_name, &type)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "a field without name or type");
		return FALSE;
	}
	field = kith_field_new (name, type,
	                        json_object_get_string_member_with_default (object, "unit", ""));
	field->decimals = (guint)json_object_get_int_member_with_default (object, "decimals", 0);
	field->status_decimals =
	        (guint)json_object_get_int_member_with_default (object, "statusDecimals", 0);
	field->presence_step =
	        json_object_get_double_member_with_default (object, "presenceStep", 0);
	field->in_status = json_object_get_boolean_member_with_default (object, "inStatus", FALSE);
	field->writable = json_object_get_boolean_member_with_default (object, "writable", FALSE);
	if (json_object_has_member (object, "min") && json_object_has_member (object, "max")) {
		field->min = json_object_get_double_member (object, "min");
		field->max = json_object_get_double_member (object, "max");
	}
	field->categories = (KithFieldCategory)json_object_get_int_member_with_default (
	        object, "categories", KITH_FIELD_MOMENTARY);
	kith_device_add_field (device, field);
	kith_record_load_value (device, field, object);
	return TRUE;
}

KithDevice *
kith_device_record_load (const gchar *id, const gchar *json, GError **error)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (KithDevice) device = NULL;
	JsonObject *root;
	JsonArray *fields;

	if (!json_parser_load_from_data (parser, json, -1, error)) {
		g_prefix_error (error, "device %s: ", id);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_STORE, "device %s: not a record", id);
		return NULL;
	}
	root = json_node_get_object (json_parser_get_root (parser));
	device = kith_device_new (id,
	                          json_object_get_string_member_with_default (root, "label", id));
	kith_device_set_manufacturer (
	        device, json_object_get_string_member_with_default (root, "manufacturer", NULL));
	kith_device_set_model (device,
	                       json_object_get_string_member_with_default (root, "model", NULL));
	kith_device_set_class (device,
	                       json_object_get_string_member_with_default (root, "class", NULL));
	fields = json_object_has_member (root, "fields")
	                 ? json_object_get_array_member (root, "fields")
	                 : NULL;
	for (guint i = 0; fields != NULL && i < json_array_get_length (fields); i++) {
		JsonNode *node = json_array_get_element (fields, i);
		if (!JSON_NODE_HOLDS_OBJECT (node) ||
		    !kith_record_load_field (device, json_node_get_object (node), error)) {
			if (error != NULL && *error == NULL)
				g_set_error (error, KITH_ERROR, KITH_ERROR_STORE,
				             "device %s: a field is not an object", id);
			g_prefix_error (error, "device %s: ", id);
			return NULL;
		}
	}
	return g_steal_pointer (&device);
}
