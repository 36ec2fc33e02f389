/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "identity.h"

#include "driver.h"
#include "iot/protocol.h"
#include "iot/stanza.h"
#include "iot/subscription.h"
#include "parent.h"
#include "registry.h"

typedef struct {
	KithIdentity *identity; /* NULL once the identity is gone */
	KithRequest *request;
	gchar *key;     /* reads answered by IQ: requester "\x1f" seqnr */
	guint timer_id; /* a queued readout's start */
	gboolean cancelled;
	gboolean asking_parent; /* waiting for the parent's answer */
} KithOperation;

/* how far ahead a readout may be queued with 'when' */
#define KITH_MAX_QUEUE_DAYS 7

struct _KithIdentity {
	KithConfig *config;
	KithStore *store;
	KithPolicy *policy;
	KithDevice *device;
	KithSession *session;     /* client mode: the device's own stream */
	KithComponent *component; /* component mode: the stream all devices share */
	gboolean announced;       /* component mode: online on the component's stream */
	gchar *bare_jid;
	gchar *full_jid;
	KithProtocol protocol;
	GHashTable *roster;     /* bare JID -> KithSubState flags (GUINT_TO_POINTER) */
	GHashTable *operations; /* KithOperation in flight (owned) */
	GHashTable *reads;      /* requester "\x1f" seqnr -> KithOperation (an index) */
	gchar *roster_id;       /* id of our roster request: only its answer is the roster */
	GQueue early;           /* stanzas that came before the roster: judged once it is here */
	GHashTable *iqs;        /* id -> KithPendingIq: IQs we sent, awaiting their answer */
	guint iq_serial;
	gchar *owner;               /* the Owner of the config, or the one who claimed the device */
	GPtrArray *owner_resources; /* the owner's full JIDs while online */
	KithParent *parent;
	KithRegistry *registry;
	/* with a parent, the status line shows only the readings every friend may read */
	GHashTable *status_rights; /* bare JID -> KithStatusRight */
	GHashTable *status_asking; /* bare JID -> KithStatusRight: questions open */
	gchar *status_sent;        /* the status of the last presence sent */
	guint status_retry_id;
	guint status_retry_s;
	gulong changed_id;
	KithIdentityFunc stopped;
	gpointer stopped_data;
	KithIdentityFunc online;
	gpointer online_data;
};

/* what one friend may read of the status line, as the parent said */
typedef struct {
	KithIdentity *identity; /* NULL once the identity is gone */
	gchar *jid;
	gboolean known; /* the parent answered */
	gboolean allowed;
	gboolean joining;    /* accepted: the friendship waits for this answer */
	gboolean preapprove; /* ... and is a pre-approval (the parent recommended it) */
	GPtrArray *names;    /* the fields allowed (NULL: all asked for) */
} KithStatusRight;

#define KITH_STATUS_RETRY_FIRST_S 60
#define KITH_STATUS_RETRY_MAX_S 600

typedef struct {
	KithIdentity *identity;
	gchar *id;
	gchar *to;
	KithIqResultFunc done;
	gpointer user_data;
	GDestroyNotify destroy;
	guint timer_id;
} KithPendingIq;

static void kith_identity_component_send (KithIdentity *self, xmpp_stanza_t *stanza);
static void kith_identity_status_friends_changed (KithIdentity *self);

void
kith_identity_send (KithIdentity *self, xmpp_stanza_t *stanza)
{
	if (self->component != NULL)
		kith_identity_component_send (self, stanza);
	else
		kith_session_send (self->session, stanza);
	xmpp_stanza_release (stanza);
}

static guint
kith_identity_state (KithIdentity *self, const gchar *jid)
{
	return jid != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (self->roster, jid)) : 0;
}

/* a roster change; in component mode the roster is ours to keep */
static void
kith_identity_set_state (KithIdentity *self, const gchar *contact, guint state)
{
	g_autoptr (GError) error = NULL;
	/* contact may be the roster's own key, freed by the removal below */
	g_autofree gchar *jid = g_strdup (contact);
	guint was = kith_identity_state (self, jid);

	if (state == 0)
		g_hash_table_remove (self->roster, jid);
	else
		g_hash_table_insert (self->roster, g_strdup (jid), GUINT_TO_POINTER (state));
	if (self->component == NULL || state == was)
		return;
	g_debug ("%s: %s: %s -> %s", kith_device_get_id (self->device), jid,
	         kith_subscription_describe (was), kith_subscription_describe (state));
	if (!kith_store_set_roster (self->store, kith_device_get_id (self->device), jid, state,
	                            &error))
		g_warning ("%s: %s", kith_device_get_id (self->device), error->message);
	if ((state ^ was) & KITH_SUB_FROM)
		kith_identity_status_friends_changed (self);
}

static void
kith_pending_iq_free (KithPendingIq *pending)
{
	g_clear_handle_id (&pending->timer_id, g_source_remove);
	if (pending->destroy != NULL)
		pending->destroy (pending->user_data);
	g_free (pending->id);
	g_free (pending->to);
	g_free (pending);
}

static gboolean
kith_pending_iq_timeout_cb (gpointer user_data)
{
	KithPendingIq *pending = user_data;
	KithIdentity *self = pending->identity;

	pending->timer_id = 0;
	g_hash_table_steal (self->iqs, pending->id);
	pending->done (self, NULL, pending->user_data);
	kith_pending_iq_free (pending);
	return G_SOURCE_REMOVE;
}

void
kith_identity_send_iq (KithIdentity *self, xmpp_stanza_t *iq, guint timeout_ms,
                       KithIqResultFunc done, gpointer user_data, GDestroyNotify destroy)
{
	KithPendingIq *pending = g_new0 (KithPendingIq, 1);

	pending->identity = self;
	pending->id = g_strdup_printf ("kith-%u-%08x", ++self->iq_serial, g_random_int ());
	pending->to = g_strdup (xmpp_stanza_get_to (iq));
	pending->done = done;
	pending->user_data = user_data;
	pending->destroy = destroy;
	pending->timer_id = g_timeout_add (timeout_ms, kith_pending_iq_timeout_cb, pending);
	xmpp_stanza_set_id (iq, pending->id);
	g_hash_table_insert (self->iqs, pending->id, pending);
	kith_identity_send (self, iq);
}

/* the answer to an IQ we sent: only from the address we asked */
static gboolean
kith_identity_pending_iq_answer (KithIdentity *self, KithRequest *request)
{
	KithPendingIq *pending =
	        g_hash_table_lookup (self->iqs, request->id != NULL ? request->id : "");
	g_autofree gchar *from_bare = NULL;
	g_autofree gchar *to_bare = NULL;

	if (pending == NULL)
		return FALSE;
	from_bare = kith_jid_bare (request->from);
	to_bare = kith_jid_bare (pending->to);
	if (g_strcmp0 (request->from, pending->to) != 0 && g_strcmp0 (from_bare, to_bare) != 0) {
		g_info ("%s: ignoring an answer from %s to a question for %s",
		        kith_device_get_id (self->device), request->from, pending->to);
		return TRUE;
	}
	g_hash_table_steal (self->iqs, pending->id);
	pending->done (self, request->stanza, pending->user_data);
	kith_pending_iq_free (pending);
	return TRUE;
}

static gboolean
kith_identity_is_trusted_cb (const gchar *bare_jid, gpointer user_data)
{
	KithIdentity *self = user_data;
	return (kith_identity_state (self, bare_jid) & KITH_SUB_FROM) != 0;
}

/* -- the status line: with a parent, only what every friend may read ------------------ */

static void
kith_status_right_free (gpointer data)
{
	KithStatusRight *right = data;
	if (right->names != NULL)
		g_ptr_array_unref (right->names);
	g_free (right->jid);
	g_free (right);
}

static gboolean
kith_identity_has_status_fields (KithIdentity *self)
{
	GPtrArray *fields = kith_device_get_fields (self->device);
	for (guint i = 0; i < fields->len; i++) {
		if (((KithField *)g_ptr_array_index (fields, i))->in_status)
			return TRUE;
	}
	return FALSE;
}

/* the status fields every friend may read: NULL for all (no parent decides), else a list */
static GPtrArray *
kith_identity_status_fields (KithIdentity *self)
{
	GPtrArray *fields = kith_device_get_fields (self->device);
	GPtrArray *names;
	GHashTableIter iter;
	gpointer value;

	if (self->parent == NULL)
		return NULL;
	names = g_ptr_array_new ();
	/* who the friends are is not known yet (the roster is on its way): no readings */
	if (self->roster_id != NULL)
		return names;
	for (guint i = 0; i < fields->len; i++) {
		KithField *field = g_ptr_array_index (fields, i);
		if (field->in_status)
			g_ptr_array_add (names, field->name);
	}
	g_hash_table_iter_init (&iter, self->status_rights);
	while (g_hash_table_iter_next (&iter, NULL, &value) && names->len > 0) {
		KithStatusRight *right = value;
		/* a friend the parent has not answered for sees nothing: so nobody does */
		if (!right->known || !right->allowed) {
			g_ptr_array_set_size (names, 0);
			break;
		}
		for (guint i = names->len; i > 0; i--) {
			if (!kith_field_names_contain (right->names,
			                               g_ptr_array_index (names, i - 1)))
				g_ptr_array_remove_index (names, i - 1);
		}
	}
	return names;
}

static xmpp_stanza_t *
kith_identity_presence (KithIdentity *self)
{
	xmpp_stanza_t *presence = kith_stanza_presence (self->protocol.ctx, NULL, NULL, NULL);
	g_autoptr (GPtrArray) names = kith_identity_status_fields (self);
	g_autofree gchar *status = kith_device_format_status (self->device, names);

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
	g_autoptr (GPtrArray) names = NULL;
	g_autofree gchar *status = NULL;

	if (!kith_identity_is_online (self))
		return;
	names = kith_identity_status_fields (self);
	status = kith_device_format_status (self->device, names);
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

static void kith_identity_ask_status_rights (KithIdentity *self);
static void kith_identity_welcome (KithIdentity *self, const gchar *jid, gboolean preapprove);

static gboolean
kith_identity_status_retry_cb (gpointer user_data)
{
	KithIdentity *self = user_data;
	self->status_retry_id = 0;
	kith_identity_ask_status_rights (self);
	return G_SOURCE_REMOVE;
}

static void
kith_identity_status_answer_cb (gboolean allowed, GPtrArray *names, const gchar *reason,
                                gpointer user_data)
{
	KithStatusRight *asked = user_data;
	KithIdentity *self = asked->identity;
	KithStatusRight *right;

	if (self == NULL) {
		kith_status_right_free (asked);
		return;
	}
	g_hash_table_remove (self->status_asking, asked->jid);
	right = g_hash_table_lookup (self->status_rights, asked->jid);
	if (right != NULL && g_strcmp0 (reason, KITH_PARENT_UNAVAILABLE) == 0) {
		/* no answer: asked again later; meanwhile this friend sees no readings */
		if (self->status_retry_id == 0 && kith_identity_is_online (self)) {
			self->status_retry_id = g_timeout_add_seconds (
			        self->status_retry_s, kith_identity_status_retry_cb, self);
			self->status_retry_s =
			        MIN (self->status_retry_s * 2, KITH_STATUS_RETRY_MAX_S);
		}
	} else if (right != NULL) {
		right->known = TRUE;
		right->allowed = allowed;
		if (right->names != NULL)
			g_ptr_array_unref (right->names);
		right->names = names != NULL ? g_ptr_array_ref (names) : NULL;
		self->status_retry_s = KITH_STATUS_RETRY_FIRST_S;
	}
	kith_status_right_free (asked);
	kith_identity_update_status (self);
	if (right != NULL && right->joining) {
		g_autofree gchar *jid = g_strdup (right->jid);
		gboolean preapprove = right->preapprove;
		right->joining = FALSE;
		kith_identity_welcome (self, jid, preapprove);
	}
}

/* asks the parent what each friend without an answer may read of the status line (answered
 * from the cache when it answered before) */
static void
kith_identity_ask_status_rights (KithIdentity *self)
{
	GPtrArray *fields = kith_device_get_fields (self->device);
	g_autoptr (GList) jids = NULL;
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

	if (self->parent == NULL)
		return;
	for (guint i = 0; i < fields->len; i++) {
		KithField *field = g_ptr_array_index (fields, i);
		if (field->in_status)
			g_ptr_array_add (names, g_strdup (field->name));
	}
	if (names->len == 0)
		return;
	jids = g_hash_table_get_keys (self->status_rights);
	for (GList *l = jids; l != NULL; l = l->next) {
		KithStatusRight *right = g_hash_table_lookup (self->status_rights, l->data);
		KithStatusRight *asked;
		g_autoptr (KithRequest) request = NULL;

		if (right->known || g_hash_table_contains (self->status_asking, right->jid))
			continue;
		asked = g_new0 (KithStatusRight, 1);
		asked->identity = self;
		asked->jid = g_strdup (right->jid);
		g_hash_table_insert (self->status_asking, asked->jid, asked);
		request = g_new0 (KithRequest, 1);
		request->kind = KITH_REQUEST_READ;
		request->from = g_strdup (right->jid);
		request->flags = KITH_READ_MOMENTARY;
		request->field_names = g_ptr_array_ref (names);
		kith_parent_can_read (self->parent, request, kith_identity_status_answer_cb, asked);
	}
}

/* the owner, the parent and the device's own account need nobody's permission */
static gboolean
kith_identity_has_full_rights (KithIdentity *self, const gchar *bare_jid)
{
	if (self->owner != NULL && g_strcmp0 (bare_jid, self->owner) == 0)
		return TRUE;
	if (g_strcmp0 (bare_jid, self->bare_jid) == 0)
		return TRUE;
	return self->parent != NULL && kith_parent_is_parent (self->parent, bare_jid);
}

/* the friends changed: whoever sees the device now has an entry, the others lose theirs */
static void
kith_identity_status_friends_changed (KithIdentity *self)
{
	GHashTableIter iter;
	gpointer jid, value;

	if (self->parent == NULL)
		return;
	g_hash_table_iter_init (&iter, self->status_rights);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		KithStatusRight *right = value;
		if (!right->joining && ((kith_identity_state (self, jid) & KITH_SUB_FROM) == 0 ||
		                        kith_identity_has_full_rights (self, jid)))
			g_hash_table_iter_remove (&iter);
	}
	g_hash_table_iter_init (&iter, self->roster);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		KithStatusRight *right;
		if ((GPOINTER_TO_UINT (value) & KITH_SUB_FROM) == 0 ||
		    kith_identity_has_full_rights (self, jid) ||
		    g_hash_table_contains (self->status_rights, jid))
			continue;
		right = g_new0 (KithStatusRight, 1);
		right->jid = g_strdup (jid);
		g_hash_table_insert (self->status_rights, right->jid, right);
	}
	kith_identity_ask_status_rights (self);
	kith_identity_update_status (self);
}

/* the parent's answers were cleared: every friend is asked again */
static void
kith_identity_status_forget (KithIdentity *self)
{
	g_hash_table_remove_all (self->status_rights);
	kith_identity_status_friends_changed (self);
}

static void
kith_identity_send_subscription (KithIdentity *self, const gchar *type, const gchar *jid)
{
	kith_identity_send (self, kith_stanza_presence (self->protocol.ctx, type, NULL, jid));
}

static void
kith_identity_remember (KithIdentity *self, const gchar *jid, KithFriendDecision decision)
{
	g_autoptr (GError) error = NULL;
	if (!kith_store_set_friend (self->store, kith_device_get_id (self->device), jid, decision,
	                            &error))
		g_warning ("%s: %s", kith_device_get_id (self->device), error->message);
}

/* the friendship is granted: subscribed (or, preapprove, a pre-approval unless they see the
 * device already), and asking to see them too: friendship is mutual */
static void
kith_identity_welcome (KithIdentity *self, const gchar *jid, gboolean preapprove)
{
	guint state = kith_identity_state (self, jid);

	if (!preapprove || (state & KITH_SUB_FROM) == 0)
		kith_identity_send_subscription (self, "subscribed", jid);
	if ((state & (KITH_SUB_TO | KITH_SUB_PENDING_OUT)) == 0)
		kith_identity_send_subscription (self, "subscribe", jid);
	kith_identity_remember (self, jid, KITH_FRIEND_ACCEPTED);
}

/* accepted. With a parent, what the new friend may see of the status line is settled first
 * (asked, or from the cache), so that the presence the server hands a new friend never shows
 * more than it may read; then the friendship is granted */
static void
kith_identity_accept (KithIdentity *self, const gchar *jid, gboolean preapprove)
{
	g_autoptr (GPtrArray) all = NULL;
	KithStatusRight *right;

	if (self->parent == NULL || kith_identity_has_full_rights (self, jid) ||
	    !kith_identity_has_status_fields (self)) {
		kith_identity_welcome (self, jid, preapprove);
		return;
	}
	right = g_hash_table_lookup (self->status_rights, jid);
	if (right != NULL && right->known) {
		kith_identity_welcome (self, jid, preapprove);
		return;
	}
	if (right == NULL) {
		right = g_new0 (KithStatusRight, 1);
		right->jid = g_strdup (jid);
		g_hash_table_insert (self->status_rights, right->jid, right);
	}
	right->preapprove = right->joining ? right->preapprove && preapprove : preapprove;
	right->joining = TRUE;
	/* the answer (perhaps at once, from the cache) grants it */
	kith_identity_ask_status_rights (self);
}

static void
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
	xmpp_ctx_t *ctx = self->protocol.ctx;
	xmpp_stanza_t *iq, *query, *item;

	if (self->component != NULL) {
		/* what a server does for a roster remove: both directions end, the item goes */
		kith_identity_send_subscription (self, "unsubscribed", jid);
		kith_identity_send_subscription (self, "unsubscribe", jid);
		kith_identity_set_state (self, jid, 0);
		kith_identity_remember (self, jid, KITH_FRIEND_REMOVED);
		return;
	}
	iq = xmpp_iq_new (ctx, "set", "kith-roster-remove");
	query = kith_stanza_add_element (iq, "query", KITH_NS_ROSTER);
	item = kith_stanza_add_element (query, "item", NULL);
	xmpp_stanza_set_attribute (item, "jid", jid);
	xmpp_stanza_set_attribute (item, "subscription", "remove");
	/* a roster remove sends both unsubscribe and unsubscribed */
	kith_identity_send (self, iq);
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

static void
kith_identity_subscription (KithIdentity *self, KithRequest *request)
{
	guint state = kith_identity_state (self, request->jid);
	const gchar *device_id = kith_device_get_id (self->device);

	if (g_strcmp0 (request->type, "subscribe") == 0) {
		if ((state & KITH_SUB_FROM) != 0) {
			kith_identity_send_subscription (self, "subscribed", request->jid);
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

void
kith_identity_decide (KithIdentity *self, const gchar *jid, KithDecision decision)
{
	KithFriendDecision stored;

	/* a decision only answers a request that is still waiting */
	if (kith_store_get_friend (self->store, kith_device_get_id (self->device), jid, &stored) &&
	    stored != KITH_FRIEND_PENDING && decision != KITH_DECISION_ACCEPT)
		return;
	kith_identity_apply_decision (self, jid, decision);
}

void
kith_identity_befriend (KithIdentity *self, const gchar *jid)
{
	/* pre-approval: their request is accepted by the server without asking us */
	kith_identity_accept (self, jid, TRUE);
}

void
kith_identity_unfriend (KithIdentity *self, const gchar *jid)
{
	kith_identity_remove_friend (self, jid);
}

static void
kith_identity_roster (KithIdentity *self, KithRequest *request)
{
	guint state = 0;

	/* component mode: no server keeps a roster for us, and nobody else may push one */
	if (self->component != NULL)
		return;
	if (request->roster_remove) {
		g_hash_table_remove (self->roster, request->jid);
		return;
	}
	if (request->ask)
		state |= KITH_SUB_PENDING_OUT;
	if (g_strcmp0 (request->subscription, "to") == 0 ||
	    g_strcmp0 (request->subscription, "both") == 0)
		state |= KITH_SUB_TO;
	if (g_strcmp0 (request->subscription, "from") == 0 ||
	    g_strcmp0 (request->subscription, "both") == 0)
		state |= KITH_SUB_FROM;
	/* kept even as "none": the item exists on the server */
	g_hash_table_insert (self->roster, g_strdup (request->jid), GUINT_TO_POINTER (state));
}

static void
kith_identity_iq_response (KithIdentity *self, KithRequest *request)
{
	xmpp_stanza_t *query;
	g_autofree gchar *from_bare = kith_jid_bare (request->from);

	if (kith_identity_pending_iq_answer (self, request))
		return;
	/* only the server's answer to our own request is the roster: anyone can send a result */
	if (self->roster_id == NULL || g_strcmp0 (request->id, self->roster_id) != 0)
		return;
	if (from_bare != NULL && g_strcmp0 (from_bare, self->protocol.bare_jid) != 0 &&
	    g_strcmp0 (from_bare, self->protocol.domain) != 0) {
		g_info ("%s: ignoring a roster answer from %s", kith_device_get_id (self->device),
		        request->from);
		return;
	}
	g_clear_pointer (&self->roster_id, g_free);
	if (g_strcmp0 (request->type, "result") != 0) {
		g_warning ("%s: roster request failed", kith_device_get_id (self->device));
		return;
	}
	/* the server's roster is the truth after every (re)connect */
	g_hash_table_remove_all (self->roster);
	query = xmpp_stanza_get_child_by_ns (request->stanza, KITH_NS_ROSTER);
	for (xmpp_stanza_t *child = query != NULL ? xmpp_stanza_get_children (query) : NULL;
	     child != NULL; child = xmpp_stanza_get_next (child)) {
		g_autoptr (KithRequest) item = NULL;
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
	kith_identity_status_friends_changed (self);
}

/* an operation in flight: a readout (queued, or waiting for the bus) or a write */
static KithOperation *
kith_operation_new (KithIdentity *self, KithRequest *request)
{
	KithOperation *op = g_new0 (KithOperation, 1);
	op->identity = self;
	op->request = request;
	g_hash_table_add (self->operations, op);
	return op;
}

static void
kith_operation_free (KithOperation *op)
{
	if (op->identity != NULL) {
		g_hash_table_remove (op->identity->operations, op);
		if (op->key != NULL && g_hash_table_lookup (op->identity->reads, op->key) == op)
			g_hash_table_remove (op->identity->reads, op->key);
	}
	g_clear_handle_id (&op->timer_id, g_source_remove);
	kith_request_free (op->request);
	g_free (op->key);
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

static gboolean
kith_identity_queued_read_cb (gpointer user_data)
{
	KithOperation *op = user_data;
	KithIdentity *self = op->identity;

	op->timer_id = 0;
	kith_identity_send (self, kith_sensordata_started (&self->protocol, op->request));
	kith_driver_read (kith_device_get_driver (self->device), self->device,
	                  kith_identity_read_done_cb, op);
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
	if (self->owner != NULL && g_strcmp0 (from, self->owner) == 0)
		return FALSE;
	return g_strcmp0 (from, self->protocol.bare_jid) != 0 &&
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
		kith_parent_can_read (self->parent, request, kith_identity_can_read_cb, op);
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
	kith_driver_read (kith_device_get_driver (self->device), self->device,
	                  kith_identity_read_done_cb, op);
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
			kith_identity_send_error (self, request, "wait", "internal-server-error",
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
		kith_parent_can_control (self->parent, request, kith_identity_can_control_cb, op);
		return;
	}
	kith_identity_write_allowed (self, request);
}

static void
kith_identity_write_allowed (KithIdentity *self, KithRequest *request)
{
	KithOperation *op = kith_operation_new (self, request);
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
		KithFriendDecision stored;
		gboolean accept = g_strcmp0 (request->type, "accept") == 0;
		g_autofree gchar *jid = g_utf8_strdown (request->jid, -1);
		if (!kith_store_get_friend (self->store, device_id, jid, &stored) ||
		    stored != KITH_FRIEND_PENDING) {
			text = g_strdup_printf ("No friend request from %s is waiting.", jid);
		} else {
			kith_identity_apply_decision (
			        self, jid, accept ? KITH_DECISION_ACCEPT : KITH_DECISION_REFUSE);
			text = g_strdup_printf ("%s %s.", accept ? "Accepted" : "Refused", jid);
		}
	}
	kith_identity_send (self, kith_chat_reply (&self->protocol, request, text));
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
		kith_identity_write (self, request);
		return; /* owned by the write */
	case KITH_REQUEST_SUBSCRIPTION:
		kith_identity_subscription (self, request);
		break;
	case KITH_REQUEST_ROSTER:
		kith_identity_roster (self, request);
		kith_identity_status_friends_changed (self);
		break;
	case KITH_REQUEST_IQ_RESPONSE:
		kith_identity_iq_response (self, request);
		break;
	case KITH_REQUEST_DECISION:
		kith_identity_owner_decides (self, request);
		break;
	}
	kith_request_free (request);
}

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
kith_identity_process (KithIdentity *self, xmpp_stanza_t *stanza)
{
	g_autoptr (GPtrArray) out = g_ptr_array_new ();
	g_autoptr (GPtrArray) requests = g_ptr_array_new ();

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

#define KITH_IDENTITY_EARLY_MAX 256

static void
kith_identity_release_stanza (gpointer stanza)
{
	xmpp_stanza_release (stanza);
}

static void
kith_identity_stanza_cb (KithSession *session, xmpp_stanza_t *stanza, gpointer user_data)
{
	KithIdentity *self = user_data;
	gboolean answer = g_strcmp0 (xmpp_stanza_get_name (stanza), "iq") == 0 &&
	                  (g_strcmp0 (xmpp_stanza_get_type (stanza), "result") == 0 ||
	                   g_strcmp0 (xmpp_stanza_get_type (stanza), "error") == 0);
	xmpp_stanza_t *early;

	/* who is a friend is only known once the roster is here: requests wait for it */
	if (self->roster_id != NULL && !answer &&
	    g_queue_get_length (&self->early) < KITH_IDENTITY_EARLY_MAX) {
		g_queue_push_tail (&self->early, xmpp_stanza_clone (stanza));
		return;
	}
	kith_identity_process (self, stanza);
	while (self->roster_id == NULL && (early = g_queue_pop_head (&self->early)) != NULL) {
		kith_identity_process (self, early);
		xmpp_stanza_release (early);
	}
}

/* initial presence, then what the parent and the registry need to hear */
static void
kith_identity_came_online (KithIdentity *self)
{
	kith_device_status_changed (self->device);
	g_ptr_array_set_size (self->owner_resources, 0);
	kith_identity_status_friends_changed (self);
	kith_identity_send (self, kith_identity_presence (self));
	if (self->parent != NULL)
		kith_parent_online (self->parent);
	if (self->registry != NULL)
		kith_registry_online (self->registry);
	if (self->online != NULL)
		self->online (self, self->online_data);
}

static void
kith_identity_online_cb (KithSession *session, gpointer user_data)
{
	KithIdentity *self = user_data;
	xmpp_ctx_t *ctx = kith_session_get_ctx (session);
	xmpp_stanza_t *iq;

	g_queue_clear_full (&self->early, kith_identity_release_stanza);
	g_free (self->roster_id);
	self->roster_id =
	        g_strdup_printf ("kith-roster-%08x%08x", g_random_int (), g_random_int ());
	iq = xmpp_iq_new (ctx, "get", self->roster_id);

	/* roster first, then initial presence: the server then redelivers pending requests */
	kith_stanza_add_element (iq, "query", KITH_NS_ROSTER);
	kith_identity_send (self, iq);
	kith_identity_came_online (self);
}

static void
kith_identity_stopped_cb (KithSession *session, gpointer user_data)
{
	KithIdentity *self = user_data;
	if (self->stopped != NULL)
		self->stopped (self, self->stopped_data);
}

static const KithSessionCallbacks kith_identity_callbacks = {
	.online = kith_identity_online_cb,
	.stanza = kith_identity_stanza_cb,
	.stopped = kith_identity_stopped_cb,
};

KithIdentity *
kith_identity_new (KithConfig *config, KithStore *store, KithPolicy *policy, KithConnectGate *gate,
                   KithComponent *component, KithDevice *device, KithIdentityFunc online,
                   gpointer user_data)
{
	KithIdentity *self = g_new0 (KithIdentity, 1);

	self->online = online;
	self->online_data = user_data;
	self->config = config;
	self->store = store;
	self->policy = policy;
	self->device = g_object_ref (device);
	self->roster = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->operations = g_hash_table_new (g_direct_hash, g_direct_equal);
	self->reads = g_hash_table_new (g_str_hash, g_str_equal);
	self->bare_jid =
	        g_strdup_printf ("%s@%s", kith_device_get_id (device), config->device_domain);
	self->full_jid = g_strdup_printf ("%s/%s", self->bare_jid, config->resource);
	if (component != NULL) {
		self->component = component;
		self->protocol.ctx = kith_component_get_ctx (component);
	} else {
		self->session = kith_session_new (config, gate, store, kith_device_get_id (device),
		                                  &kith_identity_callbacks, self);
		self->protocol.ctx = kith_session_get_ctx (self->session);
	}
	self->protocol.device = device;
	self->protocol.bare_jid = self->bare_jid;
	self->protocol.domain = config->domain;
	self->iqs = g_hash_table_new (g_str_hash, g_str_equal);
	self->status_rights =
	        g_hash_table_new_full (g_str_hash, g_str_equal, NULL, kith_status_right_free);
	self->status_asking = g_hash_table_new (g_str_hash, g_str_equal);
	self->status_retry_s = KITH_STATUS_RETRY_FIRST_S;
	g_queue_init (&self->early);
	self->owner_resources = g_ptr_array_new_with_free_func (g_free);
	self->owner = config->owner[0] != '\0' ? g_strdup (config->owner) : NULL;
	self->protocol.owner = self->owner;
	self->protocol.is_trusted = kith_identity_is_trusted_cb;
	self->protocol.user_data = self;
	self->changed_id =
	        g_signal_connect (device, "changed", G_CALLBACK (kith_identity_changed_cb), self);
	if (config->policy == KITH_POLICY_PARENT)
		self->parent = kith_parent_new (self);
	if (kith_registry_wanted (self))
		self->registry = kith_registry_new (self);
	return self;
}

void
kith_identity_free (KithIdentity *self)
{
	if (self == NULL)
		return;
	g_clear_signal_handler (&self->changed_id, self->device);
	{
		/* questions still open die with us (their user data is freed, no answer runs) */
		g_autoptr (GList) iqs = g_hash_table_get_values (self->iqs);
		g_hash_table_steal_all (self->iqs);
		for (GList *l = iqs; l != NULL; l = l->next)
			kith_pending_iq_free (l->data);
	}
	{
		/* operations still in flight finish without us; queued ones just end */
		g_autoptr (GList) ops = g_hash_table_get_keys (self->operations);
		for (GList *l = ops; l != NULL; l = l->next) {
			KithOperation *op = l->data;
			op->identity = NULL;
			if (op->timer_id != 0 || op->asking_parent)
				kith_operation_free (op);
		}
	}
	{
		/* status questions still open: the parent goes too, no answer will come */
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init (&iter, self->status_asking);
		while (g_hash_table_iter_next (&iter, NULL, &value))
			kith_status_right_free (value);
		g_hash_table_unref (self->status_asking);
		g_hash_table_unref (self->status_rights);
		g_clear_handle_id (&self->status_retry_id, g_source_remove);
		g_free (self->status_sent);
	}
	g_hash_table_unref (self->reads);
	g_hash_table_unref (self->operations);
	g_free (self->roster_id);
	g_queue_clear_full (&self->early, kith_identity_release_stanza);
	g_hash_table_unref (self->iqs);
	g_ptr_array_unref (self->owner_resources);
	kith_parent_free (self->parent);
	kith_registry_free (self->registry);
	g_free (self->owner);
	g_hash_table_unref (self->roster);
	if (self->session != NULL)
		kith_session_free (self->session);
	g_free (self->bare_jid);
	g_free (self->full_jid);
	g_object_unref (self->device);
	g_free (self);
}

void
kith_identity_start (KithIdentity *self)
{
	/* component mode: the component's stream brings every device online */
	if (self->session != NULL)
		kith_session_start (self->session);
}

void
kith_identity_stop (KithIdentity *self, KithIdentityFunc done, gpointer user_data)
{
	self->stopped = done;
	self->stopped_data = user_data;
	if (kith_identity_is_online (self))
		kith_identity_send (
		        self, kith_stanza_presence (self->protocol.ctx, "unavailable", NULL, NULL));
	if (self->session != NULL) {
		kith_session_stop (self->session);
		return;
	}
	self->announced = FALSE;
	if (done != NULL)
		done (self, user_data);
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

KithStore *
kith_identity_get_store (KithIdentity *self)
{
	return self->store;
}

KithConfig *
kith_identity_get_config (KithIdentity *self)
{
	return self->config;
}

xmpp_ctx_t *
kith_identity_get_ctx (KithIdentity *self)
{
	return self->protocol.ctx;
}

const gchar *
kith_identity_get_id (KithIdentity *self)
{
	return kith_device_get_id (self->device);
}

const gchar *
kith_identity_get_bare_jid (KithIdentity *self)
{
	return self->bare_jid;
}

const gchar *
kith_identity_get_full_jid (KithIdentity *self)
{
	return self->full_jid;
}

gboolean
kith_identity_is_online (KithIdentity *self)
{
	if (self->component != NULL)
		return self->announced && kith_component_is_online (self->component);
	return kith_session_is_online (self->session);
}

KithParent *
kith_identity_get_parent (KithIdentity *self)
{
	return self->parent;
}

const gchar *
kith_identity_get_owner (KithIdentity *self)
{
	return self->owner;
}

void
kith_identity_set_owner (KithIdentity *self, const gchar *owner)
{
	/* the Owner of the configuration always stays */
	if (self->config->owner[0] != '\0')
		return;
	g_free (self->owner);
	self->owner = owner != NULL ? g_utf8_strdown (owner, -1) : NULL;
	self->protocol.owner = self->owner;
	g_ptr_array_set_size (self->owner_resources, 0);
}

const gchar *
kith_identity_get_owner_resource (KithIdentity *self)
{
	return self->owner_resources->len > 0 ? g_ptr_array_index (self->owner_resources, 0) : NULL;
}

/* -- component mode: the server's part of RFC 6121, done here -------------------------- */

/* presence of the given type (NULL: the current one) from the device to one address;
 * subscription answers come from the bare JID */
static void
kith_identity_presence_to (KithIdentity *self, const gchar *type, const gchar *to)
{
	g_autoptr (xmpp_stanza_t) presence =
	        type == NULL ? kith_identity_presence (self)
	                     : kith_stanza_presence (self->protocol.ctx, type, NULL, NULL);
	gboolean answer = kith_subscription_is_type (type);

	xmpp_stanza_set_from (presence, answer ? self->bare_jid : self->full_jid);
	xmpp_stanza_set_to (presence, to);
	kith_component_send (self->component, presence);
}

/* what the subscription tables tell the device to send jid (its presence goes to `to`, which
 * for a probe is the address that asked) */
static void
kith_identity_subscription_actions (KithIdentity *self, guint actions, const gchar *jid,
                                    const gchar *to)
{
	if (actions & KITH_SUB_SUBSCRIBED)
		kith_identity_presence_to (self, "subscribed", jid);
	if (actions & KITH_SUB_PRESENCE)
		kith_identity_presence_to (
		        self, kith_identity_is_online (self) ? NULL : "unavailable", to);
	if (actions & KITH_SUB_UNAVAILABLE)
		kith_identity_presence_to (self, "unavailable", jid);
	if (actions & KITH_SUB_UNSUBSCRIBED)
		kith_identity_presence_to (self, "unsubscribed", jid);
}

/* presence without an addressee goes to every contact who sees the device, and to those it
 * sent directed presence; available presence is paced, unavailable leaves at once */
static void
kith_identity_broadcast (KithIdentity *self, xmpp_stanza_t *presence)
{
	gboolean unavailable = g_strcmp0 (xmpp_stanza_get_type (presence), "unavailable") == 0;
	g_autoptr (GPtrArray) undirect = g_ptr_array_new_with_free_func (g_free);
	GHashTableIter iter;
	gpointer jid, value;

	g_hash_table_iter_init (&iter, self->roster);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		guint state = GPOINTER_TO_UINT (value);
		g_autoptr (xmpp_stanza_t) copy = NULL;

		if ((state & (KITH_SUB_FROM | KITH_SUB_DIRECTED)) == 0)
			continue;
		copy = xmpp_stanza_copy (presence);
		xmpp_stanza_set_from (copy, self->full_jid);
		xmpp_stanza_set_to (copy, jid);
		if (unavailable)
			kith_component_send (self->component, copy);
		else
			kith_component_send_paced (self->component, copy);
		if (unavailable && (state & KITH_SUB_DIRECTED))
			g_ptr_array_add (undirect, g_strdup (jid));
	}
	/* directed presence ends with the unavailable that followed it */
	for (guint i = 0; i < undirect->len; i++) {
		const gchar *contact = g_ptr_array_index (undirect, i);
		kith_identity_set_state (self, contact,
		                         kith_identity_state (self, contact) & ~KITH_SUB_DIRECTED);
	}
}

static void
kith_identity_component_subscription_out (KithIdentity *self, xmpp_stanza_t *stanza,
                                          const gchar *type, const gchar *jid)
{
	guint state = kith_identity_state (self, jid);
	guint actions = kith_subscription_outbound (type, &state);

	kith_identity_set_state (self, jid, state);
	if (actions & KITH_SUB_ROUTE) {
		/* subscription stanzas carry bare JIDs */
		xmpp_stanza_set_from (stanza, self->bare_jid);
		xmpp_stanza_set_to (stanza, jid);
		kith_component_send (self->component, stanza);
	}
	kith_identity_subscription_actions (self, actions, jid, jid);
}

/* every stanza the device sends in component mode: the server's duties first */
static void
kith_identity_component_send (KithIdentity *self, xmpp_stanza_t *stanza)
{
	const char *type = xmpp_stanza_get_type (stanza);
	g_autofree gchar *jid = NULL;

	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") != 0) {
		if (xmpp_stanza_get_from (stanza) == NULL)
			xmpp_stanza_set_from (stanza, self->full_jid);
		kith_component_send (self->component, stanza);
		return;
	}
	jid = kith_jid_bare (xmpp_stanza_get_to (stanza));
	if (kith_subscription_is_type (type)) {
		if (jid != NULL)
			kith_identity_component_subscription_out (self, stanza, type, jid);
		return;
	}
	if (g_strcmp0 (type, "probe") == 0) {
		xmpp_stanza_set_from (stanza, self->bare_jid);
		kith_component_send_paced (self->component, stanza);
		return;
	}
	if (type != NULL && g_strcmp0 (type, "unavailable") != 0) {
		if (xmpp_stanza_get_from (stanza) == NULL)
			xmpp_stanza_set_from (stanza, self->full_jid);
		kith_component_send (self->component, stanza);
		return;
	}
	if (jid == NULL) {
		kith_identity_broadcast (self, stanza);
		return;
	}
	/* directed presence: remembered, so that unavailable follows it on shutdown */
	{
		guint state = kith_identity_state (self, jid);
		if (type == NULL && (state & KITH_SUB_FROM) == 0)
			state |= KITH_SUB_DIRECTED;
		else if (type != NULL)
			state &= ~KITH_SUB_DIRECTED;
		kith_identity_set_state (self, jid, state);
	}
	xmpp_stanza_set_from (stanza, self->full_jid);
	kith_component_send (self->component, stanza);
}

/* a stanza for this device from the component's stream */
void
kith_identity_component_stanza (KithIdentity *self, xmpp_stanza_t *stanza)
{
	const char *from = xmpp_stanza_get_from (stanza);
	const char *type = xmpp_stanza_get_type (stanza);
	g_autofree gchar *jid = kith_jid_bare (from);
	const gchar *device_id = kith_device_get_id (self->device);

	if (jid == NULL)
		return; /* a component stream stanza always names its sender */
	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") == 0) {
		if (kith_subscription_is_type (type)) {
			guint state = kith_identity_state (self, jid);
			guint was = state;
			guint actions = kith_subscription_inbound (type, &state);

			kith_identity_set_state (self, jid, state);
			kith_identity_subscription_actions (self, actions, jid, jid);
			if ((actions & KITH_SUB_DELIVER) == 0) {
				g_info ("%s: %s from %s in state %s: handled", device_id, type, jid,
				        kith_subscription_describe (was));
				return;
			}
		} else if (g_strcmp0 (type, "probe") == 0) {
			/* answered to the address that asked (Prosody probes from full JIDs) */
			kith_identity_subscription_actions (
			        self, kith_subscription_probe (kith_identity_state (self, jid)),
			        jid, from);
			return;
		} else if (g_strcmp0 (type, "error") == 0) {
			g_info ("%s: presence to %s bounced", device_id, from);
			return;
		}
	}
	kith_identity_process (self, stanza);
}

/* the component's stream is up: the device announces itself */
void
kith_identity_component_online (KithIdentity *self)
{
	g_autoptr (GPtrArray) waiting = g_ptr_array_new_with_free_func (g_free);
	GHashTableIter iter;
	gpointer jid, value;

	g_autoptr (GPtrArray) asked = g_ptr_array_new_with_free_func (g_free);

	self->announced = TRUE;
	g_hash_table_iter_init (&iter, self->roster);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		if (GPOINTER_TO_UINT (value) & KITH_SUB_PENDING_IN)
			g_ptr_array_add (waiting, g_strdup (jid));
		if ((GPOINTER_TO_UINT (value) & (KITH_SUB_PENDING_OUT | KITH_SUB_TO)) ==
		    KITH_SUB_PENDING_OUT)
			g_ptr_array_add (asked, g_strdup (jid));
	}
	/* the owner's resources (the owner may be the parent) come from its presence */
	if (kith_identity_state (self, self->owner) & KITH_SUB_TO)
		kith_identity_send (self, kith_stanza_presence (self->protocol.ctx, "probe", NULL,
		                                                self->owner));
	kith_identity_came_online (self);
	/* the device's own requests are asked again (RFC 6121 allows it, a server ignores a
	 * duplicate): an answer that bounced while kithd was down is then given again */
	for (guint i = 0; i < asked->len; i++)
		kith_identity_send_subscription (self, "subscribe", g_ptr_array_index (asked, i));
	/* as a server redelivers friend requests at login, the undecided ones are judged again */
	for (guint i = 0; i < waiting->len; i++) {
		KithRequest *request = g_new0 (KithRequest, 1);
		request->kind = KITH_REQUEST_SUBSCRIPTION;
		request->type = g_strdup ("subscribe");
		request->jid = g_strdup (g_ptr_array_index (waiting, i));
		request->from = g_strdup (request->jid);
		kith_identity_run (self, request);
	}
}

void
kith_identity_component_offline (KithIdentity *self)
{
	self->announced = FALSE;
	g_ptr_array_set_size (self->owner_resources, 0);
}

void
kith_identity_load_roster (KithIdentity *self, const gchar *jid, guint state)
{
	if (state != 0)
		g_hash_table_insert (self->roster, g_strdup (jid), GUINT_TO_POINTER (state));
}

void
kith_identity_parent_cache_cleared (KithIdentity *self)
{
	kith_identity_status_forget (self);
}

gboolean
kith_identity_is_friend (KithIdentity *self, const gchar *bare_jid)
{
	if (self->owner != NULL && g_strcmp0 (bare_jid, self->owner) == 0)
		return TRUE;
	return (kith_identity_state (self, bare_jid) & KITH_SUB_FROM) != 0;
}
