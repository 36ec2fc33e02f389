/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "xmpp/source.h"

#define KITH_SESSION_OUTBOX_MAX 512
#define KITH_SESSION_BACKOFF_MAX_S 120
#define KITH_SESSION_REGISTER_TIMEOUT_S 20
#define KITH_STREAMS_NS "http://etherx.jabber.org/streams"
#define KITH_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"

typedef enum {
	KITH_SESSION_IDLE,
	KITH_SESSION_WAITING,     /* backoff timer or a connect slot */
	KITH_SESSION_REGISTERING, /* raw stream for in-band registration */
	KITH_SESSION_CONNECTING,
	KITH_SESSION_ONLINE,
	KITH_SESSION_STOPPING,
	KITH_SESSION_STOPPED,
} KithSessionState;

struct _KithConnectGate {
	guint max;
	guint active;
	GQueue waiting; /* KithSession */
};

struct _KithSession {
	KithConfig *config;
	KithConnectGate *gate;
	KithStore *store;
	gchar *localpart;
	gchar *bare_jid;
	gchar *full_jid;
	KithSessionCallbacks callbacks;
	gpointer user_data;

	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	xmpp_conn_t *register_conn; /* raw stream for XEP-0077; libstrophe keeps a conn raw */
	KithXmppSource *source;
	int pending_fd;
	KithSessionState state;
	gboolean holds_slot;
	gboolean need_register;
	gboolean register_done;
	gboolean account_conflict; /* registration said the account exists */
	gboolean conflict_warned;
	guint failures;
	guint timer_id;
	xmpp_conn_t *dead_conn;     /* a finished registration connection awaiting release */
	guint dead_conn_id;
	GQueue outbox; /* gchar* serialized stanzas */
};

static xmpp_log_t kith_session_log;
static GHashTable *kith_session_by_conn; /* xmpp_conn_t* -> KithSession* */

static void kith_session_connect (KithSession *self);
static void kith_session_schedule (KithSession *self, gboolean backoff);

KithConnectGate *
kith_connect_gate_new (guint max_connecting)
{
	KithConnectGate *gate = g_new0 (KithConnectGate, 1);
	gate->max = MAX (max_connecting, 1);
	g_queue_init (&gate->waiting);
	return gate;
}

void
kith_connect_gate_free (KithConnectGate *gate)
{
	if (gate == NULL)
		return;
	g_queue_clear (&gate->waiting);
	g_free (gate);
}

static void
kith_connect_gate_release (KithSession *self)
{
	KithConnectGate *gate = self->gate;

	g_queue_remove (&gate->waiting, self);
	if (!self->holds_slot)
		return;
	self->holds_slot = FALSE;
	gate->active--;
	while (gate->active < gate->max && !g_queue_is_empty (&gate->waiting)) {
		KithSession *next = g_queue_pop_head (&gate->waiting);
		next->holds_slot = TRUE;
		gate->active++;
		kith_session_connect (next);
	}
}

static void
kith_connect_gate_request (KithSession *self)
{
	KithConnectGate *gate = self->gate;

	if (self->holds_slot) {
		kith_session_connect (self);
		return;
	}
	if (gate->active < gate->max) {
		self->holds_slot = TRUE;
		gate->active++;
		kith_session_connect (self);
		return;
	}
	if (g_queue_find (&gate->waiting, self) == NULL)
		g_queue_push_tail (&gate->waiting, self);
}

static void
kith_session_log_cb (void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
	switch (level) {
	case XMPP_LEVEL_ERROR:
		g_message ("libstrophe %s: %s", area, msg);
		break;
	case XMPP_LEVEL_WARN:
		g_info ("libstrophe %s: %s", area, msg);
		break;
	default:
		g_debug ("libstrophe %s: %s", area, msg);
		break;
	}
}

void
kith_session_global_init (KithConfig *config)
{
	static gboolean done = FALSE;

	if (done)
		return;
	done = TRUE;
	xmpp_initialize ();
	kith_session_log.handler = kith_session_log_cb;
	kith_session_by_conn = g_hash_table_new (g_direct_hash, g_direct_equal);
	/*
	 * libstrophe builds an SSL_CTX per connection and loads OpenSSL's default trust paths into
	 * each: with Debian's CA bundle file that is ~0.8 MB and ~45 ms per session. Point the
	 * default file somewhere empty: with TlsCaFile only that file is loaded; without it the
	 * hashed CA directory still verifies, loading just the certificates a chain needs.
	 */
	if (config->tls == KITH_TLS_DISABLED)
		return;
	if (config->tls_ca_file[0] != '\0') {
		/* TlsCaFile means: trust this file only */
		g_setenv ("SSL_CERT_FILE", "/nonexistent/kith-no-default-ca-file", TRUE);
		g_setenv ("SSL_CERT_DIR", "/nonexistent/kith-no-default-ca-dir", TRUE);
	} else if (g_getenv ("SSL_CERT_FILE") == NULL) {
		/* a trust file chosen in the environment is respected */
		g_setenv ("SSL_CERT_FILE", "/nonexistent/kith-no-default-ca-file", TRUE);
	}
}

/* libstrophe uses select(): a socket numbered FD_SETSIZE or more would abort the process */
static int
kith_session_sockopt_cb (xmpp_conn_t *conn, void *sock)
{
	KithSession *self = g_hash_table_lookup (kith_session_by_conn, conn);
	int fd = *(int *) sock;
	int one = 1;

	if (fd >= FD_SETSIZE) {
		g_warning ("%s: socket %d is beyond select()'s limit; not connecting",
			   self != NULL ? self->bare_jid : "?", fd);
		return -1;
	}
	if (self != NULL)
		self->pending_fd = fd;
	(void) setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return xmpp_sockopt_cb_keepalive (conn, sock);
}

static gchar *
kith_session_random_password (void)
{
	guint8 bytes[18];
	for (guint i = 0; i < sizeof bytes; i++)
		bytes[i] = (guint8) g_random_int_range (0, 256);
	return g_base64_encode (bytes, sizeof bytes);
}

static gboolean
kith_session_ensure_password (KithSession *self, gchar **out)
{
	g_autofree gchar *password = kith_store_get_password (self->store, self->localpart);
	g_autoptr(GError) error = NULL;

	if (password == NULL) {
		if (!self->config->register_accounts) {
			g_warning ("%s: no password stored and Register=false; create the account "
				   "and store its password, or set Register=true",
				   self->bare_jid);
			return FALSE;
		}
		password = kith_session_random_password ();
		/* saved before registering, so a crash mid-way cannot lose it */
		if (!kith_store_set_password (self->store, self->localpart, password, &error)) {
			g_warning ("%s: %s", self->bare_jid, error->message);
			return FALSE;
		}
		self->need_register = TRUE;
	}
	*out = g_steal_pointer (&password);
	return TRUE;
}

static void
kith_session_flush_outbox (KithSession *self)
{
	gchar *text;
	while ((text = g_queue_pop_head (&self->outbox)) != NULL) {
		xmpp_send_raw (self->conn, text, strlen (text));
		g_free (text);
	}
}

static void
kith_session_outbox_push (KithSession *self, gchar *text)
{
	g_queue_push_tail (&self->outbox, text);
	if (g_queue_get_length (&self->outbox) > KITH_SESSION_OUTBOX_MAX) {
		g_free (g_queue_pop_head (&self->outbox));
		g_debug ("%s: outbox full, dropped the oldest stanza", self->bare_jid);
	}
}

/* rescue stanzas libstrophe had queued but not written: it frees them on the next connect */
static void
kith_session_rescue_unsent (KithSession *self)
{
	GQueue rescued = G_QUEUE_INIT;
	gchar *text;

	while ((text = xmpp_conn_send_queue_drop_element (self->conn, XMPP_QUEUE_OLDEST)) != NULL) {
		g_queue_push_tail (&rescued, g_strdup (text));
		xmpp_free (self->ctx, text);
	}
	/* they are older than anything in the outbox */
	while ((text = g_queue_pop_tail (&rescued)) != NULL)
		g_queue_push_head (&self->outbox, text);
}

static void
kith_session_register_finish (KithSession *self, gboolean ok)
{
	g_clear_handle_id (&self->timer_id, g_source_remove);
	self->register_done = TRUE;
	if (ok)
		self->need_register = FALSE;
	xmpp_disconnect (self->register_conn);
	kith_xmpp_source_set_settled (self->source, FALSE);
}

static int
kith_session_register_result_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
	KithSession *self = userdata;
	const char *type = xmpp_stanza_get_type (stanza);

	if (g_strcmp0 (type, "result") == 0) {
		g_message ("%s: account created", self->bare_jid);
		kith_session_register_finish (self, TRUE);
	} else {
		xmpp_stanza_t *error = xmpp_stanza_get_child_by_name (stanza, "error");
		xmpp_stanza_t *conflict =
			error != NULL ? xmpp_stanza_get_child_by_name (error, "conflict") : NULL;
		if (conflict != NULL) {
			g_info ("%s: account already exists; logging in", self->bare_jid);
			self->account_conflict = TRUE;
			kith_session_register_finish (self, TRUE);
		} else {
			g_autofree gchar *text = NULL;
			size_t len;
			char *buf = NULL;
			if (xmpp_stanza_to_text (stanza, &buf, &len) == XMPP_EOK) {
				text = g_strndup (buf, len);
				xmpp_free (self->ctx, buf);
			}
			g_warning ("%s: in-band registration refused: %s", self->bare_jid,
				   text != NULL ? text : "?");
			kith_session_register_finish (self, FALSE);
		}
	}
	return 0;
}

static void
kith_session_send_register (KithSession *self)
{
	g_autofree gchar *password = kith_store_get_password (self->store, self->localpart);
	xmpp_stanza_t *iq = xmpp_iq_new (self->ctx, "set", "kith-register");
	xmpp_stanza_t *query = xmpp_stanza_new (self->ctx);
	const gchar *names[] = { "username", "password" };
	const gchar *values[] = { self->localpart, password != NULL ? password : "" };

	xmpp_stanza_set_to (iq, self->config->domain);
	xmpp_stanza_set_name (query, "query");
	xmpp_stanza_set_ns (query, "jabber:iq:register");
	for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
		xmpp_stanza_t *child = xmpp_stanza_new (self->ctx);
		xmpp_stanza_t *text = xmpp_stanza_new (self->ctx);
		xmpp_stanza_set_name (child, names[i]);
		xmpp_stanza_set_text (text, values[i]);
		xmpp_stanza_add_child_ex (child, text, 0);
		xmpp_stanza_add_child_ex (query, child, 0);
	}
	xmpp_stanza_add_child_ex (iq, query, 0);
	xmpp_id_handler_add (self->register_conn, kith_session_register_result_cb, "kith-register",
			     self);
	xmpp_send (self->register_conn, iq);
	xmpp_stanza_release (iq);
}

static int
kith_session_register_proceed_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
	KithSession *self = userdata;

	if (g_strcmp0 (xmpp_stanza_get_name (stanza), "proceed") != 0 ||
	    xmpp_conn_tls_start (conn) != XMPP_EOK) {
		g_warning ("%s: TLS for in-band registration failed", self->bare_jid);
		kith_session_register_finish (self, FALSE);
		return 0;
	}
	xmpp_conn_open_stream_default (conn);
	return 0;
}

static int
kith_session_register_features_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
	KithSession *self = userdata;
	xmpp_stanza_t *starttls = xmpp_stanza_get_child_by_ns (stanza, KITH_TLS_NS);
	xmpp_stanza_t *reg =
		xmpp_stanza_get_child_by_ns (stanza, "http://jabber.org/features/iq-register");

	g_debug ("%s: registration stream features (secured: %d)", self->bare_jid,
		 xmpp_conn_is_secured (conn));
	if (self->state != KITH_SESSION_REGISTERING)
		return 0;
	if (!xmpp_conn_is_secured (conn) && starttls != NULL &&
	    self->config->tls != KITH_TLS_DISABLED) {
		xmpp_stanza_t *request = xmpp_stanza_new (self->ctx);
		xmpp_stanza_set_name (request, "starttls");
		xmpp_stanza_set_ns (request, KITH_TLS_NS);
		xmpp_handler_add (conn, kith_session_register_proceed_cb, KITH_TLS_NS, NULL, NULL,
				  self);
		xmpp_send (conn, request);
		xmpp_stanza_release (request);
		return 1;
	}
	if (!xmpp_conn_is_secured (conn) && self->config->tls == KITH_TLS_REQUIRED) {
		g_warning ("%s: the server offers no TLS; not registering in the clear",
			   self->bare_jid);
		kith_session_register_finish (self, FALSE);
		return 0;
	}
	if (reg == NULL)
		g_info ("%s: the server does not announce in-band registration; trying anyway",
			self->bare_jid);
	kith_session_send_register (self);
	return 0;
}

static gboolean
kith_session_register_timeout_cb (gpointer user_data)
{
	KithSession *self = user_data;
	self->timer_id = 0;
	g_warning ("%s: in-band registration timed out", self->bare_jid);
	kith_session_register_finish (self, FALSE);
	return G_SOURCE_REMOVE;
}

static void
kith_session_release_dead_conn (KithSession *self)
{
	g_clear_handle_id (&self->dead_conn_id, g_source_remove);
	if (self->dead_conn == NULL)
		return;
	g_hash_table_remove (kith_session_by_conn, self->dead_conn);
	xmpp_conn_release (self->dead_conn);
	self->dead_conn = NULL;
}

static gboolean
kith_session_release_register_conn_cb (gpointer user_data)
{
	KithSession *self = user_data;
	self->dead_conn_id = 0;
	kith_session_release_dead_conn (self);
	return G_SOURCE_REMOVE;
}

/* the registration stream is over: back to the login connection, released from the loop
 * because libstrophe is still inside it */
static void
kith_session_drop_register_conn (KithSession *self)
{
	xmpp_conn_t *conn = self->register_conn;
	if (conn == NULL)
		return;
	self->register_conn = NULL;
	kith_xmpp_source_set_conn (self->source, self->conn);
	kith_session_release_dead_conn (self);
	self->dead_conn = conn;
	self->dead_conn_id = g_idle_add (kith_session_release_register_conn_cb, self);
}

static void
kith_session_finish_stop (KithSession *self)
{
	self->state = KITH_SESSION_STOPPED;
	kith_connect_gate_release (self);
	if (self->callbacks.stopped != NULL)
		self->callbacks.stopped (self, self->user_data);
}

static void
kith_session_conn_cb (xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
		      xmpp_stream_error_t *stream_error, void *userdata)
{
	KithSession *self = userdata;

	switch (status) {
	case XMPP_CONN_RAW_CONNECT:
		xmpp_handler_add (conn, kith_session_register_features_cb, KITH_STREAMS_NS,
				  "features", NULL, self);
		xmpp_conn_open_stream_default (conn);
		break;
	case XMPP_CONN_CONNECT:
		if (conn == self->register_conn)
			break; /* the raw registration stream is open */
		self->state = KITH_SESSION_ONLINE;
		self->failures = 0;
		self->account_conflict = FALSE;
		self->conflict_warned = FALSE;
		kith_xmpp_source_set_settled (self->source, TRUE);
		kith_connect_gate_release (self);
		g_info ("%s: online", self->full_jid);
		if (self->callbacks.online != NULL)
			self->callbacks.online (self, self->user_data);
		kith_session_flush_outbox (self);
		break;
	case XMPP_CONN_DISCONNECT:
	case XMPP_CONN_FAIL: {
		KithSessionState was = self->state;
		kith_xmpp_source_clear_fd (self->source);
		kith_xmpp_source_set_settled (self->source, TRUE);
		if (conn == self->conn)
			kith_session_rescue_unsent (self);
		if (conn == self->register_conn) {
			kith_session_drop_register_conn (self);
			if (was == KITH_SESSION_STOPPING) {
				kith_session_finish_stop (self);
				break;
			}
			if (self->register_done && !self->need_register) {
				self->state = KITH_SESSION_WAITING;
				kith_session_schedule (self, FALSE);
			} else {
				self->state = KITH_SESSION_WAITING;
				kith_connect_gate_release (self);
				kith_session_schedule (self, TRUE);
			}
			break;
		}
		if (was == KITH_SESSION_STOPPING) {
			kith_session_finish_stop (self);
			break;
		}
		if (was == KITH_SESSION_ONLINE) {
			g_message ("%s: disconnected%s%s", self->bare_jid, error != 0 ? ": " : "",
				   error != 0 ? g_strerror (error) : "");
			self->state = KITH_SESSION_WAITING;
			if (self->callbacks.offline != NULL)
				self->callbacks.offline (self, self->user_data);
		} else {
			/* never got online: refused, TLS or authentication failure */
			if (error == 0 && stream_error == NULL && self->account_conflict &&
			    !self->conflict_warned) {
				g_warning ("%s: the account exists on the server but refuses the "
					   "password in the state directory; remove the account on "
					   "the server or restore the state directory",
					   self->bare_jid);
				self->conflict_warned = TRUE;
			}
			if (error == 0 && stream_error == NULL && self->config->register_accounts)
				self->need_register = TRUE;
			g_info ("%s: connection failed%s%s", self->bare_jid,
				error != 0 ? ": " : "", error != 0 ? g_strerror (error) : "");
			self->state = KITH_SESSION_WAITING;
		}
		kith_connect_gate_release (self);
		kith_session_schedule (self, TRUE);
		break;
	}
	default:
		break;
	}
}

static int
kith_session_stanza_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
	KithSession *self = userdata;
	kith_xmpp_source_count_rx (self->source);
	if (self->state == KITH_SESSION_ONLINE && self->callbacks.stanza != NULL)
		self->callbacks.stanza (self, stanza, self->user_data);
	return 1;
}

/* NULL lets libstrophe look the domain up (SRV record, then the name) */
static const gchar *
kith_session_server (KithSession *self)
{
	return self->config->server[0] != '\0' ? self->config->server : NULL;
}

static void
kith_session_connect (KithSession *self)
{
	g_autofree gchar *password = NULL;
	long flags = XMPP_CONN_FLAG_DISABLE_SM;
	int rc;

	if (self->state == KITH_SESSION_STOPPING || self->state == KITH_SESSION_STOPPED)
		return;
	if (!kith_session_ensure_password (self, &password)) {
		self->state = KITH_SESSION_IDLE;
		kith_connect_gate_release (self);
		return;
	}
	if (self->config->tls == KITH_TLS_REQUIRED)
		flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
	else if (self->config->tls == KITH_TLS_DISABLED)
		flags |= XMPP_CONN_FLAG_DISABLE_TLS;
	xmpp_conn_set_flags (self->conn, flags);
	xmpp_conn_set_pass (self->conn, password);
	self->pending_fd = -1;
	self->register_done = FALSE;
	if (self->need_register) {
		self->state = KITH_SESSION_REGISTERING;
		self->register_conn = xmpp_conn_new (self->ctx);
		g_hash_table_insert (kith_session_by_conn, self->register_conn, self);
		xmpp_conn_set_jid (self->register_conn, self->config->domain);
		if (self->config->tls_ca_file[0] != '\0')
			xmpp_conn_set_cafile (self->register_conn, self->config->tls_ca_file);
		xmpp_conn_set_sockopt_callback (self->register_conn, kith_session_sockopt_cb);
		kith_xmpp_source_set_conn (self->source, self->register_conn);
		rc = xmpp_connect_raw (self->register_conn, kith_session_server (self),
				       self->config->port, kith_session_conn_cb, self);
		if (rc == XMPP_EOK)
			self->timer_id = g_timeout_add_seconds (KITH_SESSION_REGISTER_TIMEOUT_S,
								kith_session_register_timeout_cb,
								self);
	} else {
		self->state = KITH_SESSION_CONNECTING;
		rc = xmpp_connect_client (self->conn, kith_session_server (self),
					  self->config->port, kith_session_conn_cb, self);
	}
	if (rc != XMPP_EOK || self->pending_fd < 0) {
		g_info ("%s: cannot connect to %s:%u", self->bare_jid,
			kith_session_server (self) != NULL ? kith_session_server (self)
							   : self->config->domain,
			self->config->port);
		kith_session_drop_register_conn (self);
		self->state = KITH_SESSION_WAITING;
		kith_connect_gate_release (self);
		kith_session_schedule (self, TRUE);
		return;
	}
	kith_xmpp_source_set_fd (self->source, self->pending_fd);
	kith_xmpp_source_set_settled (self->source, FALSE);
}

static gboolean
kith_session_timer_cb (gpointer user_data)
{
	KithSession *self = user_data;
	self->timer_id = 0;
	kith_connect_gate_request (self);
	return G_SOURCE_REMOVE;
}

/* exponential backoff with jitter: 0.5-1 s, 1-2 s, 2-4 s, … up to 60-120 s */
static void
kith_session_schedule (KithSession *self, gboolean backoff)
{
	guint delay_ms = 0;

	g_clear_handle_id (&self->timer_id, g_source_remove);
	if (backoff) {
		guint ceiling = 1000u << MIN (self->failures, 7u);
		ceiling = MIN (ceiling, KITH_SESSION_BACKOFF_MAX_S * 1000u);
		delay_ms = (guint) g_random_int_range ((gint32) ceiling / 2, (gint32) ceiling + 1);
		self->failures++;
	}
	self->state = KITH_SESSION_WAITING;
	/* never reconnect from inside libstrophe's connection callback: go through the loop */
	self->timer_id = g_timeout_add (delay_ms, kith_session_timer_cb, self);
}

KithSession *
kith_session_new (KithConfig *config, KithConnectGate *gate, KithStore *store,
		  const gchar *localpart, const KithSessionCallbacks *callbacks, gpointer user_data)
{
	KithSession *self = g_new0 (KithSession, 1);

	self->config = config;
	self->gate = gate;
	self->store = store;
	self->localpart = g_strdup (localpart);
	self->bare_jid = g_strdup_printf ("%s@%s", localpart, config->domain);
	self->full_jid = g_strdup_printf ("%s/%s", self->bare_jid, config->resource);
	self->callbacks = *callbacks;
	self->user_data = user_data;
	self->pending_fd = -1;
	g_queue_init (&self->outbox);
	self->ctx = xmpp_ctx_new (NULL, &kith_session_log);
	self->conn = xmpp_conn_new (self->ctx);
	g_hash_table_insert (kith_session_by_conn, self->conn, self);
	xmpp_conn_set_jid (self->conn, self->full_jid);
	if (config->tls_ca_file[0] != '\0')
		xmpp_conn_set_cafile (self->conn, config->tls_ca_file);
	xmpp_conn_set_sockopt_callback (self->conn, kith_session_sockopt_cb);
	xmpp_handler_add (self->conn, kith_session_stanza_cb, NULL, NULL, NULL, self);
	self->source = kith_xmpp_source_new (self->ctx, self->conn);
	return self;
}

void
kith_session_free (KithSession *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	kith_connect_gate_release (self);
	g_hash_table_remove (kith_session_by_conn, self->conn);
	if (self->register_conn != NULL) {
		g_hash_table_remove (kith_session_by_conn, self->register_conn);
		xmpp_conn_release (self->register_conn);
	}
	kith_session_release_dead_conn (self);
	kith_xmpp_source_free (self->source);
	xmpp_conn_release (self->conn);
	xmpp_ctx_free (self->ctx);
	g_queue_clear_full (&self->outbox, g_free);
	g_free (self->localpart);
	g_free (self->bare_jid);
	g_free (self->full_jid);
	g_free (self);
}

void
kith_session_start (KithSession *self)
{
	if (self->state != KITH_SESSION_IDLE)
		return;
	kith_session_schedule (self, FALSE);
}

void
kith_session_send (KithSession *self, xmpp_stanza_t *stanza)
{
	char *buf = NULL;
	size_t len = 0;

	if (self->state == KITH_SESSION_ONLINE) {
		xmpp_send (self->conn, stanza);
		return;
	}
	if (self->state == KITH_SESSION_STOPPING || self->state == KITH_SESSION_STOPPED)
		return;
	if (xmpp_stanza_to_text (stanza, &buf, &len) != XMPP_EOK)
		return;
	kith_session_outbox_push (self, g_strndup (buf, len));
	xmpp_free (self->ctx, buf);
}

void
kith_session_stop (KithSession *self)
{
	KithSessionState was = self->state;

	g_clear_handle_id (&self->timer_id, g_source_remove);
	self->state = KITH_SESSION_STOPPING;
	if (was == KITH_SESSION_REGISTERING && self->register_conn != NULL) {
		xmpp_disconnect (self->register_conn);
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	if (was == KITH_SESSION_ONLINE || was == KITH_SESSION_CONNECTING) {
		xmpp_disconnect (self->conn);
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	kith_session_finish_stop (self);
}

xmpp_ctx_t *
kith_session_get_ctx (KithSession *self)
{
	return self->ctx;
}

const gchar *
kith_session_get_bare_jid (KithSession *self)
{
	return self->bare_jid;
}

const gchar *
kith_session_get_full_jid (KithSession *self)
{
	return self->full_jid;
}

const gchar *
kith_session_get_localpart (KithSession *self)
{
	return self->localpart;
}

gboolean
kith_session_is_online (KithSession *self)
{
	return self->state == KITH_SESSION_ONLINE;
}

guint
kith_session_get_outbox_length (KithSession *self)
{
	return g_queue_get_length (&self->outbox);
}

guint64
kith_session_get_dispatches (KithSession *self)
{
	return kith_xmpp_source_get_dispatches (self->source);
}
