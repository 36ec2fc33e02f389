/* SPDX-License-Identifier: GPL-3.0-or-later */
/* the conventions' real payloads (tests/samples) as devices, fields, bindings and commands */
#include <string.h>

#include "drivers/mqtt/homeassistant.h"
#include "drivers/mqtt/items.h"
#include "drivers/mqtt/shelly.h"
#include "drivers/mqtt/tasmota.h"
#include "drivers/mqtt/zigbee2mqtt.h"
#include "kith-error.h"

/* the samples beside this file (the tests run in the build directory) */
static JsonNode *
load_sample (const gchar *name)
{
	const gchar *dir = g_getenv ("KITH_MQTT_SAMPLES");
	g_autofree gchar *here = g_path_get_dirname (__FILE__);
	g_autofree gchar *path = g_build_filename (dir != NULL ? dir : here,
	                                           dir != NULL ? "" : "samples", name, NULL);
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;

	json_parser_load_from_file (parser, path, &error);
	g_assert_no_error (error);
	return json_node_copy (json_parser_get_root (parser));
}

/* a description written out compactly, for the tables */
static gchar *
describe (KithMqttDescription *description)
{
	g_autoptr (GString) out = g_string_new (NULL);

	g_string_append_printf (out, "key=%s id=%s label=%s man=%s model=%s", description->key,
	                        description->hardware_id, description->label,
	                        description->manufacturer, description->model);
	for (guint i = 0; i < description->parts->len; i++) {
		KithMqttPart *part = g_ptr_array_index (description->parts, i);
		g_string_append_printf (out, "\n[%s]", part->id);
		for (guint j = 0; j < part->fields->len; j++) {
			KithField *field = g_ptr_array_index (part->fields, j);
			g_string_append_printf (out, "\nfield %s %s '%s'%s%s", field->name,
			                        kith_value_type_to_string (field->type),
			                        field->unit, field->writable ? " writable" : "",
			                        field->in_status ? "" : " hidden");
			if (field->min <= field->max)
				g_string_append_printf (out, " %g..%g", field->min, field->max);
		}
		for (guint j = 0; j < part->bindings->len; j++) {
			KithMqttBinding *binding = g_ptr_array_index (part->bindings, j);
			g_string_append_printf (
			        out, "\nbind %s <- %s%s%s", binding->field, binding->topic,
			        binding->extract != NULL ? " " : "",
			        binding->extract != NULL
			                ? kith_mqtt_extract_describe (binding->extract)
			                : "");
			if (binding->state_on != NULL)
				g_string_append_printf (out, " (%s/%s)", binding->state_on,
				                        binding->state_off);
		}
		for (guint j = 0; j < part->commands->len; j++) {
			KithMqttCommand *command = g_ptr_array_index (part->commands, j);
			g_string_append_printf (out, "\ncmd %s -> %s", command->field,
			                        command->topic);
			if (command->payload != NULL)
				g_string_append_printf (out, " %s", command->payload);
			if (command->payload_on != NULL)
				g_string_append_printf (out, " (%s/%s)", command->payload_on,
				                        command->payload_off);
		}
		for (guint j = 0; j < part->availability->len; j++) {
			KithMqttAvailability *source = g_ptr_array_index (part->availability, j);
			g_string_append_printf (out, "\navail %s %s/%s", source->topic,
			                        source->available, source->not_available);
		}
	}
	return g_string_free (g_steal_pointer (&out), FALSE);
}

/* TRUE if every line of want is in have (the tables name what matters, not all) */
static void
assert_lines (const gchar *have, const gchar *want)
{
	g_auto (GStrv) lines = g_strsplit (want, "\n", -1);
	g_auto (GStrv) all = g_strsplit (have, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (!g_strv_contains ((const gchar *const *)all, lines[i]))
			g_error ("missing line: %s\nin:\n%s", lines[i], have);
	}
}

typedef struct {
	const gchar *sample;
	const gchar *topic;
	const gchar *expected; /* lines of describe (); NULL: refused with error */
	const gchar *error;
} HaCase;

static const HaCase ha_cases[] = {
	{ "ha-sensor-temperature.json",
	  "homeassistant/sensor/0x00158d00012abcde/temperature/config",
	  "key=homeassistant:zigbee2mqtt_0x00158d00012abcde id=zigbee2mqtt_0x00158d00012abcde "
	  "label=Living room sensor man=Aqara model=Temperature and humidity sensor (WSDCGQ11LM)\n"
	  "[sensor/0x00158d00012abcde/temperature]\n"
	  "field Temperature numeric '°C'\n"
	  "bind Temperature <- zigbee2mqtt/0x00158d00012abcde {{ value_json.temperature }}\n"
	  "avail zigbee2mqtt/bridge/state online/offline\n"
	  "avail zigbee2mqtt/0x00158d00012abcde/availability online/offline" },
	{ "ha-sensor-humidity.json", "homeassistant/sensor/0x00158d00012abcde/humidity/config",
	  "key=homeassistant:zigbee2mqtt_0x00158d00012abcde id=zigbee2mqtt_0x00158d00012abcde "
	  "label=Living room sensor man=Aqara model=Temperature and humidity sensor (WSDCGQ11LM)\n"
	  "field Humidity numeric '%'" },
	{ "ha-binary-sensor-door.json", "homeassistant/binary_sensor/hallway/door/config",
	  "key=homeassistant:hallway-door-1 id=hallway-door-1 label=Hallway door man=Generic "
	  "model=(null)\n"
	  "[binary_sensor/hallway/door]\n"
	  "field Door boolean ''\n"
	  "bind Door <- home/hallway/door (open/closed)" },
	{ "ha-switch-plug.json", "homeassistant/switch/garden_pump/config",
	  "key=homeassistant:AC:0B:FB:11:22:33 id=AC:0B:FB:11:22:33 label=Garden pump "
	  "man=Espressif model=ESP32 relay board\n"
	  "field Pump boolean '' writable\n"
	  "bind Pump <- home/garden/pump/state (1/0)\n"
	  "cmd Pump -> home/garden/pump/set (1/0)\n"
	  "avail home/garden/pump/status up/down" },
	{ "ha-light-default.json", "homeassistant/light/desk_lamp/config",
	  "field Lamp boolean '' writable\n"
	  "field Lamp brightness numeric '' writable 0..100\n"
	  "bind Lamp <- office/lamp/status (ON/OFF)\n"
	  "bind Lamp brightness <- office/lamp/brightness\n"
	  "cmd Lamp -> office/lamp/switch (ON/OFF)\n"
	  "cmd Lamp brightness -> office/lamp/brightness/set" },
	{ "ha-light-json.json", "homeassistant/light/0x000b57fffec6a5b2/light/config",
	  "key=homeassistant:zigbee2mqtt_0x000b57fffec6a5b2 id=zigbee2mqtt_0x000b57fffec6a5b2 "
	  "label=Kitchen bulb man=IKEA model=TRADFRI LED bulb E27 980 lumen, dimmable, white "
	  "spectrum (LED1545G12)\n"
	  "field kitchen_bulb boolean '' writable\n"
	  "field kitchen_bulb brightness numeric '' writable 0..254\n"
	  "bind kitchen_bulb <- zigbee2mqtt/0x000b57fffec6a5b2 {{ value_json['state'] }} (ON/OFF)\n"
	  "bind kitchen_bulb brightness <- zigbee2mqtt/0x000b57fffec6a5b2 "
	  "{{ value_json['brightness'] }}\n"
	  "cmd kitchen_bulb -> zigbee2mqtt/0x000b57fffec6a5b2/set ({\"state\": \"ON\"}/{\"state\": "
	  "\"OFF\"})\n"
	  "cmd kitchen_bulb brightness -> zigbee2mqtt/0x000b57fffec6a5b2/set {\"state\": \"ON\", "
	  "\"brightness\": {value}}" },
	{ "ha-number-setpoint.json", "homeassistant/number/boiler/setpoint/config",
	  "field Setpoint numeric '°C' writable 30..80\n"
	  "bind Setpoint <- heating/boiler/setpoint\n"
	  "cmd Setpoint -> heating/boiler/setpoint/set {\"setpoint\": {value}}" },
	{ "ha-select-mode.json", "homeassistant/select/boiler/mode/config",
	  "field Mode string '' writable hidden\n"
	  "cmd Mode -> heating/boiler/mode/set" },
	{ "ha-button-restart.json", "homeassistant/button/boiler/restart/config",
	  "field Restart boolean '' writable hidden\n"
	  "cmd Restart -> heating/boiler/restart (RESTART/(null))" },
	{ "ha-device-based.json", "homeassistant/device/ea334450945afc/config",
	  "key=homeassistant:ea334450945afc id=ea334450945afc label=Kitchen man=Bla electronics "
	  "model=xya\n"
	  "[device/ea334450945afc/some_unique_component_id1]\n"
	  "field some_unique_component_id1 numeric '°C'\n"
	  "bind some_unique_component_id1 <- sensorBedroom/state {{ value_json.temperature }}\n"
	  "[device/ea334450945afc/some_unique_id2]\n"
	  "field some_unique_id2 numeric '%'" },
	{ "ha-unsupported-template.json", "homeassistant/sensor/garden_pump/status/config", NULL,
	  "unsupported template" },
	{ "ha-cover-unsupported.json", "homeassistant/cover/bedroom/blind/config", NULL,
	  "component 'cover' is not supported" },
};

static void
test_homeassistant (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (ha_cases); i++) {
		const HaCase *c = &ha_cases[i];
		g_autoptr (JsonNode) root = load_sample (c->sample);
		g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
		g_autoptr (GError) error = NULL;
		g_autoptr (KithMqttDescription) description = NULL;
		KithMqttHaTopic topic;

		g_test_message ("%s", c->sample);
		g_assert_true (
		        kith_mqtt_homeassistant_parse_topic ("homeassistant", c->topic, &topic));
		description = kith_mqtt_homeassistant_parse (&topic, root, notes, &error);
		if (c->expected == NULL) {
			g_assert_null (description);
			g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
			g_assert_nonnull (strstr (error->message, c->error));
		} else {
			g_autofree gchar *text = NULL;
			g_assert_no_error (error);
			text = describe (description);
			assert_lines (text, c->expected);
		}
		kith_mqtt_ha_topic_clear (&topic);
	}
}

static void
test_homeassistant_notes (void)
{
	g_autoptr (JsonNode) root = load_sample ("ha-device-based.json");
	g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (KithMqttDescription) description = NULL;
	KithMqttHaTopic topic;

	g_assert_true (kith_mqtt_homeassistant_parse_topic (
	        "homeassistant", "homeassistant/device/ea334450945afc/config", &topic));
	description = kith_mqtt_homeassistant_parse (&topic, root, notes, NULL);
	g_assert_nonnull (description);
	g_assert_cmpuint (description->parts->len, ==, 2);
	g_assert_cmpuint (notes->len, ==, 1); /* the cover */
	g_assert_nonnull (strstr (g_ptr_array_index (notes, 0), "bla_cover"));
	kith_mqtt_ha_topic_clear (&topic);
}

static void
test_homeassistant_topics (void)
{
	static const struct {
		const gchar *topic;
		const gchar *discovery_id; /* NULL: not a config topic */
	} cases[] = {
		{ "homeassistant/sensor/dev/temp/config", "sensor/dev/temp" },
		{ "homeassistant/switch/pump/config", "switch/pump" },
		{ "homeassistant/device/abc/config", "device/abc" },
		{ "homeassistant/device/a/b/config", NULL },
		{ "homeassistant/sensor/config", NULL },
		{ "homeassistant/sensor//temp/config", NULL },
		{ "homeassistant/sensor/dev/temp/state", NULL },
		{ "homeassistantx/sensor/dev/temp/config", NULL },
		{ "homeassistant/status", NULL },
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		KithMqttHaTopic topic;
		gboolean ok = kith_mqtt_homeassistant_parse_topic ("homeassistant", cases[i].topic,
		                                                   &topic);
		g_assert_cmpint (ok, ==, cases[i].discovery_id != NULL);
		if (ok)
			g_assert_cmpstr (topic.discovery_id, ==, cases[i].discovery_id);
		kith_mqtt_ha_topic_clear (&topic);
	}
}

static void
test_zigbee2mqtt (void)
{
	g_autoptr (JsonNode) root = load_sample ("z2m-bridge-devices.json");
	g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) devices = NULL;
	g_autofree gchar *sensor = NULL;
	g_autofree gchar *bulb = NULL;
	g_autofree gchar *plug = NULL;

	devices = kith_mqtt_zigbee2mqtt_parse_devices ("zigbee2mqtt", root, notes, NULL);
	g_assert_nonnull (devices);
	/* the coordinator, the unsupported device and the one being interviewed are left out */
	g_assert_cmpuint (devices->len, ==, 3);
	g_assert_cmpuint (notes->len, ==, 1);
	sensor = describe (g_ptr_array_index (devices, 0));
	assert_lines (
	        sensor,
	        "key=zigbee2mqtt:00158d00012abcde id=00158d00012abcde label=living_room_sensor "
	        "man=Aqara model=WSDCGQ11LM\n"
	        "field temperature numeric '°C'\n"
	        "field battery numeric '%' hidden\n"
	        "field linkquality numeric 'lqi' hidden\n"
	        "bind temperature <- zigbee2mqtt/living_room_sensor "
	        "{{ value_json['temperature'] }}\n"
	        "avail zigbee2mqtt/living_room_sensor/availability online/offline\n"
	        "avail zigbee2mqtt/bridge/state online/offline");
	bulb = describe (g_ptr_array_index (devices, 1));
	assert_lines (bulb, "key=zigbee2mqtt:000b57fffec6a5b2 id=000b57fffec6a5b2 "
	                    "label=kitchen/bulb man=IKEA model=LED1545G12\n"
	                    "field state boolean '' writable\n"
	                    "field brightness numeric '' writable 0..254\n"
	                    "field color_temp numeric 'mired' writable 250..454\n"
	                    "field effect string '' writable\n"
	                    "field power_on_behavior string '' writable hidden\n"
	                    "bind state <- zigbee2mqtt/kitchen/bulb {{ value_json['state'] }} "
	                    "(ON/OFF)\n"
	                    "cmd state -> zigbee2mqtt/kitchen/bulb/set {\"state\": {value}} "
	                    "(\"ON\"/\"OFF\")\n"
	                    "cmd brightness -> zigbee2mqtt/kitchen/bulb/set {\"brightness\": "
	                    "{value}}");
	g_assert_null (strstr (bulb, "bind effect"));  /* write only */
	g_assert_null (strstr (bulb, "field color ")); /* composite */
	plug = describe (g_ptr_array_index (devices, 2));
	assert_lines (plug, "field state boolean '' writable\n"
	                    "field power numeric 'W'\n"
	                    "field child_lock boolean '' writable hidden\n"
	                    "cmd child_lock -> zigbee2mqtt/heater_plug/set {\"child_lock\": "
	                    "{value}} (\"LOCK\"/\"UNLOCK\")");
}

static void
test_zigbee2mqtt_bad (void)
{
	g_autoptr (JsonNode) object = json_from_string ("{\"devices\": []}", NULL);
	g_autoptr (JsonNode) odd = json_from_string ("[1, \"x\", {\"friendly_name\": 3}]", NULL);
	g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) devices = NULL;
	g_autoptr (GError) error = NULL;

	g_assert_null (kith_mqtt_zigbee2mqtt_parse_devices ("z", object, notes, &error));
	g_assert_error (error, KITH_ERROR, KITH_ERROR_INVALID);
	devices = kith_mqtt_zigbee2mqtt_parse_devices ("z", odd, notes, NULL);
	g_assert_cmpuint (devices->len, ==, 0);
}

static void
test_tasmota (void)
{
	g_autoptr (JsonNode) config = load_sample ("tasmota-config.json");
	g_autoptr (JsonNode) sensors = load_sample ("tasmota-sensors.json");
	g_autoptr (JsonNode) dual = load_sample ("tasmota-config-2ch.json");
	g_autoptr (KithMqttDescription) plug = NULL;
	g_autoptr (KithMqttDescription) relays = NULL;
	g_autofree gchar *mac = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *text2 = NULL;
	gboolean is_sensors = FALSE;

	g_assert_true (kith_mqtt_tasmota_parse_topic ("tasmota/discovery/DC4F2249A3BC/sensors",
	                                              &mac, &is_sensors));
	g_assert_cmpstr (mac, ==, "DC4F2249A3BC");
	g_assert_true (is_sensors);
	g_assert_false (
	        kith_mqtt_tasmota_parse_topic ("tasmota/discovery/x/y/config", &mac, &is_sensors));
	plug = kith_mqtt_tasmota_parse ("DC4F2249A3BC", config, sensors, NULL);
	text = describe (plug);
	assert_lines (text, "key=tasmota:DC4F2249A3BC id=DC4F2249A3BC label=Kitchen plug "
	                    "man=(null) model=Sonoff Pow R2\n"
	                    "field POWER boolean '' writable\n"
	                    "bind POWER <- stat/tasmota_49A3BC/POWER (ON/OFF)\n"
	                    "bind POWER <- stat/tasmota_49A3BC/RESULT {{ value_json['POWER'] }} "
	                    "(ON/OFF)\n"
	                    "bind POWER <- tele/tasmota_49A3BC/STATE {{ value_json['POWER'] }} "
	                    "(ON/OFF)\n"
	                    "cmd POWER -> cmnd/tasmota_49A3BC/POWER (ON/OFF)\n"
	                    "avail tele/tasmota_49A3BC/LWT Online/Offline\n"
	                    "field AM2301 Temperature numeric '°C'\n"
	                    "field ENERGY Power numeric 'W'\n"
	                    "field ENERGY Total numeric 'kWh'\n"
	                    "bind ENERGY Power <- tele/tasmota_49A3BC/SENSOR "
	                    "{{ value_json['ENERGY']['Power'] }}");
	g_assert_null (strstr (text, "TotalStartTime"));
	relays = kith_mqtt_tasmota_parse ("84CCA8D1E2F3", dual, NULL, NULL);
	text2 = describe (relays);
	assert_lines (text2, "field POWER1 boolean '' writable\n"
	                     "field POWER2 boolean '' writable\n"
	                     "cmd POWER2 -> cmnd/dual_relay/POWER2 (ON/OFF)");
}

static void
test_shelly_gen1 (void)
{
	g_autoptr (JsonNode) announce = load_sample ("shelly1-announce.json");
	g_autoptr (KithMqttDescription) description =
	        kith_mqtt_shelly_parse_announce (announce, NULL);
	g_autofree gchar *text = describe (description);
	static const struct {
		const gchar *subtopic;
		const gchar *expected; /* NULL: no part */
	} topics[] = {
		{ "relay/0", "field relay0 boolean '' writable\n"
		             "bind relay0 <- shellies/shelly1-B929CC/relay/0\n"
		             "cmd relay0 -> shellies/shelly1-B929CC/relay/0/command (on/off)" },
		{ "relay/1/power", "field relay1_power numeric 'W'" },
		{ "sensor/temperature", "field temperature numeric '°C'" },
		{ "input/0", "field input0 boolean ''" },
		{ "light/0/status", "field light0_brightness numeric '%' writable 0..100\n"
		                    "bind light0 <- shellies/shelly1-B929CC/light/0/status "
		                    "{{ value_json['ison'] }}" },
		{ "relay/0/command", NULL },
		{ "online", NULL },
		{ "announce", NULL },
		{ "relay/x", NULL },
	};

	assert_lines (text, "key=shelly:shelly1-B929CC id=shelly1-B929CC label=shelly1-B929CC "
	                    "man=Shelly model=SHSW-1\n"
	                    "avail shellies/shelly1-B929CC/online true/false");
	for (guint i = 0; i < G_N_ELEMENTS (topics); i++) {
		g_autoptr (KithMqttPart) part =
		        kith_mqtt_shelly_gen1_part ("shelly1-B929CC", topics[i].subtopic);
		g_autoptr (KithMqttDescription) wrap = kith_mqtt_description_new ("k", "k");
		g_autofree gchar *part_text = NULL;

		g_test_message ("%s", topics[i].subtopic);
		if (topics[i].expected == NULL) {
			g_assert_null (part);
			continue;
		}
		g_assert_nonnull (part);
		g_ptr_array_add (wrap->parts, g_steal_pointer (&part));
		part_text = describe (wrap);
		assert_lines (part_text, topics[i].expected);
	}
}

static void
test_shelly_gen2 (void)
{
	g_autoptr (JsonNode) info = load_sample ("shellyplus-device-info.json");
	g_autoptr (JsonNode) status = load_sample ("shellyplus-status.json");
	g_autoptr (KithMqttDescription) description = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *prefix = NULL;
	JsonObject *info_result = NULL, *status_result = NULL;
	gint64 id = 0;

	g_assert_true (kith_mqtt_shelly_rpc_response (info, &id, &info_result));
	g_assert_cmpint (id, ==, 1);
	g_assert_true (kith_mqtt_shelly_rpc_response (status, &id, &status_result));
	description = kith_mqtt_shelly_gen2_describe ("shellyplus1pm-a8032ab12345", info_result,
	                                              status_result, "kith-gw-home", NULL);
	text = describe (description);
	assert_lines (
	        text,
	        "key=shelly:shellyplus1pm-a8032ab12345 id=shellyplus1pm-a8032ab12345 "
	        "label=Boiler room man=Shelly model=SNSW-001P16EU\n"
	        "field switch0 boolean '' writable\n"
	        "field switch0_power numeric 'W'\n"
	        "field switch0_energy numeric 'Wh'\n"
	        "field switch0_temperature numeric '°C'\n"
	        "field input0 boolean ''\n"
	        "bind switch0 <- shellyplus1pm-a8032ab12345/status/switch:0 "
	        "{{ value_json['output'] }}\n"
	        "bind switch0_power <- shellyplus1pm-a8032ab12345/events/rpc "
	        "{{ value_json['params']['switch:0']['apower'] }}\n"
	        "cmd switch0 -> shellyplus1pm-a8032ab12345/rpc {\"id\": 1, \"src\": "
	        "\"kith-gw-home\", \"method\": \"Switch.Set\", \"params\": {\"id\": 0, \"on\": "
	        "{value}}}\n"
	        "avail shellyplus1pm-a8032ab12345/online true/false");
	g_assert_null (strstr (text, "sys"));
	g_assert_null (strstr (text, "wifi"));
	prefix = kith_mqtt_shelly_gen2_prefix ("shellyplus1pm-a8032ab12345/status/switch:0");
	g_assert_cmpstr (prefix, ==, "shellyplus1pm-a8032ab12345");
	g_assert_null (kith_mqtt_shelly_gen2_prefix ("home/status/not a component"));
	g_assert_null (kith_mqtt_shelly_gen2_prefix ("a/b/status/switch:0"));
	g_assert_null (kith_mqtt_shelly_gen2_prefix ("shellies/online"));
}

typedef struct {
	const gchar *group;    /* the keys of [bus:home:ITEM] */
	const gchar *expected; /* NULL: refused */
	const gchar *error;
} ItemCase;

static const ItemCase item_cases[] = {
	{ "Topic=home/boiler/state\nTemperature.Path=$.temp\nTemperature.Unit=°C\n"
	  "Temperature.Scale=0.1\nBurner.Path=$.burner\nBurner.Type=boolean\n"
	  "Burner.CommandTopic=home/boiler/set\nBurner.Payload={\"burner\": {value}}\n"
	  "AvailabilityTopic=home/boiler/lwt\nPayloadAvailable=up\nPayloadNotAvailable=down\n",
	  "key=item:boiler id=boiler label=boiler man=(null) model=(null)\n"
	  "field Temperature numeric '°C'\n"
	  "field Burner boolean '' writable\n"
	  "bind Temperature <- home/boiler/state $.temp\n"
	  "cmd Burner -> home/boiler/set {\"burner\": {value}}\n"
	  "avail home/boiler/lwt up/down" },
	{ "Label=Flow meter\nFlow.Topic=meter/flow\nFlow.Type=int\nFlow.Unit=l/h\n"
	  "Valve.CommandTopic=meter/valve\nValve.Type=string\nValve.Options=open;closed\n",
	  "key=item:boiler id=boiler label=Flow meter man=(null) model=(null)\n"
	  "field Flow int 'l/h'\n"
	  "bind Flow <- meter/flow\n"
	  "field Valve string '' writable\n"
	  "cmd Valve -> meter/valve" },
	{ "Setpoint.Topic=x/sp\nSetpoint.CommandTopic=x/sp/set\nSetpoint.Min=30\nSetpoint.Max=80\n",
	  "field Setpoint numeric '' writable 30..80" },
	{ "Temperature.Path=$.temp\n", NULL, "needs a topic" },
	{ "Topic=a\nTemperature.Type=float\n", NULL, "Temperature.Type: 'float' is not a type" },
	{ "Topic=a\nTemperature.Path=$[\n", NULL, "Temperature.Path: '$[' is not a JSON path" },
	{ "Topic=a\nTemperature.Scale=x\n", NULL, "'x' is not a number" },
	{ "Topic=a/+/b\nT.Path=$.t\n", NULL, "no + or #" },
	{ "Topic=a\nT.Colour=red\n", NULL, "unknown field property 'Colour'" },
	{ "Topic=a\n", NULL, "no fields" },
};

static void
test_items (void)
{
	for (guint i = 0; i < G_N_ELEMENTS (item_cases); i++) {
		const ItemCase *c = &item_cases[i];
		g_autoptr (GKeyFile) keyfile = g_key_file_new ();
		g_autofree gchar *text = g_strconcat ("[bus:home:boiler]\n", c->group, NULL);
		g_autoptr (KithMqttDescription) description = NULL;
		g_autoptr (GError) error = NULL;

		g_test_message ("%s", c->group);
		g_assert_true (g_key_file_load_from_data (keyfile, text, -1, 0, NULL));
		description = kith_mqtt_items_parse (keyfile, "bus:home:boiler", "boiler", &error);
		if (c->expected == NULL) {
			g_assert_null (description);
			g_assert_error (error, KITH_ERROR, KITH_ERROR_CONFIG);
			if (strstr (error->message, c->error) == NULL)
				g_error ("'%s' does not say '%s'", error->message, c->error);
			g_assert_nonnull (strstr (error->message, "[bus:home:boiler]"));
		} else {
			g_autofree gchar *described = NULL;
			g_assert_no_error (error);
			described = describe (description);
			assert_lines (described, c->expected);
		}
	}
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/mqtt/homeassistant/samples", test_homeassistant);
	g_test_add_func ("/kith/mqtt/homeassistant/notes", test_homeassistant_notes);
	g_test_add_func ("/kith/mqtt/homeassistant/topics", test_homeassistant_topics);
	g_test_add_func ("/kith/mqtt/zigbee2mqtt/samples", test_zigbee2mqtt);
	g_test_add_func ("/kith/mqtt/zigbee2mqtt/bad", test_zigbee2mqtt_bad);
	g_test_add_func ("/kith/mqtt/tasmota/samples", test_tasmota);
	g_test_add_func ("/kith/mqtt/shelly/gen1", test_shelly_gen1);
	g_test_add_func ("/kith/mqtt/shelly/gen2", test_shelly_gen2);
	g_test_add_func ("/kith/mqtt/items/parse", test_items);
	return g_test_run ();
}
