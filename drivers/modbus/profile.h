/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A profile is the register map of a device model: a GKeyFile <name>.conf with a [profile]
 * group (who makes it, how it identifies itself, what the device can take) and one
 * [field:NAME] group per field. Loading is pure (no bus I/O); every error names the file, the
 * group and the key.
 */

typedef enum {
	KITH_MODBUS_TABLE_COIL,
	KITH_MODBUS_TABLE_DISCRETE,
	KITH_MODBUS_TABLE_INPUT,
	KITH_MODBUS_TABLE_HOLDING,
} KithModbusTable;

#define KITH_MODBUS_TABLE_COUNT 4

typedef enum {
	KITH_MODBUS_TYPE_BIT,
	KITH_MODBUS_TYPE_U16,
	KITH_MODBUS_TYPE_S16,
	KITH_MODBUS_TYPE_U32,
	KITH_MODBUS_TYPE_S32,
	KITH_MODBUS_TYPE_U64,
	KITH_MODBUS_TYPE_S64,
	KITH_MODBUS_TYPE_F32,
	KITH_MODBUS_TYPE_F64,
	KITH_MODBUS_TYPE_STRING,
} KithModbusType;

/* what a device (a profile) or a line (a bus) can take; unset values leave the other's */
typedef struct {
	gint max_registers;    /* registers per read request; 0: unset */
	gint max_bits;         /* bits per read request; 0: unset */
	gint max_gap;          /* unused registers a read may span to join two fields; -1: unset */
	gint one_per_field;    /* one request per field (no coalescing); -1: unset */
	gint write_multiple;   /* writes only with 0x0F/0x10; -1: unset */
	gdouble request_pause; /* seconds of silence between two requests; < 0: unset */
	gdouble switch_delay;  /* seconds of silence before a request to another unit; < 0: unset */
} KithModbusQuirks;

typedef struct {
	gchar *name;
	KithModbusTable table;
	guint16 address; /* 0-based protocol address */
	KithModbusType type;
	guint count; /* registers (1 for a bit) */
	gboolean word_little;
	gboolean byte_little;
	gdouble scale;
	gdouble offset;
	gchar *unit;
	gboolean writable;
	gdouble min, max;  /* bounds of a written value; min > max: unbounded */
	gdouble deadband;  /* presence moves when the value moved this much */
	gint decimals;     /* decimals written in readouts */
	gboolean presence; /* part of the presence status line */
	gdouble interval;  /* seconds between reads; 0: the bus's Interval */
} KithModbusField;

typedef struct {
	gchar *name; /* the file name without .conf */
	gchar *path;
	gchar *manufacturer;
	gchar *model;
	gchar *class_name;
	/* discovery: globs matched case-insensitively against what the unit says of itself */
	gchar *match_vendor;    /* Read Device Identification object 0 (VendorName) */
	gchar *match_product;   /* object 1 (ProductCode) */
	gchar *match_server_id; /* Report Server ID data, non-printable bytes as '.' */
	KithModbusQuirks quirks;
	GPtrArray *fields; /* KithModbusField, in file order */
} KithModbusProfile;

const gchar *kith_modbus_table_to_string (KithModbusTable table);
gboolean kith_modbus_table_from_string (const gchar *text, KithModbusTable *out);
gboolean kith_modbus_table_is_bits (KithModbusTable table);
/* "u16", "string:8" */
gboolean kith_modbus_type_from_string (const gchar *text, KithModbusType *type, guint *count);
const gchar *kith_modbus_type_to_string (KithModbusType type);

void kith_modbus_quirks_init (KithModbusQuirks *quirks);
/* the stricter of two (smaller limits, longer pauses, one request per field if either says so) */
void kith_modbus_quirks_merge (KithModbusQuirks *out, const KithModbusQuirks *a,
                               const KithModbusQuirks *b);
/* reads MaxRegisters, MaxBits, MaxGap, OneRequestPerField, WriteMultiple, RequestPause and
 * UnitSwitchDelay of a group; errors are "[group] Key: …" (the caller prefixes the file) */
gboolean kith_modbus_quirks_load (KithModbusQuirks *quirks, GKeyFile *keyfile, const gchar *group,
                                  GError **error);

/* parses a profile; path is only for the messages */
KithModbusProfile *kith_modbus_profile_load_data (const gchar *name, const gchar *path,
                                                  const gchar *data, GError **error);
KithModbusProfile *kith_modbus_profile_load_file (const gchar *path, GError **error);
/* the first <dir>/<name>.conf of dirs */
KithModbusProfile *kith_modbus_profile_find (const gchar *const *dirs, const gchar *name,
                                             GError **error);
/* TRUE for a profile name that can be a file name: [A-Za-z0-9._-], not starting with '.' */
gboolean kith_modbus_profile_name_is_valid (const gchar *name);
/* every profile of dirs, a name found twice only from its first directory; profiles that do
 * not load are listed in errors (strings) when it is not NULL */
GPtrArray *kith_modbus_profile_list (const gchar *const *dirs, GPtrArray *errors);
/* the directories searched after a bus's Profiles=: $KITH_MODBUS_PROFILE_DIR if set, else the
 * installed data directory, else the source tree's (a build run from the source tree) */
gchar *kith_modbus_profile_shipped_dir (void);
const KithModbusField *kith_modbus_profile_find_field (const KithModbusProfile *profile,
                                                       const gchar *name);

KithModbusProfile *kith_modbus_profile_ref (KithModbusProfile *profile);
void kith_modbus_profile_unref (KithModbusProfile *profile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithModbusProfile, kith_modbus_profile_unref)

G_END_DECLS
