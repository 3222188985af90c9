/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NMI record converters (include/zpath/zpath_nmi.h): host structs <-> big-endian wire structs,
 * plus the subscriber-input state machine and the bounded output queue the monitoring stream
 * uses. Pure code without DPDK, so zpathctl and the unit tests build it on its own.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_priv.h"
#include "zpath/zpath_nmi.h"

/* ---- names ------------------------------------------------------------------------------- */

const char *zp_nmi_termcode_name(uint32_t termcode)
{
	switch ((enum zp_nmi_termcode)termcode) {
	case ZP_NMI_TERM_PLANNED:
		return "planned";
	case ZP_NMI_TERM_EWOULDBLOCK:
		return "EWOULDBLOCK";
	case ZP_NMI_TERM_ENOMEM:
		return "ENOMEM";
	case ZP_NMI_TERM_EACCES:
		return "EACCES";
	case ZP_NMI_TERM_EINVAL:
		return "EINVAL";
	case ZP_NMI_TERM_EPIPE:
		return "EPIPE";
	}
	return "unknown";
}

const char *zp_nmi_id_name(uint32_t id)
{
	switch (id) {
	case ZP_NMI_ID_REQUEST:
		return "REQUEST";
	case ZP_NMI_ID_INIT:
		return "INIT";
	case ZP_NMI_ID_CONN_OPEN:
		return "CONN_OPEN";
	case ZP_NMI_ID_CONN_CLOSE:
		return "CONN_CLOSE";
	case ZP_NMI_ID_LIST_END:
		return "LIST_END";
	case ZP_NMI_ID_LOST:
		return "LOST";
	case ZP_NMI_ID_TERM:
		return "TERM";
	default: /* ids are an open set: unknown ones are skipped */
		return "unknown";
	}
}

const char *zp_nmi_close_how_name(uint8_t how)
{
	switch ((enum zp_nmi_close_how)how) {
	case ZP_NMI_CLOSE_NORMAL:
		return "normal";
	case ZP_NMI_CLOSE_RESET_IN:
		return "reset_in";
	case ZP_NMI_CLOSE_RESET_OUT:
		return "reset_out";
	case ZP_NMI_CLOSE_TIMEOUT:
		return "timeout";
	case ZP_NMI_CLOSE_REFUSED:
		return "refused";
	}
	return "unknown";
}

/* ---- encode ------------------------------------------------------------------------------ */

static size_t nmi_wire_size(uint32_t id)
{
	switch (id) {
	case ZP_NMI_ID_REQUEST:
		return sizeof(struct zp_nmi_wire_request);
	case ZP_NMI_ID_INIT:
		return sizeof(struct zp_nmi_wire_init);
	case ZP_NMI_ID_CONN_OPEN:
		return sizeof(struct zp_nmi_wire_conn_open);
	case ZP_NMI_ID_CONN_CLOSE:
		return sizeof(struct zp_nmi_wire_conn_close);
	case ZP_NMI_ID_LIST_END:
		return sizeof(struct zp_nmi_wire_list_end);
	case ZP_NMI_ID_LOST:
		return sizeof(struct zp_nmi_wire_lost);
	case ZP_NMI_ID_TERM:
		return sizeof(struct zp_nmi_wire_term);
	default:
		return 0;
	}
}

/* Copy a C string into a NUL-padded fixed field (may fill it without a terminator). */
static void nmi_put_str(char *dst, size_t dlen, const char *src)
{
	size_t n = strnlen(src, dlen);

	memset(dst, 0, dlen);
	memcpy(dst, src, n);
}

/* The reverse: a fixed field to a terminated string of dlen + 1 bytes. */
static void nmi_get_str(char *dst, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void nmi_put_conn(struct zp_nmi_wire_conn *w, const struct zp_nmi_conn *c)
{
	w->conn_id = htobe64(c->conn_id);
	w->time_ns = htobe64(c->time_ns);
	w->worker = htobe16(c->worker);
	w->state = c->state;
	w->flags = c->flags;
	w->laddr = c->laddr; /* already network order */
	w->raddr = c->raddr;
	w->lport = c->lport;
	w->rport = c->rport;
	nmi_put_str(w->transport, sizeof(w->transport), c->transport);
	nmi_put_str(w->tls, sizeof(w->tls), c->tls);
}

static void nmi_get_conn(struct zp_nmi_conn *c, const struct zp_nmi_wire_conn *w)
{
	c->conn_id = be64toh(w->conn_id);
	c->time_ns = be64toh(w->time_ns);
	c->worker = be16toh(w->worker);
	c->state = w->state;
	c->flags = w->flags;
	c->laddr = w->laddr;
	c->raddr = w->raddr;
	c->lport = w->lport;
	c->rport = w->rport;
	nmi_get_str(c->transport, w->transport, sizeof(w->transport));
	nmi_get_str(c->tls, w->tls, sizeof(w->tls));
}

ssize_t zp_nmi_encode(const struct zp_nmi_record *rec, void *buf, size_t len)
{
	union {
		struct zp_nmi_wire_hdr hdr;
		struct zp_nmi_wire_request req;
		struct zp_nmi_wire_init init;
		struct zp_nmi_wire_conn_open open;
		struct zp_nmi_wire_conn_close close;
		struct zp_nmi_wire_list_end lend;
		struct zp_nmi_wire_lost lost;
		struct zp_nmi_wire_term term;
	} w;
	size_t size = nmi_wire_size(rec->id);

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	if (len < size) {
		errno = ENOSPC;
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.hdr.len = htobe32((uint32_t)size);
	w.hdr.id = htobe32(rec->id);
	w.hdr.version = htobe32(ZP_NMI_VERSION1);

	switch (rec->id) {
	case ZP_NMI_ID_REQUEST:
		w.req.flags = htobe32(rec->u.request.flags);
		w.req.queue_kib = htobe32(rec->u.request.queue_kib);
		break;
	case ZP_NMI_ID_INIT:
		nmi_put_str(w.init.instance, sizeof(w.init.instance), rec->u.init.instance);
		nmi_put_str(w.init.stack_version, sizeof(w.init.stack_version),
			    rec->u.init.stack_version);
		w.init.start_ns = htobe64(rec->u.init.start_ns);
		w.init.now_ns = htobe64(rec->u.init.now_ns);
		w.init.pid = htobe32(rec->u.init.pid);
		w.init.nb_workers = htobe16(rec->u.init.nb_workers);
		w.init.flags = htobe32(rec->u.init.flags);
		w.init.queue_bytes = htobe32(rec->u.init.queue_bytes);
		break;
	case ZP_NMI_ID_CONN_OPEN:
		nmi_put_conn(&w.open.c, &rec->u.conn);
		break;
	case ZP_NMI_ID_CONN_CLOSE:
		nmi_put_conn(&w.close.c, &rec->u.conn);
		w.close.bytes_in = htobe64(rec->u.conn.bytes_in);
		w.close.bytes_out = htobe64(rec->u.conn.bytes_out);
		w.close.duration_ns = htobe64(rec->u.conn.duration_ns);
		w.close.how = rec->u.conn.how;
		w.close.app_errno = (int32_t)htobe32((uint32_t)rec->u.conn.app_errno);
		break;
	case ZP_NMI_ID_LIST_END:
		w.lend.count = htobe32(rec->u.list_end.count);
		w.lend.flags = htobe32(rec->u.list_end.flags);
		w.lend.time_ns = htobe64(rec->u.list_end.time_ns);
		break;
	case ZP_NMI_ID_LOST:
		w.lost.count = htobe64(rec->u.lost.count);
		w.lost.total = htobe64(rec->u.lost.total);
		w.lost.time_ns = htobe64(rec->u.lost.time_ns);
		break;
	case ZP_NMI_ID_TERM:
		w.term.termcode = htobe32(rec->u.term.termcode);
		w.term.time_ns = htobe64(rec->u.term.time_ns);
		break;
	}
	memcpy(buf, &w, size);
	return (ssize_t)size;
}

/* ---- decode ------------------------------------------------------------------------------ */

ssize_t zp_nmi_decode(const void *buf, size_t len, struct zp_nmi_record *rec)
{
	union {
		struct zp_nmi_wire_hdr hdr;
		struct zp_nmi_wire_request req;
		struct zp_nmi_wire_init init;
		struct zp_nmi_wire_conn_open open;
		struct zp_nmi_wire_conn_close close;
		struct zp_nmi_wire_list_end lend;
		struct zp_nmi_wire_lost lost;
		struct zp_nmi_wire_term term;
	} w;
	uint32_t rlen;
	size_t size;

	if (len < sizeof(w.hdr))
		return 0;
	memcpy(&w.hdr, buf, sizeof(w.hdr));
	rlen = be32toh(w.hdr.len);
	if (rlen < sizeof(w.hdr) || rlen > ZP_NMI_MAX_LEN) {
		errno = EINVAL;
		return -1;
	}
	memset(rec, 0, sizeof(*rec));
	rec->id = be32toh(w.hdr.id);
	rec->version = be32toh(w.hdr.version);
	rec->len = rlen;
	if (rec->version == 0) {
		errno = EINVAL;
		return -1;
	}
	size = nmi_wire_size(rec->id);
	if (size != 0 && rlen < size) {
		errno = EINVAL;
		return -1;
	}
	if (len < rlen)
		return 0;
	if (size == 0)
		return rlen; /* unknown id: the caller skips it */
	memcpy(&w, buf, size);

	switch (rec->id) {
	case ZP_NMI_ID_REQUEST:
		rec->u.request.flags = be32toh(w.req.flags);
		rec->u.request.queue_kib = be32toh(w.req.queue_kib);
		break;
	case ZP_NMI_ID_INIT:
		nmi_get_str(rec->u.init.instance, w.init.instance, sizeof(w.init.instance));
		nmi_get_str(rec->u.init.stack_version, w.init.stack_version,
			    sizeof(w.init.stack_version));
		rec->u.init.start_ns = be64toh(w.init.start_ns);
		rec->u.init.now_ns = be64toh(w.init.now_ns);
		rec->u.init.pid = be32toh(w.init.pid);
		rec->u.init.nb_workers = be16toh(w.init.nb_workers);
		rec->u.init.flags = be32toh(w.init.flags);
		rec->u.init.queue_bytes = be32toh(w.init.queue_bytes);
		break;
	case ZP_NMI_ID_CONN_OPEN:
		nmi_get_conn(&rec->u.conn, &w.open.c);
		break;
	case ZP_NMI_ID_CONN_CLOSE:
		nmi_get_conn(&rec->u.conn, &w.close.c);
		rec->u.conn.bytes_in = be64toh(w.close.bytes_in);
		rec->u.conn.bytes_out = be64toh(w.close.bytes_out);
		rec->u.conn.duration_ns = be64toh(w.close.duration_ns);
		rec->u.conn.how = w.close.how;
		rec->u.conn.app_errno = (int32_t)be32toh((uint32_t)w.close.app_errno);
		break;
	case ZP_NMI_ID_LIST_END:
		rec->u.list_end.count = be32toh(w.lend.count);
		rec->u.list_end.flags = be32toh(w.lend.flags);
		rec->u.list_end.time_ns = be64toh(w.lend.time_ns);
		break;
	case ZP_NMI_ID_LOST:
		rec->u.lost.count = be64toh(w.lost.count);
		rec->u.lost.total = be64toh(w.lost.total);
		rec->u.lost.time_ns = be64toh(w.lost.time_ns);
		break;
	case ZP_NMI_ID_TERM:
		rec->u.term.termcode = be32toh(w.term.termcode);
		rec->u.term.time_ns = be64toh(w.term.time_ns);
		break;
	}
	return rlen;
}

/* ---- subscriber input -------------------------------------------------------------------- */

void ctl_nmi_rx_init(struct ctl_nmi_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

/*
 * What the server accepts from a subscriber: one REQUEST, first and only. Each header word is
 * checked as soon as it has arrived (length, id, version, reserved), so a subscriber writing
 * anything else is refused at its first wrong word rather than left waiting for 32 bytes.
 */
static bool rx_word_ok(const uint8_t *buf, size_t word)
{
	uint32_t v;

	memcpy(&v, buf + word * 4, 4);
	v = be32toh(v);
	switch (word) {
	case 0:
		return v == sizeof(struct zp_nmi_wire_request);
	case 1:
		return v == ZP_NMI_ID_REQUEST;
	case 2:
		return v == ZP_NMI_VERSION1;
	case 4:
		return (v & ~ZP_NMI_REQ_ALL) == 0;
	case 3: /* header reserved */
	case 6: /* body reserved */
	case 7:
		return v == 0;
	default: /* queue_kib: any value, clamped later */
		return true;
	}
}

int ctl_nmi_rx_feed(struct ctl_nmi_rx *rx, const void *data, size_t len, struct zp_nmi_request *out)
{
	const size_t size = sizeof(struct zp_nmi_wire_request);
	const uint8_t *p = data;
	struct zp_nmi_record rec;

	if (len == 0)
		return 0;
	if (rx->done)
		return -EPIPE;
	while (len > 0 && rx->have < size) {
		rx->buf[rx->have++] = *p++;
		len--;
		if (rx->have % 4 == 0 && !rx_word_ok(rx->buf, rx->have / 4 - 1))
			return -EINVAL;
	}
	if (rx->have < size)
		return 0;
	if (zp_nmi_decode(rx->buf, size, &rec) != (ssize_t)size || rec.id != ZP_NMI_ID_REQUEST)
		return -EINVAL;
	rx->done = true;
	*out = rec.u.request;
	return len > 0 ? -EPIPE : 1;
}

uint32_t ctl_nmi_queue_bytes(uint32_t queue_kib)
{
	uint64_t b = (uint64_t)queue_kib * 1024;

	if (queue_kib == 0)
		return ZP_NMI_QUEUE_DEFAULT;
	if (b < ZP_NMI_QUEUE_MIN)
		return ZP_NMI_QUEUE_MIN;
	if (b > ZP_NMI_QUEUE_MAX)
		return ZP_NMI_QUEUE_MAX;
	return (uint32_t)b;
}

/* ---- output queue ------------------------------------------------------------------------ */

void ctl_outq_init(struct ctl_outq *q, size_t max, size_t reserve)
{
	memset(q, 0, sizeof(*q));
	q->max = max;
	q->reserve = reserve;
}

void ctl_outq_fini(struct ctl_outq *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

size_t ctl_outq_pending(const struct ctl_outq *q)
{
	return q->tail - q->head;
}

/* Make room for @p len more bytes at the tail: compact, then grow (doubling) up to max. */
static int outq_room(struct ctl_outq *q, size_t len)
{
	size_t used = q->tail - q->head, cap;
	uint8_t *nb;

	if (q->tail + len <= q->cap)
		return 0;
	if (q->head > 0) {
		memmove(q->buf, q->buf + q->head, used);
		q->head = 0;
		q->tail = used;
		if (used + len <= q->cap)
			return 0;
	}
	cap = q->cap == 0 ? 4096 : q->cap;
	while (cap < used + len)
		cap *= 2;
	if (cap > q->max)
		cap = q->max;
	if (q->fail_alloc)
		return -ENOMEM;
	nb = realloc(q->buf, cap);
	if (nb == NULL)
		return -ENOMEM;
	q->buf = nb;
	q->cap = cap;
	return 0;
}

int ctl_outq_push(struct ctl_outq *q, const void *data, size_t len, bool use_reserve)
{
	size_t limit = q->max - (use_reserve ? 0 : q->reserve);
	int rc;

	if (len > limit || q->tail - q->head > limit - len)
		return -ENOSPC;
	rc = outq_room(q, len);
	if (rc < 0)
		return rc;
	memcpy(q->buf + q->tail, data, len);
	q->tail += len;
	return 0;
}

int ctl_outq_flush(struct ctl_outq *q, int fd)
{
	while (q->head < q->tail) {
		ssize_t n =
			send(fd, q->buf + q->head, q->tail - q->head, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
		q->head += (size_t)n;
	}
	q->head = q->tail = 0;
	return 0;
}

/* ---- records from dataplane events ------------------------------------------------------- */

enum zp_nmi_close_how ctl_nmi_close_how(enum dp_conn_close_how how)
{
	switch (how) {
	case DP_CLOSE_NORMAL:
		return ZP_NMI_CLOSE_NORMAL;
	case DP_CLOSE_RESET_IN:
		return ZP_NMI_CLOSE_RESET_IN;
	case DP_CLOSE_RESET_OUT:
		return ZP_NMI_CLOSE_RESET_OUT;
	case DP_CLOSE_TIMEOUT:
		return ZP_NMI_CLOSE_TIMEOUT;
	case DP_CLOSE_REFUSED:
		return ZP_NMI_CLOSE_REFUSED;
	}
	return ZP_NMI_CLOSE_NORMAL;
}

static void nmi_conn_from_view(struct zp_nmi_conn *c, const struct dp_conn_view *v,
			       uint64_t time_ns)
{
	c->conn_id = v->id;
	c->time_ns = time_ns;
	c->worker = v->worker;
	c->state = v->state;
	c->laddr = v->laddr;
	c->raddr = v->raddr;
	c->lport = v->lport;
	c->rport = v->rport;
	memcpy(c->transport, v->transport, sizeof(v->transport));
	c->transport[sizeof(v->transport)] = '\0';
	memcpy(c->tls, v->tls, sizeof(v->tls));
	c->tls[sizeof(v->tls)] = '\0';
}

void ctl_nmi_from_event(const struct dp_conn_event *ev, uint64_t time_ns, struct zp_nmi_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	nmi_conn_from_view(&rec->u.conn, &ev->view, time_ns);
	switch (ev->type) {
	case DP_CONN_OPEN:
		rec->id = ZP_NMI_ID_CONN_OPEN;
		return;
	case DP_CONN_CLOSE:
		rec->id = ZP_NMI_ID_CONN_CLOSE;
		rec->u.conn.bytes_in = ev->bytes_in;
		rec->u.conn.bytes_out = ev->bytes_out;
		rec->u.conn.duration_ns = ev->duration_ns;
		rec->u.conn.how = (uint8_t)ctl_nmi_close_how(ev->how);
		rec->u.conn.app_errno = ev->app_errno;
		return;
	}
	rec->id = ZP_NMI_ID_CONN_OPEN;
}

void ctl_nmi_from_view(const struct dp_conn_view *v, uint64_t time_ns, struct zp_nmi_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->id = ZP_NMI_ID_CONN_OPEN;
	nmi_conn_from_view(&rec->u.conn, v, time_ns);
	rec->u.conn.flags = ZP_NMI_CONN_EXISTING;
}

unsigned ctl_nmi_term_index(enum zp_nmi_termcode code)
{
	switch (code) {
	case ZP_NMI_TERM_PLANNED:
		return 0;
	case ZP_NMI_TERM_EWOULDBLOCK:
		return 1;
	case ZP_NMI_TERM_ENOMEM:
		return 2;
	case ZP_NMI_TERM_EACCES:
		return 3;
	case ZP_NMI_TERM_EINVAL:
		return 4;
	case ZP_NMI_TERM_EPIPE:
		return 5;
	}
	return 0;
}
