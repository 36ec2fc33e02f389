/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithStore KithStore;

typedef enum {
	KITH_FRIEND_PENDING,
	KITH_FRIEND_ACCEPTED,
	KITH_FRIEND_REFUSED,
	KITH_FRIEND_REMOVED,
} KithFriendDecision;

/* opens (creating) STATE_DIR/kith.db: WAL journal, mode 0600, directory 0700 */
KithStore *kith_store_open (const gchar *state_directory, GError **error);
void kith_store_free (KithStore *store);
const gchar *kith_store_get_path (KithStore *store);

/* the account password of a device: TRUE with *password NULL if none is stored, FALSE on a
 * database error (then nothing may be assumed about the account) */
gboolean kith_store_get_password (KithStore *store, const gchar *device_id, gchar **password,
                                  GError **error);
/* stores password unless the device has one already; *stored is the one in the database */
gboolean kith_store_add_password (KithStore *store, const gchar *device_id, const gchar *password,
                                  gchar **stored, GError **error);
/* replaces the password (an administrator's action) */
gboolean kith_store_set_password (KithStore *store, const gchar *device_id, const gchar *password,
                                  GError **error);

gboolean kith_store_set_friend (KithStore *store, const gchar *device_id, const gchar *jid,
                                KithFriendDecision decision, GError **error);
/* returns FALSE if no decision is stored */
gboolean kith_store_get_friend (KithStore *store, const gchar *device_id, const gchar *jid,
                                KithFriendDecision *decision);
/* bare JIDs with the given decision for a device */
GPtrArray *kith_store_list_friends (KithStore *store, const gchar *device_id,
                                    KithFriendDecision decision);
const gchar *kith_friend_decision_to_string (KithFriendDecision decision);

/* the parent's answers (XEP-0324 cache), keyed by the exact question */
gchar *kith_store_cache_get (KithStore *store, const gchar *device_id, const gchar *question);
gboolean kith_store_cache_put (KithStore *store, const gchar *device_id, const gchar *question,
                               const gchar *jid, const gchar *answer, GError **error);
/* forgets the answers about jid, or all of the device's with jid NULL */
gboolean kith_store_cache_clear (KithStore *store, const gchar *device_id, const gchar *jid,
                                 GError **error);

/* XEP-0347 state of a device: its KEY, its owner (or NULL), and state */
gboolean kith_store_get_registration (KithStore *store, const gchar *device_id, gchar **key,
                                      gchar **owner, gchar **state);
gboolean kith_store_set_registration (KithStore *store, const gchar *device_id, const gchar *key,
                                      const gchar *owner, const gchar *state, GError **error);

gboolean kith_store_clear_registration (KithStore *store, const gchar *device_id, GError **error);
gchar *kith_store_get_registry_jid (KithStore *store, const gchar *device_id);
gboolean kith_store_set_registry_jid (KithStore *store, const gchar *device_id,
                                      const gchar *registry, GError **error);

/* component mode: the roster of each device (KithSubState flags; 0 removes the contact) */
gboolean kith_store_set_roster (KithStore *store, const gchar *device_id, const gchar *jid,
                                guint state, GError **error);
typedef void (*KithStoreRosterFunc) (const gchar *device_id, const gchar *jid, guint state,
                                     gpointer user_data);
/* every roster entry of one device (device_id), or of every device (NULL), ordered by device */
void kith_store_foreach_roster (KithStore *store, const gchar *device_id, KithStoreRosterFunc func,
                                gpointer user_data);

/* the devices the buses announced: a JSON record of each (what the device list writes), the
 * bus, the driver's key, and when it was first and last seen (seconds since 1970) */
gboolean kith_store_put_device (KithStore *store, const gchar *device_id, const gchar *bus,
                                const gchar *driver_key, const gchar *record, gint64 seen,
                                GError **error);
gboolean kith_store_delete_device (KithStore *store, const gchar *device_id, GError **error);
typedef void (*KithStoreDeviceFunc) (const gchar *device_id, const gchar *bus,
                                     const gchar *driver_key, const gchar *record,
                                     gint64 first_seen, gint64 last_seen, gpointer user_data);
/* the devices of one bus (NULL: every bus), oldest first */
void kith_store_foreach_device (KithStore *store, const gchar *bus, KithStoreDeviceFunc func,
                                gpointer user_data);
/* several writes in one transaction (one fsync for a batch: kind to SD cards) */
gboolean kith_store_begin (KithStore *store, GError **error);
gboolean kith_store_commit (KithStore *store, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithStore, kith_store_free)

G_END_DECLS
