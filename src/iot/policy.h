/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

typedef enum {
	KITH_DECISION_ACCEPT,
	KITH_DECISION_REFUSE,
	KITH_DECISION_PENDING, /* decided later: through the callback, or by a person */
} KithDecision;

typedef void (*KithDecisionFunc) (KithDecision decision, gpointer user_data);

/*
 * Whom a device befriends. A policy answers at once or returns PENDING and answers later
 * through the callback (a parent that has to be asked), or never (a person decides).
 */
typedef struct _KithPolicy KithPolicy;
struct _KithPolicy {
	KithDecision (*decide) (KithPolicy *self, const gchar *device_id, const gchar *jid,
	                        KithDecisionFunc later, gpointer user_data);
	void (*free) (KithPolicy *self);
	KithPolicyKind kind;
	gchar *owner;
	GStrv allow;
};

KithPolicy *kith_policy_new (KithConfig *config);
void kith_policy_free (KithPolicy *policy);
KithDecision kith_policy_decide (KithPolicy *policy, const gchar *device_id, const gchar *jid,
                                 KithDecisionFunc later, gpointer user_data);
const gchar *kith_decision_to_string (KithDecision decision);

G_END_DECLS
