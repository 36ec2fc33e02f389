/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/client.h"

#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>

#include "kith-error.h"

#define KITH_MQTT_BACKOFF_FIRST_MS 500
#define KITH_MQTT_BACKOFF_MAX_MS (60 * 1000)
#define KITH_MQTT_SUBSCRIBE_CHUNK 64
#define KITH_MQTT_READ_BURST 64
/* a link that held this long makes an old failure news again; one that did not hold */
#define KITH_MQTT_STABLE_US (60 * G_USEC_PER_SEC)
#define KITH_MQTT_SHORT_US (10 * G_USEC_PER_SEC)

typedef enum {
	KITH_MQTT_CLIENT_IDLE,
	KITH_MQTT_CLIENT_RESOLVING,  /* the connect runs on the worker: hands off mosq */
	KITH_MQTT_CLIENT_CONNECTING, /* socket open, waiting for CONNACK */
	KITH_MQTT_CLIENT_CONNECTED,
	KITH_MQTT_CLIENT_WAITING, /* backoff before the next attempt */
	KITH_MQTT_CLIENT_STOPPED,
} KithMqttClientState;

typedef struct {
	GSource source;
	KithMqttClient *client;
	gpointer tag;
	gint fd;
	GIOCondition events;
} KithMqttSource;

typedef struct {
	KithMqttPublishFunc done;
	gpointer user_data;
} KithMqttPending;

struct _KithMqttClient {
	gint ref_count;
	KithMqttClientOptions options;
	struct mosquitto *mosq;
	KithMqttClientState state;
	KithWorker *worker;
	KithMqttSource *source;
	guint reconnect_id;
	guint keepalive_id;
	guint backoff_ms;
	gchar *refusal;      /* why the broker refused the last CONNECT */
	gchar *said;         /* the last failure logged, said again only when it changes */
	gint64 connected_at; /* monotonic time of the last CONNACK */
	guint short_lived;   /* links in a row that dropped soon after they came up */
	GHashTable *filters; /* subscribed filters */
	gint ready_mid;      /* the SUBSCRIBE of a new link whose SUBACK makes it ready (0: none) */
	GHashTable *pending; /* mid -> KithMqttPending */
	KithMqttClientMessageFunc message_func;
	KithMqttClientStateFunc state_func;
	gpointer user_data;
};

static void kith_mqtt_client_lost (KithMqttClient *self, const gchar *reason);
static void kith_mqtt_client_connect (KithMqttClient *self);

/* libmosquitto's error codes, translated in one place */
static gchar *
kith_mqtt_client_strerror (gint rc, gint saved_errno)
{
	if (rc == MOSQ_ERR_ERRNO)
		return g_strdup (g_strerror (saved_errno));
	if (rc == MOSQ_ERR_EAI)
		return g_strdup ("the broker's name does not resolve");
	if (rc == MOSQ_ERR_CONN_LOST)
		return g_strdup ("connection lost");
	if (rc == MOSQ_ERR_KEEPALIVE)
		return g_strdup ("no answer within the keepalive");
	if (rc == MOSQ_ERR_TLS)
		return g_strdup ("TLS failed (certificate not trusted or wrong host name)");
	if (rc == MOSQ_ERR_PROTOCOL)
		return g_strdup ("protocol error (wrong port, or a broker that does not speak this "
		                 "MQTT version)");
	return g_strdup (mosquitto_strerror (rc));
}

void
kith_mqtt_client_options_clear (KithMqttClientOptions *options)
{
	g_clear_pointer (&options->host, g_free);
	g_clear_pointer (&options->client_id, g_free);
	g_clear_pointer (&options->username, g_free);
	if (options->password != NULL)
		memset (options->password, 0, strlen (options->password));
	g_clear_pointer (&options->password, g_free);
	g_clear_pointer (&options->tls_ca_file, g_free);
	g_clear_pointer (&options->status_topic, g_free);
}

static void
kith_mqtt_client_log_cb (struct mosquitto *mosq, void *data, int level, const char *text)
{
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		g_info ("libmosquitto: %s", text);
	else
		g_debug ("libmosquitto: %s", text);
}

/* a failure is said once, until it changes (retries with the same reason stay quiet) */
static void
kith_mqtt_client_say (KithMqttClient *self, const gchar *reason, const gchar *text)
{
	if (g_strcmp0 (self->said, reason) == 0) {
		g_debug ("%s", text);
		return;
	}
	g_message ("%s%s", text, self->said != NULL ? "" : " (said again only when it changes)");
	g_free (self->said);
	self->said = g_strdup (reason);
}

static void
kith_mqtt_client_fail_pending (KithMqttClient *self, const gchar *reason)
{
	g_autoptr (GError) error = g_error_new (KITH_ERROR, KITH_ERROR_BUS, "%s", reason);
	g_autoptr (GList) values = NULL;
	g_autoptr (GHashTable) pending = self->pending;

	self->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
	values = g_hash_table_get_values (pending);
	for (GList *l = values; l != NULL; l = l->next) {
		KithMqttPending *entry = l->data;
		if (entry->done != NULL)
			entry->done (error, entry->user_data);
	}
}

/* subscribes again to every filter; the message id of the last SUBSCRIBE (0: none sent) */
static gint
kith_mqtt_client_subscribe_all (KithMqttClient *self)
{
	gint last = 0;
	g_autoptr (GPtrArray) filters = g_ptr_array_new ();
	GHashTableIter iter;
	gpointer filter;

	g_hash_table_iter_init (&iter, self->filters);
	while (g_hash_table_iter_next (&iter, &filter, NULL))
		g_ptr_array_add (filters, filter);
	for (guint i = 0; i < filters->len; i += KITH_MQTT_SUBSCRIBE_CHUNK) {
		guint n = MIN (KITH_MQTT_SUBSCRIBE_CHUNK, filters->len - i);
		gint mid = 0;
		gint rc = mosquitto_subscribe_multiple (
		        self->mosq, &mid, (int)n, (char *const *)filters->pdata + i, 1, 0, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			g_message ("%s: subscribing failed: %s", self->options.host,
			           mosquitto_strerror (rc));
			return 0;
		}
		last = mid;
	}
	return last;
}

static void
kith_mqtt_client_connect_cb (struct mosquitto *mosq, void *data, int rc)
{
	KithMqttClient *self = data;

	if (self->state == KITH_MQTT_CLIENT_STOPPED)
		return;
	if (rc != 0) {
		g_free (self->refusal);
		self->refusal = g_strdup_printf ("the broker refused the connection: %s",
		                                 self->options.protocol == 5
		                                         ? mosquitto_reason_string (rc)
		                                         : mosquitto_connack_string (rc));
		return; /* the broker closes the link: the disconnect callback follows */
	}
	g_clear_pointer (&self->refusal, g_free);
	self->state = KITH_MQTT_CLIENT_CONNECTED;
	self->backoff_ms = 0;
	self->connected_at = g_get_monotonic_time ();
	/* a link that keeps dropping at once (another client with the same id takes it over)
	 * is said once, not on every turn */
	if (self->short_lived >= 2 && self->said != NULL)
		g_debug ("connected to %s:%u as %s", self->options.host, self->options.port,
		         self->options.client_id);
	else
		g_message ("connected to %s:%u as %s", self->options.host, self->options.port,
		           self->options.client_id);
	mosquitto_publish (self->mosq, NULL, self->options.status_topic, strlen ("online"),
	                   "online", 1, true);
	/* the devices answer once the broker has their subscriptions (it acknowledges them in
	 * order: the last one's SUBACK says all are in); a value published before would not
	 * reach them */
	self->ready_mid = kith_mqtt_client_subscribe_all (self);
	if (self->ready_mid == 0 && self->state_func != NULL)
		self->state_func (TRUE, NULL, self->user_data);
}

static void
kith_mqtt_client_subscribe_cb (struct mosquitto *mosq, void *data, int mid, int qos_count,
                               const int *granted_qos)
{
	KithMqttClient *self = data;

	if (self->state != KITH_MQTT_CLIENT_CONNECTED || self->ready_mid == 0 ||
	    mid != self->ready_mid)
		return;
	self->ready_mid = 0;
	if (self->state_func != NULL)
		self->state_func (TRUE, NULL, self->user_data);
}

static void
kith_mqtt_client_disconnect_cb (struct mosquitto *mosq, void *data, int rc)
{
	KithMqttClient *self = data;
	g_autofree gchar *reason = NULL;

	if (self->state == KITH_MQTT_CLIENT_STOPPED)
		return;
	reason = self->refusal != NULL ? g_strdup (self->refusal)
	                               : kith_mqtt_client_strerror (rc, errno);
	kith_mqtt_client_lost (self, reason);
}

static void
kith_mqtt_client_publish_cb (struct mosquitto *mosq, void *data, int mid)
{
	KithMqttClient *self = data;
	KithMqttPending *entry = NULL;
	gpointer key = GINT_TO_POINTER (mid);

	if (!g_hash_table_steal_extended (self->pending, key, NULL, (gpointer *)&entry))
		return;
	if (entry->done != NULL)
		entry->done (NULL, entry->user_data);
	g_free (entry);
}

static void
kith_mqtt_client_message_cb (struct mosquitto *mosq, void *data,
                             const struct mosquitto_message *message)
{
	KithMqttClient *self = data;

	if (self->state == KITH_MQTT_CLIENT_STOPPED || self->message_func == NULL)
		return;
	self->message_func (message->topic,
	                    message->payload != NULL ? (const gchar *)message->payload : "",
	                    message->payloadlen > 0 ? (gsize)message->payloadlen : 0,
	                    message->retain, self->user_data);
}

KithMqttClient *
kith_mqtt_client_new (const KithMqttClientOptions *options, GError **error)
{
	static gsize initialized = 0;
	g_autoptr (KithMqttClient) self = g_new0 (KithMqttClient, 1);
	gint rc;

	if (g_once_init_enter (&initialized)) {
		mosquitto_lib_init ();
		g_once_init_leave (&initialized, 1);
	}
	self->ref_count = 1;
	self->options = *options;
	self->options.host = g_strdup (options->host);
	self->options.client_id = g_strdup (options->client_id);
	self->options.username = g_strdup (options->username);
	self->options.password = g_strdup (options->password);
	self->options.tls_ca_file = g_strdup (options->tls_ca_file);
	self->options.status_topic = g_strdup (options->status_topic);
	self->filters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
	self->mosq = mosquitto_new (options->client_id, true, self);
	if (self->mosq == NULL) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "libmosquitto: %s",
		             g_strerror (errno));
		return NULL;
	}
	mosquitto_int_option (self->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	                      options->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_int_option (self->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set (self->mosq, kith_mqtt_client_connect_cb);
	mosquitto_disconnect_callback_set (self->mosq, kith_mqtt_client_disconnect_cb);
	mosquitto_subscribe_callback_set (self->mosq, kith_mqtt_client_subscribe_cb);
	mosquitto_publish_callback_set (self->mosq, kith_mqtt_client_publish_cb);
	mosquitto_message_callback_set (self->mosq, kith_mqtt_client_message_cb);
	mosquitto_log_callback_set (self->mosq, kith_mqtt_client_log_cb);
	rc = mosquitto_will_set (self->mosq, options->status_topic, strlen ("offline"), "offline",
	                         1, true);
	if (rc == MOSQ_ERR_SUCCESS && options->username != NULL)
		rc = mosquitto_username_pw_set (self->mosq, options->username, options->password);
	if (rc == MOSQ_ERR_SUCCESS && options->tls) {
		rc = mosquitto_tls_set (self->mosq, options->tls_ca_file, NULL, NULL, NULL, NULL);
		if (rc == MOSQ_ERR_SUCCESS && options->tls_ca_file == NULL)
			rc = mosquitto_int_option (self->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG,
		             "libmosquitto refused the "
		             "options: %s",
		             mosquitto_strerror (rc));
		return NULL;
	}
	return g_steal_pointer (&self);
}

KithMqttClient *
kith_mqtt_client_ref (KithMqttClient *self)
{
	g_atomic_int_inc (&self->ref_count);
	return self;
}

void
kith_mqtt_client_unref (KithMqttClient *self)
{
	if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
		return;
	if (self->mosq != NULL)
		mosquitto_destroy (self->mosq);
	kith_mqtt_client_options_clear (&self->options);
	g_hash_table_unref (self->filters);
	g_hash_table_unref (self->pending);
	g_free (self->refusal);
	g_free (self->said);
	g_free (self);
}

void
kith_mqtt_client_set_handlers (KithMqttClient *self, KithMqttClientMessageFunc message,
                               KithMqttClientStateFunc state, gpointer user_data)
{
	self->message_func = message;
	self->state_func = state;
	self->user_data = user_data;
}

gboolean
kith_mqtt_client_is_connected (KithMqttClient *self)
{
	return self->state == KITH_MQTT_CLIENT_CONNECTED;
}

/* the socket is libmosquitto's while we own mosq (not while the worker connects) */
static gint
kith_mqtt_client_socket (KithMqttClient *self)
{
	if (self->state != KITH_MQTT_CLIENT_CONNECTING && self->state != KITH_MQTT_CLIENT_CONNECTED)
		return -1;
	return mosquitto_socket (self->mosq);
}

static gboolean
kith_mqtt_source_prepare (GSource *source, gint *timeout)
{
	KithMqttSource *self = (KithMqttSource *)source;
	gint fd = kith_mqtt_client_socket (self->client);
	GIOCondition events;

	*timeout = -1;
	if (fd != self->fd) {
		if (self->tag != NULL)
			g_source_remove_unix_fd (source, self->tag);
		self->tag = NULL;
		self->fd = fd;
		self->events = 0;
	}
	if (fd < 0)
		return FALSE;
	events = G_IO_IN | (mosquitto_want_write (self->client->mosq) ? G_IO_OUT : 0);
	if (self->tag == NULL) {
		self->tag = g_source_add_unix_fd (source, fd, events);
		self->events = events;
	} else if (events != self->events) {
		/* only on a change: modifying always wakes the loop up (a busy loop) */
		g_source_modify_unix_fd (source, self->tag, events);
		self->events = events;
	}
	return FALSE;
}

static gboolean
kith_mqtt_client_readable (gint fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll (&pfd, 1, 0) > 0;
}

/*
 * libmosquitto closes a link whose TLS handshake failed without calling the disconnect
 * callback, and a handshake the broker hung up on leaves a socket at its end that reads
 * nothing: both are a lost link here.
 */
static void
kith_mqtt_client_check_closed (KithMqttClient *self, gint rc, GIOCondition revents)
{
	gint fd = kith_mqtt_client_socket (self);
	gchar byte;

	if (self->state != KITH_MQTT_CLIENT_CONNECTING && self->state != KITH_MQTT_CLIENT_CONNECTED)
		return;
	if (fd < 0) {
		g_autofree gchar *reason = kith_mqtt_client_strerror (
		        rc != MOSQ_ERR_SUCCESS ? rc : MOSQ_ERR_CONN_LOST, errno);
		kith_mqtt_client_lost (self, reason);
	} else if (self->state == KITH_MQTT_CLIENT_CONNECTING && (revents & (G_IO_IN | G_IO_HUP)) &&
	           recv (fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
		kith_mqtt_client_lost (self, "the broker closed the connection");
	}
}

static gboolean
kith_mqtt_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
	KithMqttSource *self = (KithMqttSource *)source;
	KithMqttClient *client = self->client;
	GIOCondition revents = self->tag != NULL ? g_source_query_unix_fd (source, self->tag) : 0;

	gint rc = MOSQ_ERR_SUCCESS;

	if (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
		/* one packet per call at QoS 0: take a burst of what is there */
		for (guint i = 0; i < KITH_MQTT_READ_BURST; i++) {
			gint fd;
			rc = mosquitto_loop_read (client->mosq, 1);
			if (rc != MOSQ_ERR_SUCCESS)
				break;
			fd = kith_mqtt_client_socket (client);
			if (fd < 0 || !kith_mqtt_client_readable (fd))
				break;
		}
	}
	if (kith_mqtt_client_socket (client) >= 0 &&
	    ((revents & G_IO_OUT) || mosquitto_want_write (client->mosq)))
		rc = mosquitto_loop_write (client->mosq, 1);
	kith_mqtt_client_check_closed (client, rc, revents);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs kith_mqtt_source_funcs = {
	.prepare = kith_mqtt_source_prepare,
	.dispatch = kith_mqtt_source_dispatch,
};

static gboolean
kith_mqtt_client_keepalive_cb (gpointer user_data)
{
	KithMqttClient *self = user_data;
	/* pings when due; closes a link (or a connect) that stayed silent a keepalive long */
	if (kith_mqtt_client_socket (self) >= 0)
		mosquitto_loop_misc (self->mosq);
	return G_SOURCE_CONTINUE;
}

static gboolean
kith_mqtt_client_reconnect_cb (gpointer user_data)
{
	KithMqttClient *self = user_data;
	self->reconnect_id = 0;
	kith_mqtt_client_connect (self);
	return G_SOURCE_REMOVE;
}

static void
kith_mqtt_client_lost (KithMqttClient *self, const gchar *reason)
{
	gboolean was_connected = self->state == KITH_MQTT_CLIENT_CONNECTED;
	guint delay;
	g_autofree gchar *text = NULL;
	g_autofree gchar *key = NULL;
	gboolean clash;

	if (self->state == KITH_MQTT_CLIENT_STOPPED || self->state == KITH_MQTT_CLIENT_WAITING)
		return;
	self->ready_mid = 0;
	if (was_connected) {
		gint64 lived = g_get_monotonic_time () - self->connected_at;
		/* after a link that held a while, the same reason is news again */
		if (lived >= KITH_MQTT_STABLE_US)
			g_clear_pointer (&self->said, g_free);
		self->short_lived = lived < KITH_MQTT_SHORT_US ? self->short_lived + 1 : 0;
	}
	clash = was_connected && self->short_lived >= 2;
	self->state = KITH_MQTT_CLIENT_WAITING;
	g_clear_handle_id (&self->keepalive_id, g_source_remove);
	g_clear_pointer (&self->refusal, g_free);
	self->backoff_ms = self->backoff_ms == 0
	                           ? KITH_MQTT_BACKOFF_FIRST_MS
	                           : MIN (self->backoff_ms * 2, KITH_MQTT_BACKOFF_MAX_MS);
	/* jitter: half to all of the backoff, so that gateways do not come back in step */
	delay = self->backoff_ms / 2 +
	        (guint)g_random_int_range (0, (gint)self->backoff_ms / 2 + 1);
	text = g_strdup_printf ("%s %s:%u: %s%s; trying again in %.1f s",
	                        was_connected ? "lost the broker" : "cannot reach the broker",
	                        self->options.host, self->options.port, reason,
	                        clash ? " again right after connecting (is another client "
	                                "using the same ClientId?)"
	                              : "",
	                        delay / 1000.0);
	key = g_strconcat (reason, clash ? " (clash)" : "", NULL);
	kith_mqtt_client_say (self, key, text);
	kith_mqtt_client_fail_pending (self, "the broker connection was lost");
	self->reconnect_id = g_timeout_add (delay, kith_mqtt_client_reconnect_cb, self);
	if (was_connected && self->state_func != NULL)
		self->state_func (FALSE, reason, self->user_data);
}

typedef struct {
	gint rc;
	gint saved_errno;
} KithMqttConnectResult;

/* on the worker: resolving the name blocks; the TCP connect and TLS do not */
static gpointer
kith_mqtt_client_connect_run (gpointer data, GCancellable *cancellable, GError **error)
{
	KithMqttClient *self = data;
	KithMqttConnectResult *result = g_new0 (KithMqttConnectResult, 1);

	result->rc = mosquitto_connect_async (self->mosq, self->options.host, self->options.port,
	                                      (int)self->options.keepalive);
	result->saved_errno = errno;
	return result;
}

static void
kith_mqtt_client_connect_done (gpointer data, const GError *error, gpointer user_data)
{
	KithMqttClient *self = user_data;
	g_autofree KithMqttConnectResult *result = data;
	g_autofree gchar *reason = NULL;

	if (self->state != KITH_MQTT_CLIENT_RESOLVING)
		return; /* stopped meanwhile */
	if (error != NULL || result == NULL) {
		self->state = KITH_MQTT_CLIENT_IDLE;
		return;
	}
	if (result->rc != MOSQ_ERR_SUCCESS) {
		self->state = KITH_MQTT_CLIENT_CONNECTING;
		reason = kith_mqtt_client_strerror (result->rc, result->saved_errno);
		kith_mqtt_client_lost (self, reason);
		return;
	}
	self->state = KITH_MQTT_CLIENT_CONNECTING;
	if (self->keepalive_id == 0)
		self->keepalive_id = g_timeout_add_seconds (MAX (self->options.keepalive / 4, 1),
		                                            kith_mqtt_client_keepalive_cb, self);
	/* the source picks the socket up in its next prepare */
	g_main_context_wakeup (g_source_get_context ((GSource *)self->source));
}

static void
kith_mqtt_client_connect (KithMqttClient *self)
{
	self->state = KITH_MQTT_CLIENT_RESOLVING;
	/* an address needs no lookup: nothing of the connect blocks (and TLS stays on this
	 * thread: OpenSSL keeps per-thread state) */
	if (g_hostname_is_ip_address (self->options.host)) {
		kith_mqtt_client_connect_done (kith_mqtt_client_connect_run (self, NULL, NULL),
		                               NULL, self);
		return;
	}
	kith_worker_push (self->worker, kith_mqtt_client_connect_run, kith_mqtt_client_ref (self),
	                  (GDestroyNotify)kith_mqtt_client_unref, g_free, NULL,
	                  kith_mqtt_client_connect_done, self);
}

void
kith_mqtt_client_start (KithMqttClient *self, KithWorker *worker)
{
	g_return_if_fail (self->state == KITH_MQTT_CLIENT_IDLE);
	self->worker = worker;
	self->source =
	        (KithMqttSource *)g_source_new (&kith_mqtt_source_funcs, sizeof (KithMqttSource));
	self->source->client = self;
	self->source->fd = -1;
	g_source_set_name ((GSource *)self->source, "kith-mqtt");
	g_source_attach ((GSource *)self->source, NULL);
	kith_mqtt_client_connect (self);
}

void
kith_mqtt_client_stop (KithMqttClient *self)
{
	gboolean connected = self->state == KITH_MQTT_CLIENT_CONNECTED;
	gboolean owned = kith_mqtt_client_socket (self) >= 0;

	if (self->state == KITH_MQTT_CLIENT_STOPPED)
		return;
	self->state = KITH_MQTT_CLIENT_STOPPED;
	g_clear_handle_id (&self->reconnect_id, g_source_remove);
	g_clear_handle_id (&self->keepalive_id, g_source_remove);
	if (self->source != NULL) {
		GSource *source = (GSource *)g_steal_pointer (&self->source);
		g_source_destroy (source);
		g_source_unref (source);
	}
	kith_mqtt_client_fail_pending (self, "the bus is stopping");
	if (connected) {
		/* a clean disconnect sends no last will: say it ourselves. QoS 0: we do not stay
		 * for an acknowledgement, and a PUBACK the broker cannot deliver makes it drop the
		 * connection and send the will after all */
		mosquitto_publish (self->mosq, NULL, self->options.status_topic, strlen ("offline"),
		                   "offline", 0, true);
		mosquitto_disconnect (self->mosq);
		mosquitto_loop_write (self->mosq, 1);
	} else if (owned) {
		mosquitto_disconnect (self->mosq);
	}
}

void
kith_mqtt_client_subscribe (KithMqttClient *self, const gchar *filter)
{
	g_hash_table_add (self->filters, g_strdup (filter));
	if (self->state == KITH_MQTT_CLIENT_CONNECTED)
		mosquitto_subscribe (self->mosq, NULL, filter, 1);
}

void
kith_mqtt_client_unsubscribe (KithMqttClient *self, const gchar *filter)
{
	if (!g_hash_table_remove (self->filters, filter))
		return;
	if (self->state == KITH_MQTT_CLIENT_CONNECTED)
		mosquitto_unsubscribe (self->mosq, NULL, filter);
}

gboolean
kith_mqtt_client_publish (KithMqttClient *self, const gchar *topic, const gchar *payload,
                          gboolean retain, KithMqttPublishFunc done, gpointer user_data,
                          GError **error)
{
	gint mid = 0;
	gint rc;

	if (self->state != KITH_MQTT_CLIENT_CONNECTED) {
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "not connected to the broker %s:%u",
		             self->options.host, self->options.port);
		return FALSE;
	}
	rc = mosquitto_publish (self->mosq, &mid, topic, (int)strlen (payload), payload, 1, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		g_autofree gchar *reason = kith_mqtt_client_strerror (rc, errno);
		g_set_error (error, KITH_ERROR, KITH_ERROR_BUS, "publishing on %s failed: %s",
		             topic, reason);
		return FALSE;
	}
	if (done != NULL) {
		KithMqttPending *entry = g_new0 (KithMqttPending, 1);
		entry->done = done;
		entry->user_data = user_data;
		g_hash_table_insert (self->pending, GINT_TO_POINTER (mid), entry);
	}
	return TRUE;
}
