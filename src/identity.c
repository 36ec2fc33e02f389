/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "identity-private.h"

#include "driver.h"
#include "iot/stanza.h"
#include "iot/subscription.h"
#include "kith-error.h"

/*
 * One device's XMPP identity: its friends (RFC 6121 with the friendship policy or its parent),
 * its presence (readings in the status, or not answering), and the requests of its friends
 * (readout, control, chat) carried out on its bus. It speaks through a KithTransport and never
 * asks which one; its parent, registry and service discovery act for it through a KithAgent
 * and tell it what happened through their callbacks.
 */

void
kith_identity_send (KithIdentity *self, xmpp_stanza_t *stanza)
{
	kith_transport_send (self->transport, stanza);
}

static guint
kith_identity_state (KithIdentity *self, const gchar *jid)
{
	return kith_transport_get_state (self->transport, jid);
}

static gboolean
kith_identity_is_trusted_cb (const gchar *bare_jid, gpointer user_data)
{
	KithIdentity *self = user_data;
	return (kith_identity_state (self, bare_jid) & KITH_SUB_FROM) != 0;
}

/* the owner, the parent and the device's own account need nobody's permission */
gboolean
kith_identity_full_rights_cb (const gchar *bare_jid, gpointer user_data)
{
	KithIdentity *self = user_data;

	if (self->owner != NULL && g_strcmp0 (bare_jid, self->owner) == 0)
		return TRUE;
	if (g_strcmp0 (bare_jid, self->transport->bare_jid) == 0)
		return TRUE;
	return self->parent != NULL && kith_parent_is_parent (self->parent, bare_jid);
}

/* -- presence: readings, or not answering ----------------------------------------------- */

/* "not answering since 2026-12-03 14:02 UTC" */
static gchar *
kith_identity_silent_text (KithIdentity *self)
{
	g_autoptr (GDateTime) since = g_date_time_new_from_unix_utc (
	        kith_device_get_silent_since (self->device) / G_USEC_PER_SEC);
	g_autofree gchar *when =
	        since != NULL ? g_date_time_format (since, "%Y-%m-%d %H:%M") : g_strdup ("?");
	return g_strdup_printf ("not answering since %s UTC", when);
}

GError *
kith_identity_silent_error (KithIdentity *self)
{
	g_autofree gchar *text = kith_identity_silent_text (self);
	const gchar *reason = kith_device_get_silent_reason (self->device);
	return g_error_new (KITH_ERROR, KITH_ERROR_NOT_ANSWERING, "%s is %s%s%s",
	                    kith_device_get_id (self->device), text, reason != NULL ? ": " : "",
	                    reason != NULL ? reason : "");
}

/* what friends see: the readings they all may read, or "xa" with since when the device does
 * not answer (it is there, its bus is not: still reachable for its owner and parent) */
static gchar *
kith_identity_status_text (KithIdentity *self)
{
	g_autoptr (GPtrArray) names = NULL;

	if (!kith_device_is_answering (self->device))
		return kith_identity_silent_text (self);
	names = kith_status_line_fields (self->status_line);
	/* as of the last change that mattered: small moves since then are not news */
	return kith_device_format_published_status (self->device, names);
}

static xmpp_stanza_t *
kith_identity_presence (KithIdentity *self)
{
	xmpp_stanza_t *presence = kith_stanza_presence (self->protocol.ctx, NULL, NULL, NULL);
	g_autofree gchar *status = kith_identity_status_text (self);

	if (!kith_device_is_answering (self->device))
		kith_stanza_add_text_element (presence, "show", "xa");
	if (status[0] != '\0')
		kith_stanza_add_text_element (presence, "status", status);
	kith_stanza_add_text_element (presence, "priority", "0");
	g_free (self->status_sent);
	self->status_sent = g_steal_pointer (&status);
	return presence;
}

/* sends presence if what friends would see changed */
static void
kith_identity_update_status (KithIdentity *self)
{
	g_autofree gchar *status = NULL;

	if (!kith_identity_is_online (self))
		return;
	status = kith_identity_status_text (self);
	if (g_strcmp0 (status, self->status_sent) != 0)
		kith_identity_send (self, kith_identity_presence (self));
}

static void
kith_identity_changed_cb (KithDevice *device, gpointer user_data)
{
	KithIdentity *self = user_data;
	/* presence follows meaningful changes only, not every sample */
	if (kith_identity_is_online (self) && kith_device_status_changed (device))
		kith_identity_update_status (self);
}

static void
kith_identity_availability_cb (KithDevice *device, gpointer user_data)
{
	KithIdentity *self = user_data;

	if (kith_device_is_answering (device))
		g_message ("%s: answering again", kith_device_get_id (device));
	else
		g_message ("%s: not answering: %s", kith_device_get_id (device),
		           kith_device_get_silent_reason (device));
	kith_device_status_changed (device);
	kith_identity_update_status (self);
}

static void
kith_identity_status_changed_cb (gpointer user_data)
{
	kith_identity_update_status (user_data);
}

/* -- friendship ------------------------------------------------------------------------- */

static void
kith_identity_send_subscription (KithIdentity *self, const gchar *type, const gchar *jid)
{
	kith_identity_send (self, kith_stanza_presence (self->protocol.ctx, type, NULL, jid));
}

static gboolean
kith_identity_remember (KithIdentity *self, const gchar *jid, KithFriendDecision decision)
{
	g_autoptr (GError) error = NULL;
	if (!kith_store_set_friend (self->store, kith_device_get_id (self->device), jid, decision,
	                            &error)) {
		g_warning ("%s: %s", kith_device_get_id (self->device), error->message);
		return FALSE;
	}
	return TRUE;
}

/* the friendship is granted: subscribed (or, preapprove, a pre-approval unless they see the
 * device already), and asking to see them too: friendship is mutual */
static void
kith_identity_welcome (KithIdentity *self, const gchar *jid, gboolean preapprove)
{
	guint state = kith_identity_state (self, jid);

	/* stored first: a friendship the contact sees granted is never forgotten. When it cannot
	 * be stored (a full disk) the request stays unanswered; the contact may ask again */
	if (!kith_identity_remember (self, jid, KITH_FRIEND_ACCEPTED)) {
		g_warning ("%s: the friend request from %s is not answered: the friendship could "
		           "not be stored",
		           kith_device_get_id (self->device), jid);
		return;
	}
	if (!preapprove || (state & KITH_SUB_FROM) == 0)
		kith_identity_send_subscription (self, "subscribed", jid);
	if ((state & (KITH_SUB_TO | KITH_SUB_PENDING_OUT)) == 0)
		kith_identity_send_subscription (self, "subscribe", jid);
}

static void
kith_identity_granted_cb (const gchar *jid, gboolean preapprove, gpointer user_data)
{
	kith_identity_welcome (user_data, jid, preapprove);
}

/* accepted; what the new friend may see of the status line is settled first, so that the
 * presence a server hands a new friend never shows more than it may read */
static void
kith_identity_accept (KithIdentity *self, const gchar *jid, gboolean preapprove)
{
	if (kith_status_line_admit (self->status_line, jid, preapprove))
		kith_identity_welcome (self, jid, preapprove);
}

void
kith_identity_apply_decision (KithIdentity *self, const gchar *jid, KithDecision decision)
{
	g_info ("%s: friend request from %s: %s", kith_device_get_id (self->device), jid,
	        kith_decision_to_string (decision));
	switch (decision) {
	case KITH_DECISION_ACCEPT:
		kith_identity_accept (self, jid, FALSE);
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

static void
kith_identity_remove_friend (KithIdentity *self, const gchar *jid)
{
	kith_transport_remove_contact (self->transport, jid);
	kith_identity_remember (self, jid, KITH_FRIEND_REMOVED);
}

/* who decides a friend request: the owner and the parent are always welcome; then the
 * parent when there is one, else the local policy */
static KithDecision
kith_identity_judge (KithIdentity *self, const gchar *jid)
{
	if (self->owner != NULL && g_strcmp0 (jid, self->owner) == 0)
		return KITH_DECISION_ACCEPT;
	if (self->parent != NULL) {
		if (kith_parent_is_parent (self->parent, jid))
			return KITH_DECISION_ACCEPT;
		return kith_parent_is_friend (self->parent, jid);
	}
	return kith_policy_decide (self->policy, kith_device_get_id (self->device), jid, NULL,
	                           NULL);
}

/* the waiting list has room for one more request from jid (the owner and the parent are
 * never kept waiting); when it is full, newcomers are refused until it has room again */
static gboolean
kith_identity_may_wait (KithIdentity *self, const gchar *jid)
{
	g_autoptr (GPtrArray) pending = NULL;
	gint64 now;

	if (kith_identity_full_rights_cb (jid, self))
		return TRUE;
	pending = kith_store_list_friends (self->store, self->id, KITH_FRIEND_PENDING);
	if (pending->len < KITH_MAX_PENDING ||
	    g_ptr_array_find_with_equal_func (pending, jid, g_str_equal, NULL))
		return TRUE;
	now = g_get_monotonic_time ();
	if (self->pending_full_logged == 0 ||
	    now - self->pending_full_logged > 60 * G_USEC_PER_SEC) {
		g_message ("%s: %u friend requests are waiting for a decision already; refusing "
		           "newcomers (%s) until there is room",
		           self->id, pending->len, jid);
		self->pending_full_logged = now;
	}
	return FALSE;
}

void
kith_identity_subscription (KithIdentity *self, KithRequest *request)
{
	guint state = kith_identity_state (self, request->jid);
	const gchar *device_id = kith_device_get_id (self->device);

	/* a subscription flood costs a decision and a write each: one requester's is cut short
	 * (presence has no error to give; a server keeps an unanswered request) */
	if (kith_identity_admit (self, request->jid, FALSE) != KITH_LIMIT_OK) {
		g_debug ("%s: %s from %s: too many requests, ignored", device_id, request->type,
		         request->jid);
		return;
	}
	if (g_strcmp0 (request->type, "subscribe") == 0) {
		if ((state & KITH_SUB_FROM) != 0) {
			kith_identity_send_subscription (self, "subscribed", request->jid);
			return;
		}
		if (!kith_identity_may_wait (self, request->jid)) {
			kith_identity_send_subscription (self, "unsubscribed", request->jid);
			return;
		}
		kith_identity_apply_decision (self, request->jid,
		                              kith_identity_judge (self, request->jid));
	} else if (g_strcmp0 (request->type, "unsubscribe") == 0) {
		g_info ("%s: %s ended the friendship", device_id, request->jid);
		kith_identity_remove_friend (self, request->jid);
	} else {
		g_info ("%s: %s answered %s", device_id, request->jid, request->type);
	}
}

/* a decision answers only a request that is still waiting (the parent may say yes later) */
static void
kith_identity_decide (KithIdentity *self, const gchar *jid, KithDecision decision)
{
	KithFriendDecision stored;

	if (kith_store_get_friend (self->store, kith_device_get_id (self->device), jid, &stored) &&
	    stored != KITH_FRIEND_PENDING && decision != KITH_DECISION_ACCEPT)
		return;
	kith_identity_apply_decision (self, jid, decision);
}

static void
kith_identity_set_owner (KithIdentity *self, const gchar *owner)
{
	/* the Owner of the configuration always stays */
	if (self->config->owner[0] != '\0')
		return;
	g_free (self->owner);
	self->owner = owner != NULL ? g_utf8_strdown (owner, -1) : NULL;
	self->protocol.owner = self->owner;
	kith_transport_set_owner (self->transport, self->owner);
	g_ptr_array_set_size (self->owner_resources, 0);
}

/* -- what the parent and the registry tell the device ----------------------------------- */

static void
kith_identity_parent_decided_cb (const gchar *jid, KithDecision decision, gpointer user_data)
{
	kith_identity_decide (user_data, jid, decision);
}

static void
kith_identity_befriend_cb (const gchar *jid, gpointer user_data)
{
	/* pre-approval: their request is accepted by the server without asking us */
	kith_identity_accept (user_data, jid, TRUE);
}

static void
kith_identity_unfriend_cb (const gchar *jid, gpointer user_data)
{
	kith_identity_remove_friend (user_data, jid);
}

static void
kith_identity_parent_cleared_cb (gpointer user_data)
{
	KithIdentity *self = user_data;
	kith_status_line_forget (self->status_line);
}

static const KithParentCallbacks kith_identity_parent_callbacks = {
	.decided = kith_identity_parent_decided_cb,
	.befriend = kith_identity_befriend_cb,
	.unfriend = kith_identity_unfriend_cb,
	.cleared = kith_identity_parent_cleared_cb,
};

static void
kith_identity_claimed_cb (const gchar *owner, gpointer user_data)
{
	KithIdentity *self = user_data;

	kith_identity_set_owner (self, owner);
	/* a new trust relationship: what an earlier parent said no longer holds */
	if (self->parent != NULL)
		kith_parent_clear_cache (self->parent);
	kith_identity_accept (self, owner, TRUE);
}

static void
kith_identity_disowned_cb (const gchar *owner, gpointer user_data)
{
	KithIdentity *self = user_data;

	if (owner != NULL && g_strcmp0 (owner, self->config->owner) != 0)
		kith_identity_remove_friend (self, owner);
	kith_identity_set_owner (self, NULL);
	if (self->parent != NULL)
		kith_parent_clear_cache (self->parent);
}

static const KithRegistryCallbacks kith_identity_registry_callbacks = {
	.claimed = kith_identity_claimed_cb,
	.disowned = kith_identity_disowned_cb,
};

/* the owner's full JIDs, from its presence: a parent that is a person is asked there */
static void
kith_identity_track_owner (KithIdentity *self, xmpp_stanza_t *stanza)
{
	const char *from = xmpp_stanza_get_from (stanza);
	const char *type = xmpp_stanza_get_type (stanza);
	g_autofree gchar *bare = kith_jid_bare (from);
	guint index;

	if (self->owner == NULL || g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") != 0 ||
	    g_strcmp0 (bare, self->owner) != 0 || g_strcmp0 (bare, from) == 0)
		return;
	if (type == NULL) {
		if (!g_ptr_array_find_with_equal_func (self->owner_resources, from, g_str_equal,
		                                       NULL))
			g_ptr_array_add (self->owner_resources, g_strdup (from));
	} else if (g_strcmp0 (type, "unavailable") == 0 &&
	           g_ptr_array_find_with_equal_func (self->owner_resources, from, g_str_equal,
	                                             &index)) {
		g_ptr_array_remove_index (self->owner_resources, index);
	}
}

static void
kith_identity_stanza_cb (xmpp_stanza_t *stanza, gpointer user_data)
{
	KithIdentity *self = user_data;
	g_autoptr (GPtrArray) out = g_ptr_array_new ();
	g_autoptr (GPtrArray) requests = g_ptr_array_new ();
	const char *type = xmpp_stanza_get_type (stanza);

	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "iq") == 0 &&
	    (g_strcmp0 (type, "result") == 0 || g_strcmp0 (type, "error") == 0) &&
	    kith_iq_client_receive (self->iq, stanza))
		return;
	kith_identity_track_owner (self, stanza);
	if (self->parent != NULL && kith_parent_handle_stanza (self->parent, stanza))
		return;
	if (self->registry != NULL && kith_registry_handle_stanza (self->registry, stanza))
		return;
	kith_protocol_handle (&self->protocol, stanza, out, requests);
	for (guint i = 0; i < out->len; i++)
		kith_identity_send (self, g_ptr_array_index (out, i));
	for (guint i = 0; i < requests->len; i++)
		kith_identity_run (self, g_ptr_array_index (requests, i));
}

/* initial presence, then what the parent and the registry need to hear */
static void
kith_identity_online_cb (gpointer user_data)
{
	KithIdentity *self = user_data;

	kith_device_status_changed (self->device);
	g_ptr_array_set_size (self->owner_resources, 0);
	kith_status_line_friends_changed (self->status_line);
	kith_identity_send (self, kith_identity_presence (self));
	/* the owner's resources (the owner may be the parent) come from its presence */
	kith_transport_watch (self->transport, self->owner);
	if (self->parent != NULL)
		kith_parent_online (self->parent);
	if (self->registry != NULL)
		kith_registry_online (self->registry);
	if (self->online != NULL)
		self->online (self, self->online_data);
}

static void
kith_identity_offline_cb (gpointer user_data)
{
	KithIdentity *self = user_data;
	g_ptr_array_set_size (self->owner_resources, 0);
}

static void
kith_identity_roster_changed_cb (gpointer user_data)
{
	KithIdentity *self = user_data;
	kith_status_line_friends_changed (self->status_line);
}

static void
kith_identity_stopped_cb (gpointer user_data)
{
	KithIdentity *self = user_data;
	KithIdentityFunc done = self->stopped;

	self->stopped = NULL;
	if (done != NULL)
		done (self, self->stopped_data);
}

static const KithTransportCallbacks kith_identity_transport_callbacks = {
	.online = kith_identity_online_cb,
	.offline = kith_identity_offline_cb,
	.stanza = kith_identity_stanza_cb,
	.roster_changed = kith_identity_roster_changed_cb,
	.stopped = kith_identity_stopped_cb,
};

/* -- the agent: the device as its services see it --------------------------------------- */

static void
kith_identity_agent_send (gpointer owner, xmpp_stanza_t *stanza)
{
	kith_identity_send (owner, stanza);
}

static void
kith_identity_iq_send (xmpp_stanza_t *stanza, gpointer user_data)
{
	kith_identity_send (user_data, stanza);
}

static gboolean
kith_identity_agent_is_online (gpointer owner)
{
	return kith_identity_is_online (owner);
}

static const gchar *
kith_identity_agent_get_owner (gpointer owner)
{
	return ((KithIdentity *)owner)->owner;
}

static const gchar *
kith_identity_agent_get_owner_resource (gpointer owner)
{
	KithIdentity *self = owner;
	return self->owner_resources->len > 0 ? g_ptr_array_index (self->owner_resources, 0) : NULL;
}

static const KithStatusLineCallbacks kith_identity_status_line_callbacks = {
	.full_rights = kith_identity_full_rights_cb,
	.changed = kith_identity_status_changed_cb,
	.granted = kith_identity_granted_cb,
};

static void
kith_identity_bind_device (KithIdentity *self, KithDevice *device)
{
	self->device = g_object_ref (device);
	self->agent.device = device;
	self->protocol.device = device;
	self->changed_id =
	        g_signal_connect (device, "changed", G_CALLBACK (kith_identity_changed_cb), self);
	self->availability_id = g_signal_connect (device, "availability-changed",
	                                          G_CALLBACK (kith_identity_availability_cb), self);
}

static void
kith_identity_unbind_device (KithIdentity *self)
{
	g_clear_signal_handler (&self->changed_id, self->device);
	g_clear_signal_handler (&self->availability_id, self->device);
	g_clear_object (&self->device);
}

KithIdentity *
kith_identity_new (KithConfig *config, KithStore *store, KithHistory *history, KithPolicy *policy,
                   KithTransport *transport, KithDevice *device, KithIdentityFunc online,
                   gpointer user_data)
{
	KithIdentity *self = g_new0 (KithIdentity, 1);
	g_autofree gchar *claimed = NULL;

	self->online = online;
	self->online_data = user_data;
	self->config = config;
	self->store = store;
	self->history = history;
	self->policy = policy;
	self->transport = transport;
	self->id = g_strdup (kith_device_get_id (device));
	kith_identity_requests_init (self);
	self->owner_resources = g_ptr_array_new_with_free_func (g_free);
	self->owner = config->owner[0] != '\0' ? g_strdup (config->owner) : NULL;
	kith_identity_bind_device (self, device);
	self->iq = kith_iq_client_new (self->id, kith_identity_iq_send, self);
	self->protocol.ctx = kith_transport_get_ctx (transport);
	self->protocol.bare_jid = transport->bare_jid;
	self->protocol.domain = config->domain;
	self->protocol.owner = self->owner;
	self->protocol.is_trusted = kith_identity_is_trusted_cb;
	self->protocol.user_data = self;
	self->agent = (KithAgent){
		.config = config,
		.store = store,
		.device = device,
		.id = self->id,
		.bare_jid = transport->bare_jid,
		.ctx = kith_transport_get_ctx (transport),
		.iq = self->iq,
		.send = kith_identity_agent_send,
		.is_online = kith_identity_agent_is_online,
		.get_owner = kith_identity_agent_get_owner,
		.get_owner_resource = kith_identity_agent_get_owner_resource,
		.owner = self,
	};
	kith_transport_set_owner (transport, self->owner);
	kith_transport_set_callbacks (transport, &kith_identity_transport_callbacks, self);
	if (config->policy == KITH_POLICY_PARENT)
		self->parent =
		        kith_parent_new (&self->agent, &kith_identity_parent_callbacks, self);
	self->status_line = kith_status_line_new (device, self->parent, transport,
	                                          &kith_identity_status_line_callbacks, self);
	if (kith_registry_wanted (config, store, kith_device_get_id (device)))
		self->registry =
		        kith_registry_new (&self->agent, &kith_identity_registry_callbacks, self);
	/* a claimed device knows its owner from the last run */
	claimed = kith_registry_get_claimed_owner (store, kith_device_get_id (device));
	if (claimed != NULL)
		kith_identity_set_owner (self, claimed);
	return self;
}

void
kith_identity_free (KithIdentity *self)
{
	if (self == NULL)
		return;
	/* questions still open die with us (their user data is freed, no answer runs) */
	kith_iq_client_free (self->iq);
	kith_identity_requests_clear (self);
	kith_status_line_free (self->status_line);
	g_ptr_array_unref (self->owner_resources);
	kith_parent_free (self->parent);
	kith_registry_free (self->registry);
	g_free (self->owner);
	g_free (self->status_sent);
	/* the transport may outlive us (the router holds it): nothing of ours may reach us */
	kith_transport_set_callbacks (self->transport, &(KithTransportCallbacks){ 0 }, NULL);
	kith_transport_unref (self->transport);
	kith_identity_unbind_device (self);
	g_free (self->id);
	g_free (self);
}

void
kith_identity_start (KithIdentity *self)
{
	kith_transport_start (self->transport);
}

void
kith_identity_stop (KithIdentity *self, KithIdentityFunc done, gpointer user_data)
{
	self->stopped = done;
	self->stopped_data = user_data;
	if (kith_identity_is_online (self))
		kith_identity_send (
		        self, kith_stanza_presence (self->protocol.ctx, "unavailable", NULL, NULL));
	kith_transport_stop (self->transport);
}

void
kith_identity_set_device (KithIdentity *self, KithDevice *device)
{
	g_autoptr (KithDevice) old = g_object_ref (self->device);

	if (device == old)
		return;
	kith_identity_unbind_device (self);
	kith_identity_bind_device (self, device);
	kith_status_line_set_device (self->status_line, device);
	/* values and what friends last saw carry over: no presence change for nothing */
	kith_device_adopt_values (device, old);
	kith_identity_update_status (self);
}

KithDevice *
kith_identity_get_device (KithIdentity *self)
{
	return self->device;
}

KithTransport *
kith_identity_get_transport (KithIdentity *self)
{
	return self->transport;
}

xmpp_ctx_t *
kith_identity_get_ctx (KithIdentity *self)
{
	return self->protocol.ctx;
}

const gchar *
kith_identity_get_id (KithIdentity *self)
{
	return self->id;
}

const gchar *
kith_identity_get_bare_jid (KithIdentity *self)
{
	return self->transport->bare_jid;
}

gboolean
kith_identity_is_online (KithIdentity *self)
{
	return kith_transport_is_online (self->transport);
}

/* g_ptr_array_sort() hands the comparison pointers to the elements. */
static gint
compare_jids (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const gchar *const *)a, *(const gchar *const *)b);
}

GPtrArray *
kith_identity_get_friends (KithIdentity *self)
{
	GPtrArray *friends = g_ptr_array_new_with_free_func (g_free);
	GHashTableIter iter;
	gpointer jid, value;

	g_hash_table_iter_init (&iter, kith_transport_get_roster (self->transport));
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		if (GPOINTER_TO_UINT (value) & KITH_SUB_FROM)
			g_ptr_array_add (friends, g_strdup (jid));
	}
	g_ptr_array_sort (friends, compare_jids);
	return friends;
}

const gchar *
kith_identity_get_owner (KithIdentity *self)
{
	return self->owner;
}
