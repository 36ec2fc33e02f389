/* SPDX-License-Identifier: GPL-3.0-or-later */
/* the devices of a broker without a broker: messages in, devices, values, subscriptions and
 * publications out */
#include <string.h>

#include "drivers/mqtt/bus.h"
#include "drivers/mqtt/items.h"
#include "kith-error.h"

typedef struct {
	KithDriver *driver;
	KithMqttBus *bus;
	GHashTable *subscribed; /* filter -> TRUE */
	GPtrArray *published;   /* "topic payload" */
	guint writes_done;
	guint resubscribed;
	gchar *write_error;
} Fixture;

static GPtrArray *logged;

static GLogWriterOutput
test_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
	for (gsize i = 0; i < n && (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) == 0; i++) {
		if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && logged != NULL)
			g_ptr_array_add (logged, g_strdup (fields[i].value));
	}
	if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
		return g_log_writer_default (level, fields, n, data);
	return G_LOG_WRITER_HANDLED;
}

static guint
count_logged (const gchar *text)
{
	guint n = 0;
	for (guint i = 0; i < logged->len; i++)
		n += strstr (g_ptr_array_index (logged, i), text) != NULL;
	return n;
}

static void
io_subscribe (const gchar *filter, gpointer data)
{
	Fixture *f = data;
	if (!g_hash_table_add (f->subscribed, g_strdup (filter)))
		f->resubscribed++;
}

static void
io_unsubscribe (const gchar *filter, gpointer data)
{
	Fixture *f = data;
	g_assert_true (g_hash_table_remove (f->subscribed, filter));
}

typedef struct {
	KithMqttPublishFunc done;
	gpointer data;
} Ack;

static gboolean
io_ack_cb (gpointer data)
{
	Ack *ack = data;
	ack->done (NULL, ack->data);
	g_free (ack);
	return G_SOURCE_REMOVE;
}

static gboolean
io_publish (const gchar *topic, const gchar *payload, gboolean retain, KithMqttPublishFunc done,
            gpointer done_data, gpointer data, GError **error)
{
	Fixture *f = data;
	g_ptr_array_add (f->published, g_strdup_printf ("%s %s", topic, payload));
	if (done != NULL) {
		Ack *ack = g_new0 (Ack, 1);
		ack->done = done;
		ack->data = done_data;
		g_idle_add (io_ack_cb, ack);
	}
	return TRUE;
}

static const KithMqttBusIo test_io = {
	.subscribe = io_subscribe,
	.unsubscribe = io_unsubscribe,
	.publish = io_publish,
};

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
	KithMqttBusOptions options = { .homeassistant = TRUE,
		                       .zigbee2mqtt = TRUE,
		                       .tasmota = TRUE,
		                       .shelly = TRUE,
		                       .discovery_prefix = "homeassistant",
		                       .base_topic = "zigbee2mqtt",
		                       .rpc_source = "kith-test" };

	f->driver = kith_driver_new ("mqtt", "t", NULL);
	f->subscribed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	f->published = g_ptr_array_new_with_free_func (g_free);
	f->bus = kith_mqtt_bus_new (f->driver, &options, &test_io, f);
	logged = g_ptr_array_new_with_free_func (g_free);
	if (data == NULL) {
		kith_mqtt_bus_start (f->bus);
		kith_mqtt_bus_set_connected (f->bus, TRUE, NULL);
	}
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
	while (g_main_context_iteration (NULL, FALSE))
		;
	kith_mqtt_bus_free (f->bus);
	g_object_unref (f->driver);
	g_hash_table_unref (f->subscribed);
	g_ptr_array_unref (f->published);
	g_clear_pointer (&logged, g_ptr_array_unref);
	g_free (f->write_error);
}

static void
send_message (Fixture *f, const gchar *topic, const gchar *payload)
{
	kith_mqtt_bus_message (f->bus, topic, payload, strlen (payload), FALSE);
}

/* a sample file as the payload of a message */
static void
send_sample (Fixture *f, const gchar *topic, const gchar *sample)
{
	g_autofree gchar *here = g_path_get_dirname (__FILE__);
	g_autofree gchar *path = g_build_filename (here, "samples", sample, NULL);
	g_autofree gchar *payload = NULL;

	g_assert_true (g_file_get_contents (path, &payload, NULL, NULL));
	send_message (f, topic, payload);
}

static KithDevice *
device (Fixture *f, const gchar *id)
{
	return kith_driver_find_device (f->driver, id);
}

static gchar *
value (Fixture *f, const gchar *id, const gchar *field)
{
	const KithValue *v = kith_device_get_value (device (f, id), field);
	g_assert_nonnull (v);
	return v->valid ? kith_value_to_string (v, 2) : g_strdup ("unknown");
}

#define assert_value(f, id, field, expected)                                                       \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_autofree gchar *text_ = value (f, id, field);                                    \
		g_assert_cmpstr (text_, ==, expected);                                             \
	}                                                                                          \
	G_STMT_END

#define SENSOR "t-zigbee2mqtt-0x00158d00012abcde"

static void
test_homeassistant (Fixture *f, gconstpointer data)
{
	KithDevice *sensor;

	g_assert_true (g_hash_table_contains (f->subscribed, "homeassistant/+/+/config"));
	send_sample (f, "homeassistant/sensor/0x00158d00012abcde/temperature/config",
	             "ha-sensor-temperature.json");
	send_sample (f, "homeassistant/sensor/0x00158d00012abcde/humidity/config",
	             "ha-sensor-humidity.json");
	sensor = device (f, SENSOR);
	g_assert_nonnull (sensor);
	g_assert_cmpuint (kith_driver_get_devices (f->driver)->len, ==, 1);
	g_assert_cmpuint (kith_device_get_fields (sensor)->len, ==, 2);
	g_assert_cmpstr (kith_device_get_label (sensor), ==, "Living room sensor");
	g_assert_cmpstr (kith_device_get_manufacturer (sensor), ==, "Aqara");
	g_assert_true (g_hash_table_contains (f->subscribed, "zigbee2mqtt/0x00158d00012abcde"));
	g_assert_true (g_hash_table_contains (f->subscribed, "zigbee2mqtt/bridge/state"));
	/* the humidity's retained state is asked for again, the bridge's too (one device) */
	g_assert_cmpuint (f->resubscribed, ==, 3);

	send_message (f, "zigbee2mqtt/0x00158d00012abcde",
	              "{\"temperature\": 21.42, \"humidity\": 48.26}");
	assert_value (f, SENSOR, "Temperature", "21.42");
	assert_value (f, SENSOR, "Humidity", "48.30");
	g_assert_true (kith_device_is_answering (sensor));
	send_message (f, "zigbee2mqtt/0x00158d00012abcde/availability", "{\"state\":\"offline\"}");
	g_assert_false (kith_device_is_answering (sensor));
	send_message (f, "zigbee2mqtt/0x00158d00012abcde/availability", "online"); /* older z2m */
	g_assert_true (kith_device_is_answering (sensor));
	send_message (f, "zigbee2mqtt/bridge/state", "{\"state\":\"offline\"}");
	g_assert_false (kith_device_is_answering (sensor));
	send_message (f, "zigbee2mqtt/bridge/state", "{\"state\":\"online\"}");
	g_assert_true (kith_device_is_answering (sensor));

	/* an empty retained config removes the entity, the last one the device */
	send_message (f, "homeassistant/sensor/0x00158d00012abcde/humidity/config", "");
	g_assert_null (kith_device_find_field (sensor, "Humidity"));
	g_assert_nonnull (device (f, SENSOR));
	send_message (f, "homeassistant/sensor/0x00158d00012abcde/temperature/config", "");
	g_assert_null (device (f, SENSOR));
	g_assert_false (g_hash_table_contains (f->subscribed, "zigbee2mqtt/0x00158d00012abcde"));
}

static void
test_homeassistant_device_based (Fixture *f, gconstpointer data)
{
	KithDevice *kitchen;

	send_sample (f, "homeassistant/device/ea334450945afc/config", "ha-device-based.json");
	kitchen = device (f, "t-ea334450945afc");
	g_assert_nonnull (kitchen);
	g_assert_cmpuint (kith_device_get_fields (kitchen)->len, ==, 2);
	g_assert_cmpuint (count_logged ("bla_cover: component 'cover' is not supported"), ==, 1);
	send_message (f, "sensorBedroom/state", "{\"temperature\": 19.5, \"humidity\": 51}");
	assert_value (f, "t-ea334450945afc", "some_unique_component_id1", "19.50");
	/* a component with only its platform is gone */
	send_message (f, "homeassistant/device/ea334450945afc/config",
	              "{\"dev\": {\"ids\": \"ea334450945afc\"}, \"o\": {\"name\": \"x\"}, "
	              "\"state_topic\": "
	              "\"sensorBedroom/state\", \"cmps\": {\"some_unique_component_id1\": {\"p\": "
	              "\"sensor\"}, \"some_unique_id2\": {\"p\": \"sensor\", \"value_template\": "
	              "\"{{ value_json.humidity }}\"}}}");
	g_assert_cmpuint (kith_device_get_fields (kitchen)->len, ==, 1);
	send_message (f, "homeassistant/device/ea334450945afc/config", "");
	g_assert_null (device (f, "t-ea334450945afc"));
}

static void
test_homeassistant_unsupported (Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < 3; i++)
		send_sample (f, "homeassistant/sensor/garden_pump/status/config",
		             "ha-unsupported-template.json");
	send_sample (f, "homeassistant/cover/bedroom/blind/config", "ha-cover-unsupported.json");
	send_message (f, "homeassistant/sensor/e/t/config", "{\"name\": \"T\", \"stat_t\": \"\"}");
	send_message (f, "homeassistant/light/e/l/config",
	              "{\"name\": \"L\", \"schema\": \"json\", \"stat_t\": \"\", \"cmd_t\": "
	              "\"l/+/set\", \"avty_t\": \"\", \"uniq_id\": \"wild\"}");
	g_assert_cmpuint (count_logged ("no state_topic"), ==, 1);
	g_assert_false (g_hash_table_contains (f->subscribed, ""));
	g_assert_nonnull (device (f, "t-wild"));
	kith_mqtt_bus_message (f->bus, "homeassistant/light/e/l/config", "", 0, FALSE);
	g_assert_cmpuint (kith_driver_get_devices (f->driver)->len, ==, 0);
	g_assert_cmpuint (count_logged ("unsupported template"), ==, 1);
	g_assert_cmpuint (count_logged ("'cover' is not supported"), ==, 1);
	/* the rest of the device still comes */
	send_sample (f, "homeassistant/switch/garden_pump/config", "ha-switch-plug.json");
	g_assert_nonnull (device (f, "t-ac-0b-fb-11-22-33"));
}

/* bad payloads are said once per device and topic and skipped; the device stays */
static void
test_bad_payloads (Fixture *f, gconstpointer data)
{
	gsize size = 1024 * 1024;
	g_autofree gchar *big = g_malloc (size + 1);
	static const gchar *const bad[] = {
		"not json", "{\"temperature\": \"warm\"}",      "{\"humidity\": 1}",
		"[1, 2]",   "{\"temperature\": {\"deep\": 1}}", "",
	};

	send_sample (f, "homeassistant/sensor/0x00158d00012abcde/temperature/config",
	             "ha-sensor-temperature.json");
	send_message (f, "zigbee2mqtt/0x00158d00012abcde", "{\"temperature\": 20}");
	for (guint round = 0; round < 2; round++) {
		for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
			send_message (f, "zigbee2mqtt/0x00158d00012abcde", bad[i]);
	}
	memset (big, '{', size);
	big[size] = '\0';
	kith_mqtt_bus_message (f->bus, "zigbee2mqtt/0x00158d00012abcde", big, size, FALSE);
	kith_mqtt_bus_message (f->bus, "zigbee2mqtt/0x00158d00012abcde", "\xff\xfe", 2, FALSE);
	send_message (f, "zigbee2mqtt/0x00158d00012abcde/availability", "{\"state\":\"sleepy\"}");
	send_message (f, "homeassistant/sensor/x/y/config", "{not json");
	send_message (f, "homeassistant/sensor/x/y/config", "{not json");
	g_assert_nonnull (device (f, SENSOR));
	assert_value (f, SENSOR, "Temperature", "20.00");
	g_assert_cmpuint (count_logged (SENSOR ": bad payload on zigbee2mqtt/0x00158d00012abcde "),
	                  ==, 1);
	g_assert_cmpuint (count_logged ("bad payload on zigbee2mqtt/0x00158d00012abcde/avail"), ==,
	                  1);
	g_assert_cmpuint (count_logged ("homeassistant/sensor/x/y/config: payload is not JSON"), ==,
	                  1);
	send_message (f, "zigbee2mqtt/0x00158d00012abcde", "{\"temperature\": 20.5}");
	assert_value (f, SENSOR, "Temperature", "20.50");
}

static void
test_zigbee2mqtt (Fixture *f, gconstpointer data)
{
	g_autofree gchar *list = NULL;
	g_autofree gchar *renamed = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *here = g_path_get_dirname (__FILE__);
	g_autoptr (GString) edited = NULL;
	KithDevice *bulb;

	path = g_build_filename (here, "samples", "z2m-bridge-devices.json", NULL);
	g_assert_true (g_file_get_contents (path, &list, NULL, NULL));
	send_message (f, "zigbee2mqtt/bridge/devices", list);
	g_assert_cmpuint (kith_driver_get_devices (f->driver)->len, ==, 3);
	bulb = device (f, "t-000b57fffec6a5b2");
	g_assert_nonnull (bulb);
	g_assert_cmpstr (kith_device_get_label (bulb), ==, "kitchen/bulb");
	g_assert_true (g_hash_table_contains (f->subscribed, "zigbee2mqtt/kitchen/bulb"));
	send_sample (f, "zigbee2mqtt/kitchen/bulb", "z2m-state-bulb.json");
	assert_value (f, "t-000b57fffec6a5b2", "state", "true");
	assert_value (f, "t-000b57fffec6a5b2", "brightness", "215.00");
	/* a partial state leaves the rest */
	send_message (f, "zigbee2mqtt/kitchen/bulb", "{\"brightness\": 10}");
	assert_value (f, "t-000b57fffec6a5b2", "state", "true");
	g_assert_cmpuint (count_logged ("0x847127fffe1a2b3c: not supported by Zigbee2MQTT"), ==, 1);
	g_assert_cmpuint (logged->len, ==, 1);

	/* renamed: the same device, on its new topics */
	edited = g_string_new (list);
	g_string_replace (edited, "kitchen/bulb", "kitchen/ceiling", 0);
	send_message (f, "zigbee2mqtt/bridge/devices", edited->str);
	g_assert_true (device (f, "t-000b57fffec6a5b2") == bulb);
	g_assert_cmpstr (kith_device_get_label (bulb), ==, "kitchen/ceiling");
	g_assert_false (g_hash_table_contains (f->subscribed, "zigbee2mqtt/kitchen/bulb"));
	g_assert_true (g_hash_table_contains (f->subscribed, "zigbee2mqtt/kitchen/ceiling"));
	send_message (f, "zigbee2mqtt/kitchen/ceiling", "{\"state\": \"OFF\"}");
	assert_value (f, "t-000b57fffec6a5b2", "state", "false");

	/* gone from the list: gone */
	send_message (f, "zigbee2mqtt/bridge/devices", "[]");
	g_assert_cmpuint (kith_driver_get_devices (f->driver)->len, ==, 0);
}

static void
write_done_cb (KithDevice *device, const GError *error, gpointer data)
{
	Fixture *f = data;
	f->writes_done++;
	g_free (f->write_error);
	f->write_error = error != NULL ? g_strdup (error->message) : NULL;
}

/* writes name=text (as the type of the field) and waits for the result */
static void
write_field (Fixture *f, const gchar *id, const gchar *name, const gchar *text)
{
	KithDevice *dev = device (f, id);
	const KithField *field = kith_device_find_field (dev, name);
	g_autoptr (GPtrArray) params =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)kith_param_free);
	KithValue value = { .type = field->type, .valid = TRUE };
	guint before = f->writes_done;

	if (field->type == KITH_VALUE_BOOLEAN)
		value.boolean = g_strcmp0 (text, "true") == 0;
	else if (field->type == KITH_VALUE_STRING)
		value.string = g_strdup (text);
	else
		value.number = g_ascii_strtod (text, NULL);
	g_ptr_array_add (params, kith_param_new (name, &value));
	kith_value_clear (&value);
	kith_mqtt_bus_write (f->bus, dev, params, write_done_cb, f);
	g_assert_cmpuint (f->writes_done, ==, before); /* never before it returns */
	while (f->writes_done == before)
		g_main_context_iteration (NULL, TRUE);
}

static const gchar *
last_published (Fixture *f)
{
	g_assert_cmpuint (f->published->len, >, 0);
	return g_ptr_array_index (f->published, f->published->len - 1);
}

static void
test_writes (Fixture *f, gconstpointer data)
{
	send_sample (f, "homeassistant/switch/garden_pump/config", "ha-switch-plug.json");
	write_field (f, "t-ac-0b-fb-11-22-33", "Pump", "true");
	g_assert_null (f->write_error);
	g_assert_cmpstr (last_published (f), ==, "home/garden/pump/set 1");
	send_sample (f, "homeassistant/button/boiler/restart/config", "ha-button-restart.json");
	send_sample (f, "homeassistant/select/boiler/mode/config", "ha-select-mode.json");
	send_sample (f, "homeassistant/number/boiler/setpoint/config", "ha-number-setpoint.json");
	write_field (f, "t-boiler-1", "Restart", "true");
	g_assert_cmpstr (last_published (f), ==, "heating/boiler/restart RESTART");
	write_field (f, "t-boiler-1", "Restart", "false");
	g_assert_nonnull (strstr (f->write_error, "button"));
	write_field (f, "t-boiler-1", "Mode", "eco");
	g_assert_cmpstr (last_published (f), ==, "heating/boiler/mode/set eco");
	write_field (f, "t-boiler-1", "Mode", "turbo");
	g_assert_nonnull (strstr (f->write_error, "not one of off, eco, comfort"));
	write_field (f, "t-boiler-1", "Setpoint", "55.5");
	g_assert_cmpstr (last_published (f), ==,
	                 "heating/boiler/setpoint/set {\"setpoint\": 55.5}");
	send_sample (f, "homeassistant/light/desk_lamp/config", "ha-light-default.json");
	write_field (f, "t-desk-lamp-1", "Lamp brightness", "40");
	g_assert_cmpstr (last_published (f), ==, "office/lamp/brightness/set 40");

	send_sample (f, "zigbee2mqtt/bridge/devices", "z2m-bridge-devices.json");
	write_field (f, "t-000b57fffec6a5b2", "brightness", "128");
	g_assert_cmpstr (last_published (f), ==,
	                 "zigbee2mqtt/kitchen/bulb/set {\"brightness\": 128}");
	write_field (f, "t-000b57fffec6a5b2", "state", "false");
	g_assert_cmpstr (last_published (f), ==,
	                 "zigbee2mqtt/kitchen/bulb/set {\"state\": \"OFF\"}");
	write_field (f, "t-000b57fffec6a5b2", "effect", "blink");
	g_assert_cmpstr (last_published (f), ==,
	                 "zigbee2mqtt/kitchen/bulb/set {\"effect\": \"blink\"}");

	/* not answering: refused, nothing published */
	send_message (f, "zigbee2mqtt/kitchen/bulb/availability", "{\"state\":\"offline\"}");
	g_ptr_array_set_size (f->published, 0);
	write_field (f, "t-000b57fffec6a5b2", "state", "true");
	g_assert_nonnull (strstr (f->write_error, "not answering"));
	g_assert_cmpuint (f->published->len, ==, 0);
}

static void
test_tasmota (Fixture *f, gconstpointer data)
{
	KithDevice *plug;

	send_sample (f, "tasmota/discovery/DC4F2249A3BC/sensors", "tasmota-sensors.json");
	g_assert_null (device (f, "t-dc4f2249a3bc")); /* the config comes first */
	send_sample (f, "tasmota/discovery/DC4F2249A3BC/config", "tasmota-config.json");
	plug = device (f, "t-dc4f2249a3bc");
	g_assert_nonnull (plug);
	g_assert_cmpstr (kith_device_get_label (plug), ==, "Kitchen plug");
	send_sample (f, "tele/tasmota_49A3BC/SENSOR", "tasmota-tele-sensor.json");
	assert_value (f, "t-dc4f2249a3bc", "AM2301 Temperature", "22.60");
	assert_value (f, "t-dc4f2249a3bc", "ENERGY Power", "71.00");
	send_sample (f, "tele/tasmota_49A3BC/STATE", "tasmota-tele-state.json");
	assert_value (f, "t-dc4f2249a3bc", "POWER", "true");
	send_message (f, "stat/tasmota_49A3BC/POWER", "OFF");
	assert_value (f, "t-dc4f2249a3bc", "POWER", "false");
	send_message (f, "stat/tasmota_49A3BC/RESULT", "{\"POWER\":\"ON\"}");
	assert_value (f, "t-dc4f2249a3bc", "POWER", "true");
	write_field (f, "t-dc4f2249a3bc", "POWER", "false");
	g_assert_cmpstr (last_published (f), ==, "cmnd/tasmota_49A3BC/POWER OFF");
	send_message (f, "tele/tasmota_49A3BC/LWT", "Offline");
	g_assert_false (kith_device_is_answering (plug));
	send_message (f, "tele/tasmota_49A3BC/LWT", "Online");
	g_assert_true (kith_device_is_answering (plug));
	send_message (f, "tasmota/discovery/DC4F2249A3BC/config", "");
	g_assert_null (device (f, "t-dc4f2249a3bc"));
	g_assert_cmpuint (logged->len, ==, 1); /* "gone from the broker" */
}

static void
test_shelly (Fixture *f, gconstpointer data)
{
	g_autofree gchar *info = NULL;
	KithDevice *relay, *plus;
	const gchar *request;

	/* gen1: announced, then its topics become fields as they come */
	g_assert_cmpstr (g_ptr_array_index (f->published, 0), ==, "shellies/command announce");
	send_sample (f, "shellies/announce", "shelly1-announce.json");
	relay = device (f, "t-shelly1-b929cc");
	g_assert_nonnull (relay);
	send_message (f, "shellies/shelly1-B929CC/relay/0", "on");
	assert_value (f, "t-shelly1-b929cc", "relay0", "true");
	send_message (f, "shellies/shelly1-B929CC/relay/0/power", "42.5");
	assert_value (f, "t-shelly1-b929cc", "relay0_power", "42.50");
	write_field (f, "t-shelly1-b929cc", "relay0", "false");
	g_assert_cmpstr (last_published (f), ==, "shellies/shelly1-B929CC/relay/0/command off");
	send_message (f, "shellies/shelly1-B929CC/relay/0/command", "off"); /* our own, echoed */
	send_message (f, "shellies/shelly1-B929CC/online", "false");
	g_assert_false (kith_device_is_answering (relay));

	/* gen2: asked who it is and what it has */
	send_message (f, "shellyplus1pm-a8032ab12345/online", "true");
	request = last_published (f);
	g_assert_true (g_str_has_prefix (request, "shellyplus1pm-a8032ab12345/rpc {\"id\":1,"));
	g_assert_nonnull (strstr (request, "\"src\":\"kith-test\""));
	g_assert_nonnull (strstr (request, "Shelly.GetDeviceInfo"));
	send_message (f, "shellyplus1pm-a8032ab12345/status/sys", "{}"); /* asked once */
	g_assert_cmpstr (last_published (f), ==, request);
	send_sample (f, "kith-test/rpc", "shellyplus-device-info.json");
	g_assert_nonnull (strstr (last_published (f), "Shelly.GetStatus"));
	g_assert_nonnull (strstr (last_published (f), "\"id\":2"));
	send_sample (f, "kith-test/rpc", "shellyplus-status.json");
	plus = device (f, "t-shellyplus1pm-a8032ab12345");
	g_assert_nonnull (plus);
	g_assert_cmpstr (kith_device_get_label (plus), ==, "Boiler room");
	assert_value (f, "t-shellyplus1pm-a8032ab12345", "switch0", "false");
	assert_value (f, "t-shellyplus1pm-a8032ab12345", "switch0_energy", "1542.32");
	send_sample (f, "shellyplus1pm-a8032ab12345/status/switch:0",
	             "shellyplus-status-switch.json");
	assert_value (f, "t-shellyplus1pm-a8032ab12345", "switch0", "true");
	assert_value (f, "t-shellyplus1pm-a8032ab12345", "switch0_power", "1850.40");
	send_sample (f, "shellyplus1pm-a8032ab12345/events/rpc", "shellyplus-notify-status.json");
	assert_value (f, "t-shellyplus1pm-a8032ab12345", "switch0_power", "1843.20");
	assert_value (f, "t-shellyplus1pm-a8032ab12345", "switch0", "true");
	write_field (f, "t-shellyplus1pm-a8032ab12345", "switch0", "false");
	g_assert_cmpstr (last_published (f), ==,
	                 "shellyplus1pm-a8032ab12345/rpc {\"id\": 1, \"src\": \"kith-test\", "
	                 "\"method\": \"Switch.Set\", \"params\": {\"id\": 0, \"on\": false}}");
	g_assert_cmpuint (logged->len, ==, 0);
}

/* a device known from an earlier run is the same object once the bus confirms it */
static void
test_restored (Fixture *f, gconstpointer data)
{
	g_autoptr (KithDevice) known = kith_device_new (SENSOR, "Living room sensor");
	KithField *field = kith_field_new ("Temperature", KITH_VALUE_NUMERIC, "°C");

	kith_device_add_field (known, field);
	kith_device_set_number (known, "Temperature", 19.25, g_get_real_time ());
	kith_device_set_key (known, "homeassistant:zigbee2mqtt_0x00158d00012abcde");
	kith_device_set_silent_since (known, g_get_real_time (), "not seen on the bus yet");
	g_assert_true (kith_driver_add_device (f->driver, known));
	kith_mqtt_bus_start (f->bus);
	kith_mqtt_bus_set_connected (f->bus, TRUE, NULL);
	g_assert_false (kith_device_is_answering (known));
	g_assert_false (kith_mqtt_bus_is_confirmed (f->bus, known));

	send_sample (f, "homeassistant/sensor/0x00158d00012abcde/temperature/config",
	             "ha-sensor-temperature.json");
	g_assert_true (device (f, SENSOR) == known);
	g_assert_true (kith_mqtt_bus_is_confirmed (f->bus, known));
	g_assert_true (kith_device_is_answering (known));
	assert_value (f, SENSOR, "Temperature", "19.25"); /* the last value holds until a new one */
	g_assert_cmpuint (kith_driver_get_devices (f->driver)->len, ==, 1);
}

static gboolean
admit_three (KithDriver *driver, KithDevice *device, gpointer data)
{
	return kith_driver_get_devices (driver)->len < 3;
}

/* a flood of discovery configs stops at the core's admission, said once */
static void
test_flood (Fixture *f, gconstpointer data)
{
	kith_driver_set_admission (f->driver, admit_three, NULL);
	for (guint i = 0; i < 200; i++) {
		g_autofree gchar *topic = g_strdup_printf ("homeassistant/sensor/n%u/t/config", i);
		g_autofree gchar *config = g_strdup_printf (
		        "{\"name\": \"T\", \"stat_t\": \"flood/%u\", \"uniq_id\": \"flood-%u\"}", i,
		        i);
		send_message (f, topic, config);
	}
	g_assert_cmpuint (kith_driver_get_devices (f->driver)->len, ==, 3);
	g_assert_cmpuint (count_logged ("the core refused"), ==, 1);
	g_assert_false (g_hash_table_contains (f->subscribed, "flood/3"));
	g_assert_true (g_hash_table_contains (f->subscribed, "flood/2"));
}

static void
test_broker_down (Fixture *f, gconstpointer data)
{
	g_autoptr (GKeyFile) keyfile = g_key_file_new ();
	g_autoptr (KithMqttDescription) description = NULL;
	KithDevice *boiler;

	g_assert_true (g_key_file_load_from_data (keyfile,
	                                          "[bus:t:boiler]\nTopic=home/boiler\n"
	                                          "T.Path=$.t\nT.Scale=0.1\n",
	                                          -1, 0, NULL));
	description = kith_mqtt_items_parse (keyfile, "bus:t:boiler", "boiler", NULL);
	g_assert_true (kith_mqtt_bus_add (f->bus, description));
	boiler = device (f, "t-boiler");
	g_assert_false (kith_device_is_answering (boiler)); /* no broker yet */
	g_assert_true (g_hash_table_contains (f->subscribed, "home/boiler"));
	kith_mqtt_bus_start (f->bus);
	kith_mqtt_bus_set_connected (f->bus, TRUE, NULL);
	g_assert_true (kith_device_is_answering (boiler));
	send_message (f, "home/boiler", "{\"t\": 655}");
	assert_value (f, "t-boiler", "T", "65.50");
	kith_mqtt_bus_set_connected (f->bus, FALSE, "connection refused");
	g_assert_false (kith_device_is_answering (boiler));
	g_assert_nonnull (strstr (kith_device_get_silent_reason (boiler), "connection refused"));
	kith_mqtt_bus_set_connected (f->bus, TRUE, NULL);
	g_assert_true (kith_device_is_answering (boiler));
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_log_set_writer_func (test_log_writer, NULL, NULL);
#define ADD(path, func, started)                                                                   \
	g_test_add ("/kith/mqtt/bus/" path, Fixture, started ? NULL : "", fixture_set_up, func,    \
	            fixture_tear_down)
	ADD ("homeassistant", test_homeassistant, TRUE);
	ADD ("homeassistant-device", test_homeassistant_device_based, TRUE);
	ADD ("homeassistant-unsupported", test_homeassistant_unsupported, TRUE);
	ADD ("bad-payloads", test_bad_payloads, TRUE);
	ADD ("zigbee2mqtt", test_zigbee2mqtt, TRUE);
	ADD ("writes", test_writes, TRUE);
	ADD ("tasmota", test_tasmota, TRUE);
	ADD ("shelly", test_shelly, TRUE);
	ADD ("restored", test_restored, FALSE);
	ADD ("flood", test_flood, TRUE);
	ADD ("broker-down", test_broker_down, FALSE);
	return g_test_run ();
}
