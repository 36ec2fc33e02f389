/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/payload.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "kith-error.h"

void
kith_mqtt_message_init (KithMqttMessage *message, const gchar *topic, const gchar *payload,
                        gsize length, gboolean retained)
{
	memset (message, 0, sizeof *message);
	message->topic = topic;
	message->payload = payload != NULL ? payload : "";
	message->length = payload != NULL ? length : 0;
	message->retained = retained;
}

void
kith_mqtt_message_clear (KithMqttMessage *message)
{
	g_clear_pointer (&message->root, json_node_unref);
	g_clear_pointer (&message->parse_error, g_free);
	message->parsed = FALSE;
}

gboolean
kith_mqtt_message_check (KithMqttMessage *message, gsize max, GError **error)
{
	if (message->length > max) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "payload of %" G_GSIZE_FORMAT " bytes (at most %" G_GSIZE_FORMAT ")",
		             message->length, max);
		return FALSE;
	}
	if (!g_utf8_validate_len (message->payload, message->length, NULL)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "payload is not UTF-8 text");
		return FALSE;
	}
	return TRUE;
}

/* JSON nested deeper than this is refused before json-glib sees it: its parser recurses once
 * per level, and a payload of 200 KB of [ overflows the stack */
#define KITH_MQTT_JSON_DEPTH_MAX 128

/* TRUE if no bracket of text is deeper than KITH_MQTT_JSON_DEPTH_MAX; the brackets in strings
 * ("…" with escapes, '…' without: json-glib takes both) and in comments do not count */
static gboolean
kith_mqtt_json_depth_ok (const gchar *text, gsize length)
{
	guint depth = 0;

	for (gsize i = 0; i < length; i++) {
		const gchar *end = NULL;

		switch (text[i]) {
		case '"':
			for (i++; i < length && text[i] != '"'; i++)
				i += text[i] == '\\';
			break;
		case '\'':
			end = memchr (text + i + 1, '\'', length - i - 1);
			i = end != NULL ? (gsize)(end - text) : length;
			break;
		case '/':
			if (i + 1 < length && text[i + 1] == '*') {
				end = memmem (text + i + 2, length - i - 2, "*/", 2);
				i = end != NULL ? (gsize)(end - text) + 1 : length;
			}
			break;
		case '[':
		case '{':
			if (++depth > KITH_MQTT_JSON_DEPTH_MAX)
				return FALSE;
			break;
		case ']':
		case '}':
			depth -= depth > 0;
			break;
		default:
			break;
		}
	}
	return TRUE;
}

JsonNode *
kith_mqtt_message_get_json (KithMqttMessage *message, GError **error)
{
	if (!message->parsed) {
		g_autoptr (JsonParser) parser = json_parser_new_immutable ();
		g_autoptr (GError) error_local = NULL;

		message->parsed = TRUE;
		if (message->length == 0) {
			message->parse_error = g_strdup ("payload is empty");
		} else if (!kith_mqtt_json_depth_ok (message->payload, message->length)) {
			message->parse_error = g_strdup_printf (
			        "payload is not JSON kith reads (nested deeper than %d levels)",
			        KITH_MQTT_JSON_DEPTH_MAX);
		} else if (!json_parser_load_from_data (parser, message->payload,
		                                        (gssize)message->length, &error_local)) {
			message->parse_error =
			        g_strdup_printf ("payload is not JSON (%s)", error_local->message);
		} else if ((message->root = json_parser_steal_root (parser)) == NULL) {
			/* json-glib takes blanks alone for a document without a value */
			message->parse_error = g_strdup ("payload holds no JSON value");
		}
	}
	if (message->root == NULL)
		g_set_error_literal (error, KITH_ERROR, KITH_ERROR_INVALID, message->parse_error);
	return message->root;
}

typedef enum {
	KITH_MQTT_EXTRACT_PAYLOAD,
	KITH_MQTT_EXTRACT_TEMPLATE,
	KITH_MQTT_EXTRACT_PATH,
} KithMqttExtractKind;

struct _KithMqttExtract {
	gint ref_count;
	KithMqttExtractKind kind;
	KithMqttTemplate *template;
	JsonPath *path;
	GArray *steps; /* KithMqttStep: a plain path, walked here instead of by path */
	gchar *text;
};

/* one step of a plain JSON path: a member, or an element of an array (negative: from the
 * end) */
typedef struct {
	gchar *member;
	gint64 index;
} KithMqttStep;

static void
kith_mqtt_step_clear (gpointer data)
{
	g_free (((KithMqttStep *)data)->member);
}

/*
 * The grammar of a Path= kithd takes, checked before json-glib sees it: `$`, then steps
 * `.name`, `['name']`, `[N]` (negative: from the end), `.*`, `[*]`, and `..` before a name or
 * `*`. json-glib 1.6's JsonPath compiler reads past the end of some malformed paths and
 * aborts on others, and its matcher takes an array index without checking it against the
 * array (past the end of a payload's array: a critical, an abort where criticals are fatal).
 * So a plain path (members and indices only) is walked here, and json-glib matches only
 * paths with * or .., where indices are refused. Returns FALSE with error for a path outside
 * the grammar; *steps: the steps of a plain path, NULL for another.
 */
static gboolean
kith_mqtt_path_parse (const gchar *expression, GArray **steps, GError **error)
{
	g_autoptr (GArray) plain = g_array_new (FALSE, TRUE, sizeof (KithMqttStep));
	const gchar *p = expression;
	const gchar *why = NULL;
	gboolean wild = FALSE, indexed = FALSE;

	g_array_set_clear_func (plain, kith_mqtt_step_clear);
	*steps = NULL;
	if (*p++ != '$')
		why = "it does not begin with $";
	while (why == NULL && *p != '\0') {
		KithMqttStep step = { NULL, 0 };
		if (p[0] == '.') {
			const gchar *end;
			if (p[1] == '.') {
				wild = TRUE;
				p++;
			}
			if (p[1] == '*') {
				wild = TRUE;
				p += 2;
				continue;
			}
			for (end = p + 1; *end != '\0' && *end != '.' && *end != '[' && *end != ']' &&
			                  *end != '\'' && *end != '*';
			     end++)
				;
			if (end == p + 1) {
				why = "a name is missing after a dot";
				break;
			}
			step.member = g_strndup (p + 1, end - p - 1);
			p = end;
		} else if (p[0] == '[' && p[1] == '\'') {
			const gchar *end = strchr (p + 2, '\'');
			if (end == NULL || end == p + 2 || end[1] != ']') {
				why = "a ['name'] is not closed";
				break;
			}
			step.member = g_strndup (p + 2, end - p - 2);
			p = end + 2;
		} else if (p[0] == '[' && p[1] == '*' && p[2] == ']') {
			wild = TRUE;
			p += 3;
			continue;
		} else if (p[0] == '[') {
			const gchar *digits = p + 1 + (p[1] == '-');
			gchar *end = NULL;
			if (!g_ascii_isdigit (*digits)) {
				why = "a bracket holds neither 'a name', * nor an index";
				break;
			}
			step.index = g_ascii_strtoll (p + 1, &end, 10);
			if (*end != ']' || end - digits > 9) {
				why = "an index is not a number below a billion in brackets (no slices or "
				      "sets)";
				break;
			}
			indexed = TRUE;
			p = end + 1;
		} else {
			why = "a step begins with neither . nor [";
			break;
		}
		g_array_append_val (plain, step);
	}
	if (why == NULL && wild && indexed)
		why = "array indices are taken in a plain path of members and indices ($.a[0].b), "
		      "not with * or ..";
	if (why != NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "'%s' is not a JSON path kithd "
		             "takes: %s", expression, why);
		return FALSE;
	}
	if (!wild)
		*steps = g_steal_pointer (&plain);
	return TRUE;
}

static KithMqttExtract *
kith_mqtt_extract_alloc (KithMqttExtractKind kind, const gchar *text)
{
	KithMqttExtract *self = g_new0 (KithMqttExtract, 1);
	self->ref_count = 1;
	self->kind = kind;
	self->text = g_strdup (text);
	return self;
}

KithMqttExtract *
kith_mqtt_extract_new_payload (void)
{
	return kith_mqtt_extract_alloc (KITH_MQTT_EXTRACT_PAYLOAD, "the payload");
}

KithMqttExtract *
kith_mqtt_extract_new_template (KithMqttTemplate *template)
{
	KithMqttExtract *self = kith_mqtt_extract_alloc (KITH_MQTT_EXTRACT_TEMPLATE,
	                                                 kith_mqtt_template_get_text (template));
	self->template = template;
	return self;
}

KithMqttExtract *
kith_mqtt_extract_new_members (const gchar *const *keys)
{
	return kith_mqtt_extract_new_template (kith_mqtt_template_new_members (keys));
}

KithMqttExtract *
kith_mqtt_extract_new_path (const gchar *expression, GError **error)
{
	g_autoptr (JsonPath) path = NULL;
	g_autoptr (GError) error_local = NULL;
	g_autoptr (GArray) steps = NULL;
	KithMqttExtract *self;

	if (!kith_mqtt_path_parse (expression, &steps, error))
		return NULL;
	/* json-glib for * and .. (it fails on some paths without saying why) */
	if (steps == NULL) {
		path = json_path_new ();
		if (!json_path_compile (path, expression, &error_local)) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
			             "'%s' is not a JSON path (%s)", expression,
			             error_local != NULL ? error_local->message
			                                 : "it does not compile");
			return NULL;
		}
	}
	self = kith_mqtt_extract_alloc (KITH_MQTT_EXTRACT_PATH, expression);
	self->path = g_steal_pointer (&path);
	self->steps = g_steal_pointer (&steps);
	return self;
}

KithMqttExtract *
kith_mqtt_extract_ref (KithMqttExtract *self)
{
	self->ref_count++;
	return self;
}

void
kith_mqtt_extract_unref (KithMqttExtract *self)
{
	if (self == NULL || --self->ref_count > 0)
		return;
	kith_mqtt_template_free (self->template);
	g_clear_object (&self->path);
	g_clear_pointer (&self->steps, g_array_unref);
	g_free (self->text);
	g_free (self);
}

const gchar *
kith_mqtt_extract_describe (KithMqttExtract *self)
{
	return self->text;
}

KithMqttTemplate *
kith_mqtt_extract_get_template (KithMqttExtract *self)
{
	return self->template;
}

static JsonNode *
kith_mqtt_extract_run_path (KithMqttExtract *self, KithMqttMessage *message, GError **error)
{
	JsonNode *root = kith_mqtt_message_get_json (message, error);
	g_autoptr (JsonNode) matches = NULL;
	JsonArray *array;

	if (root == NULL)
		return NULL;
	if (self->steps != NULL) {
		JsonNode *node = root;
		for (guint i = 0; node != NULL && i < self->steps->len; i++) {
			const KithMqttStep *step = &g_array_index (self->steps, KithMqttStep, i);
			if (step->member != NULL) {
				JsonObject *object = JSON_NODE_HOLDS_OBJECT (node)
				                             ? json_node_get_object (node)
				                             : NULL;
				node = object != NULL ? json_object_get_member (object, step->member)
				                      : NULL;
			} else {
				JsonArray *elements = JSON_NODE_HOLDS_ARRAY (node)
				                              ? json_node_get_array (node)
				                              : NULL;
				gint64 length = elements != NULL ? json_array_get_length (elements) : 0;
				gint64 index = step->index < 0 ? length + step->index : step->index;
				node = index >= 0 && index < length
				               ? json_array_get_element (elements, (guint)index)
				               : NULL;
			}
		}
		if (node == NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
			             "nothing at %s in the payload", self->text);
			return NULL;
		}
		return json_node_copy (node);
	}
	matches = json_path_match (self->path, root);
	array = json_node_get_array (matches);
	if (array == NULL || json_array_get_length (array) == 0) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
		             "nothing at %s in the payload", self->text);
		return NULL;
	}
	return json_node_copy (json_array_get_element (array, 0));
}

JsonNode *
kith_mqtt_extract_run (KithMqttExtract *self, KithMqttMessage *message, GError **error)
{
	switch (self->kind) {
	case KITH_MQTT_EXTRACT_PAYLOAD:
		return json_node_init_string (json_node_alloc (), message->payload);
	case KITH_MQTT_EXTRACT_TEMPLATE: {
		JsonNode *root = NULL;
		if (kith_mqtt_template_uses_json (self->template)) {
			root = kith_mqtt_message_get_json (message, error);
			if (root == NULL)
				return NULL;
		}
		return kith_mqtt_template_render (self->template, message->payload, root, error);
	}
	case KITH_MQTT_EXTRACT_PATH:
		return kith_mqtt_extract_run_path (self, message, error);
	}
	return NULL;
}

gchar *
kith_mqtt_format_number (gdouble number)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	if (number == floor (number) && fabs (number) < 1e15)
		return g_strdup_printf ("%.0f", number);
	return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.15g", number));
}

gchar *
kith_mqtt_json_scalar_text (JsonNode *node)
{
	if (!JSON_NODE_HOLDS_VALUE (node))
		return NULL;
	switch (json_node_get_value_type (node)) {
	case G_TYPE_STRING:
		return g_strdup (json_node_get_string (node));
	case G_TYPE_BOOLEAN:
		return g_strdup (json_node_get_boolean (node) ? "true" : "false");
	case G_TYPE_INT64:
		return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
	default:
		return kith_mqtt_format_number (json_node_get_double (node));
	}
}

/* what devices say when they have no value */
static gboolean
kith_mqtt_text_is_unknown (const gchar *text)
{
	static const gchar *const unknown[] = { "",     "unknown", "unavailable", "none",
		                                "null", "nan",     NULL };
	g_autofree gchar *lower = g_ascii_strdown (text, -1);
	return g_strv_contains (unknown, g_strstrip (lower));
}

static gboolean
kith_mqtt_text_to_boolean (const gchar *text, const KithMqttConversion *conversion, gboolean *out)
{
	static const gchar *const yes[] = { "true", "on", "1", "yes", "open", "online", NULL };
	static const gchar *const no[] = { "false",  "off",   "0",       "no",
		                           "closed", "close", "offline", NULL };
	g_autofree gchar *lower = NULL;

	if (conversion->state_on != NULL && g_strcmp0 (text, conversion->state_on) == 0) {
		*out = TRUE;
		return TRUE;
	}
	if (conversion->state_off != NULL && g_strcmp0 (text, conversion->state_off) == 0) {
		*out = FALSE;
		return TRUE;
	}
	lower = g_strstrip (g_ascii_strdown (text, -1));
	if (g_strv_contains (yes, lower) ||
	    (conversion->state_on != NULL &&
	     g_ascii_strcasecmp (text, conversion->state_on) == 0)) {
		*out = TRUE;
		return TRUE;
	}
	if (g_strv_contains (no, lower) ||
	    (conversion->state_off != NULL &&
	     g_ascii_strcasecmp (text, conversion->state_off) == 0)) {
		*out = FALSE;
		return TRUE;
	}
	return FALSE;
}

static gboolean
kith_mqtt_text_to_number (const gchar *text, gdouble *out)
{
	g_autofree gchar *copy = g_strstrip (g_strdup (text));
	gchar *end = NULL;

	errno = 0;
	*out = g_ascii_strtod (copy, &end);
	return copy[0] != '\0' && *end == '\0' && errno == 0 && isfinite (*out);
}

/* a string value cut to KITH_MQTT_STRING_MAX bytes on a character boundary */
static gchar *
kith_mqtt_text_cut (const gchar *text)
{
	const gchar *end = text + strlen (text);
	if (end - text > KITH_MQTT_STRING_MAX) {
		end = g_utf8_find_prev_char (text, text + KITH_MQTT_STRING_MAX + 1);
		if (end == NULL)
			end = text;
	}
	return g_strndup (text, end - text);
}

static gboolean
kith_mqtt_value_from_text (const gchar *text, gboolean is_number, gdouble number,
                           const KithMqttConversion *conversion, KithValue *out, GError **error)
{
	switch (conversion->type) {
	case KITH_VALUE_BOOLEAN:
		if (kith_mqtt_text_to_boolean (text, conversion, &out->boolean))
			return TRUE;
		break;
	case KITH_VALUE_NUMERIC:
	case KITH_VALUE_INT:
		if (!is_number && !kith_mqtt_text_to_number (text, &number))
			break;
		number = number * conversion->scale + conversion->offset;
		if (conversion->type == KITH_VALUE_NUMERIC) {
			out->number = number;
			return TRUE;
		}
		if (fabs (number) < 9.2e18) {
			out->integer = (gint64)llround (number);
			return TRUE;
		}
		break;
	case KITH_VALUE_STRING:
		out->string = kith_mqtt_text_cut (text);
		return TRUE;
	}
	{
		g_autofree gchar *shown = g_strndup (text, 64);
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "'%s%s' is not %s", shown,
		             strlen (text) > 64 ? "…" : "",
		             conversion->type == KITH_VALUE_BOOLEAN ? "a boolean" : "a number");
	}
	return FALSE;
}

gboolean
kith_mqtt_value_from_node (JsonNode *node, const KithMqttConversion *conversion, KithValue *out,
                           GError **error)
{
	g_autofree gchar *text = NULL;
	gboolean is_number = FALSE;
	gdouble number = 0;

	kith_value_clear (out);
	out->type = conversion->type;
	out->valid = FALSE;
	if (JSON_NODE_HOLDS_NULL (node))
		return TRUE;
	text = kith_mqtt_json_scalar_text (node);
	if (text == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "an object or array where a value was expected");
		return FALSE;
	}
	if (kith_mqtt_text_is_unknown (text) && conversion->type != KITH_VALUE_STRING)
		return TRUE;
	if (json_node_get_value_type (node) == G_TYPE_INT64 ||
	    json_node_get_value_type (node) == G_TYPE_DOUBLE) {
		is_number = TRUE;
		number = json_node_get_double (node);
	}
	if (!kith_mqtt_value_from_text (text, is_number, number, conversion, out, error))
		return FALSE;
	out->valid = TRUE;
	return TRUE;
}

const gchar *
kith_mqtt_json_get_string (JsonObject *obj, const gchar *key)
{
	JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
	    json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

gboolean
kith_mqtt_json_get_number (JsonObject *obj, const gchar *key, gdouble *out)
{
	JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
		return FALSE;
	if (json_node_get_value_type (node) != G_TYPE_INT64 &&
	    json_node_get_value_type (node) != G_TYPE_DOUBLE)
		return FALSE;
	*out = json_node_get_double (node);
	return TRUE;
}

gboolean
kith_mqtt_json_get_boolean (JsonObject *obj, const gchar *key, gboolean fallback)
{
	JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
	    json_node_get_value_type (node) != G_TYPE_BOOLEAN)
		return fallback;
	return json_node_get_boolean (node);
}

JsonObject *
kith_mqtt_json_get_object (JsonObject *obj, const gchar *key)
{
	JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;
	return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
kith_mqtt_json_get_array (JsonObject *obj, const gchar *key)
{
	JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;
	return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

const gchar *
kith_mqtt_json_array_string (JsonArray *array, guint index)
{
	JsonNode *node = array != NULL && index < json_array_get_length (array)
	                         ? json_array_get_element (array, index)
	                         : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
	    json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

gint64
kith_mqtt_json_array_int (JsonArray *array, guint index, gint64 fallback)
{
	JsonNode *node = array != NULL && index < json_array_get_length (array)
	                         ? json_array_get_element (array, index)
	                         : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
	    json_node_get_value_type (node) != G_TYPE_INT64)
		return fallback;
	return json_node_get_int (node);
}

JsonObject *
kith_mqtt_json_array_object (JsonArray *array, guint index)
{
	JsonNode *node = array != NULL && index < json_array_get_length (array)
	                         ? json_array_get_element (array, index)
	                         : NULL;
	return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

gboolean
kith_mqtt_topic_matches (const gchar *filter, const gchar *topic)
{
	g_auto (GStrv) want = g_strsplit (filter, "/", -1);
	g_auto (GStrv) have = g_strsplit (topic, "/", -1);
	guint i;

	/* wildcards do not match topics of the broker's own ($SYS) */
	if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return FALSE;
	for (i = 0; want[i] != NULL; i++) {
		if (g_strcmp0 (want[i], "#") == 0)
			return want[i + 1] == NULL;
		if (have[i] == NULL)
			return FALSE;
		if (g_strcmp0 (want[i], "+") != 0 && g_strcmp0 (want[i], have[i]) != 0)
			return FALSE;
	}
	return have[i] == NULL;
}

gboolean
kith_mqtt_topic_is_valid (const gchar *text)
{
	return text != NULL && text[0] != '\0' && strpbrk (text, "+#") == NULL &&
	       strlen (text) <= 65535 && g_utf8_validate (text, -1, NULL);
}
