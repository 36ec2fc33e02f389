/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The server's part of RFC 6121 presence subscriptions, for one device and one contact, when no
 * server keeps the device's roster (component mode): the nine states of RFC 6121 Appendix A as
 * flags, the pre-approval flag, and the inbound and outbound transitions. Pure: the caller
 * persists the state and sends what the actions say.
 */
typedef enum {
	KITH_SUB_TO = 1 << 0,          /* the device sees the contact */
	KITH_SUB_FROM = 1 << 1,        /* the contact sees the device */
	KITH_SUB_PENDING_OUT = 1 << 2, /* the device asked to see the contact (ask='subscribe') */
	KITH_SUB_PENDING_IN = 1 << 3,  /* the contact asked to see the device */
	KITH_SUB_APPROVED = 1 << 4,    /* pre-approved: the contact's request is accepted at once */
	KITH_SUB_DIRECTED = 1 << 5,    /* not a subscription: the device sent directed presence */
} KithSubState;

#define KITH_SUB_STATE_MASK 0x3fu

typedef enum {
	KITH_SUB_DELIVER = 1 << 0,      /* inbound: the device (its policy) must see the stanza */
	KITH_SUB_ROUTE = 1 << 1,        /* outbound: send the stanza to the contact */
	KITH_SUB_SUBSCRIBED = 1 << 2,   /* answer the contact with subscribed */
	KITH_SUB_PRESENCE = 1 << 3,     /* send the device's current presence to the contact */
	KITH_SUB_UNAVAILABLE = 1 << 4,  /* send unavailable to the contact */
	KITH_SUB_UNSUBSCRIBED = 1 << 5, /* answer the contact with unsubscribed */
} KithSubAction;

/* TRUE for subscribe, subscribed, unsubscribe and unsubscribed */
gboolean kith_subscription_is_type (const gchar *type);
/* a subscription stanza type (subscribe, subscribed, unsubscribe, unsubscribed) from the contact:
 * *state is updated, the actions returned */
guint kith_subscription_inbound (const gchar *type, guint *state);
/* the device sends a subscription stanza of type to the contact */
guint kith_subscription_outbound (const gchar *type, guint *state);
/* a presence probe from the contact: what to answer */
guint kith_subscription_probe (guint state);
/* "none", "to", "from" or "both" */
const gchar *kith_subscription_to_string (guint state);
/* the state as RFC 6121 Appendix A names it, e.g. "None + Pending Out + Pending In" (static) */
const gchar *kith_subscription_describe (guint state);

G_END_DECLS
