/* SPDX-License-Identifier: GPL-3.0-or-later */
/* value templates, JSON paths, conversions, command payloads and topic filters */
#include <math.h>
#include <string.h>

#include "drivers/mqtt/description.h"
#include "drivers/mqtt/payload.h"
#include "drivers/mqtt/template.h"
#include "kith-error.h"

typedef struct {
	const gchar *template;
	const gchar *payload;
	const gchar *result; /* the rendered node as JSON; NULL: fails */
	gint error;          /* when it fails: KITH_ERROR_NOT_FOUND or KITH_ERROR_INVALID */
} RenderCase;

static const RenderCase render_cases[] = {
	{ "{{ value }}", "21.5", "\"21.5\"" },
	{ "{{value}}", "ON", "\"ON\"" },
	{ "{{ value_json.temperature }}", "{\"temperature\": 21.42}", "21.42" },
	{ "  {{ value_json.a.b }}  ", "{\"a\": {\"b\": \"x\"}}", "\"x\"" },
	{ "{{ value_json['a'] }}", "{\"a\": true}", "true" },
	{ "{{ value_json[\"a b\"] }}", "{\"a b\": 3}", "3" },
	{ "{{ value_json.list[1] }}", "{\"list\": [1, 2, 3]}", "2" },
	{ "{{ value_json['AM2301'].Temperature }}", "{\"AM2301\": {\"Temperature\": 22.3}}",
	  "22.3" },
	{ "{{ value_json.t | float }}", "{\"t\": \"21.5\"}", "21.5" },
	{ "{{ value_json.t | float(0) }}", "{\"t\": \"n/a\"}", "0" },
	{ "{{ value_json.t | int }}", "{\"t\": 21.7}", "21" },
	{ "{{ value_json.t | int }}", "{\"t\": \"21\"}", "21" },
	{ "{{ value_json.t | float | round(1) }}", "{\"t\": \"21.46\"}", "21.5" },
	{ "{{ value_json.t | round }}", "{\"t\": 21.5}", "22" },
	{ "{{ value | lower }}", "ON", "\"on\"" },
	{ "{{ value_json.s | upper }}", "{\"s\": \"eco\"}", "\"ECO\"" },
	{ "{{ value | trim }}", "  x ", "\"x\"" },
	{ "{{ value_json.b | lower }}", "{\"b\": true}", "\"true\"" },
	{ "{{ value_json.missing }}", "{\"t\": 1}", NULL, KITH_ERROR_NOT_FOUND },
	{ "{{ value_json.t.u }}", "{\"t\": 1}", NULL, KITH_ERROR_NOT_FOUND },
	{ "{{ value_json.list[5] }}", "{\"list\": [1]}", NULL, KITH_ERROR_NOT_FOUND },
	{ "{{ value_json.t }}", "not json", NULL, KITH_ERROR_INVALID },
	{ "{{ value_json.t | float }}", "{\"t\": \"warm\"}", NULL, KITH_ERROR_INVALID },
	{ "{{ value_json.t | round(1) }}", "{\"t\": \"21.46\"}", NULL, KITH_ERROR_INVALID },
	/* beyond a gint64 */
	{ "{{ value_json.t | int }}", "{\"t\": 1e300}", NULL, KITH_ERROR_INVALID },
	{ "{{ value_json.t | int }}", "{\"t\": \"9.3e18\"}", NULL, KITH_ERROR_INVALID },
	{ "{{ value_json.t | int(1e300) }}", "{\"t\": \"n/a\"}", NULL, KITH_ERROR_INVALID },
	{ "{{ value_json.t | int }}", "{\"t\": -9223372036854775808}", "-9223372036854775808" },
	{ "{{ value_json.list[4294967295] }}", "{\"list\": [1]}", NULL, KITH_ERROR_NOT_FOUND },
};

static const gchar *const unsupported_templates[] = {
	"{% if value == '1' %}on{% else %}off{% endif %}",
	"{{ value_json.t / 10 }}",
	"{{ value_json.t | float * 1.8 + 32 }}",
	"{{ value_json[1e308] }}",
	"{{ value_json.list[4294967296] }}",
	"{{ value_json.t | default(0) }}",
	"{{ value_json.t }} °C",
	"{{ states('sensor.x') }}",
	"{{ value_json.t | round(1, 'floor') }}",
	"{{ value_json['t }}",
	"{{ value_json.t }}{{ value }}",
	"value",
	"",
};

static JsonNode *
parse_json (const gchar *text)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	if (!json_parser_load_from_data (parser, text, -1, NULL))
		return NULL;
	return json_node_copy (json_parser_get_root (parser));
}

/* a node as the tables write it: strings quoted, numbers as short as they go */
static gchar *
node_text (JsonNode *node)
{
	if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) != G_TYPE_STRING)
		return kith_mqtt_json_scalar_text (node);
	return json_to_string (node, FALSE);
}

static void
test_template_render (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (render_cases); i++) {
		const RenderCase *c = &render_cases[i];
		g_autoptr (GError) error = NULL;
		g_autoptr (KithMqttTemplate) template =
		        kith_mqtt_template_new (c->template, &error);
		g_autoptr (JsonNode) root = parse_json (c->payload);
		g_autoptr (JsonNode) node = NULL;

		g_test_message ("%s on %s", c->template, c->payload);
		g_assert_no_error (error);
		node = kith_mqtt_template_render (template, c->payload, root, &error);
		if (c->result == NULL) {
			g_assert_null (node);
			g_assert_error (error, KITH_ERROR, c->error);
		} else {
			g_autofree gchar *text = NULL;
			g_assert_no_error (error);
			text = node_text (node);
			g_assert_cmpstr (text, ==, c->result);
		}
	}
}

static void
test_template_unsupported (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (unsupported_templates); i++) {
		g_autoptr (GError) error = NULL;
		g_autoptr (KithMqttTemplate) template =
		        kith_mqtt_template_new (unsupported_templates[i], &error);
		g_test_message ("%s", unsupported_templates[i]);
		g_assert_null (template);
		g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
		g_assert_nonnull (strstr (error->message, "unsupported template"));
	}
}

static void
test_template_hints (void)
{
	g_autoptr (KithMqttTemplate) number =
	        kith_mqtt_template_new ("{{ value_json.t | float | round(2) }}", NULL);
	g_autoptr (KithMqttTemplate) integer = kith_mqtt_template_new ("{{ value | int }}", NULL);
	g_autoptr (KithMqttTemplate) text = kith_mqtt_template_new ("{{ value_json.s }}", NULL);
	const gchar *const keys[] = { "params", "switch:0", "output", NULL };
	g_autoptr (KithMqttTemplate) members = kith_mqtt_template_new_members (keys);
	g_autoptr (JsonNode) root = parse_json ("{\"params\": {\"switch:0\": {\"output\": true}}}");
	g_autoptr (JsonNode) node = kith_mqtt_template_render (members, "", root, NULL);

	g_assert_true (kith_mqtt_template_is_numeric (number));
	g_assert_false (kith_mqtt_template_is_integer (number));
	g_assert_true (kith_mqtt_template_is_integer (integer));
	g_assert_false (kith_mqtt_template_is_numeric (text));
	g_assert_true (kith_mqtt_template_uses_json (text));
	g_assert_true (json_node_get_boolean (node));
}

typedef struct {
	const gchar *json; /* a node */
	KithValueType type;
	const gchar *on, *off;
	gdouble scale, offset;
	gboolean ok;
	gboolean valid;
	const gchar *value; /* kith_value_to_string, 2 decimals */
} ConvertCase;

static const ConvertCase convert_cases[] = {
	{ "21.5", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, TRUE, TRUE, "21.50" },
	{ "\"21.5\"", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, TRUE, TRUE, "21.50" },
	{ "\" 7 \"", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, TRUE, TRUE, "7.00" },
	{ "215", KITH_VALUE_NUMERIC, NULL, NULL, 0.1, 0, TRUE, TRUE, "21.50" },
	{ "100", KITH_VALUE_NUMERIC, NULL, NULL, 1, -273.15, TRUE, TRUE, "-173.15" },
	{ "\"warm\"", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, FALSE, FALSE, NULL },
	{ "{\"a\":1}", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, FALSE, FALSE, NULL },
	{ "[1]", KITH_VALUE_STRING, NULL, NULL, 1, 0, FALSE, FALSE, NULL },
	{ "null", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, TRUE, FALSE, NULL },
	{ "\"unavailable\"", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, TRUE, FALSE, NULL },
	{ "\"\"", KITH_VALUE_BOOLEAN, NULL, NULL, 1, 0, TRUE, FALSE, NULL },
	{ "\"nan\"", KITH_VALUE_NUMERIC, NULL, NULL, 1, 0, TRUE, FALSE, NULL },
	{ "21.6", KITH_VALUE_INT, NULL, NULL, 1, 0, TRUE, TRUE, "22" },
	{ "\"40\"", KITH_VALUE_INT, NULL, NULL, 1, 0, TRUE, TRUE, "40" },
	{ "true", KITH_VALUE_BOOLEAN, NULL, NULL, 1, 0, TRUE, TRUE, "true" },
	{ "\"ON\"", KITH_VALUE_BOOLEAN, "ON", "OFF", 1, 0, TRUE, TRUE, "true" },
	{ "\"OFF\"", KITH_VALUE_BOOLEAN, "ON", "OFF", 1, 0, TRUE, TRUE, "false" },
	{ "\"on\"", KITH_VALUE_BOOLEAN, "ON", "OFF", 1, 0, TRUE, TRUE, "true" },
	{ "\"open\"", KITH_VALUE_BOOLEAN, "open", "closed", 1, 0, TRUE, TRUE, "true" },
	{ "\"LOCK\"", KITH_VALUE_BOOLEAN, "LOCK", "UNLOCK", 1, 0, TRUE, TRUE, "true" },
	{ "\"UNLOCK\"", KITH_VALUE_BOOLEAN, "LOCK", "UNLOCK", 1, 0, TRUE, TRUE, "false" },
	{ "1", KITH_VALUE_BOOLEAN, NULL, NULL, 1, 0, TRUE, TRUE, "true" },
	{ "\"1\"", KITH_VALUE_BOOLEAN, "1", "0", 1, 0, TRUE, TRUE, "true" },
	{ "\"maybe\"", KITH_VALUE_BOOLEAN, "ON", "OFF", 1, 0, FALSE, FALSE, NULL },
	{ "12", KITH_VALUE_STRING, NULL, NULL, 1, 0, TRUE, TRUE, "12" },
	{ "\"eco\"", KITH_VALUE_STRING, NULL, NULL, 1, 0, TRUE, TRUE, "eco" },
	{ "\"\"", KITH_VALUE_STRING, NULL, NULL, 1, 0, TRUE, TRUE, "" },
};

static void
test_value_convert (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (convert_cases); i++) {
		const ConvertCase *c = &convert_cases[i];
		KithMqttConversion conversion = { .type = c->type,
			                          .state_on = c->on,
			                          .state_off = c->off,
			                          .scale = c->scale,
			                          .offset = c->offset };
		g_autoptr (JsonNode) node = parse_json (c->json);
		g_autoptr (GError) error = NULL;
		KithValue value = { 0 };
		gboolean ok;

		g_test_message ("%s as %s", c->json, kith_value_type_to_string (c->type));
		ok = kith_mqtt_value_from_node (node, &conversion, &value, &error);
		g_assert_cmpint (ok, ==, c->ok);
		if (!ok) {
			g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
		} else {
			g_assert_no_error (error);
			g_assert_cmpint (value.valid, ==, c->valid);
			if (c->valid) {
				g_autofree gchar *text = kith_value_to_string (&value, 2);
				g_assert_cmpstr (text, ==, c->value);
			}
		}
		kith_value_clear (&value);
	}
}

static void
test_value_long_string (void)
{
	g_autofree gchar *text = g_strnfill (5000, 'x');
	g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), text);
	KithMqttConversion conversion = { .type = KITH_VALUE_STRING, .scale = 1 };
	KithValue value = { 0 };

	g_assert_true (kith_mqtt_value_from_node (node, &conversion, &value, NULL));
	g_assert_cmpuint (strlen (value.string), ==, KITH_MQTT_STRING_MAX);
	kith_value_clear (&value);
}

typedef struct {
	const gchar *path;
	const gchar *payload;
	const gchar *result; /* JSON; NULL: nothing there (NOT_FOUND) or not JSON (INVALID) */
	gint error;
} PathCase;

static const PathCase path_cases[] = {
	{ "$.temp", "{\"temp\": 65.2}", "65.2" },
	{ "$.a.b", "{\"a\": {\"b\": false}}", "false" },
	{ "$['a b']", "{\"a b\": \"x\"}", "\"x\"" },
	{ "$.list[1]", "{\"list\": [10, 20]}", "20" },
	{ "$..t", "{\"x\": {\"t\": 1}}", "1" },
	{ "$.list[-1]", "{\"list\": [10, 20]}", "20" },
	{ "$[0].t", "[{\"t\": 5}]", "5" },
	{ "$['a'][1]", "{\"a\": [[], \"y\"]}", "\"y\"" },
	{ "$.*", "{\"t\": 3}", "3" },
	/* past the end of the payload's array, or not an array at all */
	{ "$['a'][2]", "{\"a\": [\"en\", 2]}", NULL, KITH_ERROR_NOT_FOUND },
	{ "$.list[-3]", "{\"list\": [10, 20]}", NULL, KITH_ERROR_NOT_FOUND },
	{ "$.list[0]", "{\"list\": {\"0\": 1}}", NULL, KITH_ERROR_NOT_FOUND },
	{ "$.a.b", "{\"a\": [1]}", NULL, KITH_ERROR_NOT_FOUND },
	{ "$.missing", "{\"temp\": 65.2}", NULL, KITH_ERROR_NOT_FOUND },
	{ "$.temp", "65.2 degrees", NULL, KITH_ERROR_INVALID },
	{ "$.temp", "", NULL, KITH_ERROR_INVALID },
};

static const gchar *const bad_paths[] = { "$['", "$.a['b", "$['a']['b", "$['*", "",
	                                  /* indices json-glib would not check */
	                                  "$..a[0]", "$.*[1]", "$.a[0:2]", "$.a[0,1]",
	                                  /* what json-glib's compiler read past the end of */
	                                  "$['Z['564[*]612['['$['a3]*7[\"'", "$.", "$a", "$['']" };

static void
test_extract_path (void)
{
	g_autoptr (GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS (path_cases); i++) {
		const PathCase *c = &path_cases[i];
		g_autoptr (KithMqttExtract) extract = kith_mqtt_extract_new_path (c->path, &error);
		g_autoptr (JsonNode) node = NULL;
		KithMqttMessage message;

		g_test_message ("%s on %s", c->path, c->payload);
		g_assert_no_error (error);
		kith_mqtt_message_init (&message, "t", c->payload, strlen (c->payload), FALSE);
		node = kith_mqtt_extract_run (extract, &message, &error);
		if (c->result == NULL) {
			g_assert_null (node);
			g_assert_error (error, KITH_ERROR, c->error);
			g_clear_error (&error);
		} else {
			g_autofree gchar *text = node_text (node);
			g_assert_no_error (error);
			g_assert_cmpstr (text, ==, c->result);
		}
		kith_mqtt_message_clear (&message);
	}
	g_assert_null (kith_mqtt_extract_new_path ("temp[", &error));
	g_assert_error (error, KITH_ERROR, KITH_ERROR_CONFIG);
	/* what json-glib aborts on, or refuses without an error */
	for (guint i = 0; i < G_N_ELEMENTS (bad_paths); i++) {
		g_clear_error (&error);
		g_assert_null (kith_mqtt_extract_new_path (bad_paths[i], &error));
		g_assert_error (error, KITH_ERROR, KITH_ERROR_CONFIG);
	}
}

typedef struct {
	const gchar *head, *tail; /* around the nested brackets */
	guint levels;
	gboolean refused;
} DeepCase;

static const DeepCase deep_cases[] = {
	{ "", "", 128, FALSE },
	{ "", "", 129, TRUE },
	{ "", "", 200000, TRUE },
	{ "[\"[[[[[\", '[[[[', /* [[[[ */ ", "]", 127, FALSE },
	{ "[\"\\\"]]]]]]\", ", "]", 200000, TRUE },
	{ "['\"', ", ", '\"']", 200000, TRUE },
	{ "[/* \" */ ", "]", 200000, TRUE },
};

static void
test_message_check (void)
{
	gsize size = 1024 * 1024;
	g_autofree gchar *big = g_malloc (size + 1);
	const gchar binary[] = { 'a', (gchar)0xff, 'b', 0 };
	KithMqttMessage message;
	g_autoptr (GError) error = NULL;

	memset (big, 'x', size);
	big[size] = '\0';
	kith_mqtt_message_init (&message, "t", big, size, FALSE);
	g_assert_false (kith_mqtt_message_check (&message, KITH_MQTT_PAYLOAD_MAX, &error));
	g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
	g_clear_error (&error);
	kith_mqtt_message_init (&message, "t", binary, 3, FALSE);
	g_assert_false (kith_mqtt_message_check (&message, KITH_MQTT_PAYLOAD_MAX, &error));
	g_clear_error (&error);
	kith_mqtt_message_init (&message, "t", "ok", 2, FALSE);
	g_assert_true (kith_mqtt_message_check (&message, KITH_MQTT_PAYLOAD_MAX, &error));
	/* nesting that would overflow json-glib's recursive parser is refused before it; brackets
	 * in strings and comments do not count, strings do not hide brackets from the count */
	for (guint i = 0; i < G_N_ELEMENTS (deep_cases); i++) {
		g_autoptr (GString) text = g_string_new (deep_cases[i].head);
		JsonNode *root;
		for (guint j = 0; j < deep_cases[i].levels; j++)
			g_string_append_c (text, '[');
		for (guint j = 0; j < deep_cases[i].levels; j++)
			g_string_append_c (text, ']');
		g_string_append (text, deep_cases[i].tail);
		g_test_message ("%s + %u levels + %s", deep_cases[i].head, deep_cases[i].levels,
		                deep_cases[i].tail);
		kith_mqtt_message_init (&message, "t", text->str, text->len, FALSE);
		root = kith_mqtt_message_get_json (&message, &error);
		if (deep_cases[i].refused) {
			g_assert_null (root);
			g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
			g_clear_error (&error);
		} else {
			g_assert_no_error (error);
			g_assert_nonnull (root);
		}
		kith_mqtt_message_clear (&message);
	}
	/* blanks alone are no JSON, and say so */
	kith_mqtt_message_init (&message, "t", " \n", 2, FALSE);
	g_assert_null (kith_mqtt_message_get_json (&message, &error));
	g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
	g_assert_nonnull (strstr (error->message, "no JSON value"));
	kith_mqtt_message_clear (&message);
}

typedef struct {
	const gchar *payload; /* NULL: the value itself */
	const gchar *on, *off;
	gboolean json;
	gboolean press;
	const gchar *options; /* ;-list */
	gdouble scale;
	KithValueType type;
	const gchar *value;  /* as text */
	const gchar *result; /* NULL: refused */
} CommandCase;

static const CommandCase command_cases[] = {
	{ NULL, "ON", "OFF", FALSE, FALSE, NULL, 1, KITH_VALUE_BOOLEAN, "true", "ON" },
	{ NULL, "ON", "OFF", FALSE, FALSE, NULL, 1, KITH_VALUE_BOOLEAN, "false", "OFF" },
	{ NULL, NULL, NULL, FALSE, FALSE, NULL, 1, KITH_VALUE_BOOLEAN, "true", "true" },
	{ "{\"state\": {value}}", "\"ON\"", "\"OFF\"", TRUE, FALSE, NULL, 1, KITH_VALUE_BOOLEAN,
	  "false", "{\"state\": \"OFF\"}" },
	{ "{\"brightness\": {value}}", NULL, NULL, TRUE, FALSE, NULL, 1, KITH_VALUE_NUMERIC, "128",
	  "{\"brightness\": 128}" },
	{ NULL, NULL, NULL, FALSE, FALSE, NULL, 1, KITH_VALUE_NUMERIC, "21.5", "21.5" },
	{ NULL, NULL, NULL, FALSE, FALSE, NULL, 1, KITH_VALUE_NUMERIC, "0.1", "0.1" },
	{ NULL, NULL, NULL, FALSE, FALSE, NULL, 0.1, KITH_VALUE_NUMERIC, "21.5", "215" },
	{ NULL, NULL, NULL, FALSE, FALSE, NULL, 1, KITH_VALUE_INT, "-4", "-4" },
	{ "{\"effect\": {value}}", NULL, NULL, TRUE, FALSE, "blink;okay", 1, KITH_VALUE_STRING,
	  "blink", "{\"effect\": \"blink\"}" },
	{ NULL, NULL, NULL, FALSE, FALSE, "off;eco", 1, KITH_VALUE_STRING, "turbo", NULL },
	{ "{\"s\": {value}}", NULL, NULL, TRUE, FALSE, NULL, 1, KITH_VALUE_STRING, "a\"b",
	  "{\"s\": \"a\\\"b\"}" },
	{ NULL, "PRESS", NULL, FALSE, TRUE, NULL, 1, KITH_VALUE_BOOLEAN, "true", "PRESS" },
	{ NULL, "PRESS", NULL, FALSE, TRUE, NULL, 1, KITH_VALUE_BOOLEAN, "false", NULL },
	{ "{\"id\": 1, \"params\": {\"id\": 0, \"on\": {value}}}", NULL, NULL, FALSE, FALSE, NULL,
	  1, KITH_VALUE_BOOLEAN, "true", "{\"id\": 1, \"params\": {\"id\": 0, \"on\": true}}" },
};

static void
test_command_render (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (command_cases); i++) {
		const CommandCase *c = &command_cases[i];
		g_autoptr (KithMqttCommand) command = kith_mqtt_command_new ("F", "t/set");
		g_autoptr (GError) error = NULL;
		g_autofree gchar *payload = NULL;
		KithValue value = { .type = c->type, .valid = TRUE };

		command->payload = g_strdup (c->payload);
		command->payload_on = g_strdup (c->on);
		command->payload_off = g_strdup (c->off);
		command->json = c->json;
		command->press = c->press;
		command->scale = c->scale;
		command->options = c->options != NULL ? g_strsplit (c->options, ";", -1) : NULL;
		switch (c->type) {
		case KITH_VALUE_BOOLEAN:
			value.boolean = g_strcmp0 (c->value, "true") == 0;
			break;
		case KITH_VALUE_NUMERIC:
			value.number = g_ascii_strtod (c->value, NULL);
			break;
		case KITH_VALUE_INT:
			value.integer = g_ascii_strtoll (c->value, NULL, 10);
			break;
		case KITH_VALUE_STRING:
			value.string = g_strdup (c->value);
			break;
		}
		g_test_message ("%s with %s", c->payload != NULL ? c->payload : "(value)",
		                c->value);
		payload = kith_mqtt_command_render (command, &value, &error);
		if (c->result == NULL) {
			g_assert_null (payload);
			g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
		} else {
			g_assert_no_error (error);
			g_assert_cmpstr (payload, ==, c->result);
		}
		kith_value_clear (&value);
	}
}

static void
test_topic_matches (void)
{
	static const struct {
		const gchar *filter, *topic;
		gboolean match;
	} cases[] = {
		{ "a/b", "a/b", TRUE },
		{ "a/+", "a/b", TRUE },
		{ "a/+", "a/b/c", FALSE },
		{ "a/#", "a/b/c", TRUE },
		{ "a/#", "a", TRUE },
		{ "+/status/+", "x/status/switch:0", TRUE },
		{ "+/status/+", "x/y/status/s", FALSE },
		{ "#", "$SYS/broker/uptime", FALSE },
		{ "+/online", "shellyplus/online", TRUE },
		{ "a/b", "a/c", FALSE },
		{ "homeassistant/+/+/config", "homeassistant/sensor/x/config", TRUE },
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
		g_assert_cmpint (kith_mqtt_topic_matches (cases[i].filter, cases[i].topic), ==,
		                 cases[i].match);
	g_assert_true (kith_mqtt_topic_is_valid ("a/b c/d"));
	g_assert_false (kith_mqtt_topic_is_valid (""));
	g_assert_false (kith_mqtt_topic_is_valid ("a/+/b"));
	g_assert_false (kith_mqtt_topic_is_valid ("a/#"));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/mqtt/template/render", test_template_render);
	g_test_add_func ("/kith/mqtt/template/unsupported", test_template_unsupported);
	g_test_add_func ("/kith/mqtt/template/hints", test_template_hints);
	g_test_add_func ("/kith/mqtt/value/convert", test_value_convert);
	g_test_add_func ("/kith/mqtt/value/long-string", test_value_long_string);
	g_test_add_func ("/kith/mqtt/extract/path", test_extract_path);
	g_test_add_func ("/kith/mqtt/message/check", test_message_check);
	g_test_add_func ("/kith/mqtt/command/render", test_command_render);
	g_test_add_func ("/kith/mqtt/topic/matches", test_topic_matches);
	return g_test_run ();
}
