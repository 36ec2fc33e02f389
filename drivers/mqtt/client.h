/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "worker.h"

G_BEGIN_DECLS

/*
 * One connection to a broker, libmosquitto driven by its socket on the GLib main loop (no
 * library thread): reads and writes when the socket is ready, a keepalive tick of a quarter
 * of the keepalive, reconnects with exponential backoff and jitter, subscribes again after
 * every connect, and keeps the gateway's own status topic: "online" (retained) once
 * connected, "offline" as its last will and when it stops. The blocking part of a connect
 * (resolving the broker's name) runs on the bus's worker thread.
 */
typedef struct _KithMqttClient KithMqttClient;

typedef struct {
	gchar *host;
	guint16 port;
	gchar *client_id;
	gchar *username; /* NULL: none */
	gchar *password; /* NULL: none */
	gboolean tls;
	gchar *tls_ca_file; /* NULL: the system's CAs */
	guint protocol;     /* 4: MQTT 3.1.1, 5: MQTT 5 */
	guint keepalive;    /* seconds */
	gchar *status_topic;
} KithMqttClientOptions;

/* a message: payload is NUL-terminated (length bytes before the NUL) */
typedef void (*KithMqttClientMessageFunc) (const gchar *topic, const gchar *payload, gsize length,
                                           gboolean retained, gpointer user_data);
/* the broker connection came up or went down (reason: why) */
typedef void (*KithMqttClientStateFunc) (gboolean connected, const gchar *reason,
                                         gpointer user_data);
/* a publication reached the broker (QoS 1 acknowledged), or failed */
typedef void (*KithMqttPublishFunc) (const GError *error, gpointer user_data);

void kith_mqtt_client_options_clear (KithMqttClientOptions *options);

/* fails for options libmosquitto refuses (an unreadable CA file) */
KithMqttClient *kith_mqtt_client_new (const KithMqttClientOptions *options, GError **error);
KithMqttClient *kith_mqtt_client_ref (KithMqttClient *self);
/* the last reference may go on any thread */
void kith_mqtt_client_unref (KithMqttClient *self);
void kith_mqtt_client_set_handlers (KithMqttClient *self, KithMqttClientMessageFunc message,
                                    KithMqttClientStateFunc state, gpointer user_data);
/* connects (and keeps reconnecting) until stopped */
void kith_mqtt_client_start (KithMqttClient *self, KithWorker *worker);
/* says "offline", disconnects cleanly and calls no handler any more */
void kith_mqtt_client_stop (KithMqttClient *self);
gboolean kith_mqtt_client_is_connected (KithMqttClient *self);

/* the filters are kept and subscribed again after every connect; subscribing again to a
 * filter has the broker send its retained messages once more */
void kith_mqtt_client_subscribe (KithMqttClient *self, const gchar *filter);
void kith_mqtt_client_unsubscribe (KithMqttClient *self, const gchar *filter);

/* publishes at QoS 1; done (optional) runs once the broker acknowledged it or the connection
 * was lost first. FALSE with KITH_ERROR_BUS when not connected. */
gboolean kith_mqtt_client_publish (KithMqttClient *self, const gchar *topic, const gchar *payload,
                                   gboolean retain, KithMqttPublishFunc done, gpointer user_data,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttClient, kith_mqtt_client_unref)

G_END_DECLS
