/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-mqtt"

#include "drivers/mqtt/mqtt.h"

#include <string.h>

#include "drivers/mqtt/bus.h"
#include "drivers/mqtt/client.h"
#include "drivers/mqtt/items.h"
#include "kith-error.h"

struct _KithMqttDriver {
	KithDriver parent_instance;
	KithMqttClientOptions options;
	KithMqttBusOptions bus_options;
	KithMqttClient *client;
	KithMqttBus *bus;
};

G_DEFINE_FINAL_TYPE (KithMqttDriver, kith_mqtt_driver, KITH_TYPE_DRIVER)

static const gchar *const kith_mqtt_keys[] = {
	"Driver",    "Broker",          "Port",      "Username",    "PasswordFile",
	"Tls",       "TlsCaFile",       "ClientId",  "Discovery",   "DiscoveryPrefix",
	"BaseTopic", "ProtocolVersion", "Keepalive", "StatusTopic", NULL,
};

static gboolean kith_mqtt_fail (GError **error, const gchar *group, const gchar *key,
                                const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
kith_mqtt_fail (GError **error, const gchar *group, const gchar *key, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	g_set_error (error, KITH_ERROR, KITH_ERROR_CONFIG, "[%s] %s: %s", group, key, message);
	return FALSE;
}

static gchar *
kith_mqtt_get (GKeyFile *keyfile, const gchar *group, const gchar *key)
{
	gchar *value = g_key_file_get_string (keyfile, group, key, NULL);
	if (value != NULL && g_strstrip (value)[0] == '\0')
		g_clear_pointer (&value, g_free);
	return value;
}

static gboolean
kith_mqtt_get_number (GKeyFile *keyfile, const gchar *group, const gchar *key, guint min, guint max,
                      guint *out, GError **error)
{
	g_autofree gchar *text = kith_mqtt_get (keyfile, group, key);
	guint64 value;

	if (text == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
		return kith_mqtt_fail (error, group, key, "'%s' is not a number from %u to %u",
		                       text, min, max);
	*out = (guint)value;
	return TRUE;
}

/* a topic of ours: not empty, no wildcards */
static gboolean
kith_mqtt_get_topic (GKeyFile *keyfile, const gchar *group, const gchar *key, const gchar *fallback,
                     gchar **out, GError **error)
{
	g_autofree gchar *text = kith_mqtt_get (keyfile, group, key);

	if (text != NULL && strpbrk (text, "+#") != NULL)
		return kith_mqtt_fail (error, group, key, "'%s' must not have + or #", text);
	if (text != NULL && g_str_has_suffix (text, "/"))
		text[strlen (text) - 1] = '\0';
	*out = text != NULL ? g_steal_pointer (&text) : g_strdup (fallback);
	return TRUE;
}

/* the password: the file's content, trimmed (never in the configuration itself) */
static gboolean
kith_mqtt_read_password (const gchar *group, const gchar *path, gchar **out, GError **error)
{
	g_autoptr (GError) error_local = NULL;
	g_autofree gchar *content = NULL;
	gsize length = 0;

	if (!g_file_get_contents (path, &content, &length, &error_local))
		return kith_mqtt_fail (error, group, "PasswordFile", "%s", error_local->message);
	if (memchr (content, '\0', length) != NULL || g_strstrip (content)[0] == '\0') {
		memset (content, 0, length);
		return kith_mqtt_fail (error, group, "PasswordFile", "%s holds no password", path);
	}
	*out = g_steal_pointer (&content);
	return TRUE;
}

/* kith-<host>-<bus>: unique per gateway and bus, the same across restarts */
static gchar *
kith_mqtt_default_client_id (const gchar *bus)
{
	g_autofree gchar *host = g_ascii_strdown (g_get_host_name (), -1);
	g_strcanon (host, "abcdefghijklmnopqrstuvwxyz0123456789-", '-');
	return g_strdup_printf ("kith-%s-%s", host, bus);
}

static gboolean
kith_mqtt_parse_connection (KithMqttDriver *self, GKeyFile *keyfile, const gchar *group,
                            GError **error)
{
	KithMqttClientOptions *options = &self->options;
	g_autofree gchar *tls = kith_mqtt_get (keyfile, group, "Tls");
	g_autofree gchar *password_file = kith_mqtt_get (keyfile, group, "PasswordFile");
	g_autofree gchar *version = kith_mqtt_get (keyfile, group, "ProtocolVersion");
	guint port = 0;

	options->host = kith_mqtt_get (keyfile, group, "Broker");
	if (options->host == NULL)
		return kith_mqtt_fail (error, group, "Broker",
		                       "missing: the broker's host name or "
		                       "address");
	if (tls != NULL && g_strcmp0 (tls, "required") != 0 && g_strcmp0 (tls, "disabled") != 0)
		return kith_mqtt_fail (error, group, "Tls", "'%s' is neither required nor disabled",
		                       tls);
	options->tls = g_strcmp0 (tls, "required") == 0;
	options->tls_ca_file = kith_mqtt_get (keyfile, group, "TlsCaFile");
	if (options->tls_ca_file != NULL && !options->tls)
		return kith_mqtt_fail (error, group, "TlsCaFile", "needs Tls=required");
	if (!kith_mqtt_get_number (keyfile, group, "Port", 1, 65535, &port, error))
		return FALSE;
	options->port = port != 0 ? (guint16)port : options->tls ? 8883 : 1883;
	options->username = kith_mqtt_get (keyfile, group, "Username");
	if (password_file != NULL && options->username == NULL)
		return kith_mqtt_fail (error, group, "PasswordFile", "needs Username=");
	if (password_file != NULL &&
	    !kith_mqtt_read_password (group, password_file, &options->password, error))
		return FALSE;
	if (version == NULL || g_strcmp0 (version, "3.1.1") == 0)
		options->protocol = 4;
	else if (g_strcmp0 (version, "5") == 0)
		options->protocol = 5;
	else
		return kith_mqtt_fail (error, group, "ProtocolVersion",
		                       "'%s' is neither 3.1.1 nor 5", version);
	options->keepalive = 60;
	if (!kith_mqtt_get_number (keyfile, group, "Keepalive", 5, 65535, &options->keepalive,
	                           error))
		return FALSE;
	options->client_id = kith_mqtt_get (keyfile, group, "ClientId");
	if (options->client_id == NULL)
		options->client_id =
		        kith_mqtt_default_client_id (kith_driver_get_bus_name (KITH_DRIVER (self)));
	if (strpbrk (options->client_id, "+#/") != NULL)
		return kith_mqtt_fail (error, group, "ClientId", "'%s' must not have +, # or /",
		                       options->client_id);
	{
		g_autofree gchar *fallback = g_strdup_printf ("kith/%s/status", options->client_id);
		return kith_mqtt_get_topic (keyfile, group, "StatusTopic", fallback,
		                            &options->status_topic, error);
	}
}

static gboolean
kith_mqtt_parse_discovery (KithMqttDriver *self, GKeyFile *keyfile, const gchar *group,
                           GError **error)
{
	KithMqttBusOptions *options = &self->bus_options;
	g_auto (GStrv) names = g_key_file_get_string_list (keyfile, group, "Discovery", NULL, NULL);
	gchar *prefix = NULL;
	gchar *base = NULL;

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		const gchar *name = g_strstrip (names[i]);
		if (g_strcmp0 (name, "homeassistant") == 0)
			options->homeassistant = TRUE;
		else if (g_strcmp0 (name, "zigbee2mqtt") == 0)
			options->zigbee2mqtt = TRUE;
		else if (g_strcmp0 (name, "tasmota") == 0)
			options->tasmota = TRUE;
		else if (g_strcmp0 (name, "shelly") == 0)
			options->shelly = TRUE;
		else if (name[0] != '\0')
			return kith_mqtt_fail (
			        error, group, "Discovery",
			        "'%s' is not a convention (homeassistant, zigbee2mqtt, "
			        "tasmota, shelly)",
			        name);
	}
	if (!kith_mqtt_get_topic (keyfile, group, "DiscoveryPrefix", "homeassistant", &prefix,
	                          error))
		return FALSE;
	options->discovery_prefix = prefix;
	if (!kith_mqtt_get_topic (keyfile, group, "BaseTopic", "zigbee2mqtt", &base, error))
		return FALSE;
	options->base_topic = base;
	options->rpc_source = g_strdup (self->options.client_id);
	return TRUE;
}

static void
kith_mqtt_io_subscribe (const gchar *filter, gpointer user_data)
{
	KithMqttDriver *self = user_data;
	kith_mqtt_client_subscribe (self->client, filter);
}

static void
kith_mqtt_io_unsubscribe (const gchar *filter, gpointer user_data)
{
	KithMqttDriver *self = user_data;
	kith_mqtt_client_unsubscribe (self->client, filter);
}

static gboolean
kith_mqtt_io_publish (const gchar *topic, const gchar *payload, gboolean retain,
                      KithMqttPublishFunc done, gpointer done_data, gpointer user_data,
                      GError **error)
{
	KithMqttDriver *self = user_data;
	return kith_mqtt_client_publish (self->client, topic, payload, retain, done, done_data,
	                                 error);
}

static const KithMqttBusIo kith_mqtt_io = {
	.subscribe = kith_mqtt_io_subscribe,
	.unsubscribe = kith_mqtt_io_unsubscribe,
	.publish = kith_mqtt_io_publish,
};

static void
kith_mqtt_message_cb (const gchar *topic, const gchar *payload, gsize length, gboolean retained,
                      gpointer user_data)
{
	KithMqttDriver *self = user_data;
	kith_mqtt_bus_message (self->bus, topic, payload, length, retained);
}

static void
kith_mqtt_state_cb (gboolean connected, const gchar *reason, gpointer user_data)
{
	KithMqttDriver *self = user_data;
	kith_mqtt_bus_set_connected (self->bus, connected, reason);
}

/* the [bus:NAME:ITEM] groups: explicit devices */
static gboolean
kith_mqtt_add_items (KithMqttDriver *self, GKeyFile *keyfile, GError **error)
{
	const gchar *bus = kith_driver_get_bus_name (KITH_DRIVER (self));
	g_autofree gchar *prefix = g_strdup_printf ("bus:%s:", bus);
	g_auto (GStrv) groups = g_key_file_get_groups (keyfile, NULL);

	for (guint i = 0; groups[i] != NULL; i++) {
		g_autoptr (KithMqttDescription) description = NULL;
		if (!g_str_has_prefix (groups[i], prefix))
			continue;
		description = kith_mqtt_items_parse (keyfile, groups[i],
		                                     groups[i] + strlen (prefix), error);
		if (description == NULL)
			return FALSE;
		if (!kith_mqtt_bus_add (self->bus, description))
			return kith_mqtt_fail (error, groups[i], "Label",
			                       "the device could not be added (its id is taken?)");
	}
	return TRUE;
}

static gboolean
kith_mqtt_setup (KithDriver *driver, GKeyFile *keyfile, const gchar *group, GError **error)
{
	KithMqttDriver *self = KITH_MQTT_DRIVER (driver);

	if (!kith_mqtt_parse_connection (self, keyfile, group, error) ||
	    !kith_mqtt_parse_discovery (self, keyfile, group, error))
		return FALSE;
	self->client = kith_mqtt_client_new (&self->options, error);
	if (self->client == NULL) {
		g_prefix_error (error, "[%s] %s: ", group,
		                self->options.tls ? "TlsCaFile" : "Broker");
		return FALSE;
	}
	kith_mqtt_client_set_handlers (self->client, kith_mqtt_message_cb, kith_mqtt_state_cb,
	                               self);
	self->bus = kith_mqtt_bus_new (driver, &self->bus_options, &kith_mqtt_io, self);
	return kith_mqtt_add_items (self, keyfile, error);
}

static gboolean
kith_mqtt_start (KithDriver *driver, GError **error)
{
	KithMqttDriver *self = KITH_MQTT_DRIVER (driver);

	kith_mqtt_bus_start (self->bus);
	kith_mqtt_client_start (self->client, kith_driver_get_worker (driver));
	return TRUE;
}

typedef struct {
	KithDevice *device;
	KithReadFunc done;
	gpointer user_data;
} KithMqttRead;

/* readings come by push: a read answers with what the device last said */
static gboolean
kith_mqtt_read_cb (gpointer data)
{
	KithMqttRead *read = data;
	g_autoptr (GError) error = NULL;

	if (!kith_device_is_answering (read->device))
		error = g_error_new (KITH_ERROR, KITH_ERROR_BUS, "%s is not answering: %s",
		                     kith_device_get_id (read->device),
		                     kith_device_get_silent_reason (read->device));
	read->done (read->device, error, read->user_data);
	g_object_unref (read->device);
	g_free (read);
	return G_SOURCE_REMOVE;
}

static void
kith_mqtt_read (KithDriver *driver, KithDevice *device, KithReadFunc done, gpointer user_data)
{
	KithMqttRead *read = g_new0 (KithMqttRead, 1);
	read->device = g_object_ref (device);
	read->done = done;
	read->user_data = user_data;
	g_idle_add (kith_mqtt_read_cb, read);
}

static void
kith_mqtt_write (KithDriver *driver, KithDevice *device, GPtrArray *params, KithWriteFunc done,
                 gpointer user_data)
{
	KithMqttDriver *self = KITH_MQTT_DRIVER (driver);
	kith_mqtt_bus_write (self->bus, device, params, done, user_data);
}

static void
kith_mqtt_stop (KithDriver *driver)
{
	KithMqttDriver *self = KITH_MQTT_DRIVER (driver);
	if (self->client != NULL)
		kith_mqtt_client_stop (self->client);
}

static void
kith_mqtt_describe (KithDriver *driver, GString *out)
{
	KithMqttDriver *self = KITH_MQTT_DRIVER (driver);
	KithMqttBusOptions *bus = &self->bus_options;

	g_string_append_printf (out, "  broker %s:%u (MQTT %s%s%s), client id %s\n",
	                        self->options.host, self->options.port,
	                        self->options.protocol == 5 ? "5" : "3.1.1",
	                        self->options.tls ? ", TLS" : "",
	                        self->options.username != NULL ? ", with a user name" : "",
	                        self->options.client_id);
	g_string_append_printf (out, "  gateway status on %s (online/offline, retained)\n",
	                        self->options.status_topic);
	g_string_append_printf (
	        out, "  discovery:%s%s%s%s%s\n", bus->homeassistant ? " homeassistant" : "",
	        bus->zigbee2mqtt ? " zigbee2mqtt" : "", bus->tasmota ? " tasmota" : "",
	        bus->shelly ? " shelly" : "",
	        bus->homeassistant || bus->zigbee2mqtt || bus->tasmota || bus->shelly
	                ? ""
	                : " none (explicit devices only)");
}

static void
kith_mqtt_driver_finalize (GObject *object)
{
	KithMqttDriver *self = KITH_MQTT_DRIVER (object);

	if (self->client != NULL)
		kith_mqtt_client_stop (self->client);
	g_clear_pointer (&self->client, kith_mqtt_client_unref);
	g_clear_pointer (&self->bus, kith_mqtt_bus_free);
	kith_mqtt_client_options_clear (&self->options);
	g_free ((gchar *)self->bus_options.discovery_prefix);
	g_free ((gchar *)self->bus_options.base_topic);
	g_free ((gchar *)self->bus_options.rpc_source);
	G_OBJECT_CLASS (kith_mqtt_driver_parent_class)->finalize (object);
}

static void
kith_mqtt_driver_class_init (KithMqttDriverClass *klass)
{
	KithDriverClass *driver_class = KITH_DRIVER_CLASS (klass);

	G_OBJECT_CLASS (klass)->finalize = kith_mqtt_driver_finalize;
	driver_class->setup = kith_mqtt_setup;
	driver_class->start = kith_mqtt_start;
	driver_class->read = kith_mqtt_read;
	driver_class->write = kith_mqtt_write;
	driver_class->stop = kith_mqtt_stop;
	driver_class->describe = kith_mqtt_describe;
	driver_class->keys = kith_mqtt_keys;
	driver_class->item_keys = kith_mqtt_item_keys;
	driver_class->discovers = TRUE;
}

static void
kith_mqtt_driver_init (KithMqttDriver *self)
{
}
