/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RFC 6121 subscription states as a component keeps them: every row of the inbound and
 * outbound tables (RFC 6121 Appendix A; protocol brief §3.2), and probes */
#include "iot/subscription.h"

#define N 0
#define TO KITH_SUB_TO
#define FROM KITH_SUB_FROM
#define OUT KITH_SUB_PENDING_OUT
#define IN KITH_SUB_PENDING_IN
#define PRE KITH_SUB_APPROVED
#define DELIVER KITH_SUB_DELIVER
#define ROUTE KITH_SUB_ROUTE
#define SUBSCRIBED KITH_SUB_SUBSCRIBED
#define PRESENCE KITH_SUB_PRESENCE
#define UNAVAILABLE KITH_SUB_UNAVAILABLE
#define UNSUBSCRIBED KITH_SUB_UNSUBSCRIBED

typedef struct {
	const gchar *type;
	guint before;
	guint after;
	guint actions;
} Row;

static const Row inbound[] = {
	/* subscribe */
	{ "subscribe", N, IN, DELIVER },
	{ "subscribe", OUT, OUT | IN, DELIVER },
	{ "subscribe", TO, TO | IN, DELIVER },
	{ "subscribe", IN, IN, 0 },
	{ "subscribe", OUT | IN, OUT | IN, 0 },
	{ "subscribe", TO | IN, TO | IN, 0 },
	{ "subscribe", FROM, FROM, SUBSCRIBED | PRESENCE },
	{ "subscribe", FROM | OUT, FROM | OUT, SUBSCRIBED | PRESENCE },
	{ "subscribe", TO | FROM, TO | FROM, SUBSCRIBED | PRESENCE },
	{ "subscribe", PRE, FROM, SUBSCRIBED | PRESENCE },
	{ "subscribe", TO | PRE, TO | FROM, SUBSCRIBED | PRESENCE },
	{ "subscribe", OUT | PRE, OUT | FROM, SUBSCRIBED | PRESENCE },
	/* subscribed */
	{ "subscribed", OUT, TO, DELIVER },
	{ "subscribed", OUT | IN, TO | IN, DELIVER },
	{ "subscribed", FROM | OUT, TO | FROM, DELIVER },
	{ "subscribed", N, N, 0 },
	{ "subscribed", IN, IN, 0 },
	{ "subscribed", TO, TO, 0 },
	{ "subscribed", TO | IN, TO | IN, 0 },
	{ "subscribed", FROM, FROM, 0 },
	{ "subscribed", TO | FROM, TO | FROM, 0 },
	/* unsubscribe */
	{ "unsubscribe", IN, N, DELIVER },
	{ "unsubscribe", OUT | IN, OUT, DELIVER },
	{ "unsubscribe", TO | IN, TO, DELIVER },
	{ "unsubscribe", FROM, N, DELIVER | UNAVAILABLE },
	{ "unsubscribe", FROM | OUT, OUT, DELIVER | UNAVAILABLE },
	{ "unsubscribe", TO | FROM, TO, DELIVER | UNAVAILABLE },
	{ "unsubscribe", N, N, 0 },
	{ "unsubscribe", OUT, OUT, 0 },
	{ "unsubscribe", TO, TO, 0 },
	/* unsubscribed */
	{ "unsubscribed", OUT, N, DELIVER },
	{ "unsubscribed", OUT | IN, IN, DELIVER },
	{ "unsubscribed", TO, N, DELIVER },
	{ "unsubscribed", TO | IN, IN, DELIVER },
	{ "unsubscribed", FROM | OUT, FROM, DELIVER },
	{ "unsubscribed", TO | FROM, FROM, DELIVER },
	{ "unsubscribed", N, N, 0 },
	{ "unsubscribed", IN, IN, 0 },
	{ "unsubscribed", FROM, FROM, 0 },
	/* a pre-approval survives everything but the request it approves */
	{ "unsubscribed", TO | PRE, PRE, DELIVER },
	/* not a subscription stanza */
	{ "probe", TO | FROM, TO | FROM, 0 },
	{ NULL, N, N, 0 },
};

static const Row outbound[] = {
	/* subscribe */
	{ "subscribe", N, OUT, ROUTE },
	{ "subscribe", IN, OUT | IN, ROUTE },
	{ "subscribe", FROM, FROM | OUT, ROUTE },
	{ "subscribe", OUT, OUT, ROUTE },
	{ "subscribe", TO, TO, ROUTE },
	{ "subscribe", TO | FROM, TO | FROM, ROUTE },
	/* subscribed: approve, or pre-approve */
	{ "subscribed", IN, FROM, ROUTE | PRESENCE },
	{ "subscribed", OUT | IN, FROM | OUT, ROUTE | PRESENCE },
	{ "subscribed", TO | IN, TO | FROM, ROUTE | PRESENCE },
	{ "subscribed", N, PRE, 0 },
	{ "subscribed", OUT, OUT | PRE, 0 },
	{ "subscribed", TO, TO | PRE, 0 },
	{ "subscribed", FROM, FROM, 0 },
	{ "subscribed", TO | FROM, TO | FROM, 0 },
	/* unsubscribed: refuse or cancel */
	{ "unsubscribed", IN, N, ROUTE },
	{ "unsubscribed", OUT | IN, OUT, ROUTE },
	{ "unsubscribed", TO | IN, TO, ROUTE },
	{ "unsubscribed", FROM, N, ROUTE | UNAVAILABLE },
	{ "unsubscribed", FROM | OUT, OUT, ROUTE | UNAVAILABLE },
	{ "unsubscribed", TO | FROM, TO, ROUTE | UNAVAILABLE },
	{ "unsubscribed", PRE, N, 0 },
	{ "unsubscribed", TO | PRE, TO, 0 },
	{ "unsubscribed", N, N, 0 },
	/* unsubscribe */
	{ "unsubscribe", TO, N, ROUTE },
	{ "unsubscribe", OUT, N, ROUTE },
	{ "unsubscribe", OUT | IN, IN, ROUTE },
	{ "unsubscribe", TO | IN, IN, ROUTE },
	{ "unsubscribe", TO | FROM, FROM, ROUTE },
	{ "unsubscribe", FROM | OUT, FROM, ROUTE },
	{ "unsubscribe", N, N, 0 },
	{ "unsubscribe", FROM, FROM, 0 },
	{ "unavailable", TO, TO, 0 },
};

static void
check_rows (const Row *rows, gsize n_rows, guint (*apply) (const gchar *, guint *))
{
	for (gsize i = 0; i < n_rows; i++) {
		guint state = rows[i].before;
		guint actions = apply (rows[i].type, &state);
		g_test_message ("%s in %s (pre-approved %d)", rows[i].type,
		                kith_subscription_describe (rows[i].before),
		                (rows[i].before & PRE) != 0);
		g_assert_cmphex (state, ==, rows[i].after);
		g_assert_cmphex (actions, ==, rows[i].actions);
	}
}

static void
test_inbound (void)
{
	check_rows (inbound, G_N_ELEMENTS (inbound), kith_subscription_inbound);
}

static void
test_outbound (void)
{
	check_rows (outbound, G_N_ELEMENTS (outbound), kith_subscription_outbound);
}

static void
test_probe (void)
{
	g_assert_cmphex (kith_subscription_probe (FROM), ==, PRESENCE);
	g_assert_cmphex (kith_subscription_probe (TO | FROM), ==, PRESENCE);
	g_assert_cmphex (kith_subscription_probe (FROM | OUT), ==, PRESENCE);
	g_assert_cmphex (kith_subscription_probe (N), ==, UNSUBSCRIBED);
	g_assert_cmphex (kith_subscription_probe (TO), ==, UNSUBSCRIBED);
	g_assert_cmphex (kith_subscription_probe (OUT), ==, UNSUBSCRIBED);
	/* neither a waiting request nor a pre-approval may be cancelled by the answer */
	g_assert_cmphex (kith_subscription_probe (IN), ==, 0);
	g_assert_cmphex (kith_subscription_probe (PRE), ==, 0);
}

/* the nine states are all reachable and named */
static void
test_names (void)
{
	g_assert_cmpstr (kith_subscription_describe (N), ==, "None");
	g_assert_cmpstr (kith_subscription_describe (OUT | IN), ==,
	                 "None + Pending Out + Pending In");
	g_assert_cmpstr (kith_subscription_describe (FROM | OUT), ==, "From + Pending Out");
	g_assert_cmpstr (kith_subscription_describe (TO | IN), ==, "To + Pending In");
	g_assert_cmpstr (kith_subscription_to_string (TO | FROM | PRE), ==, "both");
	g_assert_cmpstr (kith_subscription_to_string (FROM | OUT), ==, "from");
	g_assert_cmpstr (kith_subscription_to_string (TO | IN), ==, "to");
	g_assert_cmpstr (kith_subscription_to_string (IN | OUT), ==, "none");
}

/* a whole friendship, both sides, as the state machine sees it from the device */
static void
test_friendship_round_trip (void)
{
	guint state = N;

	g_assert_cmphex (kith_subscription_inbound ("subscribe", &state), ==, DELIVER);
	g_assert_cmphex (kith_subscription_outbound ("subscribed", &state), ==, ROUTE | PRESENCE);
	g_assert_cmphex (kith_subscription_outbound ("subscribe", &state), ==, ROUTE);
	g_assert_cmphex (state, ==, FROM | OUT);
	g_assert_cmphex (kith_subscription_inbound ("subscribed", &state), ==, DELIVER);
	g_assert_cmpstr (kith_subscription_to_string (state), ==, "both");
	g_assert_cmphex (kith_subscription_inbound ("unsubscribe", &state), ==,
	                 DELIVER | UNAVAILABLE);
	g_assert_cmphex (kith_subscription_outbound ("unsubscribe", &state), ==, ROUTE);
	g_assert_cmphex (state, ==, N);
}

int
main (int argc, char **argv)
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/subscription/inbound", test_inbound);
	g_test_add_func ("/subscription/outbound", test_outbound);
	g_test_add_func ("/subscription/probe", test_probe);
	g_test_add_func ("/subscription/names", test_names);
	g_test_add_func ("/subscription/friendship", test_friendship_round_trip);
	return g_test_run ();
}
