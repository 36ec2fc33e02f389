/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "device.h"
#include "drivers/mqtt/template.h"

G_BEGIN_DECLS

/* payloads larger than this are refused (a state or a discovery config is a few KiB) */
#define KITH_MQTT_PAYLOAD_MAX (256 * 1024)
/* string values are cut to this many bytes (they end up in presence and readouts) */
#define KITH_MQTT_STRING_MAX 1024

/* one received message, its JSON parsed at most once whoever asks for it */
typedef struct {
	const gchar *topic;
	const gchar *payload; /* NUL-terminated */
	gsize length;
	gboolean retained;
	JsonNode *root;     /* parsed JSON, after kith_mqtt_message_get_json () */
	gboolean parsed;    /* parse tried */
	gchar *parse_error; /* why it is not JSON */
} KithMqttMessage;

void kith_mqtt_message_init (KithMqttMessage *message, const gchar *topic, const gchar *payload,
                             gsize length, gboolean retained);
void kith_mqtt_message_clear (KithMqttMessage *message);
/* the payload's JSON (owned by message), or NULL with KITH_ERROR_INVALID */
JsonNode *kith_mqtt_message_get_json (KithMqttMessage *message, GError **error);
/* TRUE if the payload is UTF-8 text without NUL bytes and not too large */
gboolean kith_mqtt_message_check (KithMqttMessage *message, gsize max, GError **error);

/* how a value is taken out of a payload: all of it, a template or a JsonPath */
typedef struct _KithMqttExtract KithMqttExtract;

KithMqttExtract *kith_mqtt_extract_new_payload (void);
/* takes template */
KithMqttExtract *kith_mqtt_extract_new_template (KithMqttTemplate *template);
/* compiles a JsonPath expression ($.a.b, $['a'][0]); fails with KITH_ERROR_CONFIG */
KithMqttExtract *kith_mqtt_extract_new_path (const gchar *expression, GError **error);
/* value_json[keys[0]][keys[1]]… */
KithMqttExtract *kith_mqtt_extract_new_members (const gchar *const *keys);
KithMqttExtract *kith_mqtt_extract_ref (KithMqttExtract *self);
void kith_mqtt_extract_unref (KithMqttExtract *self);
/* a text naming what it extracts, for log lines */
const gchar *kith_mqtt_extract_describe (KithMqttExtract *self);
KithMqttTemplate *kith_mqtt_extract_get_template (KithMqttExtract *self);
/* the value selected in message: a new node, or NULL with KITH_ERROR_NOT_FOUND (no such
 * member) or KITH_ERROR_INVALID (not JSON, a filter failed) */
JsonNode *kith_mqtt_extract_run (KithMqttExtract *self, KithMqttMessage *message, GError **error);

/* how a node becomes a field's value */
typedef struct {
	KithValueType type;
	const gchar *state_on;  /* boolean: the texts that mean true and false (NULL: the usual */
	const gchar *state_off; /* true/false, on/off, 1/0, yes/no, open/closed) */
	gdouble scale;          /* numeric and int: value * scale + offset */
	gdouble offset;
} KithMqttConversion;

/*
 * Sets out (type, value, valid) from node. A JSON null, an empty text, "unknown", "unavailable"
 * or "None" give an unknown value (valid FALSE) without an error; a value that does not fit the
 * type fails with KITH_ERROR_INVALID.
 */
gboolean kith_mqtt_value_from_node (JsonNode *node, const KithMqttConversion *conversion,
                                    KithValue *out, GError **error);

/* a number as commands and payloads write it: 21, 21.5, 0.1 */
gchar *kith_mqtt_format_number (gdouble number);

/* TRUE if text can be published to and subscribed as one topic (not empty, no wildcards) */
gboolean kith_mqtt_topic_is_valid (const gchar *text);
/* TRUE if topic matches filter (MQTT's + and # wildcards) */
gboolean kith_mqtt_topic_matches (const gchar *filter, const gchar *topic);

/* members of a JSON object of the expected type, else NULL / FALSE (obj may be NULL) */
const gchar *kith_mqtt_json_get_string (JsonObject *obj, const gchar *key);
gboolean kith_mqtt_json_get_number (JsonObject *obj, const gchar *key, gdouble *out);
gboolean kith_mqtt_json_get_boolean (JsonObject *obj, const gchar *key, gboolean fallback);
JsonObject *kith_mqtt_json_get_object (JsonObject *obj, const gchar *key);
JsonArray *kith_mqtt_json_get_array (JsonObject *obj, const gchar *key);
/* elements of an array of the expected type, else NULL / fallback (never a critical on bad
 * input, as json_array_get_*_element gives) */
const gchar *kith_mqtt_json_array_string (JsonArray *array, guint index);
gint64 kith_mqtt_json_array_int (JsonArray *array, guint index, gint64 fallback);
JsonObject *kith_mqtt_json_array_object (JsonArray *array, guint index);
/* the text of a scalar node (a string as is, numbers and booleans as JSON writes them) */
gchar *kith_mqtt_json_scalar_text (JsonNode *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttExtract, kith_mqtt_extract_unref)

G_END_DECLS
