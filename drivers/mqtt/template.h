/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The subset of Home Assistant's Jinja value templates that discovery configs really use:
 *
 *   {{ value }}                        the payload as text
 *   {{ value_json.a.b }}               a member of the payload's JSON (also value_json['a'],
 *   {{ value_json['a'][0] }}           value_json["a"], value_json.list[0])
 *
 * followed by filters: | float, | float(default), | int, | int(default), | round, | round(n),
 * | lower, | upper, | string, | trim. Anything else (statements, arithmetic, tests, other
 * filters, text around the expression) is refused when the template is compiled, so the entity
 * can be skipped with one clear log line instead of failing on every message.
 */
typedef struct _KithMqttTemplate KithMqttTemplate;

/* compiles text; an unsupported template fails with KITH_ERROR_INVALID */
KithMqttTemplate *kith_mqtt_template_new (const gchar *text, GError **error);
/* the template value_json[keys[0]][keys[1]]… (a convention's own member path) */
KithMqttTemplate *kith_mqtt_template_new_members (const gchar *const *keys);
void kith_mqtt_template_free (KithMqttTemplate *self);
const gchar *kith_mqtt_template_get_text (KithMqttTemplate *self);
/* TRUE if the template reads value_json (the payload must be JSON) */
gboolean kith_mqtt_template_uses_json (KithMqttTemplate *self);
/* TRUE if the last filter makes a number (float, int, round): a sensor of numbers */
gboolean kith_mqtt_template_is_numeric (KithMqttTemplate *self);
/* TRUE if the last filter is int */
gboolean kith_mqtt_template_is_integer (KithMqttTemplate *self);

/*
 * Renders the template for one payload: text is the payload (UTF-8), root its JSON (NULL if it
 * is not JSON). Returns a new scalar JsonNode (or the selected member, which may be an object)
 * or NULL with KITH_ERROR_NOT_FOUND (a member that is not there) or KITH_ERROR_INVALID (not
 * JSON, a filter that cannot apply).
 */
JsonNode *kith_mqtt_template_render (KithMqttTemplate *self, const gchar *text, JsonNode *root,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttTemplate, kith_mqtt_template_free)

G_END_DECLS
