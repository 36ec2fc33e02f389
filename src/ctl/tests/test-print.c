/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <json-glib/json-glib.h>

#include "ctl/print.h"

static JsonObject *
parse (const gchar *text)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	g_autoptr (GError) error = NULL;

	g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
	g_assert_no_error (error);
	return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_table (void)
{
	g_autoptr (GPtrArray) rows =
	        g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
	g_autoptr (GString) out = g_string_new (NULL);
	const gchar *cells[][3] = {
		{ "A", "BB", "C" },
		{ "°C°", "x", "" },
		{ "long cell", "y", "end" },
	};

	for (guint i = 0; i < G_N_ELEMENTS (cells); i++) {
		GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
		for (guint j = 0; j < 3; j++)
			g_ptr_array_add (row, g_strdup (cells[i][j]));
		g_ptr_array_add (rows, row);
	}
	kith_ctl_print_table (out, rows);
	/* columns padded by characters, not bytes; no trailing blanks */
	g_assert_cmpstr (out->str, ==,
	                 "A          BB  C\n"
	                 "°C°        x\n"
	                 "long cell  y   end\n");
}

static void
test_state_and_values (void)
{
	const struct {
		const gchar *json;
		const gchar *state;
		const gchar *values;
	} cases[] = {
		{ "{\"online\":true,\"answering\":true,\"values\":[]}", "online", "" },
		{ "{\"online\":false,\"answering\":true}", "offline", "" },
		{ "{\"online\":true,\"answering\":false,\"silentSince\":\"2026-12-03T14:02:11Z\"}",
		  "not answering since 2026-12-03 14:02 UTC", "" },
		{ "{\"answering\":false}", "not answering since ?", "" },
		{ "{\"online\":true,\"values\":[{\"name\":\"Temperature\",\"text\":\"21.4 °C\"},"
		  "{\"name\":\"Humidity\",\"text\":null},{\"name\":\"Relay\",\"text\":\"true\"},7]"
		  "}",
		  "online", "Temperature 21.4 °C, Humidity -, Relay true" },
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (JsonObject) device = parse (cases[i].json);
		g_autofree gchar *state = kith_ctl_print_state (device);
		JsonNode *values = json_object_get_member (device, "values");
		g_autofree gchar *text = kith_ctl_print_values (
		        values != NULL ? json_node_get_array (values) : NULL);
		g_assert_cmpstr (state, ==, cases[i].state);
		g_assert_cmpstr (text, ==, cases[i].values);
	}
}

static void
test_devices (void)
{
	g_autoptr (JsonObject) reply = parse (
	        "{\"ok\":true,\"devices\":[{\"id\":\"sim-relay-1\",\"jid\":\"sim-relay-1@example."
	        "net\","
	        "\"bus\":\"sim\",\"online\":true,\"answering\":true,\"friends\":2,\"pending\":1,"
	        "\"values\":[{\"name\":\"Relay\",\"text\":\"false\"}]},"
	        "\"not an object\","
	        "{\"id\":\"x\",\"jid\":\"x@example.net\",\"online\":false,\"answering\":true}]}");
	g_autoptr (GString) out = g_string_new (NULL);

	kith_ctl_print_devices (out, reply);
	g_assert_cmpstr (
	        out->str, ==,
	        "DEVICE       JID                      BUS  STATE    FRIENDS         VALUES\n"
	        "sim-relay-1  sim-relay-1@example.net  sim  online   2 (+1 waiting)  Relay false\n"
	        "x            x@example.net            -    offline  0\n");
}

static void
test_friends_and_status (void)
{
	g_autoptr (JsonObject) friends = parse (
	        "{\"device\":\"d\",\"policy\":\"manual\",\"owner\":null,\"friends\":[\"a@x\"],"
	        "\"pending\":[\"b@x\",3]}");
	g_autoptr (JsonObject) status =
	        parse ("{\"version\":\"1.2\",\"pid\":42,\"uptime\":7300,\"devices\":3,\"online\":2,"
	               "\"notAnswering\":1,\"mode\":\"client\",\"domain\":\"example.net\","
	               "\"policy\":\"open\","
	               "\"config\":\"/etc/kith/kith.conf\",\"stateDirectory\":\"/var/lib/kith\"}");
	g_autoptr (GString) out = g_string_new (NULL);

	kith_ctl_print_friends (out, friends);
	g_assert_cmpstr (out->str, ==,
	                 "d (policy manual), owner: none\n"
	                 "friends:\n  a@x\n"
	                 "waiting for a decision:\n  b@x\n"
	                 "decide with: kithctl approve d JID / kithctl deny d JID\n");
	g_string_truncate (out, 0);
	kith_ctl_print_status (out, status);
	g_assert_cmpstr (out->str, ==,
	                 "kithd 1.2, pid 42, up 2 h\n"
	                 "3 devices: 2 online, 1 not answering\n"
	                 "client mode, devices <id>@example.net, friendship policy open\n"
	                 "configuration /etc/kith/kith.conf, state in /var/lib/kith\n");
}

static void
test_event (void)
{
	g_autoptr (JsonObject) values = parse (
	        "{\"event\":\"values\",\"device\":\"t\",\"time\":\"2026-12-03T14:02:11Z\","
	        "\"answering\":true,\"values\":[{\"name\":\"Temperature\",\"text\":\"21.4 °C\"}]}");
	g_autoptr (JsonObject) silent = parse (
	        "{\"event\":\"answering\",\"device\":\"t\",\"time\":\"2026-12-03T14:02:11Z\","
	        "\"answering\":false}");
	g_autoptr (GString) out = g_string_new (NULL);

	kith_ctl_print_event (out, values, FALSE);
	kith_ctl_print_event (out, silent, FALSE);
	g_assert_cmpstr (out->str, ==,
	                 "2026-12-03 14:02:11  t  Temperature 21.4 °C\n"
	                 "2026-12-03 14:02:11  t  not answering\n");
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/ctl/table", test_table);
	g_test_add_func ("/kith/ctl/state-and-values", test_state_and_values);
	g_test_add_func ("/kith/ctl/devices", test_devices);
	g_test_add_func ("/kith/ctl/friends-and-status", test_friends_and_status);
	g_test_add_func ("/kith/ctl/event", test_event);
	return g_test_run ();
}
