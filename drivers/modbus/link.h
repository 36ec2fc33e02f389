/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ident.h"
#include "profile.h"
#include "worker.h"

G_BEGIN_DECLS

/*
 * The line: one libmodbus context (a TCP peer or a serial port), used from the bus's worker
 * thread only, one request at a time. It opens itself when a request needs it and reopens
 * after the line broke (a TCP peer that closed an idle connection, a serial adapter that was
 * unplugged and came back), keeps the silences the line and the units need between requests,
 * and flushes what is left on the line after connecting and after every error.
 */

typedef struct {
	gboolean rtu;
	gchar *host; /* TCP */
	guint port;
	gchar *device; /* RTU */
	guint baud;
	gchar parity; /* 'N', 'E', 'O' */
	guint data_bits;
	guint stop_bits;
	gboolean rs485;      /* the kernel's RS-485 mode (TIOCSRS485) */
	gint rts;            /* MODBUS_RTU_RTS_NONE, _UP, _DOWN: RTS driven around each request */
	gint64 rts_delay;    /* microseconds */
	gint64 timeout;      /* response timeout, microseconds */
	gint64 byte_timeout; /* microseconds */
} KithModbusLinkSettings;

typedef enum {
	KITH_MODBUS_STATUS_OK,
	KITH_MODBUS_STATUS_TIMEOUT,   /* the unit did not answer (or its gateway said so) */
	KITH_MODBUS_STATUS_EXCEPTION, /* the unit answered with an exception */
	KITH_MODBUS_STATUS_PROTOCOL,  /* a garbled reply (CRC, length, another unit) */
	KITH_MODBUS_STATUS_LINK,      /* the line itself is down (cannot open, reset, unplugged) */
} KithModbusStatus;

typedef enum {
	KITH_MODBUS_REQUEST_CONNECT,
	KITH_MODBUS_REQUEST_READ,
	KITH_MODBUS_REQUEST_WRITE,
	KITH_MODBUS_REQUEST_IDENTIFY,
} KithModbusRequestKind;

typedef struct {
	KithModbusRequestKind kind;
	guint8 unit;
	KithModbusTable table;
	guint16 address;
	guint16 count;
	guint16 *registers;      /* read registers: filled; write holding: what to write */
	guint8 *bits;            /* read bits: filled; write coils: what to write */
	gboolean write_multiple; /* function 0x0F/0x10 even for one coil or register */
	gint64 timeout;          /* response timeout in microseconds; 0: the line's */
	gint64 pause;            /* silence before the request, microseconds */
	gint64 switch_delay;     /* silence before it when the last request went to another unit */

	/* the outcome, written on the worker thread */
	KithModbusStatus status;
	guint8 exception;
	gchar *message;
	gint64 bus_time; /* microseconds on the line, silences excluded */
	KithModbusIdentity *identity;
} KithModbusRequest;

typedef struct _KithModbusLink KithModbusLink;

KithModbusLink *kith_modbus_link_new (const KithModbusLinkSettings *settings);
KithModbusLink *kith_modbus_link_ref (KithModbusLink *self);
void kith_modbus_link_unref (KithModbusLink *self);
/* "tcp 127.0.0.1:502", "rtu /dev/ttyUSB0 9600 8N1" */
gchar *kith_modbus_link_describe (const KithModbusLinkSettings *settings);
void kith_modbus_link_settings_clear (KithModbusLinkSettings *settings);

KithModbusRequest *kith_modbus_request_new (KithModbusRequestKind kind, guint8 unit);
void kith_modbus_request_free (KithModbusRequest *request);
const gchar *kith_modbus_status_to_string (KithModbusStatus status);

/* runs request on the worker thread; done gets it back (owned) on the main loop, or a
 * cancellation error */
void kith_modbus_link_push (KithModbusLink *self, KithWorker *worker, KithModbusRequest *request,
                            KithWorkerDoneFunc done, gpointer user_data);

/* the microseconds of silence a frame needs on this line (3.5 characters; 0 on TCP) */
gint64 kith_modbus_link_frame_gap (const KithModbusLinkSettings *settings);
guint kith_modbus_link_bits_per_char (const KithModbusLinkSettings *settings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithModbusRequest, kith_modbus_request_free)

G_END_DECLS
