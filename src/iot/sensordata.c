/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include <string.h>

#include "iot/sensordata.h"
#include "iot/stanza.h"

#define KITH_MAX_FIELD_FILTER 256

gchar *
kith_timestamp_format (gint64 real_time)
{
	g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (real_time / G_USEC_PER_SEC);
	if (dt == NULL)
		return g_strdup ("1970-01-01T00:00:00Z");
	return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* xs:dateTime; without a zone the time is taken as UTC */
gboolean
kith_timestamp_parse (const gchar *text, gint64 *real_time)
{
	g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
	g_autoptr (GDateTime) dt = NULL;

	if (text == NULL || strlen (text) > 64)
		return FALSE;
	dt = g_date_time_new_from_iso8601 (text, utc);
	if (dt == NULL)
		return FALSE;
	*real_time = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
	return TRUE;
}

/* xs:int, echoed verbatim later */
static gboolean
kith_sensordata_valid_seqnr (const gchar *seqnr)
{
	gint64 value;
	const gchar *digits = seqnr;

	if (seqnr == NULL || seqnr[0] == '\0' || strlen (seqnr) > 12)
		return FALSE;
	if (*digits == '-' || *digits == '+')
		digits++;
	if (*digits == '\0')
		return FALSE;
	for (const gchar *p = digits; *p != '\0'; p++) {
		if (!g_ascii_isdigit (*p))
			return FALSE;
	}
	value = g_ascii_strtoll (seqnr, NULL, 10);
	return value >= G_MININT32 && value <= G_MAXINT32;
}

static const struct {
	const gchar *name;
	KithReadFlags flag;
} kith_read_flag_names[] = {
	{ "momentary", KITH_READ_MOMENTARY },
	{ "status", KITH_READ_STATUS },
	{ "identity", KITH_READ_IDENTITY },
	{ "computed", KITH_READ_COMPUTED },
	{ "peak", KITH_READ_PEAK },
	{ "historical", KITH_READ_HISTORICAL },
	{ "historicalSecond", KITH_READ_HISTORICAL },
	{ "historicalMinute", KITH_READ_HISTORICAL },
	{ "historicalHour", KITH_READ_HISTORICAL },
	{ "historicalDay", KITH_READ_HISTORICAL },
	{ "historicalWeek", KITH_READ_HISTORICAL },
	{ "historicalMonth", KITH_READ_HISTORICAL },
	{ "historicalQuarter", KITH_READ_HISTORICAL },
	{ "historicalYear", KITH_READ_HISTORICAL },
	{ "historicalOther", KITH_READ_HISTORICAL },
	{ "all", KITH_READ_ALL },
};

static gboolean
kith_sensordata_reject (KithProtocol *protocol, xmpp_stanza_t *iq, GPtrArray *out,
                        const gchar *type, const gchar *condition, const gchar *text)
{
	g_ptr_array_add (out, kith_stanza_error (protocol->ctx, iq, type, condition, text, NULL));
	return FALSE;
}

/* the <node> and <field> children: node ids must name this device */
static gboolean
kith_sensordata_parse_children (KithProtocol *protocol, xmpp_stanza_t *iq, xmpp_stanza_t *req,
                                KithRequest *request, GPtrArray *out)
{
	const gchar *device_id = kith_device_get_id (protocol->device);
	gboolean any_node = FALSE, this_node = FALSE;

	for (xmpp_stanza_t *child = xmpp_stanza_get_children (req); child != NULL;
	     child = xmpp_stanza_get_next (child)) {
		const char *name = xmpp_stanza_get_name (child);
		if (!xmpp_stanza_is_tag (child))
			continue;
		if (g_strcmp0 (name, "node") == 0) {
			const char *node_id = xmpp_stanza_get_attribute (child, "nodeId");
			any_node = TRUE;
			if (g_strcmp0 (node_id, device_id) == 0)
				this_node = TRUE;
			if (node_id != NULL) {
				if (request->node_ids == NULL)
					request->node_ids = g_ptr_array_new_with_free_func (g_free);
				if (request->node_ids->len < KITH_MAX_FIELD_FILTER)
					g_ptr_array_add (request->node_ids, g_strdup (node_id));
			}
		} else if (g_strcmp0 (name, "field") == 0) {
			const char *field = xmpp_stanza_get_attribute (child, "name");
			if (field == NULL)
				return kith_sensordata_reject (protocol, iq, out, "modify",
				                               "bad-request",
				                               "field without a name");
			if (request->field_names == NULL)
				request->field_names = g_ptr_array_new_with_free_func (g_free);
			if (request->field_names->len >= KITH_MAX_FIELD_FILTER)
				return kith_sensordata_reject (protocol, iq, out, "modify",
				                               "bad-request", "too many fields");
			g_ptr_array_add (request->field_names, g_strdup (field));
		}
		/* other children are ignored: the request may carry extensions */
	}
	if (any_node && !this_node)
		return kith_sensordata_reject (protocol, iq, out, "cancel", "item-not-found",
		                               "no such node on this device");
	return TRUE;
}

KithRequest *
kith_sensordata_parse_req (KithProtocol *protocol, xmpp_stanza_t *iq, xmpp_stanza_t *req,
                           GPtrArray *out)
{
	g_autoptr (KithRequest) request = g_new0 (KithRequest, 1);
	const char *seqnr = xmpp_stanza_get_attribute (req, "seqnr");
	const char *when = xmpp_stanza_get_attribute (req, "when");

	request->kind = KITH_REQUEST_READ;
	request->reply = KITH_REPLY_IQ;
	request->from = g_strdup (xmpp_stanza_get_from (iq));
	request->to = g_strdup (xmpp_stanza_get_to (iq));
	request->id = g_strdup (xmpp_stanza_get_id (iq));
	if (!kith_sensordata_valid_seqnr (seqnr)) {
		kith_sensordata_reject (protocol, iq, out, "modify", "bad-request",
		                        seqnr == NULL ? "seqnr is missing"
		                                      : "seqnr is not a 32-bit integer");
		return NULL;
	}
	request->seqnr = g_strdup (seqnr);
	for (guint i = 0; i < G_N_ELEMENTS (request->tokens); i++)
		request->tokens[i] =
		        g_strdup (xmpp_stanza_get_attribute (req, kith_request_token_names[i]));
	for (guint i = 0; i < G_N_ELEMENTS (kith_read_flag_names); i++) {
		const char *value = xmpp_stanza_get_attribute (req, kith_read_flag_names[i].name);
		gboolean set = FALSE;
		if (value == NULL)
			continue;
		if (!kith_parse_boolean (value, &set)) {
			g_autofree gchar *text = g_strdup_printf ("%s is not a boolean",
			                                          kith_read_flag_names[i].name);
			kith_sensordata_reject (protocol, iq, out, "modify", "bad-request", text);
			return NULL;
		}
		if (set)
			request->flags |= kith_read_flag_names[i].flag;
		if (set && g_str_has_prefix (kith_read_flag_names[i].name, "historical"))
			request->historical = TRUE;
	}
	/* no flag at all is not defined by the XEP: read everything */
	if (request->flags == 0)
		request->flags = KITH_READ_ALL;
	if (when != NULL && !kith_timestamp_parse (when, &request->when)) {
		kith_sensordata_reject (protocol, iq, out, "modify", "bad-request",
		                        "when is not an xs:dateTime");
		return NULL;
	}
	for (guint i = 0; i < 2; i++) {
		const gchar *name = i == 0 ? "from" : "to";
		const char *text = xmpp_stanza_get_attribute (req, name);
		if (text != NULL &&
		    !kith_timestamp_parse (text, i == 0 ? &request->since : &request->until)) {
			g_autofree gchar *why = g_strdup_printf ("%s is not an xs:dateTime", name);
			kith_sensordata_reject (protocol, iq, out, "modify", "bad-request", why);
			return NULL;
		}
	}
	if (!kith_sensordata_parse_children (protocol, iq, req, request, out))
		return NULL;
	return g_steal_pointer (&request);
}

static gboolean
kith_sensordata_wanted (const KithRequest *request, const KithField *field)
{
	KithReadFlags categories = 0;

	if (request->field_names != NULL) {
		gboolean named = FALSE;
		for (guint i = 0; i < request->field_names->len && !named; i++)
			named = g_strcmp0 (g_ptr_array_index (request->field_names, i),
			                   field->name) == 0;
		if (!named)
			return FALSE;
	}
	if (field->categories & KITH_FIELD_MOMENTARY)
		categories |= KITH_READ_MOMENTARY;
	if (field->categories & KITH_FIELD_STATUS)
		categories |= KITH_READ_STATUS;
	if (field->categories & KITH_FIELD_IDENTITY)
		categories |= KITH_READ_IDENTITY;
	if (field->categories & KITH_FIELD_COMPUTED)
		categories |= KITH_READ_COMPUTED;
	if (field->categories & KITH_FIELD_PEAK)
		categories |= KITH_READ_PEAK;
	return (categories & request->flags) != 0;
}

static void
kith_sensordata_add_field (xmpp_stanza_t *timestamp, const KithField *field, const KithValue *value,
                           gboolean historical)
{
	const gchar *element = kith_value_type_to_string (field->type);
	xmpp_stanza_t *node = kith_stanza_add_element (timestamp, element, NULL);
	g_autofree gchar *text = kith_value_to_string (value, field->decimals);

	xmpp_stanza_set_attribute (node, "name", field->name);
	/* a reading kept in the history: of no fixed period */
	if (historical)
		xmpp_stanza_set_attribute (node, "historicalOther", "true");
	else if (field->categories & KITH_FIELD_MOMENTARY)
		xmpp_stanza_set_attribute (node, "momentary", "true");
	if (field->categories & KITH_FIELD_STATUS)
		xmpp_stanza_set_attribute (node, "status", "true");
	if (field->categories & KITH_FIELD_IDENTITY)
		xmpp_stanza_set_attribute (node, "identity", "true");
	if (field->categories & KITH_FIELD_COMPUTED)
		xmpp_stanza_set_attribute (node, "computed", "true");
	if (field->categories & KITH_FIELD_PEAK)
		xmpp_stanza_set_attribute (node, "peak", "true");
	xmpp_stanza_set_attribute (node, value->valid ? "automaticReadout" : "missing", "true");
	if (field->writable)
		xmpp_stanza_set_attribute (node, "writable", "true");
	xmpp_stanza_set_attribute (node, "value", text);
	if (field->type == KITH_VALUE_NUMERIC)
		xmpp_stanza_set_attribute (node, "unit", field->unit != NULL ? field->unit : "");
}

xmpp_stanza_t *
kith_sensordata_fields (KithProtocol *protocol, const KithRequest *request, gboolean done)
{
	xmpp_stanza_t *message =
	        kith_stanza_message (protocol->ctx, NULL, request->to, request->from);
	xmpp_stanza_t *fields = kith_stanza_add_element (message, "fields", KITH_NS_SENSORDATA);
	GPtrArray *device_fields = kith_device_get_fields (protocol->device);
	xmpp_stanza_t *node = NULL;
	GHashTable *stamps = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

	xmpp_stanza_set_attribute (fields, "seqnr", request->seqnr);
	if (done)
		xmpp_stanza_set_attribute (fields, "done", "true");
	for (guint i = 0; i < device_fields->len; i++) {
		const KithField *field = g_ptr_array_index (device_fields, i);
		const KithValue *value = kith_device_get_value (protocol->device, field->name);
		xmpp_stanza_t *timestamp;
		/* one <timestamp> per sampling time; missing values carry the time of the read */
		gint64 when = value->valid ? value->timestamp / G_USEC_PER_SEC
		                           : g_get_real_time () / G_USEC_PER_SEC;

		if (!kith_sensordata_wanted (request, field))
			continue;
		if (node == NULL) {
			node = kith_stanza_add_element (fields, "node", NULL);
			xmpp_stanza_set_attribute (node, "nodeId",
			                           kith_device_get_id (protocol->device));
		}
		timestamp = g_hash_table_lookup (stamps, &when);
		if (timestamp == NULL) {
			g_autofree gchar *text = kith_timestamp_format (when * G_USEC_PER_SEC);
			timestamp = kith_stanza_add_element (node, "timestamp", NULL);
			xmpp_stanza_set_attribute (timestamp, "value", text);
			g_hash_table_insert (stamps, g_memdup2 (&when, sizeof when), timestamp);
		}
		kith_sensordata_add_field (timestamp, field, value, FALSE);
	}
	g_hash_table_unref (stamps);
	return message;
}

xmpp_stanza_t *
kith_sensordata_history (KithProtocol *protocol, const KithRequest *request, GPtrArray *samples,
                         guint start, guint count, gboolean done)
{
	xmpp_stanza_t *message =
	        kith_stanza_message (protocol->ctx, NULL, request->to, request->from);
	xmpp_stanza_t *fields = kith_stanza_add_element (message, "fields", KITH_NS_SENSORDATA);
	xmpp_stanza_t *node = kith_stanza_add_element (fields, "node", NULL);
	xmpp_stanza_t *timestamp = NULL;
	gint64 current = -1;

	xmpp_stanza_set_attribute (fields, "seqnr", request->seqnr);
	if (done)
		xmpp_stanza_set_attribute (fields, "done", "true");
	xmpp_stanza_set_attribute (node, "nodeId", kith_device_get_id (protocol->device));
	for (guint i = start; i < start + count && i < samples->len; i++) {
		const KithSample *sample = g_ptr_array_index (samples, i);
		const KithField *known = kith_device_find_field (protocol->device, sample->field);
		g_autoptr (KithField) field = NULL;
		gint64 when = sample->value.timestamp / G_USEC_PER_SEC;

		/* samples are in time order: one <timestamp> per second they were taken in */
		if (timestamp == NULL || when != current) {
			g_autofree gchar *text = kith_timestamp_format (when * G_USEC_PER_SEC);
			timestamp = kith_stanza_add_element (node, "timestamp", NULL);
			xmpp_stanza_set_attribute (timestamp, "value", text);
			current = when;
		}
		/* a field the device no longer has keeps its name and type */
		field = known != NULL ? kith_field_copy (known)
		                      : kith_field_new (sample->field, sample->value.type, "");
		field->type = sample->value.type;
		if (known == NULL && field->type == KITH_VALUE_NUMERIC)
			field->decimals = 6;
		kith_sensordata_add_field (timestamp, field, &sample->value, TRUE);
	}
	return message;
}

xmpp_stanza_t *
kith_sensordata_failure (KithProtocol *protocol, const KithRequest *request, const gchar *reason)
{
	xmpp_stanza_t *message =
	        kith_stanza_message (protocol->ctx, NULL, request->to, request->from);
	xmpp_stanza_t *failure = kith_stanza_add_element (message, "failure", KITH_NS_SENSORDATA);
	xmpp_stanza_t *error = kith_stanza_add_element (failure, "error", NULL);
	xmpp_stanza_t *text = xmpp_stanza_new (protocol->ctx);
	g_autofree gchar *now = kith_timestamp_format (g_get_real_time ());

	xmpp_stanza_set_attribute (failure, "seqnr", request->seqnr);
	xmpp_stanza_set_attribute (failure, "done", "true");
	xmpp_stanza_set_attribute (error, "nodeId", kith_device_get_id (protocol->device));
	xmpp_stanza_set_attribute (error, "timestamp", now);
	xmpp_stanza_set_text (text, reason);
	xmpp_stanza_add_child_ex (error, text, 0);
	return message;
}

xmpp_stanza_t *
kith_sensordata_accepted (KithProtocol *protocol, const KithRequest *request, gboolean queued)
{
	xmpp_stanza_t *iq = kith_protocol_request_result (protocol, request);
	xmpp_stanza_t *accepted = kith_stanza_add_element (iq, "accepted", KITH_NS_SENSORDATA);

	xmpp_stanza_set_attribute (accepted, "seqnr", request->seqnr);
	if (queued)
		xmpp_stanza_set_attribute (accepted, "queued", "true");
	return iq;
}

xmpp_stanza_t *
kith_sensordata_started (KithProtocol *protocol, const KithRequest *request)
{
	xmpp_stanza_t *message =
	        kith_stanza_message (protocol->ctx, NULL, request->to, request->from);
	xmpp_stanza_t *started = kith_stanza_add_element (message, "started", KITH_NS_SENSORDATA);
	xmpp_stanza_set_attribute (started, "seqnr", request->seqnr);
	return message;
}
