/*
 * encode.c - the protobuf that leaves pane: remote_write 1.0 and Loki push.
 *
 * Idea: both wire formats are a repeated field 1 of small messages
 * (WriteRequest.timeseries, PushRequest.streams), so an output queues each
 * TimeSeries / StreamAdapter as finished bytes and a request body is those
 * bytes concatenated, each behind a field-1 tag and length. Writing the few
 * fields by hand is shorter than generated code and allocates nothing per
 * field.
 *
 * remote_write (prometheus/prompb): TimeSeries{1 labels: Label{1 name,
 * 2 value}; 2 samples: Sample{1 value double, 2 timestamp int64}}.
 * Loki (pkg/push/push.proto): StreamAdapter{1 labels string; 2 entries:
 * EntryAdapter{1 timestamp google.protobuf.Timestamp{1 seconds, 2 nanos};
 * 2 line; 3 structuredMetadata: LabelPairAdapter{1 name, 2 value}}}.
 */
#include "outputs/internal.h"

#include <string.h>

/* Writes into room made by the caller (pane_buf_grow): the hot paths
 * encode a label or a sample with one grow instead of one per byte run. */
static unsigned char *put_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

static unsigned char *put_bytes(unsigned char *o, unsigned field, const void *p, size_t n)
{
	*o++ = (unsigned char)(field << 3 | 2);
	o = put_varint(o, n);
	memcpy(o, p, n);
	return o + n;
}

static void commit_to(struct pane_buf *b, unsigned char *end)
{
	b->len = (size_t)(end - (unsigned char *)b->data);
	b->data[b->len] = 0;
}

void pb_varint(struct pane_buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	while (v >= 0x80) {
		t[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (unsigned char)v;
	pane_buf_add(b, t, n);
}

void pb_tag(struct pane_buf *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

void pb_bytes(struct pane_buf *b, unsigned field, const void *p, size_t n)
{
	pb_tag(b, field, 2);
	pb_varint(b, n);
	pane_buf_add(b, p, n);
}

void pb_string(struct pane_buf *b, unsigned field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void pb_label(struct pane_buf *b, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	if (pane_buf_grow(b, nl + vl + 32) < 0)
		return;
	unsigned char *o = (unsigned char *)b->data + b->len;
	*o++ = 1 << 3 | 2;
	o = put_varint(o, 1 + pane_uvarint_len(nl) + nl + 1 + pane_uvarint_len(vl) + vl);
	o = put_bytes(o, 1, name, nl);
	o = put_bytes(o, 2, value, vl);
	commit_to(b, o);
}

void pb_sample(struct pane_buf *b, double v, int64_t ts_ms)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	unsigned char le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(bits >> (8 * i));
	size_t n = 1 + 8 + (ts_ms ? 1 + pane_uvarint_len((uint64_t)ts_ms) : 0);
	if (pane_buf_grow(b, n + 12) < 0)
		return;
	unsigned char *o = (unsigned char *)b->data + b->len;
	*o++ = 2 << 3 | 2;
	o = put_varint(o, n);
	*o++ = 1 << 3 | 1;
	memcpy(o, le, 8);
	o += 8;
	if (ts_ms) {
		*o++ = 2 << 3 | 0;
		o = put_varint(o, (uint64_t)ts_ms);
	}
	commit_to(b, o);
}

void loki_labels_text(struct pane_buf *b, const struct pane_relabel_labels *ls)
{
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < ls->n; i++) {
		if (i)
			pane_buf_adds(b, ", ");
		pane_buf_adds(b, ls->names[i]);
		pane_buf_addc(b, '=');
		pane_buf_add_go_quoted(b, ls->values[i]);
	}
	pane_buf_addc(b, '}');
}

void loki_entry(struct pane_buf *b, int64_t ts_ms, const char *line, size_t len, const char *const *meta, size_t n_meta)
{
	struct pane_buf e, t, m;
	pane_buf_init(&e, PANE_BUF_NOLIMIT);
	pane_buf_init(&t, PANE_BUF_NOLIMIT);
	pane_buf_init(&m, PANE_BUF_NOLIMIT);
	int64_t sec = ts_ms / 1000, ms = ts_ms % 1000;
	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	if (sec) {
		pb_tag(&t, 1, 0);
		pb_varint(&t, (uint64_t)sec);
	}
	if (ms) {
		pb_tag(&t, 2, 0);
		pb_varint(&t, (uint64_t)(ms * 1000000));
	}
	pb_bytes(&e, 1, t.data, t.len);
	pb_bytes(&e, 2, line, len);
	for (size_t i = 0; i < n_meta; i++) {
		pane_buf_reset(&m);
		pb_string(&m, 1, meta[2 * i]);
		pb_string(&m, 2, meta[2 * i + 1]);
		pb_bytes(&e, 3, m.data, m.len);
	}
	pb_bytes(b, 2, e.data, e.len);
	pane_buf_release(&e);
	pane_buf_release(&t);
	pane_buf_release(&m);
}

uint64_t fnv64(const void *p, size_t n)
{
	/* crc32c runs 8 bytes per instruction; the multiply spreads it over 64 bits */
	uint64_t h = pane_oqueue_crc32c(0, p, n);
	return (h ^ (uint64_t)n << 32) * 0x9e3779b97f4a7c15ull;
}
