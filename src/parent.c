/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "parent.h"

#include <string.h>

#include "discover.h"
#include "iot/stanza.h"

#define KITH_NS_PROVISIONING "urn:xmpp:iot:provisioning"
#define KITH_PARENT_RETRY_FIRST_S 5
#define KITH_PARENT_RETRY_MAX_S 300

struct _KithParent {
	const KithAgent *agent;
	KithParentCallbacks callbacks;
	gpointer user_data;
	gchar *configured; /* Provisioning= */
	gchar *discovered; /* found by service discovery */
	gboolean discovering;
	GHashTable *asking;  /* bare JIDs whose isFriend question is open */
	GHashTable *waiting; /* bare JIDs whose friend request waits for the parent */
	guint retry_id;
	guint retry_s;
};

typedef struct {
	KithParent *parent;
	gchar *kind;     /* isFriend, canRead, canControl */
	gchar *jid;      /* whom the question is about */
	gchar *question; /* the cache key */
	KithParentAnswerFunc done;
	gpointer user_data;
	GDestroyNotify destroy; /* of user_data */
} KithQuestion;

static void kith_parent_schedule_retry (KithParent *self);

static const gchar *
kith_parent_device_id (KithParent *self)
{
	return self->agent->id;
}

static void
kith_question_free (gpointer data)
{
	KithQuestion *question = data;
	if (question->destroy != NULL)
		question->destroy (question->user_data);
	g_free (question->kind);
	g_free (question->jid);
	g_free (question->question);
	g_free (question);
}

KithParent *
kith_parent_new (const KithAgent *agent, const KithParentCallbacks *callbacks, gpointer user_data)
{
	KithParent *self = g_new0 (KithParent, 1);
	KithConfig *config = agent->config;

	self->agent = agent;
	self->callbacks = *callbacks;
	self->user_data = user_data;
	self->configured = config->provisioning[0] != '\0' ? g_strdup (config->provisioning) : NULL;
	self->asking = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->waiting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->retry_s = KITH_PARENT_RETRY_FIRST_S;
	return self;
}

void
kith_parent_free (KithParent *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->retry_id, g_source_remove);
	g_hash_table_unref (self->asking);
	g_hash_table_unref (self->waiting);
	g_free (self->configured);
	g_free (self->discovered);
	g_free (self);
}

/* where to ask: the configured or discovered server, else the owner while online */
static const gchar *
kith_parent_address (KithParent *self)
{
	if (self->configured != NULL)
		return self->configured;
	if (self->discovered != NULL)
		return self->discovered;
	return kith_agent_get_owner_resource (self->agent);
}

gboolean
kith_parent_is_parent (KithParent *self, const gchar *bare_jid)
{
	const gchar *server = self->configured != NULL ? self->configured : self->discovered;
	g_autofree gchar *server_bare = kith_jid_bare (server);

	if (bare_jid == NULL)
		return FALSE;
	if (server_bare != NULL)
		return g_strcmp0 (bare_jid, server_bare) == 0;
	/* without a provisioning server the owner is the parent */
	return g_strcmp0 (bare_jid, kith_agent_get_owner (self->agent)) == 0;
}

void
kith_parent_clear_cache (KithParent *self)
{
	g_autoptr (GError) error = NULL;
	if (!kith_store_cache_clear (self->agent->store, kith_parent_device_id (self), NULL,
	                             &error))
		g_warning ("%s: %s", kith_parent_device_id (self), error->message);
	if (self->callbacks.cleared != NULL)
		self->callbacks.cleared (self->user_data);
}

/* -- asking ---------------------------------------------------------------------------- */

static gboolean
kith_parent_answer_allows (xmpp_stanza_t *answer)
{
	gboolean result = FALSE;
	return answer != NULL &&
	       kith_parse_boolean (xmpp_stanza_get_attribute (answer, "result"), &result) && result;
}

/* the names an answer restricts to (<field>/<parameter> children), NULL for all */
static GPtrArray *
kith_parent_answer_names (xmpp_stanza_t *answer, const gchar *element)
{
	GPtrArray *names = NULL;
	for (xmpp_stanza_t *child = xmpp_stanza_get_children (answer); child != NULL;
	     child = xmpp_stanza_get_next (child)) {
		const char *name = xmpp_stanza_get_attribute (child, "name");
		if (!xmpp_stanza_is_tag (child) || name == NULL ||
		    g_strcmp0 (xmpp_stanza_get_name (child), element) != 0)
			continue;
		if (names == NULL)
			names = g_ptr_array_new_with_free_func (g_free);
		g_ptr_array_add (names, g_strdup (name));
	}
	return names;
}

/* an answer's <node> children must name this device, if there are any */
static gboolean
kith_parent_answer_has_node (KithParent *self, xmpp_stanza_t *answer)
{
	gboolean any = FALSE;
	for (xmpp_stanza_t *child = xmpp_stanza_get_children (answer); child != NULL;
	     child = xmpp_stanza_get_next (child)) {
		if (!xmpp_stanza_is_tag (child) ||
		    g_strcmp0 (xmpp_stanza_get_name (child), "node") != 0)
			continue;
		any = TRUE;
		if (g_strcmp0 (xmpp_stanza_get_attribute (child, "nodeId"),
		               kith_parent_device_id (self)) == 0)
			return TRUE;
	}
	return !any;
}

/* answers a question from an answer element (fresh or cached) */
static void
kith_parent_deliver (KithQuestion *question, xmpp_stanza_t *answer)
{
	KithParent *self = question->parent;
	gboolean allowed = kith_parent_answer_allows (answer);
	g_autoptr (GPtrArray) names = NULL;

	if (g_strcmp0 (question->kind, "isFriend") == 0) {
		g_hash_table_remove (self->waiting, question->jid);
		self->callbacks.decided (question->jid,
		                         allowed ? KITH_DECISION_ACCEPT : KITH_DECISION_REFUSE,
		                         self->user_data);
		return;
	}
	if (allowed && !kith_parent_answer_has_node (self, answer))
		allowed = FALSE;
	if (allowed)
		names = kith_parent_answer_names (
		        answer, g_strcmp0 (question->kind, "canRead") == 0 ? "field" : "parameter");
	question->done (allowed, names, allowed ? NULL : "not allowed by the provisioning server",
	                question->user_data);
}

static void
kith_parent_unanswered (KithQuestion *question, const gchar *why)
{
	KithParent *self = question->parent;

	g_message ("%s: no answer from the provisioning server to %s about %s: %s",
	           kith_parent_device_id (self), question->kind, question->jid, why);
	if (g_strcmp0 (question->kind, "isFriend") == 0) {
		/* the request waits and is asked again: not refused for good */
		g_hash_table_add (self->waiting, g_strdup (question->jid));
		kith_parent_schedule_retry (self);
		return;
	}
	question->done (FALSE, NULL, KITH_PARENT_UNAVAILABLE, question->user_data);
}

static void
kith_parent_answer_cb (xmpp_stanza_t *reply, gpointer user_data)
{
	KithQuestion *question = user_data;
	KithParent *self = question->parent;
	g_autofree gchar *response_name = g_strconcat (question->kind, "Response", NULL);
	xmpp_stanza_t *answer;
	g_autoptr (GError) error = NULL;
	g_autofree gchar *text = NULL;

	if (g_strcmp0 (question->kind, "isFriend") == 0)
		g_hash_table_remove (self->asking, question->jid);
	if (reply == NULL) {
		kith_parent_unanswered (question, "timed out");
		return;
	}
	answer = xmpp_stanza_get_child_by_name_and_ns (reply, response_name, KITH_NS_PROVISIONING);
	if (g_strcmp0 (xmpp_stanza_get_type (reply), "result") != 0 || answer == NULL) {
		kith_parent_unanswered (question, "an error or an empty answer");
		return;
	}
	/* it answers again: whatever still waits may be asked now */
	self->retry_s = KITH_PARENT_RETRY_FIRST_S;
	text = kith_stanza_to_string (answer);
	if (!kith_store_cache_put (self->agent->store, kith_parent_device_id (self),
	                           question->question, question->jid, text, &error))
		g_warning ("%s: %s", kith_parent_device_id (self), error->message);
	kith_parent_deliver (question, answer);
	if (g_hash_table_size (self->waiting) > 0)
		kith_parent_schedule_retry (self);
}

/* answers from the cache, or asks the parent; consumes the question element */
static void
kith_parent_ask (KithParent *self, KithQuestion *question, xmpp_stanza_t *element)
{
	const KithAgent *agent = self->agent;
	g_autofree gchar *cached = kith_store_cache_get (agent->store, kith_parent_device_id (self),
	                                                 question->question);
	const gchar *address = kith_parent_address (self);
	xmpp_stanza_t *iq;

	if (cached != NULL) {
		xmpp_stanza_t *answer = xmpp_stanza_new_from_string (agent->ctx, cached);
		xmpp_stanza_release (element);
		if (answer != NULL) {
			kith_parent_deliver (question, answer);
			xmpp_stanza_release (answer);
			kith_question_free (question);
			return;
		}
		element = NULL;
	}
	if (element == NULL || address == NULL || !kith_agent_is_online (agent)) {
		if (element != NULL)
			xmpp_stanza_release (element);
		if (g_strcmp0 (question->kind, "isFriend") == 0)
			g_hash_table_remove (self->asking, question->jid);
		kith_parent_unanswered (question, address == NULL ? "no provisioning server known"
		                                                  : "offline");
		kith_question_free (question);
		return;
	}
	iq = xmpp_iq_new (agent->ctx, "get", "kith");
	xmpp_stanza_set_to (iq, address);
	xmpp_stanza_add_child_ex (iq, element, 0);
	kith_iq_client_send (agent->iq, iq, agent->config->provisioning_timeout_ms,
	                     kith_parent_answer_cb, question, kith_question_free);
}

static KithQuestion *
kith_question_new (KithParent *self, const gchar *kind, const gchar *jid, GString *key)
{
	KithQuestion *question = g_new0 (KithQuestion, 1);
	question->parent = self;
	question->kind = g_strdup (kind);
	question->jid = g_strdup (jid);
	question->question = g_strdup (key->str);
	return question;
}

KithDecision
kith_parent_is_friend (KithParent *self, const gchar *jid)
{
	g_autoptr (GString) key = g_string_new ("isFriend\x1f");
	xmpp_stanza_t *element;
	g_autofree gchar *cached = NULL;

	g_string_append (key, jid);
	cached = kith_store_cache_get (self->agent->store, kith_parent_device_id (self), key->str);
	if (cached != NULL) {
		xmpp_stanza_t *answer = xmpp_stanza_new_from_string (self->agent->ctx, cached);
		gboolean allowed = kith_parent_answer_allows (answer);
		if (answer != NULL)
			xmpp_stanza_release (answer);
		return allowed ? KITH_DECISION_ACCEPT : KITH_DECISION_REFUSE;
	}
	/* one question per friend at a time */
	if (g_hash_table_contains (self->asking, jid))
		return KITH_DECISION_PENDING;
	g_hash_table_add (self->asking, g_strdup (jid));
	element = kith_stanza_element (self->agent->ctx, "isFriend", KITH_NS_PROVISIONING);
	xmpp_stanza_set_attribute (element, "jid", jid);
	kith_parent_ask (self, kith_question_new (self, "isFriend", jid, key), element);
	return KITH_DECISION_PENDING;
}

static const struct {
	const gchar *name;
	KithReadFlags flag;
} kith_parent_read_flags[] = {
	{ "momentary", KITH_READ_MOMENTARY }, { "status", KITH_READ_STATUS },
	{ "identity", KITH_READ_IDENTITY },   { "computed", KITH_READ_COMPUTED },
	{ "peak", KITH_READ_PEAK },           { "historical", KITH_READ_HISTORICAL },
};

/* the parts every question shares: jid, tokens, nodes; also written into the cache key */
static xmpp_stanza_t *
kith_parent_question_element (KithParent *self, const gchar *kind, const gchar *jid,
                              const KithRequest *request, GString *key)
{
	xmpp_stanza_t *element = kith_stanza_element (self->agent->ctx, kind, KITH_NS_PROVISIONING);

	g_string_append_printf (key, "%s\x1f%s", kind, jid);
	xmpp_stanza_set_attribute (element, "jid", jid);
	for (guint i = 0; i < G_N_ELEMENTS (request->tokens); i++) {
		if (request->tokens[i] == NULL)
			continue;
		xmpp_stanza_set_attribute (element, kith_request_token_names[i],
		                           request->tokens[i]);
		g_string_append_printf (key, "\x1f%s=%s", kith_request_token_names[i],
		                        request->tokens[i]);
	}
	for (guint i = 0; request->node_ids != NULL && i < request->node_ids->len; i++) {
		const gchar *node = g_ptr_array_index (request->node_ids, i);
		xmpp_stanza_set_attribute (kith_stanza_add_element (element, "node", NULL),
		                           "nodeId", node);
		g_string_append_printf (key, "\x1fnode=%s", node);
	}
	return element;
}

void
kith_parent_can_read (KithParent *self, const KithRequest *request, KithParentAnswerFunc done,
                      gpointer user_data, GDestroyNotify destroy)
{
	g_autofree gchar *jid = kith_jid_bare (request->from);
	g_autoptr (GString) key = g_string_new (NULL);
	xmpp_stanza_t *element = kith_parent_question_element (self, "canRead", jid, request, key);
	KithQuestion *question;

	if (request->flags == KITH_READ_ALL) {
		xmpp_stanza_set_attribute (element, "all", "true");
		g_string_append (key, "\x1f"
		                      "all");
	} else {
		for (guint i = 0; i < G_N_ELEMENTS (kith_parent_read_flags); i++) {
			if ((request->flags & kith_parent_read_flags[i].flag) == 0)
				continue;
			xmpp_stanza_set_attribute (element, kith_parent_read_flags[i].name, "true");
			g_string_append_printf (key, "\x1f%s", kith_parent_read_flags[i].name);
		}
	}
	for (guint i = 0; request->field_names != NULL && i < request->field_names->len; i++) {
		const gchar *name = g_ptr_array_index (request->field_names, i);
		xmpp_stanza_set_attribute (kith_stanza_add_element (element, "field", NULL), "name",
		                           name);
		g_string_append_printf (key,
		                        "\x1f"
		                        "field=%s",
		                        name);
	}
	question = kith_question_new (self, "canRead", jid, key);
	question->done = done;
	question->user_data = user_data;
	question->destroy = destroy;
	kith_parent_ask (self, question, element);
}

void
kith_parent_can_control (KithParent *self, const KithRequest *request, KithParentAnswerFunc done,
                         gpointer user_data, GDestroyNotify destroy)
{
	g_autofree gchar *jid = kith_jid_bare (request->from);
	g_autoptr (GString) key = g_string_new (NULL);
	xmpp_stanza_t *element =
	        kith_parent_question_element (self, "canControl", jid, request, key);
	KithQuestion *question;

	for (guint i = 0; request->params != NULL && i < request->params->len; i++) {
		KithParam *param = g_ptr_array_index (request->params, i);
		xmpp_stanza_set_attribute (kith_stanza_add_element (element, "parameter", NULL),
		                           "name", param->name);
		g_string_append_printf (key, "\x1fparameter=%s", param->name);
	}
	question = kith_question_new (self, "canControl", jid, key);
	question->done = done;
	question->user_data = user_data;
	question->destroy = destroy;
	kith_parent_ask (self, question, element);
}

/* -- waiting friend requests ----------------------------------------------------------- */

static gboolean
kith_parent_retry_cb (gpointer user_data)
{
	KithParent *self = user_data;
	g_autoptr (GList) jids = g_hash_table_get_keys (self->waiting);

	self->retry_id = 0;
	self->retry_s = MIN (self->retry_s * 2, KITH_PARENT_RETRY_MAX_S);
	for (GList *l = jids; l != NULL; l = l->next) {
		g_autofree gchar *jid = g_strdup (l->data);
		KithDecision decision;
		g_hash_table_remove (self->waiting, jid);
		decision = kith_parent_is_friend (self, jid);
		/* answered from the cache meanwhile (a recommendation, another question) */
		if (decision != KITH_DECISION_PENDING)
			self->callbacks.decided (jid, decision, self->user_data);
	}
	return G_SOURCE_REMOVE;
}

static void
kith_parent_schedule_retry (KithParent *self)
{
	if (self->retry_id != 0 || !kith_agent_is_online (self->agent))
		return;
	self->retry_id = g_timeout_add_seconds (self->retry_s, kith_parent_retry_cb, self);
}

/* -- finding the provisioning server --------------------------------------------------- */

static void
kith_parent_ask_waiting (KithParent *self)
{
	g_clear_handle_id (&self->retry_id, g_source_remove);
	self->retry_s = KITH_PARENT_RETRY_FIRST_S;
	if (g_hash_table_size (self->waiting) > 0)
		kith_parent_retry_cb (self);
}

static void
kith_parent_discovered_cb (const gchar *jid, gpointer user_data)
{
	KithParent *self = user_data;

	self->discovering = FALSE;
	if (jid == NULL) {
		g_info ("%s: no provisioning server on %s; the owner decides once there is one",
		        kith_parent_device_id (self), self->agent->config->domain);
		return;
	}
	self->discovered = g_strdup (jid);
	g_message ("%s: provisioning server found: %s", kith_parent_device_id (self), jid);
	kith_parent_ask_waiting (self);
}

void
kith_parent_online (KithParent *self)
{
	g_autoptr (GPtrArray) pending = NULL;

	if (self->configured == NULL && self->discovered == NULL && !self->discovering) {
		self->discovering = TRUE;
		kith_discover_service (self->agent, KITH_NS_PROVISIONING, kith_parent_discovered_cb,
		                       self);
	}
	/* friend requests that waited (also across a restart) are asked again */
	pending = kith_store_list_friends (self->agent->store, kith_parent_device_id (self),
	                                   KITH_FRIEND_PENDING);
	for (guint i = 0; i < pending->len; i++)
		g_hash_table_add (self->waiting, g_strdup (g_ptr_array_index (pending, i)));
	kith_parent_ask_waiting (self);
}

/* -- what the parent tells the device -------------------------------------------------- */

static void
kith_parent_recommendation (KithParent *self, xmpp_stanza_t *element)
{
	const char *name = xmpp_stanza_get_name (element);
	g_autofree gchar *jid = kith_jid_bare (xmpp_stanza_get_attribute (element, "jid"));
	g_autoptr (GError) error = NULL;

	if (g_strcmp0 (name, "clearCache") == 0) {
		kith_parent_clear_cache (self);
		g_message ("%s: provisioning answers cleared by the provisioning server",
		           kith_parent_device_id (self));
		return;
	}
	if (jid == NULL)
		return;
	if (g_ascii_strcasecmp (name, "friend") == 0) {
		g_autofree gchar *key = g_strconcat ("isFriend\x1f", jid, NULL);
		g_message ("%s: the provisioning server recommends %s as a friend",
		           kith_parent_device_id (self), jid);
		/* its later subscription is accepted without asking again */
		if (!kith_store_cache_put (
		            self->agent->store, kith_parent_device_id (self), key, jid,
		            "<isFriendResponse xmlns='" KITH_NS_PROVISIONING "' result='true'/>",
		            &error))
			g_warning ("%s: %s", kith_parent_device_id (self), error->message);
		self->callbacks.befriend (jid, self->user_data);
	} else if (g_ascii_strcasecmp (name, "unfriend") == 0) {
		g_message ("%s: the provisioning server ends the friendship with %s",
		           kith_parent_device_id (self), jid);
		if (!kith_store_cache_clear (self->agent->store, kith_parent_device_id (self), jid,
		                             &error))
			g_warning ("%s: %s", kith_parent_device_id (self), error->message);
		self->callbacks.unfriend (jid, self->user_data);
	}
}

gboolean
kith_parent_handle_stanza (KithParent *self, xmpp_stanza_t *stanza)
{
	const char *name = xmpp_stanza_get_name (stanza);
	const char *type = xmpp_stanza_get_type (stanza);
	xmpp_stanza_t *element = xmpp_stanza_get_child_by_ns (stanza, KITH_NS_PROVISIONING);
	g_autofree gchar *from = kith_jid_bare (xmpp_stanza_get_from (stanza));
	gboolean trusted;

	if (element == NULL || g_strcmp0 (type, "error") == 0 || g_strcmp0 (type, "result") == 0)
		return FALSE;
	trusted = kith_parent_is_parent (self, from);
	if (g_strcmp0 (name, "message") == 0) {
		if (!trusted) {
			g_info ("%s: ignoring %s from %s: not the provisioning server",
			        kith_parent_device_id (self), xmpp_stanza_get_name (element), from);
			return TRUE;
		}
		kith_parent_recommendation (self, element);
		return TRUE;
	}
	if (g_strcmp0 (name, "iq") != 0 ||
	    g_strcmp0 (xmpp_stanza_get_name (element), "clearCache") != 0)
		return FALSE;
	if (xmpp_stanza_get_id (stanza) == NULL)
		return TRUE;
	if (!trusted) {
		kith_agent_send (self->agent,
		                 kith_stanza_error (self->agent->ctx, stanza, "cancel", "forbidden",
		                                    "only the provisioning server may do this",
		                                    NULL));
		return TRUE;
	}
	kith_parent_clear_cache (self);
	{
		xmpp_stanza_t *reply = kith_stanza_iq_result (self->agent->ctx, stanza);
		kith_stanza_add_element (reply, "clearCacheResponse", KITH_NS_PROVISIONING);
		kith_agent_send (self->agent, reply);
	}
	g_message ("%s: provisioning answers cleared by the provisioning server",
	           kith_parent_device_id (self));
	return TRUE;
}
