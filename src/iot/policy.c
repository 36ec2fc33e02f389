/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "iot/policy.h"

static KithDecision
kith_policy_local_decide (KithPolicy *self, const gchar *device_id, const gchar *jid,
                          KithDecisionFunc later, gpointer user_data)
{
	if (self->owner != NULL && g_strcmp0 (jid, self->owner) == 0)
		return KITH_DECISION_ACCEPT;
	switch (self->kind) {
	case KITH_POLICY_OPEN:
		return KITH_DECISION_ACCEPT;
	case KITH_POLICY_ALLOWLIST:
		return g_strv_contains ((const gchar *const *)self->allow, jid)
		               ? KITH_DECISION_ACCEPT
		               : KITH_DECISION_REFUSE;
	case KITH_POLICY_MANUAL:
		/* a person decides; the request waits in the state store */
		return KITH_DECISION_PENDING;
	case KITH_POLICY_PARENT:
		break;
	}
	return KITH_DECISION_PENDING;
}

KithPolicy *
kith_policy_new (KithConfig *config)
{
	KithPolicy *policy = g_new0 (KithPolicy, 1);
	policy->decide = kith_policy_local_decide;
	policy->kind = config->policy;
	policy->owner = config->owner[0] != '\0' ? g_strdup (config->owner) : NULL;
	policy->allow = g_strdupv (config->allow);
	return policy;
}

void
kith_policy_free (KithPolicy *policy)
{
	if (policy == NULL)
		return;
	if (policy->free != NULL)
		policy->free (policy);
	g_free (policy->owner);
	g_strfreev (policy->allow);
	g_free (policy);
}

KithDecision
kith_policy_decide (KithPolicy *policy, const gchar *device_id, const gchar *jid,
                    KithDecisionFunc later, gpointer user_data)
{
	return policy->decide (policy, device_id, jid, later, user_data);
}

const gchar *
kith_decision_to_string (KithDecision decision)
{
	switch (decision) {
	case KITH_DECISION_ACCEPT:
		return "accept";
	case KITH_DECISION_REFUSE:
		return "refuse";
	case KITH_DECISION_PENDING:
		return "pending";
	}
	return "pending";
}
