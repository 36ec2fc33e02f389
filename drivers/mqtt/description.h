/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "device.h"
#include "drivers/mqtt/payload.h"

G_BEGIN_DECLS

/*
 * What a convention (Home Assistant, Zigbee2MQTT, Tasmota, Shelly, an explicit device of the
 * configuration) says about a device, in one neutral form: its fields, which topic feeds which
 * field, how a field is written, and which topics say whether it is there. The parsers of
 * the conventions produce these without any I/O; the driver turns them into a KithDevice, its
 * subscriptions and its commands.
 */

/* a topic's payload feeds a field */
typedef struct {
	gchar *topic;
	gchar *field;
	KithValueType type;
	KithMqttExtract *extract; /* NULL: the whole payload */
	gchar *state_on;          /* boolean: the texts for true and false (NULL: the usual) */
	gchar *state_off;
	gdouble scale; /* numeric: value * scale + offset */
	gdouble offset;
	gboolean optional; /* a payload without the member is fine (a partial state) */
} KithMqttBinding;

/* a field is written by publishing to a topic */
typedef struct {
	gchar *field;
	gchar *topic;
	gchar *payload;    /* "{value}" is replaced by the value; NULL: the value itself */
	gchar *payload_on; /* boolean: what true and false are written as (NULL: true/false) */
	gchar *payload_off;
	gboolean json; /* string values are written as JSON strings */
	gboolean retain;
	gboolean press; /* a button: only true means something */
	GStrv options;  /* the values a string field accepts (NULL: any) */
	gdouble scale;  /* numeric: (value - offset) / scale is written */
	gdouble offset;
} KithMqttCommand;

/* a topic says whether the device is there */
typedef struct {
	gchar *topic;
	gchar *available; /* the payloads for there and gone (after extract) */
	gchar *not_available;
	KithMqttExtract *extract; /* NULL: the whole payload */
} KithMqttAvailability;

typedef enum {
	KITH_MQTT_AVAILABILITY_ALL,    /* there when no topic says gone */
	KITH_MQTT_AVAILABILITY_ANY,    /* there when one topic says there */
	KITH_MQTT_AVAILABILITY_LATEST, /* the last message decides */
} KithMqttAvailabilityMode;

/* a part of a device: an entity of Home Assistant, or all of a device for the conventions
 * that describe a device at once */
typedef struct {
	gchar *id;               /* unique within the device */
	GPtrArray *fields;       /* KithField */
	GPtrArray *bindings;     /* KithMqttBinding */
	GPtrArray *commands;     /* KithMqttCommand */
	GPtrArray *availability; /* KithMqttAvailability */
	KithMqttAvailabilityMode mode;
} KithMqttPart;

/* a device as a convention announces it */
typedef struct {
	gchar *key;         /* "<convention>:<hardware id>", remembered with the device */
	gchar *hardware_id; /* the device id is made of this (kith_device_make_id) */
	gchar *label;
	gchar *manufacturer;
	gchar *model;
	gchar *class_name;
	GPtrArray *parts; /* KithMqttPart */
	GStrv removed;    /* ids of parts the announcement removes */
} KithMqttDescription;

KithMqttBinding *kith_mqtt_binding_new (const gchar *topic, const gchar *field, KithValueType type,
                                        KithMqttExtract *extract);
void kith_mqtt_binding_free (KithMqttBinding *binding);
KithMqttCommand *kith_mqtt_command_new (const gchar *field, const gchar *topic);
void kith_mqtt_command_free (KithMqttCommand *command);
KithMqttAvailability *kith_mqtt_availability_new (const gchar *topic, const gchar *available,
                                                  const gchar *not_available,
                                                  KithMqttExtract *extract);
void kith_mqtt_availability_free (KithMqttAvailability *availability);
KithMqttPart *kith_mqtt_part_new (const gchar *id);
void kith_mqtt_part_free (KithMqttPart *part);
KithMqttDescription *kith_mqtt_description_new (const gchar *key, const gchar *hardware_id);
void kith_mqtt_description_free (KithMqttDescription *description);

/* the field as it converts payloads */
void kith_mqtt_binding_get_conversion (const KithMqttBinding *binding,
                                       KithMqttConversion *conversion);

/* a field of a part by name */
KithField *kith_mqtt_part_find_field (KithMqttPart *part, const gchar *name);
/* a field for a part: numeric ones get two decimals and one in the status line */
KithField *kith_mqtt_field_new (const gchar *name, KithValueType type, const gchar *unit);

/* the payload that writes value; fails with KITH_ERROR_INVALID for a value the command
 * cannot write (a button released, a select option that is not offered) */
gchar *kith_mqtt_command_render (const KithMqttCommand *command, const KithValue *value,
                                 GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttBinding, kith_mqtt_binding_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttCommand, kith_mqtt_command_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttPart, kith_mqtt_part_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithMqttDescription, kith_mqtt_description_free)

G_END_DECLS
