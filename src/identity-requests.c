/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

/* What friends ask of a device: readouts (now or queued), cancellation, control, chat, and the
 * owner's decisions, each checked with the parent first when there is one. */

#include "driver.h"
#include "identity-private.h"
#include "iot/stanza.h"
#include "kith-error.h"

/* a historical readout gives at most this many readings, this many per message */
#define KITH_HISTORY_READOUT_MAX 10000
#define KITH_HISTORY_MESSAGE_MAX 250

/* an operation in flight: a readout (queued, or waiting for the bus) or a write */
static KithOperation *
kith_operation_new (KithIdentity *self, KithRequest *request)
{
	KithOperation *op = g_new0 (KithOperation, 1);
	op->identity = self;
	op->request = request;
	g_hash_table_add (self->operations, op);
	if (self->limiter != NULL && request->from != NULL) {
		op->held = kith_jid_bare (request->from);
		kith_limiter_hold (self->limiter, op->held);
	}
	return op;
}

static void
kith_operation_free (KithOperation *op)
{
	if (op->identity != NULL) {
		if (op->held != NULL)
			kith_limiter_release (op->identity->limiter, op->held);
		g_hash_table_remove (op->identity->operations, op);
		if (op->key != NULL && g_hash_table_lookup (op->identity->reads, op->key) == op)
			g_hash_table_remove (op->identity->reads, op->key);
	}
	g_clear_handle_id (&op->timer_id, g_source_remove);
	kith_request_free (op->request);
	g_free (op->key);
	g_free (op->held);
	g_free (op);
}

/* an IQ error answering a request, from the address it was sent to */
static void
kith_identity_send_error (KithIdentity *self, const KithRequest *request, const gchar *type,
                          const gchar *condition, const gchar *text)
{
	kith_identity_send (self, kith_protocol_request_error (&self->protocol, request, type,
	                                                       condition, text));
}

/* the parent said no: forbidden for an IQ, a sentence for a chat, nothing for a message set */
static void
kith_identity_refuse (KithIdentity *self, const KithRequest *request, const gchar *reason)
{
	if (request->reply == KITH_REPLY_IQ) {
		kith_identity_send_error (self, request, "cancel", "forbidden", reason);
	} else if (request->reply == KITH_REPLY_CHAT) {
		g_autofree gchar *text = g_strdup_printf ("Not allowed: %s.", reason);
		kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
	}
}

static void
kith_identity_read_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
	KithOperation *op = user_data;
	KithIdentity *self = op->identity;
	KithRequest *request = op->request;

	/* the identity went away, or the requester cancelled: only clean up */
	if (self == NULL || op->cancelled) {
		kith_operation_free (op);
		return;
	}
	/* every reading taken is kept */
	if (error == NULL)
		kith_history_record (self->history, device);
	if (request->reply == KITH_REPLY_CHAT) {
		g_autofree gchar *text =
		        error != NULL ? g_strdup_printf ("Cannot read: %s", error->message)
		                      : kith_chat_format_readings (device, request->field_names);
		kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
	} else if (error != NULL) {
		g_message ("%s: read failed: %s", kith_device_get_id (device), error->message);
		kith_identity_send (
		        self, kith_sensordata_failure (&self->protocol, request, error->message));
	} else {
		kith_identity_send (self, kith_sensordata_fields (&self->protocol, request, TRUE));
	}
	kith_operation_free (op);
}

/* a historical readout answers from the history, in messages of a few hundred readings;
 * TRUE if that was all that was asked (the last message then says done) */
static gboolean
kith_identity_read_history (KithIdentity *self, KithOperation *op)
{
	KithRequest *request = op->request;
	gboolean only = (request->flags & ~KITH_READ_HISTORICAL) == 0;
	g_autoptr (GPtrArray) samples = NULL;

	if (!request->historical || request->reply != KITH_REPLY_IQ)
		return FALSE;
	samples = kith_history_query (self->history, self->id, request->field_names, request->since,
	                              request->until, KITH_HISTORY_READOUT_MAX);
	for (guint start = 0; start < samples->len || (start == 0 && only);
	     start += KITH_HISTORY_MESSAGE_MAX) {
		gboolean last = start + KITH_HISTORY_MESSAGE_MAX >= samples->len;
		kith_identity_send (
		        self, kith_sensordata_history (&self->protocol, request, samples, start,
		                                       KITH_HISTORY_MESSAGE_MAX, last && only));
		if (last)
			break;
	}
	return only;
}

/* a device that does not answer fails at once: the bus is not asked, nobody waits */
static void
kith_identity_read_device (KithIdentity *self, KithOperation *op)
{
	if (kith_identity_read_history (self, op)) {
		kith_operation_free (op);
		return;
	}
	if (!kith_device_is_answering (self->device)) {
		g_autoptr (GError) error = kith_identity_silent_error (self);
		kith_identity_read_done_cb (self->device, error, op);
		return;
	}
	kith_driver_read (kith_device_get_driver (self->device), self->device,
	                  kith_identity_read_done_cb, op);
}

static gboolean
kith_identity_queued_read_cb (gpointer user_data)
{
	KithOperation *op = user_data;
	KithIdentity *self = op->identity;

	op->timer_id = 0;
	kith_identity_send (self, kith_sensordata_started (&self->protocol, op->request));
	kith_identity_read_device (self, op);
	return G_SOURCE_REMOVE;
}

static void kith_identity_read_allowed (KithIdentity *self, KithRequest *request);

/* the owner, the device's own account and the server need nobody's permission */
static gboolean
kith_identity_needs_parent (KithIdentity *self, const KithRequest *request)
{
	g_autofree gchar *from = kith_jid_bare (request->from);

	if (self->parent == NULL || from == NULL)
		return FALSE;
	return !kith_identity_full_rights_cb (from, self) &&
	       g_strcmp0 (from, self->config->domain) != 0;
}

/* only the names both asked for (or all, when NULL) and allowed */
static void
kith_identity_restrict_names (GPtrArray **asked, GPtrArray *allowed)
{
	GPtrArray *result;

	if (allowed == NULL)
		return;
	result = g_ptr_array_new_with_free_func (g_free);
	for (guint i = 0; i < allowed->len; i++) {
		const gchar *name = g_ptr_array_index (allowed, i);
		gboolean wanted = *asked == NULL;
		for (guint j = 0; !wanted && j < (*asked)->len; j++)
			wanted = g_strcmp0 (g_ptr_array_index (*asked, j), name) == 0;
		if (wanted)
			g_ptr_array_add (result, g_strdup (name));
	}
	if (*asked != NULL)
		g_ptr_array_unref (*asked);
	*asked = result;
}

static void
kith_identity_can_read_cb (gboolean allowed, GPtrArray *names, const gchar *reason,
                           gpointer user_data)
{
	KithOperation *op = user_data;
	KithIdentity *self = op->identity;
	KithRequest *request = g_steal_pointer (&op->request);

	op->asking_parent = FALSE;
	kith_operation_free (op);
	if (!allowed) {
		kith_identity_refuse (self, request, reason);
		kith_request_free (request);
		return;
	}
	kith_identity_restrict_names (&request->field_names, names);
	kith_identity_read_allowed (self, request);
}

static void
kith_identity_read (KithIdentity *self, KithRequest *request)
{
	/* every way of reading (readout, chat) asks the parent the same question */
	if (kith_identity_needs_parent (self, request)) {
		KithOperation *op = kith_operation_new (self, request);
		op->asking_parent = TRUE;
		kith_parent_can_read (self->parent, request, kith_identity_can_read_cb, op, NULL);
		return;
	}
	kith_identity_read_allowed (self, request);
}

static void
kith_identity_read_allowed (KithIdentity *self, KithRequest *request)
{
	gint64 now = g_get_real_time ();
	gboolean queued = request->when > now + G_USEC_PER_SEC / 2;
	g_autofree gchar *key = NULL;
	KithOperation *op;

	if (request->reply == KITH_REPLY_IQ) {
		/* seqnr is unique per requester: a second one in flight is a mistake */
		key = g_strdup_printf ("%s\x1f%s", request->from != NULL ? request->from : "",
		                       request->seqnr);
		if (g_hash_table_contains (self->reads, key)) {
			kith_identity_send_error (self, request, "modify", "bad-request",
			                          "seqnr already in use");
			kith_request_free (request);
			return;
		}
		if (queued &&
		    request->when - now > (gint64)KITH_MAX_QUEUE_DAYS * 86400 * G_USEC_PER_SEC) {
			kith_identity_send_error (self, request, "modify", "bad-request",
			                          "when is too far in the future");
			kith_request_free (request);
			return;
		}
	}
	op = kith_operation_new (self, request);
	if (key != NULL) {
		op->key = g_steal_pointer (&key);
		g_hash_table_insert (self->reads, op->key, op);
		kith_identity_send (self,
		                    kith_sensordata_accepted (&self->protocol, request, queued));
	}
	if (queued) {
		op->timer_id =
		        g_timeout_add_seconds ((guint)((request->when - now) / G_USEC_PER_SEC),
		                               kith_identity_queued_read_cb, op);
		return;
	}
	kith_identity_read_device (self, op);
}

static void
kith_identity_cancel (KithIdentity *self, KithRequest *request)
{
	g_autofree gchar *key = g_strdup_printf (
	        "%s\x1f%s", request->from != NULL ? request->from : "", request->seqnr);
	KithOperation *op = g_hash_table_lookup (self->reads, key);

	if (op == NULL || op->cancelled) {
		kith_identity_send_error (self, request, "cancel", "item-not-found",
		                          "no readout with that seqnr");
	} else {
		xmpp_stanza_t *reply = kith_protocol_request_result (&self->protocol, request);
		xmpp_stanza_t *cancelled =
		        kith_stanza_add_element (reply, "cancelled", KITH_NS_SENSORDATA);
		xmpp_stanza_set_attribute (cancelled, "seqnr", request->seqnr);
		op->cancelled = TRUE;
		if (op->timer_id != 0)
			kith_operation_free (op); /* queued: never started */
		kith_identity_send (self, reply);
	}
	kith_request_free (request);
}

static void
kith_identity_write_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
	KithOperation *op = user_data;
	KithIdentity *self = op->identity;
	KithRequest *request = op->request;

	if (self == NULL) {
		kith_operation_free (op);
		return;
	}
	if (error != NULL)
		g_message ("%s: write failed: %s", kith_device_get_id (device), error->message);
	if (request->reply == KITH_REPLY_IQ) {
		if (error == NULL)
			kith_identity_send (self,
			                    kith_control_set_response (&self->protocol, request));
		else
			kith_identity_send_error (
			        self, request, "wait",
			        g_error_matches (error, KITH_ERROR, KITH_ERROR_NOT_ANSWERING)
			                ? "recipient-unavailable"
			                : "internal-server-error",
			        error->message);
	} else if (request->reply == KITH_REPLY_CHAT) {
		KithParam *param = g_ptr_array_index (request->params, 0);
		g_autofree gchar *shown = param->value.type == KITH_VALUE_BOOLEAN
		                                  ? g_strdup (param->value.boolean ? "on" : "off")
		                                  : kith_value_to_string (&param->value, 6);
		g_autofree gchar *text =
		        error != NULL
		                ? g_strdup_printf ("Cannot set %s: %s", param->name, error->message)
		                : g_strdup_printf ("%s set to %s", param->name, shown);
		kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
	}
	kith_operation_free (op);
}

static void kith_identity_write_allowed (KithIdentity *self, KithRequest *request);

static void
kith_identity_can_control_cb (gboolean allowed, GPtrArray *names, const gchar *reason,
                              gpointer user_data)
{
	KithOperation *op = user_data;
	KithIdentity *self = op->identity;
	KithRequest *request = g_steal_pointer (&op->request);

	op->asking_parent = FALSE;
	kith_operation_free (op);
	if (allowed && names != NULL) {
		/* only what the parent allows is actuated, and setResponse says which */
		for (guint i = request->params->len; i > 0; i--) {
			KithParam *param = g_ptr_array_index (request->params, i - 1);
			if (!g_ptr_array_find_with_equal_func (names, param->name, g_str_equal,
			                                       NULL))
				g_ptr_array_remove_index (request->params, i - 1);
		}
		request->restricted = TRUE;
		allowed = request->params->len > 0;
	}
	if (!allowed) {
		kith_identity_refuse (self, request, reason != NULL ? reason : "nothing allowed");
		kith_request_free (request);
		return;
	}
	kith_identity_write_allowed (self, request);
}

static void
kith_identity_write (KithIdentity *self, KithRequest *request)
{
	if (kith_identity_needs_parent (self, request)) {
		KithOperation *op = kith_operation_new (self, request);
		op->asking_parent = TRUE;
		kith_parent_can_control (self->parent, request, kith_identity_can_control_cb, op,
		                         NULL);
		return;
	}
	kith_identity_write_allowed (self, request);
}

static void
kith_identity_write_allowed (KithIdentity *self, KithRequest *request)
{
	KithOperation *op = kith_operation_new (self, request);

	if (!kith_device_is_answering (self->device)) {
		g_autoptr (GError) error = kith_identity_silent_error (self);
		kith_identity_write_done_cb (self->device, error, op);
		return;
	}
	kith_driver_write (kith_device_get_driver (self->device), self->device, request->params,
	                   kith_identity_write_done_cb, op);
}

/* the owner answers waiting friend requests by chat: pending, accept JID, refuse JID */
static void
kith_identity_owner_decides (KithIdentity *self, KithRequest *request)
{
	g_autofree gchar *from = kith_jid_bare (request->from);
	g_autofree gchar *text = NULL;
	const gchar *device_id = kith_device_get_id (self->device);

	if (self->owner == NULL || g_strcmp0 (from, self->owner) != 0) {
		text = g_strdup ("Only the owner can decide friend requests.");
	} else if (g_strcmp0 (request->type, "pending") == 0) {
		g_autoptr (GPtrArray) pending =
		        kith_store_list_friends (self->store, device_id, KITH_FRIEND_PENDING);
		g_autoptr (GString) list = g_string_new (NULL);
		for (guint i = 0; i < pending->len; i++)
			g_string_append_printf (list, "\n  %s",
			                        (gchar *)g_ptr_array_index (pending, i));
		text = pending->len == 0 ? g_strdup ("No friend requests are waiting.")
		                         : g_strdup_printf ("Waiting:%s", list->str);
	} else {
		gboolean accept = g_strcmp0 (request->type, "accept") == 0;
		g_autofree gchar *jid = g_utf8_strdown (request->jid, -1);
		if (!kith_identity_decide_pending (self, jid, accept, NULL))
			text = g_strdup_printf ("No friend request from %s is waiting.", jid);
		else
			text = g_strdup_printf ("%s %s.", accept ? "Accepted" : "Refused", jid);
	}
	kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
}

KithLimit
kith_identity_admit (KithIdentity *self, const gchar *bare_jid, gboolean lasting)
{
	gdouble rate = self->config->request_rate;

	if (rate == 0 || bare_jid == NULL || g_strcmp0 (bare_jid, self->transport->bare_jid) == 0 ||
	    g_strcmp0 (bare_jid, self->config->domain) == 0)
		return KITH_LIMIT_OK;
	if (self->limiter == NULL)
		self->limiter = kith_limiter_new (rate, 2 * rate, KITH_REQUEST_IN_FLIGHT);
	return kith_limiter_admit (self->limiter, bare_jid, g_get_monotonic_time (), lasting);
}

/* one requester asks too much: told so at once, never left waiting (a message-carried set
 * is never answered) */
static gboolean
kith_identity_over_limit (KithIdentity *self, KithRequest *request)
{
	g_autofree gchar *from = kith_jid_bare (request->from);
	KithLimit limit;
	const gchar *text;

	if (request->kind != KITH_REQUEST_READ && request->kind != KITH_REQUEST_WRITE &&
	    request->kind != KITH_REQUEST_CANCEL && request->kind != KITH_REQUEST_DECISION)
		return FALSE;
	limit = kith_identity_admit (self, from,
	                             request->kind == KITH_REQUEST_READ ||
	                                     request->kind == KITH_REQUEST_WRITE);
	if (limit == KITH_LIMIT_OK)
		return FALSE;
	text = limit == KITH_LIMIT_BUSY ? "too many of your requests are in progress"
	                                : "too many requests from you; try again in a moment";
	g_debug ("%s: %s: %s", self->id, from, text);
	if (request->reply == KITH_REPLY_IQ) {
		kith_identity_send_error (self, request, "wait", "resource-constraint", text);
	} else if (request->reply == KITH_REPLY_CHAT) {
		g_autofree gchar *sentence = g_strdup_printf ("Not now: %s.", text);
		kith_identity_send (self, kith_chat_reply (&self->protocol, request, sentence));
	}
	return TRUE;
}

void
kith_identity_run (KithIdentity *self, KithRequest *request)
{
	if (kith_identity_over_limit (self, request)) {
		kith_request_free (request);
		return;
	}
	switch (request->kind) {
	case KITH_REQUEST_READ:
		kith_identity_read (self, request);
		return; /* owned by the pending read */
	case KITH_REQUEST_CANCEL:
		kith_identity_cancel (self, request);
		return;
	case KITH_REQUEST_WRITE:
		kith_identity_write (self, request);
		return; /* owned by the write */
	case KITH_REQUEST_SUBSCRIPTION:
		kith_identity_subscription (self, request);
		break;
	case KITH_REQUEST_DECISION:
		kith_identity_owner_decides (self, request);
		break;
	case KITH_REQUEST_ROSTER:      /* the transport keeps the roster */
	case KITH_REQUEST_IQ_RESPONSE: /* an answer nobody waits for */
		break;
	}
	kith_request_free (request);
}

void
kith_identity_requests_init (KithIdentity *self)
{
	self->operations = g_hash_table_new (g_direct_hash, g_direct_equal);
	self->reads = g_hash_table_new (g_str_hash, g_str_equal);
}

void
kith_identity_requests_clear (KithIdentity *self)
{
	g_autoptr (GList) ops = g_hash_table_get_keys (self->operations);

	for (GList *l = ops; l != NULL; l = l->next) {
		KithOperation *op = l->data;
		op->identity = NULL;
		if (op->timer_id != 0 || op->asking_parent)
			kith_operation_free (op);
	}
	g_hash_table_unref (self->reads);
	g_hash_table_unref (self->operations);
	g_clear_pointer (&self->limiter, kith_limiter_free);
}

gboolean
kith_identity_decide_pending (KithIdentity *self, const gchar *jid, gboolean accept, GError **error)
{
	KithFriendDecision stored;
	g_autofree gchar *bare = g_utf8_strdown (jid, -1);

	if (!kith_store_get_friend (self->store, self->id, bare, &stored) ||
	    stored != KITH_FRIEND_PENDING) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_NOT_FOUND,
		             "no friend request from %s is waiting at %s", bare, self->id);
		return FALSE;
	}
	kith_identity_apply_decision (self, bare,
	                              accept ? KITH_DECISION_ACCEPT : KITH_DECISION_REFUSE);
	return TRUE;
}

GPtrArray *
kith_identity_get_pending (KithIdentity *self)
{
	return kith_store_list_friends (self->store, self->id, KITH_FRIEND_PENDING);
}
