/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/session.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "xmpp/link.h"
#include "xmpp/resolve.h"
#include "xmpp/source.h"

#define KITH_SESSION_OUTBOX_MAX 512
#define KITH_SESSION_BACKOFF_MAX_S 120
#define KITH_SESSION_STABLE_S 30 /* online this long: the next failure starts backoff anew */
/* the server is back: the devices still waiting try again within this much per device */
#define KITH_SESSION_RETURN_SPREAD_MS 50
#define KITH_SESSION_RETURN_SPREAD_MIN_MS 1000
#define KITH_SESSION_RETURN_SPREAD_MAX_MS 60000
#define KITH_SESSION_REGISTER_TIMEOUT_S 20
#define KITH_STREAMS_NS "http://etherx.jabber.org/streams"
#define KITH_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"
#define KITH_REGISTER_ID "kith-register"

typedef enum {
	KITH_SESSION_IDLE,
	KITH_SESSION_WAITING,     /* backoff timer, a connect slot or the address lookup */
	KITH_SESSION_REGISTERING, /* raw stream for in-band registration */
	KITH_SESSION_CONNECTING,
	KITH_SESSION_ONLINE,
	KITH_SESSION_STOPPING,
	KITH_SESSION_STOPPED,
} KithSessionState;

struct _KithSession {
	KithConfig *config;
	KithConnectGate *gate;
	KithStore *store;
	gchar *localpart;
	gchar *bare_jid;
	gchar *full_jid;
	KithSessionCallbacks callbacks;
	gpointer user_data;

	xmpp_log_t log;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	xmpp_conn_t *register_conn; /* raw stream for XEP-0077; libstrophe keeps a conn raw */
	xmpp_conn_t *dead_conn;     /* a finished registration connection awaiting release */
	guint dead_conn_id;
	KithXmppSource *source;
	GCancellable *resolving;
	int pending_fd;
	KithSessionState state;
	gboolean disposing;
	gboolean need_register;
	gboolean register_done;
	gboolean auth_failed;      /* the server refused the password */
	gboolean cert_refused;     /* the server's certificate did not verify */
	gboolean account_conflict; /* registration said the account exists */
	gboolean conflict_warned;
	guint failures;
	gint64 online_since;
	guint timer_id;
	gint64 retry_at; /* monotonic time the backoff timer fires */
	KithOutbox outbox;
};

static GHashTable *kith_session_by_conn; /* xmpp_conn_t* -> KithSession* */

static void kith_session_connect (gpointer owner);
static void kith_session_schedule (KithSession *self, gboolean backoff);
static gboolean kith_session_timer_cb (gpointer user_data);

/* libstrophe's log, with credentials kept out of it */
static void
kith_session_log_cb (void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
	KithSession *self = userdata;

	if (level == XMPP_LEVEL_DEBUG && g_str_has_prefix (msg, "SASL") &&
	    strstr (msg, "auth failed") != NULL)
		self->auth_failed = TRUE;
	/* the only sign of a stanza received before authentication (no handler sees those):
	 * it may have queued a reply that the dispatch must still write */
	if (level == XMPP_LEVEL_DEBUG && self->source != NULL && g_str_has_prefix (msg, "RECV:"))
		kith_xmpp_source_count_rx (self->source);
	switch (level) {
	case XMPP_LEVEL_ERROR: {
		g_autofree gchar *redacted = kith_link_redact (msg);
		g_message ("%s: libstrophe %s: %s", self->bare_jid, area,
		           redacted != NULL ? redacted : msg);
		break;
	}
	case XMPP_LEVEL_WARN: {
		g_autofree gchar *redacted = kith_link_redact (msg);
		g_info ("%s: libstrophe %s: %s", self->bare_jid, area,
		        redacted != NULL ? redacted : msg);
		break;
	}
	default: {
		g_autofree gchar *redacted = NULL;
		/* every stanza passes here: format nothing nobody reads */
		if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
			return;
		redacted = kith_link_redact (msg);
		g_debug ("%s: libstrophe %s: %s", self->bare_jid, area,
		         redacted != NULL ? redacted : msg);
		break;
	}
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
	kith_session_by_conn = g_hash_table_new (g_direct_hash, g_direct_equal);
	/*
	 * libstrophe builds an SSL_CTX per connection and loads OpenSSL's default trust paths into
	 * each: with Debian's CA bundle file that is ~0.9 MB and ~45 ms per session. Point the
	 * default file somewhere empty: with TlsCaFile only that file is loaded; without it the
	 * hashed CA directory still verifies, loading just the certificates a chain needs.
	 */
	if (config->tls == KITH_TLS_DISABLED || config->mode == KITH_MODE_COMPONENT)
		return;
	if (config->tls_ca_file[0] != '\0') {
		/* TlsCaFile means: trust this file only */
		g_setenv ("SSL_CERT_FILE", "/nonexistent/kith-no-default-ca-file", TRUE);
		g_setenv ("SSL_CERT_DIR", "/nonexistent/kith-no-default-ca-dir", TRUE);
	} else if (g_getenv ("SSL_CERT_FILE") == NULL) {
		g_setenv ("SSL_CERT_FILE", "/nonexistent/kith-no-default-ca-file", TRUE);
	} else {
		/* a trust file chosen in the environment is respected, at its price */
		g_message ("SSL_CERT_FILE=%s is parsed for every device session (a CA bundle costs "
		           "~0.9 MB each); set TlsCaFile= to trust one CA file instead",
		           g_getenv ("SSL_CERT_FILE"));
	}
}

/* the server's certificate did not verify: say what it was and what to do (once per
 * certificate: every device meets the same one), and refuse it */
static int
kith_session_certfail_cb (const xmpp_tlscert_t *cert, const char *const errormsg)
{
	static GHashTable *explained; /* fingerprints already explained */
	xmpp_ctx_t *ctx = xmpp_tlscert_get_ctx (cert);
	KithSession *self = NULL;
	GHashTableIter iter;
	gpointer value;
	const char *subject = xmpp_tlscert_get_string (cert, XMPP_CERT_SUBJECT);
	const char *issuer = xmpp_tlscert_get_string (cert, XMPP_CERT_ISSUER);
	const char *fingerprint = xmpp_tlscert_get_string (cert, XMPP_CERT_FINGERPRINT_SHA256);
	g_autofree gchar *hint = NULL;

	/* libstrophe 0.12 gives the certificate its context but not its connection; every
	 * session has a context of its own */
	g_hash_table_iter_init (&iter, kith_session_by_conn);
	while (self == NULL && g_hash_table_iter_next (&iter, NULL, &value)) {
		if (((KithSession *)value)->ctx == ctx)
			self = value;
	}
	if (self == NULL)
		return 0;
	self->cert_refused = TRUE;
	if (explained == NULL)
		explained = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	if (!g_hash_table_add (explained, g_strdup (fingerprint != NULL ? fingerprint : ""))) {
		g_info ("%s: the server's certificate is not trusted (%s)", self->bare_jid,
		        errormsg != NULL ? errormsg : "unverified");
		return 0;
	}
	/* the chain may be fine and the certificate wrong all the same: say which */
	if (errormsg != NULL && strstr (errormsg, "hostname mismatch") != NULL)
		hint = g_strdup_printf ("it is not issued for %s: the server must present a "
		                        "certificate for the devices' domain",
		                        self->config->domain);
	else if (errormsg != NULL && (strstr (errormsg, "expired") != NULL ||
	                              strstr (errormsg, "not yet valid") != NULL))
		hint = g_strdup ("renew the server's certificate, or check this machine's clock");
	else if (self->config->tls_ca_file[0] != '\0')
		hint = g_strdup_printf (
		        "it does not chain to TlsCaFile=%s: point TlsCaFile= at the "
		        "CA that issued it",
		        self->config->tls_ca_file);
	else
		hint = g_strdup ("if the server's certificate comes from a private CA, set "
		                 "TlsCaFile= in [xmpp] to that CA's certificate (PEM)");
	g_warning ("%s: the server's certificate is not trusted (%s): subject '%s', issued by "
	           "'%s', SHA-256 fingerprint %s; %s",
	           self->bare_jid, errormsg != NULL ? errormsg : "unverified",
	           subject != NULL ? subject : "?", issuer != NULL ? issuer : "?",
	           fingerprint != NULL ? fingerprint : "?", hint);
	return 0;
}

static int
kith_session_sockopt_cb (xmpp_conn_t *conn, void *sock)
{
	KithSession *self = g_hash_table_lookup (kith_session_by_conn, conn);

	return kith_link_setup_socket (conn, sock, self != NULL ? self->bare_jid : "?",
	                               self != NULL ? &self->pending_fd : NULL);
}

static gchar *
kith_session_random_password (void)
{
	guint8 bytes[18];
	gsize filled = 0;

	while (filled < sizeof bytes) {
		ssize_t n = getrandom (bytes + filled, sizeof bytes - filled, 0);
		if (n > 0)
			filled += (gsize)n;
		else if (errno != EINTR)
			return NULL;
	}
	return g_base64_encode (bytes, sizeof bytes);
}

static gboolean
kith_session_ensure_password (KithSession *self, gchar **out)
{
	g_autofree gchar *password = NULL;
	g_autofree gchar *fresh = NULL;
	g_autoptr (GError) error = NULL;

	if (!kith_store_get_password (self->store, self->localpart, &password, &error)) {
		g_warning ("%s: %s", self->bare_jid, error->message);
		return FALSE;
	}
	if (password != NULL) {
		*out = g_steal_pointer (&password);
		return TRUE;
	}
	if (!self->config->register_accounts) {
		g_warning ("%s: no password stored and Register=false; create the account and "
		           "store its password, or set Register=true",
		           self->bare_jid);
		return FALSE;
	}
	fresh = kith_session_random_password ();
	if (fresh == NULL) {
		g_warning ("%s: no random numbers for a password: %s", self->bare_jid,
		           g_strerror (errno));
		return FALSE;
	}
	/* saved before registering, so a crash mid-way cannot lose it; never overwrites */
	if (!kith_store_add_password (self->store, self->localpart, fresh, &password, &error)) {
		g_warning ("%s: %s", self->bare_jid, error->message);
		return FALSE;
	}
	self->need_register = TRUE;
	*out = g_steal_pointer (&password);
	return TRUE;
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
kith_session_release_dead_conn_cb (gpointer user_data)
{
	KithSession *self = user_data;
	self->dead_conn_id = 0;
	kith_session_release_dead_conn (self);
	return G_SOURCE_REMOVE;
}

/* the registration stream is over: back to the login connection; released from the loop
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
	self->dead_conn_id = g_idle_add (kith_session_release_dead_conn_cb, self);
}

static void
kith_session_register_finish (KithSession *self, gboolean ok)
{
	g_clear_handle_id (&self->timer_id, g_source_remove);
	/* refused or failed too: the next attempt logs in rather than only registering again */
	self->need_register = FALSE;
	self->register_done = ok;
	if (self->register_conn != NULL)
		xmpp_disconnect (self->register_conn);
	kith_xmpp_source_set_settled (self->source, FALSE);
}

static int
kith_session_register_result_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
	KithSession *self = userdata;
	xmpp_stanza_t *error = xmpp_stanza_get_child_by_name (stanza, "error");
	char *buf = NULL;
	size_t len = 0;

	if (g_strcmp0 (xmpp_stanza_get_type (stanza), "result") == 0) {
		g_message ("%s: account created", self->bare_jid);
		kith_session_register_finish (self, TRUE);
		return 0;
	}
	if (error != NULL && xmpp_stanza_get_child_by_name (error, "conflict") != NULL) {
		g_info ("%s: account already exists; logging in", self->bare_jid);
		self->account_conflict = TRUE;
		kith_session_register_finish (self, TRUE);
		return 0;
	}
	if (xmpp_stanza_to_text (stanza, &buf, &len) == XMPP_EOK) {
		g_warning ("%s: in-band registration refused: %.*s", self->bare_jid, (int)len, buf);
		xmpp_free (self->ctx, buf);
	}
	kith_session_register_finish (self, FALSE);
	return 0;
}

static void
kith_session_send_register (KithSession *self)
{
	g_autofree gchar *password = NULL;
	g_autoptr (GError) error = NULL;
	xmpp_stanza_t *iq, *query;
	const gchar *names[] = { "username", "password" };
	const gchar *values[2];

	if (!kith_store_get_password (self->store, self->localpart, &password, &error) ||
	    password == NULL) {
		g_warning ("%s: no password to register with: %s", self->bare_jid,
		           error != NULL ? error->message : "none stored");
		kith_session_register_finish (self, FALSE);
		return;
	}
	values[0] = self->localpart;
	values[1] = password;
	iq = xmpp_iq_new (self->ctx, "set", KITH_REGISTER_ID);
	query = xmpp_stanza_new (self->ctx);
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
	xmpp_id_handler_add (self->register_conn, kith_session_register_result_cb, KITH_REGISTER_ID,
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
		/* the certificate's own message says what to do */
		if (!self->cert_refused)
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
		return 1; /* the features of the secured stream come next */
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
kith_session_finish_stop (KithSession *self)
{
	self->state = KITH_SESSION_STOPPED;
	kith_connect_gate_release (self->gate, self);
	if (self->callbacks.stopped != NULL)
		self->callbacks.stopped (self, self->user_data);
}

/*
 * A device that had lost the server is online again: the server is back. The others still
 * waiting out their backoff (up to two minutes after a long outage) try again soon, spread
 * over a time that grows with their number; the connect gate still lets only MaxConnecting
 * negotiate at once, and their backoff goes on growing if they fail again.
 */
static void
kith_session_server_back (KithSession *back)
{
	GHashTableIter iter;
	gpointer key, value;
	g_autoptr (GPtrArray) waiting = g_ptr_array_new ();
	gint64 now = g_get_monotonic_time ();
	guint spread_ms;

	g_hash_table_iter_init (&iter, kith_session_by_conn);
	while (g_hash_table_iter_next (&iter, &key, &value)) {
		KithSession *other = value;
		/* every session once (it may have a registration connection too) */
		if (other != back && key == other->conn && other->state == KITH_SESSION_WAITING &&
		    other->timer_id != 0 && other->failures > 0)
			g_ptr_array_add (waiting, other);
	}
	if (waiting->len == 0)
		return;
	spread_ms = CLAMP (waiting->len * KITH_SESSION_RETURN_SPREAD_MS,
	                   KITH_SESSION_RETURN_SPREAD_MIN_MS, KITH_SESSION_RETURN_SPREAD_MAX_MS);
	g_info ("%s: the server is back; %u devices waiting try again within %.1f s",
	        back->bare_jid, waiting->len, spread_ms / 1000.0);
	for (guint i = 0; i < waiting->len; i++) {
		KithSession *other = g_ptr_array_index (waiting, i);
		guint delay_ms = g_random_int_range (0, (gint32)spread_ms);

		if (other->retry_at <= now + (gint64)delay_ms * 1000)
			continue; /* its own turn comes sooner */
		g_source_remove (other->timer_id);
		other->retry_at = now + (gint64)delay_ms * 1000;
		other->timer_id = g_timeout_add (delay_ms, kith_session_timer_cb, other);
	}
}

static void
kith_session_went_online (KithSession *self)
{
	gboolean returned = self->failures > 0;

	self->state = KITH_SESSION_ONLINE;
	self->online_since = g_get_monotonic_time ();
	self->auth_failed = FALSE;
	self->account_conflict = FALSE;
	self->conflict_warned = FALSE;
	kith_xmpp_source_set_settled (self->source, TRUE);
	kith_connect_gate_release (self->gate, self);
	g_info ("%s: online", self->full_jid);
	if (self->callbacks.online != NULL)
		self->callbacks.online (self, self->user_data);
	if (kith_outbox_flush (&self->outbox, self->conn) > 0)
		kith_xmpp_source_note_sent (self->source);
	if (returned)
		kith_session_server_back (self);
}

/* a login that never got online: say why when it is the password */
static void
kith_session_login_failed (KithSession *self, int error)
{
	if (self->auth_failed && self->account_conflict && !self->conflict_warned) {
		g_warning ("%s: the account exists on the server but refuses the password in the "
		           "state directory; remove the account on the server or restore the state "
		           "directory",
		           self->bare_jid);
		self->conflict_warned = TRUE;
	} else if (self->auth_failed && !self->config->register_accounts) {
		g_warning ("%s: the server refuses the stored password", self->bare_jid);
	}
	/* the account may be gone (a server reset): register it again, then log in */
	if (self->auth_failed && self->config->register_accounts)
		self->need_register = TRUE;
	self->auth_failed = FALSE;
	g_info ("%s: connection failed%s%s", self->bare_jid, error != 0 ? ": " : "",
	        error != 0 ? g_strerror (error) : "");
}

static void
kith_session_disconnected (KithSession *self, xmpp_conn_t *conn, int error)
{
	KithSessionState was = self->state;

	kith_xmpp_source_clear_fd (self->source);
	kith_xmpp_source_set_settled (self->source, TRUE);
	if (conn == self->conn)
		kith_outbox_rescue (&self->outbox, self->conn, self->ctx);
	if (was == KITH_SESSION_STOPPING) {
		kith_session_drop_register_conn (self);
		kith_session_finish_stop (self);
		return;
	}
	if (conn == self->register_conn) {
		kith_session_drop_register_conn (self);
		if (self->register_done) {
			/* straight on to the login, keeping the connect slot */
			self->register_done = FALSE;
			kith_session_schedule (self, FALSE);
			return;
		}
		kith_connect_gate_release (self->gate, self);
		kith_session_schedule (self, TRUE);
		return;
	}
	if (was == KITH_SESSION_ONLINE) {
		g_message ("%s: disconnected%s%s", self->bare_jid, error != 0 ? ": " : "",
		           error != 0 ? g_strerror (error) : "");
		/* a link that stayed up a while starts its backoff anew; until then failures
		 * count on: a server that takes the login and drops it at once is not hammered */
		if (g_get_monotonic_time () - self->online_since >
		    KITH_SESSION_STABLE_S * G_USEC_PER_SEC)
			self->failures = 0;
		self->state = KITH_SESSION_WAITING;
		if (self->callbacks.offline != NULL)
			self->callbacks.offline (self, self->user_data);
	} else {
		kith_session_login_failed (self, error);
	}
	kith_connect_gate_release (self->gate, self);
	kith_session_schedule (self, TRUE);
}

static void
kith_session_conn_cb (xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                      xmpp_stream_error_t *stream_error, void *userdata)
{
	KithSession *self = userdata;

	/* kith_session_free() releases live connections: nothing may run then */
	if (self->disposing)
		return;
	switch (status) {
	case XMPP_CONN_RAW_CONNECT:
		if (self->state == KITH_SESSION_STOPPING) {
			xmpp_disconnect (conn);
			break;
		}
		xmpp_handler_add (conn, kith_session_register_features_cb, KITH_STREAMS_NS,
		                  "features", NULL, self);
		xmpp_conn_open_stream_default (conn);
		break;
	case XMPP_CONN_CONNECT:
		if (conn == self->register_conn)
			break; /* the raw registration stream is open */
		if (self->state == KITH_SESSION_STOPPING) {
			/* stopped while connecting: close now, the stop completes on DISCONNECT */
			xmpp_disconnect (conn);
			kith_xmpp_source_set_settled (self->source, FALSE);
			break;
		}
		kith_session_went_online (self);
		break;
	case XMPP_CONN_DISCONNECT:
	case XMPP_CONN_FAIL:
		kith_session_disconnected (self, conn, error);
		break;
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

static void
kith_session_connect_failed (KithSession *self, const gchar *address, guint16 port)
{
	g_info ("%s: cannot connect to %s:%u", self->bare_jid,
	        address != NULL ? address : self->config->domain, port);
	kith_session_drop_register_conn (self);
	self->state = KITH_SESSION_WAITING;
	kith_connect_gate_release (self->gate, self);
	kith_session_schedule (self, TRUE);
}

static xmpp_conn_t *
kith_session_new_register_conn (KithSession *self)
{
	xmpp_conn_t *conn = xmpp_conn_new (self->ctx);
	g_hash_table_insert (kith_session_by_conn, conn, self);
	xmpp_conn_set_jid (conn, self->config->domain);
	if (self->config->tls_ca_file[0] != '\0')
		xmpp_conn_set_cafile (conn, self->config->tls_ca_file);
	xmpp_conn_set_sockopt_callback (conn, kith_session_sockopt_cb);
	xmpp_conn_set_certfail_handler (conn, kith_session_certfail_cb);
	return conn;
}

static void
kith_session_resolved_cb (const gchar *address, guint16 port, const GError *error,
                          gpointer user_data)
{
	KithSession *self = user_data;
	g_autofree gchar *password = NULL;
	long flags = XMPP_CONN_FLAG_DISABLE_SM;
	int rc;

	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* being freed */
	g_clear_object (&self->resolving);
	if (self->state == KITH_SESSION_STOPPING) {
		kith_session_finish_stop (self);
		return;
	}
	if (address == NULL) {
		g_info ("%s: cannot find the server of %s: %s", self->bare_jid,
		        self->config->domain, error != NULL ? error->message : "no address");
		kith_session_connect_failed (self, NULL, port);
		return;
	}
	if (!kith_session_ensure_password (self, &password)) {
		self->state = KITH_SESSION_IDLE;
		kith_connect_gate_release (self->gate, self);
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
	self->auth_failed = FALSE;
	self->cert_refused = FALSE;
	if (self->need_register) {
		self->state = KITH_SESSION_REGISTERING;
		self->register_conn = kith_session_new_register_conn (self);
		kith_xmpp_source_set_conn (self->source, self->register_conn);
		rc = xmpp_connect_raw (self->register_conn, address, port, kith_session_conn_cb,
		                       self);
		if (rc == XMPP_EOK)
			self->timer_id =
			        g_timeout_add_seconds (KITH_SESSION_REGISTER_TIMEOUT_S,
			                               kith_session_register_timeout_cb, self);
	} else {
		self->state = KITH_SESSION_CONNECTING;
		g_info ("%s: connecting to %s:%u", self->bare_jid, address, port);
		rc = xmpp_connect_client (self->conn, address, port, kith_session_conn_cb, self);
	}
	if (rc != XMPP_EOK || self->pending_fd < 0) {
		kith_session_connect_failed (self, address, port);
		return;
	}
	kith_xmpp_source_set_fd (self->source, self->pending_fd);
	kith_xmpp_source_set_settled (self->source, FALSE);
}

/* granted a connect slot: find the server, then connect (or register first) */
static void
kith_session_connect (gpointer owner)
{
	KithSession *self = owner;

	if (self->state == KITH_SESSION_STOPPING || self->state == KITH_SESSION_STOPPED)
		return;
	self->state = KITH_SESSION_WAITING;
	g_clear_object (&self->resolving);
	self->resolving = g_cancellable_new ();
	kith_resolve_async (self->config->server, self->config->domain, self->config->port,
	                    self->resolving, kith_session_resolved_cb, self);
}

static gboolean
kith_session_timer_cb (gpointer user_data)
{
	KithSession *self = user_data;
	self->timer_id = 0;
	kith_connect_gate_request (self->gate, self, kith_session_connect);
	return G_SOURCE_REMOVE;
}

static void
kith_session_schedule (KithSession *self, gboolean backoff)
{
	guint delay_ms =
	        backoff ? kith_link_backoff_ms (&self->failures, KITH_SESSION_BACKOFF_MAX_S) : 0;

	g_clear_handle_id (&self->timer_id, g_source_remove);
	self->state = KITH_SESSION_WAITING;
	/* never reconnect from inside libstrophe's connection callback: go through the loop */
	self->retry_at = g_get_monotonic_time () + (gint64)delay_ms * 1000;
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
	kith_outbox_init (&self->outbox, KITH_SESSION_OUTBOX_MAX, "offline for long");
	self->log.handler = kith_session_log_cb;
	self->log.userdata = self;
	self->ctx = xmpp_ctx_new (NULL, &self->log);
	self->conn = xmpp_conn_new (self->ctx);
	g_hash_table_insert (kith_session_by_conn, self->conn, self);
	xmpp_conn_set_jid (self->conn, self->full_jid);
	if (config->tls_ca_file[0] != '\0')
		xmpp_conn_set_cafile (self->conn, config->tls_ca_file);
	xmpp_conn_set_sockopt_callback (self->conn, kith_session_sockopt_cb);
	xmpp_conn_set_certfail_handler (self->conn, kith_session_certfail_cb);
	xmpp_handler_add (self->conn, kith_session_stanza_cb, NULL, NULL, NULL, self);
	self->source = kith_xmpp_source_new (self->ctx, self->conn);
	kith_xmpp_source_set_name (self->source, self->bare_jid);
	return self;
}

void
kith_session_free (KithSession *self)
{
	if (self == NULL)
		return;
	/* releasing a live connection runs its callback: it must find nothing to do */
	self->disposing = TRUE;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	if (self->resolving != NULL)
		g_cancellable_cancel (self->resolving);
	g_clear_object (&self->resolving);
	kith_connect_gate_forget (self->gate, self);
	kith_session_release_dead_conn (self);
	if (self->register_conn != NULL) {
		g_hash_table_remove (kith_session_by_conn, self->register_conn);
		xmpp_conn_release (self->register_conn);
		self->register_conn = NULL;
	}
	g_hash_table_remove (kith_session_by_conn, self->conn);
	xmpp_conn_release (self->conn);
	kith_xmpp_source_free (self->source);
	xmpp_ctx_free (self->ctx);
	kith_outbox_clear (&self->outbox);
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
	if (self->state == KITH_SESSION_ONLINE) {
		xmpp_send (self->conn, stanza);
		kith_xmpp_source_note_sent (self->source);
		return;
	}
	if (self->state == KITH_SESSION_STOPPING || self->state == KITH_SESSION_STOPPED)
		return;
	kith_outbox_push_stanza (&self->outbox, stanza, self->bare_jid);
}

void
kith_session_stop (KithSession *self)
{
	KithSessionState was = self->state;

	if (was == KITH_SESSION_STOPPING || was == KITH_SESSION_STOPPED)
		return;
	g_clear_handle_id (&self->timer_id, g_source_remove);
	self->state = KITH_SESSION_STOPPING;
	if (was == KITH_SESSION_REGISTERING && self->register_conn != NULL) {
		xmpp_disconnect (self->register_conn);
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	if (was == KITH_SESSION_CONNECTING) {
		/* let the negotiation end first: libstrophe 0.12 leaks its SASL state when a
		 * connection is cut in the middle, and cannot close one still connecting; the
		 * CONNECT or DISCONNECT that follows completes the stop */
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	if (was == KITH_SESSION_ONLINE) {
		xmpp_disconnect (self->conn);
		kith_xmpp_source_set_settled (self->source, FALSE);
		return;
	}
	if (self->resolving != NULL)
		return; /* the lookup's callback finishes the stop */
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
	return kith_outbox_length (&self->outbox);
}

guint64
kith_session_get_dispatches (KithSession *self)
{
	return kith_xmpp_source_get_dispatches (self->source);
}
