/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Limits how many sessions negotiate (TCP, TLS, SASL) at once, so a start with many devices or
 * a server restart never hits the server with every device at the same moment.
 */
typedef struct _KithConnectGate KithConnectGate;
typedef void (*KithConnectGateFunc) (gpointer owner);

KithConnectGate *kith_connect_gate_new (guint max_connecting);
void kith_connect_gate_free (KithConnectGate *self);
/* func (owner) runs now if a slot is free, else when one is released; an owner holding a slot
 * runs at once */
void kith_connect_gate_request (KithConnectGate *self, gpointer owner, KithConnectGateFunc func);
/* gives the slot back (or leaves the queue) and lets the next owner in */
void kith_connect_gate_release (KithConnectGate *self, gpointer owner);
/* like release, but lets nobody in: for an owner being destroyed */
void kith_connect_gate_forget (KithConnectGate *self, gpointer owner);
guint kith_connect_gate_get_active (KithConnectGate *self);

G_END_DECLS
