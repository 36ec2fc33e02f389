/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/component.h"

#include <string.h>

#include "xmpp/link.h"
#include "xmpp/resolve.h"
#include "xmpp/source.h"

#define KITH_COMPONENT_OUTBOX_MAX 65536
#define KITH_COMPONENT_PACED_MAX 262144
/* one link carries every device, and retrying it costs the server one TCP connection: after a
 * long outage the devices are back within 15 s, not two minutes */
#define KITH_COMPONENT_BACKOFF_MAX_S 15
#define KITH_COMPONENT_STABLE_S 30
#define KITH_COMPONENT_PACE_MS 20
/* paced stanzas wait while libstrophe holds this many unwritten ones (the server is slow) */
#define KITH_COMPONENT_SEND_QUEUE_MAX 256

typedef enum {
	KITH_COMPONENT_IDLE,
	KITH_COMPONENT_WAITING, /* backoff timer or the address lookup */
	KITH_COMPONENT_CONNECTING,
	KITH_COMPONENT_ONLINE,
	KITH_COMPONENT_STOPPING,
	KITH_COMPONENT_STOPPED,
} KithComponentState;

struct _KithComponent {
	KithConfig *config;
	KithComponentCallbacks callbacks;
	gpointer user_data;

	xmpp_log_t log;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	KithXmppSource *source;
	GCancellable *resolving;
	gchar *address; /* where the last attempt went, for the log */
	int pending_fd;
	gboolean primed;
	gboolean disposing;
	KithComponentState state;
	guint failures;
	gint64 online_since;
	guint timer_id;
	KithOutbox outbox; /* stanzas sent while the link was down */
	KithOutbox paced;  /* presence waiting for its turn */
	guint pace_id;
	gdouble tokens;
	gint64 tokens_at;
	guint64 received;
	guint64 sent;
};

static guint kith_component_schedule (KithComponent *self, gboolean backoff);
static void kith_component_retry (KithComponent *self, const gchar *why);

/* the component whose socket is being connected (libstrophe's socket callback has no user data) */
static KithComponent *kith_component_connecting;

static void
kith_component_log_cb (void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
	KithComponent *self = userdata;

	/* the handshake is answered from inside libstrophe: the dispatch must write it */
	if (level == XMPP_LEVEL_DEBUG && self->source != NULL && g_str_has_prefix (msg, "RECV:"))
		kith_xmpp_source_count_rx (self->source);
	switch (level) {
	case XMPP_LEVEL_ERROR: {
		g_autofree gchar *redacted = kith_link_redact (msg);
		g_message ("component %s: libstrophe %s: %s", self->config->component_domain, area,
		           redacted != NULL ? redacted : msg);
		break;
	}
	case XMPP_LEVEL_WARN: {
		g_autofree gchar *redacted = kith_link_redact (msg);
		g_info ("component %s: libstrophe %s: %s", self->config->component_domain, area,
		        redacted != NULL ? redacted : msg);
		break;
	}
	default: {
		g_autofree gchar *redacted = NULL;
		/* every stanza passes here: format nothing nobody reads */
		if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
			return;
		redacted = kith_link_redact (msg);
		g_debug ("component %s: libstrophe %s: %s", self->config->component_domain, area,
		         redacted != NULL ? redacted : msg);
		break;
	}
	}
}

static int
kith_component_sockopt_cb (xmpp_conn_t *conn, void *sock)
{
	KithComponent *self = kith_component_connecting;

	return kith_link_setup_socket (conn, sock, "component",
	                               self != NULL ? &self->pending_fd : NULL);
}

static int
kith_component_refuse_socket_cb (xmpp_conn_t *conn, void *sock)
{
	(void)conn;
	(void)sock;
	return -1;
}

/*
 * libstrophe 0.12 allocates the stream management state only in xmpp_connect_client(), yet reads
 * it for every stanza a component receives (and on disconnect): the first stanza would crash.
 * A client connect whose socket is refused before it connects allocates that state and leaves
 * the connection disconnected; the state survives every later reconnect.
 */
static void
kith_component_prime (KithComponent *self)
{
	if (self->primed)
		return;
	xmpp_conn_set_sockopt_callback (self->conn, kith_component_refuse_socket_cb);
	(void)xmpp_connect_client (self->conn, "127.0.0.1", 1, NULL, NULL);
	xmpp_conn_set_sockopt_callback (self->conn, kith_component_sockopt_cb);
	self->primed = TRUE;
}

static void
kith_component_write (KithComponent *self, const gchar *text)
{
	xmpp_send_raw (self->conn, text, strlen (text));
	kith_xmpp_source_note_sent (self->source);
	self->sent++;
}

/* the pacing: a token bucket of PresenceRate per second, refilled every few milliseconds;
 * returns TRUE while presence still waits */
static gboolean
kith_component_drain (KithComponent *self)
{
	gint64 now = g_get_monotonic_time ();
	gdouble rate = self->config->presence_rate;
	gchar *text;

	self->tokens += rate * (gdouble)(now - self->tokens_at) / G_USEC_PER_SEC;
	self->tokens = MIN (self->tokens, MAX (rate * KITH_COMPONENT_PACE_MS / 1000.0, 1.0) * 5);
	self->tokens_at = now;
	while (self->state == KITH_COMPONENT_ONLINE && self->tokens >= 1.0 &&
	       xmpp_conn_send_queue_len (self->conn) < KITH_COMPONENT_SEND_QUEUE_MAX &&
	       (text = g_queue_pop_head (&self->paced.queue)) != NULL) {
		kith_component_write (self, text);
		g_free (text);
		self->tokens -= 1.0;
	}
	if (kith_outbox_length (&self->paced) > 0 && self->state == KITH_COMPONENT_ONLINE)
		return TRUE;
	self->paced.overflowed = FALSE;
	return FALSE;
}

static gboolean
kith_component_pace_cb (gpointer user_data)
{
	KithComponent *self = user_data;

	if (kith_component_drain (self))
		return G_SOURCE_CONTINUE;
	self->pace_id = 0;
	return G_SOURCE_REMOVE;
}

static void
kith_component_pace (KithComponent *self)
{
	if (self->pace_id != 0 || self->state != KITH_COMPONENT_ONLINE)
		return;
	self->tokens_at = g_get_monotonic_time ();
	self->tokens = MAX (self->tokens, 1.0);
	/* the first ones go at once, the rest on the timer */
	if (kith_component_drain (self))
		self->pace_id =
		        g_timeout_add (KITH_COMPONENT_PACE_MS, kith_component_pace_cb, self);
}

static void
kith_component_finish_stop (KithComponent *self)
{
	self->state = KITH_COMPONENT_STOPPED;
	if (self->callbacks.stopped != NULL)
		self->callbacks.stopped (self, self->user_data);
}

static const gchar *
kith_component_stream_error_hint (xmpp_stream_error_t *stream_error)
{
	if (stream_error == NULL)
		return NULL;
	switch (stream_error->type) {
	case XMPP_SE_NOT_AUTHORIZED:
		return "the server refused ComponentSecret";
	case XMPP_SE_HOST_UNKNOWN:
		return "the server has no component of that name (ComponentDomain)";
	case XMPP_SE_CONFLICT:
		return "another component is connected with that name";
	case XMPP_SE_SYSTEM_SHUTDOWN:
		return "the server is shutting down";
	default:
		return "the server closed the stream with an error";
	}
}

static void
kith_component_disconnected (KithComponent *self, int error, xmpp_stream_error_t *stream_error)
{
	KithComponentState was = self->state;
	const gchar *hint = kith_component_stream_error_hint (stream_error);

	kith_xmpp_source_clear_fd (self->source);
	kith_xmpp_source_set_settled (self->source, TRUE);
	g_clear_handle_id (&self->pace_id, g_source_remove);
	kith_outbox_rescue (&self->outbox, self->conn, self->ctx);
	if (was == KITH_COMPONENT_STOPPING) {
		kith_component_finish_stop (self);
		return;
	}
	/* presence is announced again on the next link */
	kith_outbox_clear (&self->paced);
	if (was == KITH_COMPONENT_ONLINE) {
		g_message ("component %s: disconnected%s%s", self->config->component_domain,
		           hint != NULL ? ": " : (error != 0 ? ": " : ""),
		           hint != NULL ? hint : (error != 0 ? g_strerror (error) : ""));
		if (g_get_monotonic_time () - self->online_since >
		    KITH_COMPONENT_STABLE_S * G_USEC_PER_SEC)
			self->failures = 0;
		self->state = KITH_COMPONENT_WAITING;
		if (self->callbacks.offline != NULL)
			self->callbacks.offline (self, self->user_data);
	} else if (hint != NULL) {
		g_warning ("component %s: %s", self->config->component_domain, hint);
	} else {
		g_autofree gchar *why = g_strdup_printf (
		        "no stream with %s%s%s",
		        self->address != NULL ? self->address : "the server",
		        error != 0 ? ": " : "", error != 0 ? g_strerror (error) : "");
		kith_component_retry (self, why);
		return;
	}
	kith_component_schedule (self, TRUE);
}

static void
kith_component_conn_cb (xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                        xmpp_stream_error_t *stream_error, void *userdata)
{
	KithComponent *self = userdata;

	(void)conn;
	if (self->disposing)
		return;
	switch (status) {
	case XMPP_CONN_CONNECT:
		if (self->state == KITH_COMPONENT_STOPPING) {
			xmpp_disconnect (self->conn);
			kith_xmpp_source_set_settled (self->source, FALSE);
			break;
		}
		/* failures count on until the link has stayed up a while: a server that takes
		 * the stream and drops it at once is not hammered */
		self->state = KITH_COMPONENT_ONLINE;
		self->online_since = g_get_monotonic_time ();
		kith_xmpp_source_set_settled (self->source, TRUE);
		g_message ("component %s: online", self->config->component_domain);
		/* what waited goes first, then what the devices say on coming online */
		self->sent += kith_outbox_flush (&self->outbox, self->conn);
		kith_xmpp_source_note_sent (self->source);
		if (self->callbacks.online != NULL)
			self->callbacks.online (self, self->user_data);
		kith_component_pace (self);
		break;
	case XMPP_CONN_DISCONNECT:
	case XMPP_CONN_FAIL:
		kith_component_disconnected (self, error, stream_error);
		break;
	default:
		break;
	}
}

static int
kith_component_stanza_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
	KithComponent *self = userdata;

	(void)conn;
	kith_xmpp_source_count_rx (self->source);
	self->received++;
	if (self->state == KITH_COMPONENT_ONLINE && self->callbacks.stanza != NULL)
		self->callbacks.stanza (self, stanza, self->user_data);
	return 1;
}

static void
kith_component_resolved_cb (const gchar *address, guint16 port, const GError *error,
                            gpointer user_data)
{
	KithComponent *self = user_data;
	int rc;

	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* being freed */
	g_clear_object (&self->resolving);
	if (self->state == KITH_COMPONENT_STOPPING) {
		kith_component_finish_stop (self);
		return;
	}
	if (address == NULL) {
		g_autofree gchar *why =
		        g_strdup_printf ("cannot find the server: %s",
		                         error != NULL ? error->message : "no address");
		kith_component_retry (self, why);
		return;
	}
	kith_component_prime (self);
	g_free (self->address);
	self->address = g_strdup_printf ("%s:%u", address, port);
	self->pending_fd = -1;
	self->state = KITH_COMPONENT_CONNECTING;
	g_info ("component %s: connecting to %s", self->config->component_domain, self->address);
	kith_component_connecting = self;
	rc = xmpp_connect_component (self->conn, address, port, kith_component_conn_cb, self);
	kith_component_connecting = NULL;
	if (rc != XMPP_EOK || self->pending_fd < 0) {
		g_autofree gchar *why = g_strdup_printf ("cannot connect to %s:%u", address, port);
		kith_component_retry (self, why);
		return;
	}
	kith_xmpp_source_set_fd (self->source, self->pending_fd);
	kith_xmpp_source_set_settled (self->source, FALSE);
}

static gboolean
kith_component_timer_cb (gpointer user_data)
{
	KithComponent *self = user_data;
	const gchar *server = self->config->server;

	self->timer_id = 0;
	g_clear_object (&self->resolving);
	self->resolving = g_cancellable_new ();
	/* a component connects to a host, never through the client SRV record */
	if (server[0] == '\0')
		server = self->config->domain;
	kith_resolve_async (server, self->config->domain, self->config->port, self->resolving,
	                    kith_component_resolved_cb, self);
	return G_SOURCE_REMOVE;
}

static guint
kith_component_schedule (KithComponent *self, gboolean backoff)
{
	guint delay_ms =
	        backoff ? kith_link_backoff_ms (&self->failures, KITH_COMPONENT_BACKOFF_MAX_S) : 0;

	g_clear_handle_id (&self->timer_id, g_source_remove);
	self->state = KITH_COMPONENT_WAITING;
	self->timer_id = g_timeout_add (delay_ms, kith_component_timer_cb, self);
	return delay_ms;
}

/* the one link of every device failed to come up: say so, and when it is tried again */
static void
kith_component_retry (KithComponent *self, const gchar *why)
{
	guint delay_ms = kith_component_schedule (self, TRUE);
	g_message ("component %s: %s; trying again in %.1f s", self->config->component_domain, why,
	           delay_ms / 1000.0);
}

KithComponent *
kith_component_new (KithConfig *config, const KithComponentCallbacks *callbacks, gpointer user_data)
{
	KithComponent *self = g_new0 (KithComponent, 1);

	self->config = config;
	self->callbacks = *callbacks;
	self->user_data = user_data;
	self->pending_fd = -1;
	kith_outbox_init (&self->outbox, KITH_COMPONENT_OUTBOX_MAX, "offline for long");
	kith_outbox_init (&self->paced, KITH_COMPONENT_PACED_MAX,
	                  "presence waiting (PresenceRate too low for this many devices)");
	self->log.handler = kith_component_log_cb;
	self->log.userdata = self;
	self->ctx = xmpp_ctx_new (NULL, &self->log);
	self->conn = xmpp_conn_new (self->ctx);
	xmpp_conn_set_jid (self->conn, config->component_domain);
	xmpp_conn_set_pass (self->conn, config->component_secret);
	xmpp_conn_set_flags (self->conn, XMPP_CONN_FLAG_DISABLE_TLS);
	xmpp_conn_set_sockopt_callback (self->conn, kith_component_sockopt_cb);
	xmpp_handler_add (self->conn, kith_component_stanza_cb, NULL, NULL, NULL, self);
	self->source = kith_xmpp_source_new (self->ctx, self->conn);
	{
		g_autofree gchar *name = g_strdup_printf ("component %s", config->component_domain);
		kith_xmpp_source_set_name (self->source, name);
	}
	return self;
}

void
kith_component_free (KithComponent *self)
{
	if (self == NULL)
		return;
	self->disposing = TRUE;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	g_clear_handle_id (&self->pace_id, g_source_remove);
	if (self->resolving != NULL)
		g_cancellable_cancel (self->resolving);
	g_clear_object (&self->resolving);
	xmpp_conn_release (self->conn);
	kith_xmpp_source_free (self->source);
	xmpp_ctx_free (self->ctx);
	kith_outbox_clear (&self->outbox);
	kith_outbox_clear (&self->paced);
	g_free (self->address);
	g_free (self);
}

void
kith_component_start (KithComponent *self)
{
	if (self->state != KITH_COMPONENT_IDLE)
		return;
	kith_component_schedule (self, FALSE);
}

void
kith_component_send (KithComponent *self, xmpp_stanza_t *stanza)
{
	if (self->state == KITH_COMPONENT_ONLINE) {
		xmpp_send (self->conn, stanza);
		kith_xmpp_source_note_sent (self->source);
		self->sent++;
		return;
	}
	if (self->state == KITH_COMPONENT_STOPPING || self->state == KITH_COMPONENT_STOPPED)
		return;
	kith_outbox_push_stanza (&self->outbox, stanza, self->config->component_domain);
}

void
kith_component_send_paced (KithComponent *self, xmpp_stanza_t *stanza)
{
	if (self->state != KITH_COMPONENT_ONLINE)
		return;
	kith_outbox_push_stanza (&self->paced, stanza, self->config->component_domain);
	kith_component_pace (self);
}

void
kith_component_stop (KithComponent *self)
{
	KithComponentState was = self->state;

	if (was == KITH_COMPONENT_STOPPING || was == KITH_COMPONENT_STOPPED)
		return;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	g_clear_handle_id (&self->pace_id, g_source_remove);
	kith_outbox_clear (&self->paced);
	self->state = KITH_COMPONENT_STOPPING;
	if (was == KITH_COMPONENT_ONLINE) {
		xmpp_disconnect (self->conn);
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	if (was == KITH_COMPONENT_CONNECTING) {
		/* the CONNECT or DISCONNECT that follows completes the stop */
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	if (self->resolving != NULL)
		return; /* the lookup's callback finishes the stop */
	kith_component_finish_stop (self);
}

xmpp_ctx_t *
kith_component_get_ctx (KithComponent *self)
{
	return self->ctx;
}

gboolean
kith_component_is_online (KithComponent *self)
{
	return self->state == KITH_COMPONENT_ONLINE;
}

guint
kith_component_get_paced_length (KithComponent *self)
{
	return kith_outbox_length (&self->paced);
}

guint
kith_component_get_outbox_length (KithComponent *self)
{
	return kith_outbox_length (&self->outbox);
}

GPtrArray *
kith_component_dump_outbox (KithComponent *self)
{
	GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
	for (GList *l = self->outbox.queue.head; l != NULL; l = l->next)
		g_ptr_array_add (texts, g_strdup (l->data));
	return texts;
}

guint64
kith_component_get_received (KithComponent *self)
{
	return self->received;
}

guint64
kith_component_get_sent (KithComponent *self)
{
	return self->sent;
}
