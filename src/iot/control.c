/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "iot/control.h"
#include "iot/stanza.h"

#define KITH_MAX_PARAMETERS 64

static const gchar *const kith_control_types[] = {
	"boolean", "bool", "int",      "long",     "double", "string",
	"color",   "date", "dateTime", "duration", "time",   NULL,
};

/* the lexical form of xs:double and xs:decimal without INF/NaN: [+-]? digits [. digits]
 * [(e|E) [+-]? digits], at least one digit before the exponent; no hexadecimal, no blanks */
static gboolean
kith_control_is_decimal (const gchar *text)
{
	const gchar *p = text;
	guint digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; g_ascii_isdigit (*p); p++)
		digits++;
	if (*p == '.') {
		for (p++; g_ascii_isdigit (*p); p++)
			digits++;
	}
	if (digits == 0)
		return FALSE;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!g_ascii_isdigit (*p))
			return FALSE;
		while (g_ascii_isdigit (*p))
			p++;
	}
	return *p == '\0';
}

/* xs:int / xs:long: [+-]? digits */
static gboolean
kith_control_is_integer (const gchar *text)
{
	const gchar *p = text;
	if (*p == '+' || *p == '-')
		p++;
	if (!g_ascii_isdigit (*p))
		return FALSE;
	while (g_ascii_isdigit (*p))
		p++;
	return *p == '\0';
}

static gboolean
kith_control_parse_number (const gchar *text, gdouble *out)
{
	gchar *end = NULL;
	gdouble value;

	if (text == NULL || text[0] == '\0' || strlen (text) > 64 ||
	    !kith_control_is_decimal (text))
		return FALSE;
	errno = 0;
	value = g_ascii_strtod (text, &end);
	if (errno != 0 || end == NULL || *end != '\0' || !isfinite (value))
		return FALSE;
	*out = value;
	return TRUE;
}

static gboolean
kith_control_parse_integer (const gchar *text, gboolean is_int, gint64 *out)
{
	gint64 value;
	if (text == NULL || !kith_control_is_integer (text) ||
	    !g_ascii_string_to_signed (text, 10, is_int ? G_MININT32 : G_MININT64,
	                               is_int ? G_MAXINT32 : G_MAXINT64, &value, NULL))
		return FALSE;
	*out = value;
	return TRUE;
}

static KithParam *
kith_control_fail (const gchar **condition, gchar **message, const gchar *error_condition,
                   gchar *text)
{
	*condition = error_condition;
	*message = text;
	return NULL;
}

KithParam *
kith_control_parse_value (KithDevice *device, const gchar *name, const gchar *type_name,
                          const gchar *text, const gchar **condition, gchar **message)
{
	const KithField *field = kith_device_find_field (device, name);
	KithValue value = { 0 };
	gboolean human = type_name == NULL;

	if (field == NULL || !field->writable)
		return kith_control_fail (condition, message, "item-not-found",
		                          g_strdup_printf ("%s is not a control parameter of %s",
		                                           name, kith_device_get_id (device)));
	if (text == NULL)
		return kith_control_fail (condition, message, "bad-request",
		                          g_strdup_printf ("%s: value is missing", name));
	value.type = field->type;
	value.valid = TRUE;
	switch (field->type) {
	case KITH_VALUE_BOOLEAN:
		if (!human && g_strcmp0 (type_name, "boolean") != 0 &&
		    g_strcmp0 (type_name, "bool") != 0)
			break;
		if (kith_parse_boolean (text, &value.boolean))
			return kith_param_new (name, &value);
		if (human && (g_ascii_strcasecmp (text, "on") == 0 ||
		              g_ascii_strcasecmp (text, "off") == 0)) {
			value.boolean = g_ascii_strcasecmp (text, "on") == 0;
			return kith_param_new (name, &value);
		}
		return kith_control_fail (
		        condition, message, "bad-request",
		        g_strdup_printf ("%s: '%s' is not a boolean", name, text));
	case KITH_VALUE_NUMERIC:
		if (!human && g_strcmp0 (type_name, "double") != 0 &&
		    g_strcmp0 (type_name, "int") != 0 && g_strcmp0 (type_name, "long") != 0)
			break;
		if (!kith_control_parse_number (text, &value.number) ||
		    ((g_strcmp0 (type_name, "int") == 0 || g_strcmp0 (type_name, "long") == 0) &&
		     !kith_control_is_integer (text)))
			return kith_control_fail (
			        condition, message, "bad-request",
			        kith_control_is_decimal (text) && strlen (text) <= 64 &&
			                        (human || g_strcmp0 (type_name, "double") == 0 ||
			                         kith_control_is_integer (text))
			                ? g_strdup_printf ("%s: %s is out of range", name, text)
			                : g_strdup_printf ("%s: '%s' is not a number", name, text));
		if (field->min <= field->max &&
		    (value.number < field->min || value.number > field->max))
			return kith_control_fail (condition, message, "bad-request",
			                          g_strdup_printf ("%s: %s is out of range %g..%g",
			                                           name, text, field->min,
			                                           field->max));
		return kith_param_new (name, &value);
	case KITH_VALUE_INT:
		if (!human && g_strcmp0 (type_name, "int") != 0 &&
		    g_strcmp0 (type_name, "long") != 0)
			break;
		if (!kith_control_parse_integer (text, g_strcmp0 (type_name, "int") == 0,
		                                 &value.integer))
			return kith_control_fail (
			        condition, message, "bad-request",
			        kith_control_is_integer (text)
			                ? g_strdup_printf ("%s: %s is out of range for %s", name,
			                                   text,
			                                   type_name != NULL ? type_name : "int")
			                : g_strdup_printf ("%s: '%s' is not an integer", name,
			                                   text));
		if (field->min <= field->max &&
		    ((gdouble)value.integer < field->min || (gdouble)value.integer > field->max))
			return kith_control_fail (condition, message, "bad-request",
			                          g_strdup_printf ("%s: %s is out of range %g..%g",
			                                           name, text, field->min,
			                                           field->max));
		return kith_param_new (name, &value);
	case KITH_VALUE_STRING:
		if (!human && g_strcmp0 (type_name, "string") != 0)
			break;
		value.string = (gchar *)text;
		return kith_param_new (name, &value);
	}
	return kith_control_fail (
	        condition, message, "bad-request",
	        g_strdup_printf ("%s: invalid parameter type %s (expected %s)", name, type_name,
	                         field->type == KITH_VALUE_NUMERIC
	                                 ? "double"
	                                 : kith_value_type_to_string (field->type)));
}

static KithRequest *
kith_control_reject (KithProtocol *protocol, xmpp_stanza_t *carrier, GPtrArray *out,
                     const gchar *type, const gchar *condition, const gchar *text,
                     const gchar *param_var)
{
	/* a message-carried set never gets an answer, not even an error */
	if (g_strcmp0 (xmpp_stanza_get_name (carrier), "iq") == 0)
		g_ptr_array_add (out, kith_stanza_error (protocol->ctx, carrier, type, condition,
		                                         text, param_var));
	else
		g_info ("%s: control message from %s rejected: %s",
		        kith_device_get_id (protocol->device), xmpp_stanza_get_from (carrier),
		        text);
	return NULL;
}

KithRequest *
kith_control_parse_set (KithProtocol *protocol, xmpp_stanza_t *carrier, xmpp_stanza_t *set,
                        GPtrArray *out)
{
	g_autoptr (KithRequest) request = g_new0 (KithRequest, 1);
	const gchar *device_id = kith_device_get_id (protocol->device);
	gboolean any_node = FALSE, this_node = FALSE;

	request->kind = KITH_REQUEST_WRITE;
	request->reply = g_strcmp0 (xmpp_stanza_get_name (carrier), "iq") == 0 ? KITH_REPLY_IQ
	                                                                       : KITH_REPLY_NONE;
	request->from = g_strdup (xmpp_stanza_get_from (carrier));
	request->to = g_strdup (xmpp_stanza_get_to (carrier));
	request->id = g_strdup (xmpp_stanza_get_id (carrier));
	request->params = g_ptr_array_new_with_free_func ((GDestroyNotify)kith_param_free);
	for (xmpp_stanza_t *child = xmpp_stanza_get_children (set); child != NULL;
	     child = xmpp_stanza_get_next (child)) {
		const char *element = xmpp_stanza_get_name (child);
		const char *name = xmpp_stanza_get_attribute (child, "name");
		const gchar *condition = NULL;
		g_autofree gchar *message = NULL;
		KithParam *param;

		if (!xmpp_stanza_is_tag (child))
			continue;
		if (g_strcmp0 (element, "node") == 0) {
			const char *node_id = xmpp_stanza_get_attribute (child, "nodeId");
			if (node_id != NULL) {
				if (request->node_ids == NULL)
					request->node_ids = g_ptr_array_new_with_free_func (g_free);
				if (request->node_ids->len < KITH_MAX_PARAMETERS)
					g_ptr_array_add (request->node_ids, g_strdup (node_id));
			}
			any_node = TRUE;
			this_node |= g_strcmp0 (xmpp_stanza_get_attribute (child, "nodeId"),
			                        device_id) == 0;
			continue;
		}
		if (g_strcmp0 (element, "x") == 0)
			return kith_control_reject (protocol, carrier, out, "cancel",
			                            "feature-not-implemented",
			                            "form-based control is not supported", NULL);
		if (!g_strv_contains (kith_control_types, element))
			return kith_control_reject (protocol, carrier, out, "modify", "bad-request",
			                            "unknown parameter element", NULL);
		if (name == NULL)
			return kith_control_reject (protocol, carrier, out, "modify", "bad-request",
			                            "parameter without a name", NULL);
		if (request->params->len >= KITH_MAX_PARAMETERS)
			return kith_control_reject (protocol, carrier, out, "modify", "bad-request",
			                            "too many parameters", NULL);
		for (guint i = 0; i < request->params->len; i++) {
			KithParam *seen = g_ptr_array_index (request->params, i);
			if (g_strcmp0 (seen->name, name) == 0)
				return kith_control_reject (protocol, carrier, out, "modify",
				                            "bad-request", "parameter named twice",
				                            name);
		}
		param = kith_control_parse_value (protocol->device, name, element,
		                                  xmpp_stanza_get_attribute (child, "value"),
		                                  &condition, &message);
		if (param == NULL)
			return kith_control_reject (
			        protocol, carrier, out,
			        g_strcmp0 (condition, "item-not-found") == 0 ? "cancel" : "modify",
			        condition, message, name);
		g_ptr_array_add (request->params, param);
	}
	if (any_node && !this_node)
		return kith_control_reject (protocol, carrier, out, "cancel", "item-not-found",
		                            "no such node on this device", NULL);
	if (request->params->len == 0)
		return kith_control_reject (protocol, carrier, out, "modify", "bad-request",
		                            "no parameters to set", NULL);
	return g_steal_pointer (&request);
}

xmpp_stanza_t *
kith_control_set_response (KithProtocol *protocol, const KithRequest *request)
{
	xmpp_stanza_t *iq = kith_protocol_request_result (protocol, request);
	xmpp_stanza_t *response = kith_stanza_add_element (iq, "setResponse", KITH_NS_CONTROL);

	/* XEP-0325 §3.5: a restricted set names what was actually done */
	for (guint i = 0; request->restricted && i < request->params->len; i++) {
		KithParam *param = g_ptr_array_index (request->params, i);
		xmpp_stanza_set_attribute (kith_stanza_add_element (response, "parameter", NULL),
		                           "name", param->name);
	}
	return iq;
}
