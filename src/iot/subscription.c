/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "iot/subscription.h"

/* RFC 6121 §3 server rules, as the table of the protocol brief §3.2 lays them out */

gboolean
kith_subscription_is_type (const gchar *type)
{
	return g_strcmp0 (type, "subscribe") == 0 || g_strcmp0 (type, "subscribed") == 0 ||
	       g_strcmp0 (type, "unsubscribe") == 0 || g_strcmp0 (type, "unsubscribed") == 0;
}

guint
kith_subscription_inbound (const gchar *type, guint *state)
{
	guint was = *state;

	if (g_strcmp0 (type, "subscribe") == 0) {
		if (was & KITH_SUB_FROM)
			return KITH_SUB_SUBSCRIBED | KITH_SUB_PRESENCE; /* already friends */
		if (was & KITH_SUB_APPROVED) {
			*state = (was | KITH_SUB_FROM) & ~(KITH_SUB_APPROVED | KITH_SUB_PENDING_IN);
			return KITH_SUB_SUBSCRIBED | KITH_SUB_PRESENCE;
		}
		if (was & KITH_SUB_PENDING_IN)
			return 0; /* asked already: the answer is still being decided */
		*state = was | KITH_SUB_PENDING_IN;
		return KITH_SUB_DELIVER;
	}
	if (g_strcmp0 (type, "subscribed") == 0) {
		if ((was & KITH_SUB_PENDING_OUT) == 0)
			return 0;
		*state = (was | KITH_SUB_TO) & ~KITH_SUB_PENDING_OUT;
		return KITH_SUB_DELIVER;
	}
	if (g_strcmp0 (type, "unsubscribe") == 0) {
		if ((was & (KITH_SUB_FROM | KITH_SUB_PENDING_IN)) == 0)
			return 0;
		*state = was & ~(KITH_SUB_FROM | KITH_SUB_PENDING_IN);
		return KITH_SUB_DELIVER | ((was & KITH_SUB_FROM) ? KITH_SUB_UNAVAILABLE : 0);
	}
	if (g_strcmp0 (type, "unsubscribed") == 0) {
		if ((was & (KITH_SUB_TO | KITH_SUB_PENDING_OUT)) == 0)
			return 0;
		*state = was & ~(KITH_SUB_TO | KITH_SUB_PENDING_OUT);
		return KITH_SUB_DELIVER;
	}
	return 0;
}

guint
kith_subscription_outbound (const gchar *type, guint *state)
{
	guint was = *state;

	if (g_strcmp0 (type, "subscribe") == 0) {
		if ((was & KITH_SUB_TO) == 0)
			*state = was | KITH_SUB_PENDING_OUT;
		return KITH_SUB_ROUTE;
	}
	if (g_strcmp0 (type, "subscribed") == 0) {
		if (was & KITH_SUB_PENDING_IN) {
			*state = (was | KITH_SUB_FROM) & ~(KITH_SUB_PENDING_IN | KITH_SUB_APPROVED);
			return KITH_SUB_ROUTE | KITH_SUB_PRESENCE;
		}
		if ((was & KITH_SUB_FROM) == 0)
			*state = was | KITH_SUB_APPROVED; /* pre-approval: kept, not sent */
		return 0;
	}
	if (g_strcmp0 (type, "unsubscribed") == 0) {
		*state = was & ~(KITH_SUB_FROM | KITH_SUB_PENDING_IN | KITH_SUB_APPROVED);
		if ((was & (KITH_SUB_FROM | KITH_SUB_PENDING_IN)) == 0)
			return 0;
		return KITH_SUB_ROUTE | ((was & KITH_SUB_FROM) ? KITH_SUB_UNAVAILABLE : 0);
	}
	if (g_strcmp0 (type, "unsubscribe") == 0) {
		*state = was & ~(KITH_SUB_TO | KITH_SUB_PENDING_OUT);
		return (was & (KITH_SUB_TO | KITH_SUB_PENDING_OUT)) ? KITH_SUB_ROUTE : 0;
	}
	return 0;
}

guint
kith_subscription_probe (guint state)
{
	if (state & KITH_SUB_FROM)
		return KITH_SUB_PRESENCE;
	/* a request in progress or a pre-approval must not be cancelled by the answer */
	if (state & (KITH_SUB_PENDING_IN | KITH_SUB_APPROVED))
		return 0;
	return KITH_SUB_UNSUBSCRIBED;
}

const gchar *
kith_subscription_to_string (guint state)
{
	static const gchar *const names[] = { "none", "to", "from", "both" };
	return names[state & (KITH_SUB_TO | KITH_SUB_FROM)];
}

const gchar *
kith_subscription_describe (guint state)
{
	static const gchar *const names[] = {
		"None",
		"To",
		"From",
		"Both",
		"None + Pending Out",
		"To", /* To + Pending Out cannot be: To wins */
		"From + Pending Out",
		"Both",
		"None + Pending In",
		"To + Pending In",
		"From", /* From + Pending In cannot be */
		"Both",
		"None + Pending Out + Pending In",
		"To + Pending In",
		"From + Pending Out",
		"Both",
	};
	return names[state & 0xf];
}
