/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-modbus"

#include "link.h"

#include <errno.h>
#include <modbus.h>
#include <poll.h>
#include <sys/select.h>
#include <unistd.h>

struct _KithModbusLink {
	gint ref_count;
	KithModbusLinkSettings settings;
	/* worker thread only from here on */
	modbus_t *context;
	gboolean connected;
	gint64 timeout_set; /* the response timeout the context has now */
	gint64 last_end;    /* monotonic end of the last request */
	gint last_unit;
};

typedef struct {
	KithModbusLink *link;
	KithModbusRequest *request;
} KithModbusLinkJob;

static const gchar *const kith_modbus_status_names[] = {
	"ok", "timeout", "exception", "protocol error", "line down",
};

const gchar *
kith_modbus_status_to_string (KithModbusStatus status)
{
	return kith_modbus_status_names[status];
}

void
kith_modbus_link_settings_clear (KithModbusLinkSettings *settings)
{
	g_clear_pointer (&settings->host, g_free);
	g_clear_pointer (&settings->device, g_free);
}

guint
kith_modbus_link_bits_per_char (const KithModbusLinkSettings *settings)
{
	return 1 + settings->data_bits + (settings->parity != 'N' ? 1 : 0) + settings->stop_bits;
}

gint64
kith_modbus_link_frame_gap (const KithModbusLinkSettings *settings)
{
	if (!settings->rtu)
		return 0;
	if (settings->baud > 19200)
		return 1750;
	return (gint64)(3.5 * 1e6 * kith_modbus_link_bits_per_char (settings) / settings->baud);
}

gchar *
kith_modbus_link_describe (const KithModbusLinkSettings *settings)
{
	if (!settings->rtu)
		return g_strdup_printf ("tcp %s:%u", settings->host, settings->port);
	return g_strdup_printf ("rtu %s %u %u%c%u", settings->device, settings->baud,
	                        settings->data_bits, settings->parity, settings->stop_bits);
}

KithModbusLink *
kith_modbus_link_new (const KithModbusLinkSettings *settings)
{
	KithModbusLink *self = g_new0 (KithModbusLink, 1);
	self->ref_count = 1;
	self->settings = *settings;
	self->settings.host = g_strdup (settings->host);
	self->settings.device = g_strdup (settings->device);
	self->last_unit = -1;
	return self;
}

KithModbusLink *
kith_modbus_link_ref (KithModbusLink *self)
{
	g_atomic_int_inc (&self->ref_count);
	return self;
}

void
kith_modbus_link_unref (KithModbusLink *self)
{
	if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
		return;
	if (self->context != NULL) {
		if (self->connected)
			modbus_close (self->context);
		modbus_free (self->context);
	}
	kith_modbus_link_settings_clear (&self->settings);
	g_free (self);
}

KithModbusRequest *
kith_modbus_request_new (KithModbusRequestKind kind, guint8 unit)
{
	KithModbusRequest *request = g_new0 (KithModbusRequest, 1);
	request->kind = kind;
	request->unit = unit;
	return request;
}

void
kith_modbus_request_free (KithModbusRequest *request)
{
	if (request == NULL)
		return;
	g_free (request->registers);
	g_free (request->bits);
	g_free (request->message);
	kith_modbus_identity_free (request->identity);
	g_free (request);
}

/* the one place where libmodbus's errno values become an outcome */
static void
kith_modbus_link_fail (KithModbusRequest *request, int errnum, const gchar *what)
{
	g_clear_pointer (&request->message, g_free);
	if (errnum > MODBUS_ENOBASE && errnum <= EMBXGTAR) {
		request->exception = (guint8)(errnum - MODBUS_ENOBASE);
		/* a gateway that cannot reach the unit: as if the unit did not answer */
		request->status = errnum >= EMBXGPATH ? KITH_MODBUS_STATUS_TIMEOUT
		                                      : KITH_MODBUS_STATUS_EXCEPTION;
		request->message = g_strdup_printf ("%s: exception %u (%s)", what,
		                                    request->exception, modbus_strerror (errnum));
		return;
	}
	if (errnum == ETIMEDOUT)
		request->status = KITH_MODBUS_STATUS_TIMEOUT;
	else if (errnum >= EMBBADCRC && errnum <= EMBBADSLAVE)
		request->status = KITH_MODBUS_STATUS_PROTOCOL;
	else
		request->status = KITH_MODBUS_STATUS_LINK;
	request->message = g_strdup_printf (
	        "%s: %s", what, errnum == ETIMEDOUT ? "no answer" : modbus_strerror (errnum));
}

static void
kith_modbus_link_close (KithModbusLink *self)
{
	if (self->connected)
		modbus_close (self->context);
	self->connected = FALSE;
}

static void
kith_modbus_link_set_timeout (KithModbusLink *self, gint64 timeout)
{
	if (timeout == self->timeout_set)
		return;
	modbus_set_response_timeout (self->context, (uint32_t)(timeout / G_USEC_PER_SEC),
	                             (uint32_t)(timeout % G_USEC_PER_SEC));
	self->timeout_set = timeout;
}

static gboolean
kith_modbus_link_create (KithModbusLink *self, KithModbusRequest *request)
{
	const KithModbusLinkSettings *settings = &self->settings;

	if (self->context != NULL)
		return TRUE;
	if (settings->rtu) {
		self->context =
		        modbus_new_rtu (settings->device, (int)settings->baud, settings->parity,
		                        (int)settings->data_bits, (int)settings->stop_bits);
	} else {
		g_autofree gchar *port = g_strdup_printf ("%u", settings->port);
		self->context = modbus_new_tcp_pi (settings->host, port);
	}
	if (self->context == NULL) {
		kith_modbus_link_fail (request, errno, "cannot set up the line");
		return FALSE;
	}
	modbus_set_byte_timeout (self->context, (uint32_t)(settings->byte_timeout / G_USEC_PER_SEC),
	                         (uint32_t)(settings->byte_timeout % G_USEC_PER_SEC));
	self->timeout_set = -1;
	kith_modbus_link_set_timeout (self, settings->timeout);
	return TRUE;
}

static gboolean
kith_modbus_link_setup_serial (KithModbusLink *self, KithModbusRequest *request)
{
	const KithModbusLinkSettings *settings = &self->settings;

	if (settings->rs485 && modbus_rtu_set_serial_mode (self->context, MODBUS_RTU_RS485) < 0) {
		kith_modbus_link_fail (request, errno,
		                       "Rs485=true: the serial driver refuses RS-485 mode");
		return FALSE;
	}
	if (settings->rts != MODBUS_RTU_RTS_NONE) {
		if (modbus_rtu_set_rts (self->context, settings->rts) < 0 ||
		    modbus_rtu_set_rts_delay (self->context, (int)settings->rts_delay) < 0) {
			kith_modbus_link_fail (request, errno, "Rts: cannot drive RTS");
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
kith_modbus_link_open (KithModbusLink *self, KithModbusRequest *request)
{
	g_autofree gchar *what = kith_modbus_link_describe (&self->settings);
	g_autofree gchar *context = g_strdup_printf ("cannot open %s", what);

	if (!kith_modbus_link_create (self, request))
		return FALSE;
	if (modbus_connect (self->context) < 0) {
		kith_modbus_link_fail (request, errno, context);
		return FALSE;
	}
	self->connected = TRUE;
	/* libmodbus waits in select(): a descriptor above FD_SETSIZE would abort the process */
	if (modbus_get_socket (self->context) >= FD_SETSIZE) {
		kith_modbus_link_close (self);
		kith_modbus_link_fail (request, EMFILE, context);
		return FALSE;
	}
	if (self->settings.rtu && !kith_modbus_link_setup_serial (self, request)) {
		kith_modbus_link_close (self);
		return FALSE;
	}
	/* bytes a unit sent while nobody listened */
	modbus_flush (self->context);
	self->last_end = g_get_monotonic_time ();
	self->last_unit = -1;
	return TRUE;
}

static void
kith_modbus_link_pause (KithModbusLink *self, const KithModbusRequest *request)
{
	gint64 wait = MAX (request->pause, kith_modbus_link_frame_gap (&self->settings));
	gint64 elapsed = g_get_monotonic_time () - self->last_end;

	if (request->unit != self->last_unit)
		wait = MAX (wait, request->switch_delay);
	if (elapsed < wait)
		g_usleep ((gulong)(wait - elapsed));
}

static int
kith_modbus_link_read (KithModbusLink *self, KithModbusRequest *request)
{
	modbus_t *context = self->context;
	int address = request->address;
	int count = request->count;

	switch (request->table) {
	case KITH_MODBUS_TABLE_COIL:
		return modbus_read_bits (context, address, count, request->bits);
	case KITH_MODBUS_TABLE_DISCRETE:
		return modbus_read_input_bits (context, address, count, request->bits);
	case KITH_MODBUS_TABLE_INPUT:
		return modbus_read_input_registers (context, address, count, request->registers);
	case KITH_MODBUS_TABLE_HOLDING:
		return modbus_read_registers (context, address, count, request->registers);
	}
	errno = EINVAL;
	return -1;
}

static int
kith_modbus_link_write (KithModbusLink *self, KithModbusRequest *request)
{
	modbus_t *context = self->context;
	gboolean one = request->count == 1 && !request->write_multiple;

	if (request->table == KITH_MODBUS_TABLE_COIL)
		return one ? modbus_write_bit (context, request->address, request->bits[0])
		           : modbus_write_bits (context, request->address, request->count,
		                                request->bits);
	if (request->table == KITH_MODBUS_TABLE_HOLDING)
		return one ? modbus_write_register (context, request->address,
		                                    request->registers[0])
		           : modbus_write_registers (context, request->address, request->count,
		                                     request->registers);
	errno = EINVAL;
	return -1;
}

/* reads one 0x2B reply by hand: libmodbus sizes it wrongly (c-libraries.md §4) */
static gboolean
kith_modbus_link_receive_ident (KithModbusLink *self, KithModbusRequest *request, guint8 *frame,
                                gsize *length)
{
	int fd = modbus_get_socket (self->context);
	gint64 deadline = g_get_monotonic_time () + self->timeout_set;
	gssize missing;

	*length = 0;
	while ((missing = kith_modbus_ident_missing (frame, *length, self->settings.rtu)) != 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 now = g_get_monotonic_time ();
		gint64 wait = *length == 0 ? deadline - now : self->settings.byte_timeout;
		ssize_t got;
		int rc;

		if (missing < 0 || *length + (gsize)missing > 260) {
			kith_modbus_link_fail (request, EMBBADDATA, "device identification");
			return FALSE;
		}
		rc = wait > 0 ? poll (&pfd, 1, (int)((wait + 999) / 1000)) : 0;
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			kith_modbus_link_fail (request, *length == 0 ? ETIMEDOUT : EMBBADDATA,
			                       "device identification");
			return FALSE;
		}
		got = read (fd, frame + *length, (size_t)missing);
		if (got <= 0) {
			kith_modbus_link_fail (request, got == 0 ? ECONNRESET : errno,
			                       "device identification");
			return FALSE;
		}
		*length += (gsize)got;
	}
	return TRUE;
}

/* Read Device Identification (basic objects), then Report Server ID */
static int
kith_modbus_link_identify (KithModbusLink *self, KithModbusRequest *request)
{
	guint8 object = 0;
	guint8 data[MODBUS_MAX_PDU_LENGTH];
	int rc;

	request->identity = g_new0 (KithModbusIdentity, 1);
	for (guint round = 0; round < 8; round++) {
		guint8 raw[] = { request->unit, 0x2B, 0x0E, 1, object };
		guint8 frame[260];
		gsize length = 0;
		KithModbusIdentReply reply;
		g_autoptr (GError) error = NULL;

		if (modbus_send_raw_request (self->context, raw, sizeof raw) < 0) {
			kith_modbus_link_fail (request, errno, "device identification");
			return -1;
		}
		if (!kith_modbus_link_receive_ident (self, request, frame, &length))
			break;
		if (!kith_modbus_ident_parse (frame, length, self->settings.rtu, request->unit,
		                              request->identity, &reply, &error)) {
			kith_modbus_link_fail (request, EMBBADDATA, error->message);
			return -1;
		}
		if (reply.exception != 0 || !reply.more || reply.next_object <= object)
			break;
		object = reply.next_object;
	}
	if (request->status == KITH_MODBUS_STATUS_LINK)
		return -1;
	if (request->status != KITH_MODBUS_STATUS_OK) {
		/* a unit may implement only one of the two */
		modbus_flush (self->context);
		g_clear_pointer (&request->message, g_free);
		request->status = KITH_MODBUS_STATUS_OK;
	}
	rc = modbus_report_slave_id (self->context, sizeof data, data);
	if (rc > 0) {
		request->identity->answered = TRUE;
		request->identity->server_id = kith_modbus_server_id_text (data, (gsize)rc);
	} else if (rc < 0 && errno > MODBUS_ENOBASE && errno <= EMBXGTAR) {
		request->identity->answered = TRUE;
	} else if (rc < 0 && !request->identity->answered) {
		kith_modbus_link_fail (request, errno, "identification");
		return -1;
	} else if (rc < 0) {
		modbus_flush (self->context);
	}
	return 0;
}

static int
kith_modbus_link_transact (KithModbusLink *self, KithModbusRequest *request)
{
	switch (request->kind) {
	case KITH_MODBUS_REQUEST_READ:
		return kith_modbus_link_read (self, request);
	case KITH_MODBUS_REQUEST_WRITE:
		return kith_modbus_link_write (self, request);
	case KITH_MODBUS_REQUEST_IDENTIFY:
		return kith_modbus_link_identify (self, request);
	case KITH_MODBUS_REQUEST_CONNECT:
		return 0;
	}
	return 0;
}

static const gchar *
kith_modbus_link_what (const KithModbusRequest *request)
{
	switch (request->kind) {
	case KITH_MODBUS_REQUEST_READ:
		return "read";
	case KITH_MODBUS_REQUEST_WRITE:
		return "write";
	case KITH_MODBUS_REQUEST_IDENTIFY:
		return "identification";
	default:
		return "connect";
	}
}

static void
kith_modbus_link_execute (KithModbusLink *self, KithModbusRequest *request)
{
	gint64 started;
	int rc;

	for (guint attempt = 0; attempt < 2; attempt++) {
		gboolean opened = FALSE;
		request->status = KITH_MODBUS_STATUS_OK;
		if (!self->connected) {
			if (!kith_modbus_link_open (self, request))
				return;
			opened = TRUE;
		}
		if (request->kind == KITH_MODBUS_REQUEST_CONNECT)
			return;
		kith_modbus_link_pause (self, request);
		modbus_set_slave (self->context, request->unit);
		kith_modbus_link_set_timeout (self, request->timeout > 0 ? request->timeout
		                                                         : self->settings.timeout);
		started = g_get_monotonic_time ();
		errno = 0;
		rc = kith_modbus_link_transact (self, request);
		self->last_end = g_get_monotonic_time ();
		self->last_unit = request->unit;
		request->bus_time = self->last_end - started;
		if (rc >= 0 && request->status == KITH_MODBUS_STATUS_OK)
			return;
		if (rc < 0 && request->kind != KITH_MODBUS_REQUEST_IDENTIFY)
			kith_modbus_link_fail (request, errno, kith_modbus_link_what (request));
		if (request->status != KITH_MODBUS_STATUS_LINK) {
			/* late or partial bytes would be taken for the next reply */
			modbus_flush (self->context);
			return;
		}
		kith_modbus_link_close (self);
		/* a peer that closed an idle connection: once more on a fresh one */
		if (opened)
			return;
	}
}

static gpointer
kith_modbus_link_run_cb (gpointer data, GCancellable *cancellable, GError **error)
{
	KithModbusLinkJob *job = data;
	KithModbusRequest *request = g_steal_pointer (&job->request);

	kith_modbus_link_execute (job->link, request);
	return request;
}

static void
kith_modbus_link_job_free (gpointer data)
{
	KithModbusLinkJob *job = data;
	kith_modbus_request_free (job->request);
	kith_modbus_link_unref (job->link);
	g_free (job);
}

void
kith_modbus_link_push (KithModbusLink *self, KithWorker *worker, KithModbusRequest *request,
                       KithWorkerDoneFunc done, gpointer user_data)
{
	KithModbusLinkJob *job = g_new0 (KithModbusLinkJob, 1);
	job->link = kith_modbus_link_ref (self);
	job->request = request;
	kith_worker_push (worker, kith_modbus_link_run_cb, job, kith_modbus_link_job_free,
	                  (GDestroyNotify)kith_modbus_request_free, NULL, done, user_data);
}
