/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/template.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "kith-error.h"

typedef struct {
	gchar *key;   /* a member name; NULL for an index */
	gint64 index; /* an array index */
} KithMqttAccessor;

typedef enum {
	KITH_MQTT_FILTER_FLOAT,
	KITH_MQTT_FILTER_INT,
	KITH_MQTT_FILTER_ROUND,
	KITH_MQTT_FILTER_LOWER,
	KITH_MQTT_FILTER_UPPER,
	KITH_MQTT_FILTER_STRING,
	KITH_MQTT_FILTER_TRIM,
} KithMqttFilterKind;

typedef struct {
	KithMqttFilterKind kind;
	gboolean has_argument;
	gdouble argument;
} KithMqttFilter;

struct _KithMqttTemplate {
	gchar *text;
	gboolean json;     /* value_json, else value */
	GArray *accessors; /* KithMqttAccessor */
	GArray *filters;   /* KithMqttFilter */
};

static const struct {
	const gchar *name;
	KithMqttFilterKind kind;
	gboolean argument; /* takes an optional numeric argument */
} kith_mqtt_filters[] = {
	{ "float", KITH_MQTT_FILTER_FLOAT, TRUE },  { "int", KITH_MQTT_FILTER_INT, TRUE },
	{ "round", KITH_MQTT_FILTER_ROUND, TRUE },  { "lower", KITH_MQTT_FILTER_LOWER, FALSE },
	{ "upper", KITH_MQTT_FILTER_UPPER, FALSE }, { "string", KITH_MQTT_FILTER_STRING, FALSE },
	{ "trim", KITH_MQTT_FILTER_TRIM, FALSE },
};

static void
kith_mqtt_accessor_clear (gpointer data)
{
	KithMqttAccessor *accessor = data;
	g_free (accessor->key);
}

static KithMqttTemplate *
kith_mqtt_template_alloc (const gchar *text)
{
	KithMqttTemplate *self = g_new0 (KithMqttTemplate, 1);
	self->text = g_strdup (text);
	self->accessors = g_array_new (FALSE, TRUE, sizeof (KithMqttAccessor));
	g_array_set_clear_func (self->accessors, kith_mqtt_accessor_clear);
	self->filters = g_array_new (FALSE, TRUE, sizeof (KithMqttFilter));
	return self;
}

void
kith_mqtt_template_free (KithMqttTemplate *self)
{
	if (self == NULL)
		return;
	g_array_unref (self->accessors);
	g_array_unref (self->filters);
	g_free (self->text);
	g_free (self);
}

/* a cursor over the template text */
typedef struct {
	const gchar *p;
	const gchar *text;
} KithMqttScan;

static void
kith_mqtt_scan_blanks (KithMqttScan *scan)
{
	while (g_ascii_isspace (*scan->p))
		scan->p++;
}

static gboolean
kith_mqtt_scan_literal (KithMqttScan *scan, const gchar *literal)
{
	gsize n = strlen (literal);
	if (strncmp (scan->p, literal, n) != 0)
		return FALSE;
	scan->p += n;
	return TRUE;
}

static gchar *
kith_mqtt_scan_identifier (KithMqttScan *scan)
{
	const gchar *start = scan->p;
	while (g_ascii_isalnum (*scan->p) || *scan->p == '_')
		scan->p++;
	return scan->p > start ? g_strndup (start, scan->p - start) : NULL;
}

static gboolean
kith_mqtt_scan_number (KithMqttScan *scan, gdouble *out)
{
	gchar *end = NULL;
	gdouble number;

	if (!g_ascii_isdigit (*scan->p) && *scan->p != '-' && *scan->p != '.')
		return FALSE;
	number = g_ascii_strtod (scan->p, &end);
	if (end == scan->p)
		return FALSE;
	scan->p = end;
	*out = number;
	return TRUE;
}

/* '...' or "..." without escapes */
static gchar *
kith_mqtt_scan_quoted (KithMqttScan *scan)
{
	gchar quote = *scan->p;
	const gchar *end;

	if (quote != '\'' && quote != '"')
		return NULL;
	end = strchr (scan->p + 1, quote);
	if (end == NULL || memchr (scan->p + 1, '\\', end - scan->p - 1) != NULL)
		return NULL;
	{
		gchar *key = g_strndup (scan->p + 1, end - scan->p - 1);
		scan->p = end + 1;
		return key;
	}
}

static gboolean
kith_mqtt_template_parse_accessor (KithMqttTemplate *self, KithMqttScan *scan)
{
	KithMqttAccessor accessor = { 0 };

	if (*scan->p == '.') {
		scan->p++;
		accessor.key = kith_mqtt_scan_identifier (scan);
		if (accessor.key == NULL)
			return FALSE;
	} else if (*scan->p == '[') {
		gdouble number;
		scan->p++;
		kith_mqtt_scan_blanks (scan);
		accessor.key = kith_mqtt_scan_quoted (scan);
		if (accessor.key == NULL) {
			/* an index a JSON array can have (json-glib counts in guint) */
			if (!kith_mqtt_scan_number (scan, &number) || number != floor (number) ||
			    number < 0 || number > G_MAXUINT)
				return FALSE;
			accessor.index = (gint64)number;
		}
		kith_mqtt_scan_blanks (scan);
		if (*scan->p != ']') {
			g_free (accessor.key);
			return FALSE;
		}
		scan->p++;
	} else {
		return FALSE;
	}
	g_array_append_val (self->accessors, accessor);
	return TRUE;
}

static gboolean
kith_mqtt_template_parse_filter (KithMqttTemplate *self, KithMqttScan *scan)
{
	g_autofree gchar *name = NULL;
	KithMqttFilter filter = { 0 };
	gboolean known = FALSE;
	gboolean takes_argument = FALSE;

	kith_mqtt_scan_blanks (scan);
	name = kith_mqtt_scan_identifier (scan);
	if (name == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS (kith_mqtt_filters); i++) {
		if (g_strcmp0 (kith_mqtt_filters[i].name, name) == 0) {
			filter.kind = kith_mqtt_filters[i].kind;
			takes_argument = kith_mqtt_filters[i].argument;
			known = TRUE;
		}
	}
	if (!known)
		return FALSE;
	kith_mqtt_scan_blanks (scan);
	if (*scan->p == '(') {
		scan->p++;
		kith_mqtt_scan_blanks (scan);
		if (*scan->p != ')') {
			if (!takes_argument || !kith_mqtt_scan_number (scan, &filter.argument))
				return FALSE;
			filter.has_argument = TRUE;
			kith_mqtt_scan_blanks (scan);
		}
		if (*scan->p != ')')
			return FALSE;
		scan->p++;
	}
	if (filter.kind == KITH_MQTT_FILTER_ROUND && filter.has_argument &&
	    (filter.argument != floor (filter.argument) || filter.argument < 0 ||
	     filter.argument > 12))
		return FALSE;
	g_array_append_val (self->filters, filter);
	return TRUE;
}

static gboolean
kith_mqtt_template_parse (KithMqttTemplate *self, KithMqttScan *scan)
{
	g_autofree gchar *variable = NULL;

	kith_mqtt_scan_blanks (scan);
	if (!kith_mqtt_scan_literal (scan, "{{"))
		return FALSE;
	kith_mqtt_scan_blanks (scan);
	variable = kith_mqtt_scan_identifier (scan);
	if (g_strcmp0 (variable, "value_json") == 0)
		self->json = TRUE;
	else if (g_strcmp0 (variable, "value") != 0)
		return FALSE;
	while (self->json && (*scan->p == '.' || *scan->p == '[')) {
		if (!kith_mqtt_template_parse_accessor (self, scan))
			return FALSE;
	}
	for (;;) {
		kith_mqtt_scan_blanks (scan);
		if (*scan->p != '|')
			break;
		scan->p++;
		if (!kith_mqtt_template_parse_filter (self, scan))
			return FALSE;
	}
	if (!kith_mqtt_scan_literal (scan, "}}"))
		return FALSE;
	kith_mqtt_scan_blanks (scan);
	return *scan->p == '\0';
}

KithMqttTemplate *
kith_mqtt_template_new (const gchar *text, GError **error)
{
	g_autoptr (KithMqttTemplate) self = kith_mqtt_template_alloc (text);
	KithMqttScan scan = { .p = text, .text = text };

	if (text == NULL || !kith_mqtt_template_parse (self, &scan)) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "unsupported template '%s' (supported: {{ value }} or "
		             "{{ value_json.a.b }} with | float, int, round(n), lower, upper, "
		             "string, trim)",
		             text != NULL ? text : "");
		return NULL;
	}
	return g_steal_pointer (&self);
}

KithMqttTemplate *
kith_mqtt_template_new_members (const gchar *const *keys)
{
	g_autoptr (GString) text = g_string_new ("{{ value_json");
	KithMqttTemplate *self;

	for (guint i = 0; keys[i] != NULL; i++)
		g_string_append_printf (text, "['%s']", keys[i]);
	g_string_append (text, " }}");
	self = kith_mqtt_template_alloc (text->str);
	self->json = TRUE;
	for (guint i = 0; keys[i] != NULL; i++) {
		KithMqttAccessor accessor = { .key = g_strdup (keys[i]) };
		g_array_append_val (self->accessors, accessor);
	}
	return self;
}

const gchar *
kith_mqtt_template_get_text (KithMqttTemplate *self)
{
	return self->text;
}

gboolean
kith_mqtt_template_uses_json (KithMqttTemplate *self)
{
	return self->json;
}

static KithMqttFilter *
kith_mqtt_template_last_filter (KithMqttTemplate *self)
{
	if (self->filters->len == 0)
		return NULL;
	return &g_array_index (self->filters, KithMqttFilter, self->filters->len - 1);
}

gboolean
kith_mqtt_template_is_numeric (KithMqttTemplate *self)
{
	KithMqttFilter *last = kith_mqtt_template_last_filter (self);
	return last != NULL &&
	       (last->kind == KITH_MQTT_FILTER_FLOAT || last->kind == KITH_MQTT_FILTER_INT ||
	        last->kind == KITH_MQTT_FILTER_ROUND);
}

gboolean
kith_mqtt_template_is_integer (KithMqttTemplate *self)
{
	KithMqttFilter *last = kith_mqtt_template_last_filter (self);
	return last != NULL && last->kind == KITH_MQTT_FILTER_INT;
}

/* the text a Jinja filter sees for a scalar (str() of it) */
static gchar *
kith_mqtt_node_to_text (JsonNode *node)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (JSON_NODE_HOLDS_NULL (node))
		return g_strdup ("None");
	if (!JSON_NODE_HOLDS_VALUE (node))
		return NULL;
	switch (json_node_get_value_type (node)) {
	case G_TYPE_STRING:
		return g_strdup (json_node_get_string (node));
	case G_TYPE_BOOLEAN:
		return g_strdup (json_node_get_boolean (node) ? "True" : "False");
	case G_TYPE_INT64:
		return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
	default:
		return g_strdup (
		        g_ascii_formatd (buf, sizeof buf, "%.15g", json_node_get_double (node)));
	}
}

/* a number from a JSON number, a boolean or a numeric string */
static gboolean
kith_mqtt_node_to_number (JsonNode *node, gdouble *out)
{
	if (!JSON_NODE_HOLDS_VALUE (node))
		return FALSE;
	switch (json_node_get_value_type (node)) {
	case G_TYPE_INT64:
	case G_TYPE_DOUBLE:
		*out = json_node_get_double (node);
		return TRUE;
	case G_TYPE_BOOLEAN:
		*out = json_node_get_boolean (node) ? 1 : 0;
		return TRUE;
	case G_TYPE_STRING: {
		g_autofree gchar *text = g_strstrip (g_strdup (json_node_get_string (node)));
		gchar *end = NULL;
		if (text[0] == '\0')
			return FALSE;
		errno = 0;
		*out = g_ascii_strtod (text, &end);
		return *end == '\0' && errno == 0 && isfinite (*out);
	}
	default:
		return FALSE;
	}
}

static JsonNode *
kith_mqtt_template_apply_filter (const KithMqttFilter *filter, JsonNode *node, GError **error)
{
	gdouble number;
	g_autofree gchar *text = NULL;

	switch (filter->kind) {
	case KITH_MQTT_FILTER_FLOAT:
	case KITH_MQTT_FILTER_INT:
		if (!kith_mqtt_node_to_number (node, &number)) {
			if (!filter->has_argument) {
				g_autofree gchar *shown = kith_mqtt_node_to_text (node);
				g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
				             "'%s' is not a number", shown != NULL ? shown : "{…}");
				return NULL;
			}
			number = filter->argument;
		}
		if (filter->kind == KITH_MQTT_FILTER_INT) {
			/* what a gint64 holds: -2^63 <= number < 2^63 */
			if (!(number >= (gdouble)G_MININT64 && number < -(gdouble)G_MININT64)) {
				g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
				             "%g is too large for int", number);
				return NULL;
			}
			return json_node_init_int (json_node_alloc (), (gint64)trunc (number));
		}
		return json_node_init_double (json_node_alloc (), number);
	case KITH_MQTT_FILTER_ROUND: {
		gdouble scale = pow (10, filter->has_argument ? filter->argument : 0);
		if (!JSON_NODE_HOLDS_VALUE (node) ||
		    (json_node_get_value_type (node) != G_TYPE_INT64 &&
		     json_node_get_value_type (node) != G_TYPE_DOUBLE)) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
			             "round needs a number (add | float before it)");
			return NULL;
		}
		number = round (json_node_get_double (node) * scale) / scale;
		return json_node_init_double (json_node_alloc (), number);
	}
	default:
		break;
	}
	text = kith_mqtt_node_to_text (node);
	if (text == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID,
		             "an object or array where text was expected");
		return NULL;
	}
	if (filter->kind == KITH_MQTT_FILTER_LOWER) {
		g_autofree gchar *lower = g_utf8_strdown (text, -1);
		return json_node_init_string (json_node_alloc (), lower);
	}
	if (filter->kind == KITH_MQTT_FILTER_UPPER) {
		g_autofree gchar *upper = g_utf8_strup (text, -1);
		return json_node_init_string (json_node_alloc (), upper);
	}
	if (filter->kind == KITH_MQTT_FILTER_TRIM)
		g_strstrip (text);
	return json_node_init_string (json_node_alloc (), text);
}

/* follows the accessors from root; NULL with NOT_FOUND when a member is missing */
static JsonNode *
kith_mqtt_template_select (KithMqttTemplate *self, JsonNode *root, GError **error)
{
	JsonNode *node = root;

	for (guint i = 0; i < self->accessors->len; i++) {
		KithMqttAccessor *accessor = &g_array_index (self->accessors, KithMqttAccessor, i);
		JsonNode *next = NULL;

		if (JSON_NODE_HOLDS_OBJECT (node) && accessor->key != NULL) {
			next = json_object_get_member (json_node_get_object (node), accessor->key);
		} else if (JSON_NODE_HOLDS_ARRAY (node)) {
			JsonArray *array = json_node_get_array (node);
			gint64 index = accessor->index;
			if (accessor->key != NULL) {
				gchar *end = NULL;
				index = (gint64)g_ascii_strtoull (accessor->key, &end, 10);
				if (accessor->key[0] == '\0' || *end != '\0')
					index = -1;
			}
			if (index >= 0 && index < json_array_get_length (array))
				next = json_array_get_element (array, (guint)index);
		}
		if (next == NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
			             "no %s%s%s in the payload", accessor->key != NULL ? "'" : "[",
			             accessor->key != NULL ? accessor->key : "index",
			             accessor->key != NULL ? "'" : "]");
			return NULL;
		}
		node = next;
	}
	return json_node_copy (node);
}

JsonNode *
kith_mqtt_template_render (KithMqttTemplate *self, const gchar *text, JsonNode *root,
                           GError **error)
{
	g_autoptr (JsonNode) node = NULL;

	if (self->json) {
		if (root == NULL) {
			g_set_error (error, KITH_ERROR, KITH_ERROR_INVALID, "payload is not JSON");
			return NULL;
		}
		node = kith_mqtt_template_select (self, root, error);
		if (node == NULL)
			return NULL;
	} else {
		node = json_node_init_string (json_node_alloc (), text != NULL ? text : "");
	}
	for (guint i = 0; i < self->filters->len; i++) {
		JsonNode *next = kith_mqtt_template_apply_filter (
		        &g_array_index (self->filters, KithMqttFilter, i), node, error);
		if (next == NULL)
			return NULL;
		json_node_unref (node);
		node = next;
	}
	return g_steal_pointer (&node);
}
