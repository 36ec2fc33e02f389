/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "identity.h"

#include "driver.h"
#include "iot/protocol.h"
#include "iot/stanza.h"

#define KITH_ROSTER_GET_ID "kith-roster-get"

typedef enum {
	KITH_SUB_NONE = 0,
	KITH_SUB_TO = 1 << 0,
	KITH_SUB_FROM = 1 << 1,
} KithSubscription;

typedef struct {
	KithSubscription subscription;
	gboolean ask;
} KithRosterItem;

typedef struct {
	KithIdentity *identity;
	KithRequest *request;
	gchar *key;
	guint timer_id;
	gboolean cancelled;
} KithPendingRead;

struct _KithIdentity {
	KithConfig *config;
	KithStore *store;
	KithPolicy *policy;
	KithDevice *device;
	KithSession *session;
	KithProtocol protocol;
	GHashTable *roster;  /* bare JID -> KithRosterItem */
	GHashTable *reads;   /* requester "\x1f" seqnr -> KithPendingRead */
	gulong changed_id;
	GCallback stopped;
	gpointer stopped_data;
	GCallback online;
	gpointer online_data;
};

typedef void (*KithIdentityStopped) (KithIdentity *identity, gpointer user_data);

static void
kith_identity_send (KithIdentity *self, xmpp_stanza_t *stanza)
{
	kith_session_send (self->session, stanza);
	xmpp_stanza_release (stanza);
}

static gboolean
kith_identity_is_trusted_cb (const gchar *bare_jid, gpointer user_data)
{
	KithIdentity *self = user_data;
	KithRosterItem *item = g_hash_table_lookup (self->roster, bare_jid);
	return item != NULL && (item->subscription & KITH_SUB_FROM) != 0;
}

static xmpp_stanza_t *
kith_identity_presence (KithIdentity *self)
{
	xmpp_ctx_t *ctx = kith_session_get_ctx (self->session);
	xmpp_stanza_t *presence = kith_stanza_presence (ctx, NULL, NULL, NULL);
	g_autofree gchar *status = kith_device_format_status (self->device);

	if (status[0] != '\0')
		kith_stanza_add_text_element (presence, "status", status);
	kith_stanza_add_text_element (presence, "priority", "0");
	return presence;
}

static void
kith_identity_changed_cb (KithDevice *device, gpointer user_data)
{
	KithIdentity *self = user_data;
	/* presence follows meaningful changes only, not every sample */
	if (kith_session_is_online (self->session) && kith_device_status_changed (device))
		kith_identity_send (self, kith_identity_presence (self));
}

static void
kith_identity_send_subscription (KithIdentity *self, const gchar *type, const gchar *jid)
{
	kith_identity_send (self, kith_stanza_presence (kith_session_get_ctx (self->session), type,
							NULL, jid));
}

static void
kith_identity_remember (KithIdentity *self, const gchar *jid, KithFriendDecision decision)
{
	g_autoptr(GError) error = NULL;
	if (!kith_store_set_friend (self->store, kith_device_get_id (self->device), jid, decision,
				    &error))
		g_warning ("%s: %s", kith_device_get_id (self->device), error->message);
}

static void
kith_identity_apply_decision (KithIdentity *self, const gchar *jid, KithDecision decision)
{
	KithRosterItem *item = g_hash_table_lookup (self->roster, jid);

	g_info ("%s: friend request from %s: %s", kith_device_get_id (self->device), jid,
		kith_decision_to_string (decision));
	switch (decision) {
	case KITH_DECISION_ACCEPT:
		kith_identity_send_subscription (self, "subscribed", jid);
		/* friendship is mutual: ask to see them too */
		if (item == NULL || ((item->subscription & KITH_SUB_TO) == 0 && !item->ask))
			kith_identity_send_subscription (self, "subscribe", jid);
		kith_identity_remember (self, jid, KITH_FRIEND_ACCEPTED);
		break;
	case KITH_DECISION_REFUSE:
		kith_identity_send_subscription (self, "unsubscribed", jid);
		kith_identity_remember (self, jid, KITH_FRIEND_REFUSED);
		break;
	case KITH_DECISION_PENDING:
		kith_identity_remember (self, jid, KITH_FRIEND_PENDING);
		break;
	}
}

typedef struct {
	KithIdentity *identity;
	gchar *jid;
} KithLaterDecision;

static void
kith_identity_later_cb (KithDecision decision, gpointer user_data)
{
	KithLaterDecision *later = user_data;
	if (decision != KITH_DECISION_PENDING)
		kith_identity_apply_decision (later->identity, later->jid, decision);
	g_free (later->jid);
	g_free (later);
}

static void
kith_identity_remove_friend (KithIdentity *self, const gchar *jid)
{
	xmpp_ctx_t *ctx = kith_session_get_ctx (self->session);
	xmpp_stanza_t *iq = xmpp_iq_new (ctx, "set", "kith-roster-remove");
	xmpp_stanza_t *query = kith_stanza_add_element (iq, "query", KITH_NS_ROSTER);
	xmpp_stanza_t *item = kith_stanza_add_element (query, "item", NULL);

	xmpp_stanza_set_attribute (item, "jid", jid);
	xmpp_stanza_set_attribute (item, "subscription", "remove");
	/* a roster remove sends both unsubscribe and unsubscribed */
	kith_identity_send (self, iq);
	kith_identity_remember (self, jid, KITH_FRIEND_REMOVED);
}

static void
kith_identity_subscription (KithIdentity *self, KithRequest *request)
{
	KithRosterItem *item = g_hash_table_lookup (self->roster, request->jid);
	const gchar *device_id = kith_device_get_id (self->device);

	if (g_strcmp0 (request->type, "subscribe") == 0) {
		KithLaterDecision *later;
		KithDecision decision;

		if (item != NULL && (item->subscription & KITH_SUB_FROM) != 0) {
			kith_identity_send_subscription (self, "subscribed", request->jid);
			return;
		}
		later = g_new0 (KithLaterDecision, 1);
		later->identity = self;
		later->jid = g_strdup (request->jid);
		decision = kith_policy_decide (self->policy, device_id, request->jid,
					       kith_identity_later_cb, later);
		kith_identity_apply_decision (self, request->jid, decision);
		if (decision != KITH_DECISION_PENDING || self->policy->kind != KITH_POLICY_PARENT) {
			g_free (later->jid);
			g_free (later);
		}
	} else if (g_strcmp0 (request->type, "unsubscribe") == 0) {
		g_info ("%s: %s ended the friendship", device_id, request->jid);
		kith_identity_remove_friend (self, request->jid);
	} else {
		g_info ("%s: %s answered %s", device_id, request->jid, request->type);
	}
}

static void
kith_identity_roster (KithIdentity *self, KithRequest *request)
{
	KithRosterItem *item;

	if (request->roster_remove) {
		g_hash_table_remove (self->roster, request->jid);
		return;
	}
	item = g_hash_table_lookup (self->roster, request->jid);
	if (item == NULL) {
		item = g_new0 (KithRosterItem, 1);
		g_hash_table_insert (self->roster, g_strdup (request->jid), item);
	}
	item->ask = request->ask;
	item->subscription = KITH_SUB_NONE;
	if (g_strcmp0 (request->subscription, "to") == 0 ||
	    g_strcmp0 (request->subscription, "both") == 0)
		item->subscription |= KITH_SUB_TO;
	if (g_strcmp0 (request->subscription, "from") == 0 ||
	    g_strcmp0 (request->subscription, "both") == 0)
		item->subscription |= KITH_SUB_FROM;
}

static void
kith_identity_iq_response (KithIdentity *self, KithRequest *request)
{
	xmpp_stanza_t *query;

	if (g_strcmp0 (request->id, KITH_ROSTER_GET_ID) != 0)
		return;
	if (g_strcmp0 (request->type, "result") != 0) {
		g_warning ("%s: roster request failed", kith_device_get_id (self->device));
		return;
	}
	/* the server's roster is the truth after every (re)connect */
	g_hash_table_remove_all (self->roster);
	query = xmpp_stanza_get_child_by_ns (request->stanza, KITH_NS_ROSTER);
	for (xmpp_stanza_t *child = query != NULL ? xmpp_stanza_get_children (query) : NULL;
	     child != NULL; child = xmpp_stanza_get_next (child)) {
		g_autoptr(KithRequest) item = NULL;
		if (!xmpp_stanza_is_tag (child) || xmpp_stanza_get_attribute (child, "jid") == NULL)
			continue;
		item = g_new0 (KithRequest, 1);
		item->jid = kith_jid_bare (xmpp_stanza_get_attribute (child, "jid"));
		item->subscription = g_strdup (xmpp_stanza_get_attribute (child, "subscription"));
		item->ask = g_strcmp0 (xmpp_stanza_get_attribute (child, "ask"), "subscribe") == 0;
		kith_identity_roster (self, item);
	}
	g_info ("%s: %u roster entries", kith_device_get_id (self->device),
		g_hash_table_size (self->roster));
}

static void
kith_pending_read_free (KithPendingRead *pending)
{
	g_clear_handle_id (&pending->timer_id, g_source_remove);
	kith_request_free (pending->request);
	g_free (pending->key);
	g_free (pending);
}

static void
kith_identity_read_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
	KithPendingRead *pending = user_data;
	KithIdentity *self = pending->identity;
	KithRequest *request = pending->request;

	if (!pending->cancelled) {
		if (request->reply == KITH_REPLY_CHAT) {
			g_autofree gchar *text = error != NULL
							 ? g_strdup_printf ("Cannot read: %s",
									    error->message)
							 : kith_chat_format_readings (device);
			kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
		} else if (error != NULL) {
			g_message ("%s: read failed: %s", kith_device_get_id (device),
				   error->message);
			kith_identity_send (self, kith_sensordata_failure (&self->protocol, request,
									   error->message));
		} else {
			kith_identity_send (self,
					    kith_sensordata_fields (&self->protocol, request, TRUE));
		}
	}
	if (pending->key != NULL)
		g_hash_table_remove (self->reads, pending->key);
	else
		kith_pending_read_free (pending);
}

static gboolean
kith_identity_queued_read_cb (gpointer user_data)
{
	KithPendingRead *pending = user_data;
	pending->timer_id = 0;
	kith_identity_send (pending->identity,
			    kith_sensordata_started (&pending->identity->protocol, pending->request));
	kith_driver_read (kith_device_get_driver (pending->identity->device),
			  pending->identity->device, kith_identity_read_done_cb, pending);
	return G_SOURCE_REMOVE;
}

static void
kith_identity_read (KithIdentity *self, KithRequest *request)
{
	KithPendingRead *pending = g_new0 (KithPendingRead, 1);
	gint64 now = g_get_real_time ();
	gboolean queued = request->when > now + G_USEC_PER_SEC / 2;

	pending->identity = self;
	pending->request = request;
	if (request->reply == KITH_REPLY_IQ) {
		pending->key = g_strdup_printf ("%s\x1f%s", request->from, request->seqnr);
		if (g_hash_table_contains (self->reads, pending->key)) {
			xmpp_stanza_t *iq = kith_stanza_element (kith_session_get_ctx (self->session),
								 "iq", NULL);
			xmpp_stanza_set_id (iq, request->id);
			xmpp_stanza_set_from (iq, request->from);
			xmpp_stanza_set_to (iq, request->to);
			kith_identity_send (self, kith_stanza_error (kith_session_get_ctx (self->session),
								     iq, "modify", "bad-request",
								     "seqnr already in use", NULL));
			xmpp_stanza_release (iq);
			pending->key = (g_free (pending->key), NULL);
			kith_pending_read_free (pending);
			return;
		}
		g_hash_table_insert (self->reads, g_strdup (pending->key), pending);
		kith_identity_send (self, kith_sensordata_accepted (&self->protocol, request, queued));
	}
	if (queued) {
		guint delay_ms = (guint) MIN ((request->when - now) / 1000, (gint64) G_MAXUINT / 2);
		pending->timer_id = g_timeout_add (delay_ms, kith_identity_queued_read_cb, pending);
		return;
	}
	kith_driver_read (kith_device_get_driver (self->device), self->device,
			  kith_identity_read_done_cb, pending);
}

static void
kith_identity_cancel (KithIdentity *self, KithRequest *request)
{
	g_autofree gchar *key = g_strdup_printf ("%s\x1f%s", request->from, request->seqnr);
	KithPendingRead *pending = g_hash_table_lookup (self->reads, key);
	xmpp_ctx_t *ctx = kith_session_get_ctx (self->session);
	xmpp_stanza_t *iq = kith_stanza_element (ctx, "iq", NULL);

	xmpp_stanza_set_id (iq, request->id);
	xmpp_stanza_set_from (iq, request->from);
	if (request->to != NULL)
		xmpp_stanza_set_to (iq, request->to);
	if (pending == NULL || pending->cancelled) {
		kith_identity_send (self, kith_stanza_error (ctx, iq, "cancel", "item-not-found",
							     "no readout with that seqnr", NULL));
	} else {
		xmpp_stanza_t *reply = kith_stanza_iq_result (ctx, iq);
		xmpp_stanza_t *cancelled = kith_stanza_add_element (reply, "cancelled",
								    KITH_NS_SENSORDATA);
		xmpp_stanza_set_attribute (cancelled, "seqnr", request->seqnr);
		pending->cancelled = TRUE;
		if (pending->timer_id != 0)
			g_hash_table_remove (self->reads, key); /* queued: never started */
		kith_identity_send (self, reply);
	}
	xmpp_stanza_release (iq);
	kith_request_free (request);
}

static void
kith_identity_write_done_cb (KithDevice *device, const GError *error, gpointer user_data)
{
	KithRequest *request = user_data;
	KithIdentity *self = g_object_get_data (G_OBJECT (device), "kith-identity");
	xmpp_ctx_t *ctx = kith_session_get_ctx (self->session);

	if (error != NULL)
		g_message ("%s: write failed: %s", kith_device_get_id (device), error->message);
	if (request->reply == KITH_REPLY_IQ) {
		if (error == NULL) {
			kith_identity_send (self, kith_control_set_response (&self->protocol, request));
		} else {
			xmpp_stanza_t *iq = kith_stanza_element (ctx, "iq", NULL);
			xmpp_stanza_set_id (iq, request->id);
			xmpp_stanza_set_from (iq, request->from);
			if (request->to != NULL)
				xmpp_stanza_set_to (iq, request->to);
			kith_identity_send (self, kith_stanza_error (ctx, iq, "wait",
								     "internal-server-error",
								     error->message, NULL));
			xmpp_stanza_release (iq);
		}
	} else if (request->reply == KITH_REPLY_CHAT) {
		KithParam *param = g_ptr_array_index (request->params, 0);
		g_autofree gchar *shown = param->value.type == KITH_VALUE_BOOLEAN
						  ? g_strdup (param->value.boolean ? "on" : "off")
						  : kith_value_to_string (&param->value, 6);
		g_autofree gchar *text = error != NULL
						 ? g_strdup_printf ("Cannot set %s: %s", param->name,
								    error->message)
						 : g_strdup_printf ("%s set to %s", param->name, shown);
		kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
	}
	kith_request_free (request);
}

static void
kith_identity_run (KithIdentity *self, KithRequest *request)
{
	switch (request->kind) {
	case KITH_REQUEST_READ:
		kith_identity_read (self, request);
		return; /* owned by the pending read */
	case KITH_REQUEST_CANCEL:
		kith_identity_cancel (self, request);
		return;
	case KITH_REQUEST_WRITE:
		kith_driver_write (kith_device_get_driver (self->device), self->device,
				   request->params, kith_identity_write_done_cb, request);
		return; /* owned by the write */
	case KITH_REQUEST_SUBSCRIPTION:
		kith_identity_subscription (self, request);
		break;
	case KITH_REQUEST_ROSTER:
		kith_identity_roster (self, request);
		break;
	case KITH_REQUEST_IQ_RESPONSE:
		kith_identity_iq_response (self, request);
		break;
	}
	kith_request_free (request);
}

static void
kith_identity_stanza_cb (KithSession *session, xmpp_stanza_t *stanza, gpointer user_data)
{
	KithIdentity *self = user_data;
	g_autoptr(GPtrArray) out = g_ptr_array_new ();
	g_autoptr(GPtrArray) requests = g_ptr_array_new ();

	kith_protocol_handle (&self->protocol, stanza, out, requests);
	for (guint i = 0; i < out->len; i++)
		kith_identity_send (self, g_ptr_array_index (out, i));
	for (guint i = 0; i < requests->len; i++)
		kith_identity_run (self, g_ptr_array_index (requests, i));
}

static void
kith_identity_online_cb (KithSession *session, gpointer user_data)
{
	KithIdentity *self = user_data;
	xmpp_ctx_t *ctx = kith_session_get_ctx (session);
	xmpp_stanza_t *iq = xmpp_iq_new (ctx, "get", KITH_ROSTER_GET_ID);

	/* roster first, then initial presence: the server then redelivers pending requests */
	kith_stanza_add_element (iq, "query", KITH_NS_ROSTER);
	kith_identity_send (self, iq);
	kith_device_status_changed (self->device);
	kith_identity_send (self, kith_identity_presence (self));
	if (self->online != NULL)
		((KithIdentityStopped) self->online) (self, self->online_data);
}

static void
kith_identity_stopped_cb (KithSession *session, gpointer user_data)
{
	KithIdentity *self = user_data;
	if (self->stopped != NULL)
		((KithIdentityStopped) self->stopped) (self, self->stopped_data);
}

static const KithSessionCallbacks kith_identity_callbacks = {
	.online = kith_identity_online_cb,
	.stanza = kith_identity_stanza_cb,
	.stopped = kith_identity_stopped_cb,
};

KithIdentity *
kith_identity_new (KithConfig *config, KithStore *store, KithPolicy *policy,
		   KithConnectGate *gate, KithDevice *device, GCallback online, gpointer user_data)
{
	KithIdentity *self = g_new0 (KithIdentity, 1);

	self->online = online;
	self->online_data = user_data;
	self->config = config;
	self->store = store;
	self->policy = policy;
	self->device = g_object_ref (device);
	self->roster = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->reads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify) kith_pending_read_free);
	self->session = kith_session_new (config, gate, store, kith_device_get_id (device),
					  &kith_identity_callbacks, self);
	self->protocol.ctx = kith_session_get_ctx (self->session);
	self->protocol.device = device;
	self->protocol.bare_jid = kith_session_get_bare_jid (self->session);
	self->protocol.domain = config->domain;
	self->protocol.owner = config->owner[0] != '\0' ? config->owner : NULL;
	self->protocol.is_trusted = kith_identity_is_trusted_cb;
	self->protocol.user_data = self;
	g_object_set_data (G_OBJECT (device), "kith-identity", self);
	self->changed_id = g_signal_connect (device, "changed",
					     G_CALLBACK (kith_identity_changed_cb), self);
	return self;
}

void
kith_identity_free (KithIdentity *self)
{
	if (self == NULL)
		return;
	g_clear_signal_handler (&self->changed_id, self->device);
	g_object_set_data (G_OBJECT (self->device), "kith-identity", NULL);
	g_hash_table_unref (self->reads);
	g_hash_table_unref (self->roster);
	kith_session_free (self->session);
	g_object_unref (self->device);
	g_free (self);
}

void
kith_identity_start (KithIdentity *self)
{
	kith_session_start (self->session);
}

void
kith_identity_stop (KithIdentity *self, GCallback done, gpointer user_data)
{
	self->stopped = done;
	self->stopped_data = user_data;
	if (kith_session_is_online (self->session))
		kith_identity_send (self, kith_stanza_presence (kith_session_get_ctx (self->session),
								"unavailable", NULL, NULL));
	kith_session_stop (self->session);
}

KithSession *
kith_identity_get_session (KithIdentity *self)
{
	return self->session;
}

KithDevice *
kith_identity_get_device (KithIdentity *self)
{
	return self->device;
}
