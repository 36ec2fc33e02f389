/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "status-line.h"

#include "iot/subscription.h"

#define KITH_STATUS_RETRY_FIRST_S 60
#define KITH_STATUS_RETRY_MAX_S 600

/* what one friend may read of the status line, as the parent said */
typedef struct {
	KithStatusLine *line; /* NULL once the status line is gone */
	gchar *jid;
	gboolean known; /* the parent answered */
	gboolean allowed;
	gboolean joining;    /* accepted: the friendship waits for this answer */
	gboolean preapprove; /* ... and is a pre-approval (the parent recommended it) */
	GPtrArray *names;    /* the fields allowed (NULL: all asked for) */
} KithStatusRight;

struct _KithStatusLine {
	KithDevice *device;
	KithParent *parent;
	KithTransport *transport;
	KithStatusLineCallbacks callbacks;
	gpointer user_data;
	GHashTable *rights; /* bare JID -> KithStatusRight */
	GHashTable *asking; /* bare JID -> KithStatusRight: questions open */
	guint retry_id;
	guint retry_s;
};

static void
kith_status_right_free (gpointer data)
{
	KithStatusRight *right = data;
	if (right->names != NULL)
		g_ptr_array_unref (right->names);
	g_free (right->jid);
	g_free (right);
}

KithStatusLine *
kith_status_line_new (KithDevice *device, KithParent *parent, KithTransport *transport,
                      const KithStatusLineCallbacks *callbacks, gpointer user_data)
{
	KithStatusLine *self = g_new0 (KithStatusLine, 1);

	self->device = device;
	self->parent = parent;
	self->transport = transport;
	self->callbacks = *callbacks;
	self->user_data = user_data;
	self->rights =
	        g_hash_table_new_full (g_str_hash, g_str_equal, NULL, kith_status_right_free);
	self->asking = g_hash_table_new (g_str_hash, g_str_equal);
	self->retry_s = KITH_STATUS_RETRY_FIRST_S;
	return self;
}

void
kith_status_line_free (KithStatusLine *self)
{
	GHashTableIter iter;
	gpointer value;

	if (self == NULL)
		return;
	/* questions still open: their answers find nobody (each frees its record when it ends) */
	g_hash_table_iter_init (&iter, self->asking);
	while (g_hash_table_iter_next (&iter, NULL, &value))
		((KithStatusRight *)value)->line = NULL;
	g_hash_table_unref (self->asking);
	g_hash_table_unref (self->rights);
	g_clear_handle_id (&self->retry_id, g_source_remove);
	g_free (self);
}

void
kith_status_line_set_device (KithStatusLine *self, KithDevice *device)
{
	self->device = device;
}

/* the names of the device's status fields (borrowed strings) */
static GPtrArray *
kith_status_line_all (KithStatusLine *self)
{
	GPtrArray *fields = kith_device_get_fields (self->device);
	GPtrArray *names = g_ptr_array_new ();
	for (guint i = 0; i < fields->len; i++) {
		KithField *field = g_ptr_array_index (fields, i);
		if (field->in_status)
			g_ptr_array_add (names, field->name);
	}
	return names;
}

GPtrArray *
kith_status_line_fields (KithStatusLine *self)
{
	GPtrArray *names;
	GHashTableIter iter;
	gpointer value;

	if (self->parent == NULL)
		return NULL;
	/* who the friends are is not known yet (the roster is on its way): no readings */
	if (!kith_transport_roster_ready (self->transport))
		return g_ptr_array_new ();
	names = kith_status_line_all (self);
	g_hash_table_iter_init (&iter, self->rights);
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

static void kith_status_line_ask (KithStatusLine *self);

static gboolean
kith_status_line_retry_cb (gpointer user_data)
{
	KithStatusLine *self = user_data;
	self->retry_id = 0;
	kith_status_line_ask (self);
	return G_SOURCE_REMOVE;
}

/* a question's record, freed when the question ends: answered, or never (the device went) */
static void
kith_status_line_asked_free (gpointer data)
{
	KithStatusRight *asked = data;

	if (asked->line != NULL && g_hash_table_lookup (asked->line->asking, asked->jid) == asked)
		g_hash_table_remove (asked->line->asking, asked->jid);
	kith_status_right_free (asked);
}

static void
kith_status_line_answer_cb (gboolean allowed, GPtrArray *names, const gchar *reason,
                            gpointer user_data)
{
	KithStatusRight *asked = user_data;
	KithStatusLine *self = asked->line;
	KithStatusRight *right;

	if (self == NULL)
		return;
	g_hash_table_remove (self->asking, asked->jid);
	right = g_hash_table_lookup (self->rights, asked->jid);
	if (right != NULL && g_strcmp0 (reason, KITH_PARENT_UNAVAILABLE) == 0) {
		/* no answer: asked again later; meanwhile this friend sees no readings */
		if (self->retry_id == 0 && kith_transport_is_online (self->transport)) {
			self->retry_id = g_timeout_add_seconds (self->retry_s,
			                                        kith_status_line_retry_cb, self);
			self->retry_s = MIN (self->retry_s * 2, KITH_STATUS_RETRY_MAX_S);
		}
	} else if (right != NULL) {
		right->known = TRUE;
		right->allowed = allowed;
		if (right->names != NULL)
			g_ptr_array_unref (right->names);
		right->names = names != NULL ? g_ptr_array_ref (names) : NULL;
		self->retry_s = KITH_STATUS_RETRY_FIRST_S;
	}
	self->callbacks.changed (self->user_data);
	if (right != NULL && right->joining) {
		g_autofree gchar *jid = g_strdup (right->jid);
		gboolean preapprove = right->preapprove;
		right->joining = FALSE;
		self->callbacks.granted (jid, preapprove, self->user_data);
	}
}

/* asks the parent what each friend without an answer may read of the status line (answered
 * from the cache when it answered before) */
static void
kith_status_line_ask (KithStatusLine *self)
{
	g_autoptr (GPtrArray) all = kith_status_line_all (self);
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GList) jids = NULL;

	if (self->parent == NULL || all->len == 0)
		return;
	for (guint i = 0; i < all->len; i++)
		g_ptr_array_add (names, g_strdup (g_ptr_array_index (all, i)));
	jids = g_hash_table_get_keys (self->rights);
	for (GList *l = jids; l != NULL; l = l->next) {
		KithStatusRight *right = g_hash_table_lookup (self->rights, l->data);
		KithStatusRight *asked;
		g_autoptr (KithRequest) request = NULL;

		if (right == NULL || right->known ||
		    g_hash_table_contains (self->asking, right->jid))
			continue;
		asked = g_new0 (KithStatusRight, 1);
		asked->line = self;
		asked->jid = g_strdup (right->jid);
		g_hash_table_insert (self->asking, asked->jid, asked);
		request = g_new0 (KithRequest, 1);
		request->kind = KITH_REQUEST_READ;
		request->from = g_strdup (right->jid);
		request->flags = KITH_READ_MOMENTARY;
		request->field_names = g_ptr_array_ref (names);
		kith_parent_can_read (self->parent, request, kith_status_line_answer_cb, asked,
		                      kith_status_line_asked_free);
	}
}

void
kith_status_line_friends_changed (KithStatusLine *self)
{
	GHashTable *roster = kith_transport_get_roster (self->transport);
	GHashTableIter iter;
	gpointer jid, value;

	if (self->parent == NULL)
		return;
	g_hash_table_iter_init (&iter, self->rights);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		KithStatusRight *right = value;
		if (!right->joining &&
		    ((kith_transport_get_state (self->transport, jid) & KITH_SUB_FROM) == 0 ||
		     self->callbacks.full_rights (jid, self->user_data)))
			g_hash_table_iter_remove (&iter);
	}
	g_hash_table_iter_init (&iter, roster);
	while (g_hash_table_iter_next (&iter, &jid, &value)) {
		KithStatusRight *right;
		if ((GPOINTER_TO_UINT (value) & KITH_SUB_FROM) == 0 ||
		    self->callbacks.full_rights (jid, self->user_data) ||
		    g_hash_table_contains (self->rights, jid))
			continue;
		right = g_new0 (KithStatusRight, 1);
		right->jid = g_strdup (jid);
		g_hash_table_insert (self->rights, right->jid, right);
	}
	kith_status_line_ask (self);
	self->callbacks.changed (self->user_data);
}

void
kith_status_line_forget (KithStatusLine *self)
{
	g_hash_table_remove_all (self->rights);
	kith_status_line_friends_changed (self);
}

gboolean
kith_status_line_admit (KithStatusLine *self, const gchar *jid, gboolean preapprove)
{
	g_autoptr (GPtrArray) all = NULL;
	KithStatusRight *right;

	if (self->parent == NULL || self->callbacks.full_rights (jid, self->user_data))
		return TRUE;
	all = kith_status_line_all (self);
	if (all->len == 0)
		return TRUE;
	right = g_hash_table_lookup (self->rights, jid);
	if (right != NULL && right->known)
		return TRUE;
	if (right == NULL) {
		right = g_new0 (KithStatusRight, 1);
		right->jid = g_strdup (jid);
		g_hash_table_insert (self->rights, right->jid, right);
	}
	right->preapprove = right->joining ? right->preapprove && preapprove : preapprove;
	right->joining = TRUE;
	/* the answer (perhaps at once, from the cache) grants it */
	kith_status_line_ask (self);
	return FALSE;
}
