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

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void pb_label(struct pane_buf *b, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	pb_tag(b, 1, 2);
	pb_varint(b, 1 + varint_len(nl) + nl + 1 + varint_len(vl) + vl);
	pb_bytes(b, 1, name, nl);
	pb_bytes(b, 2, value, vl);
}

void pb_sample(struct pane_buf *b, double v, int64_t ts_ms)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	unsigned char le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(bits >> (8 * i));
	size_t n = 1 + 8 + (ts_ms ? 1 + varint_len((uint64_t)ts_ms) : 0);
	pb_tag(b, 2, 2);
	pb_varint(b, n);
	pb_tag(b, 1, 1);
	pane_buf_add(b, le, 8);
	if (ts_ms) {
		pb_tag(b, 2, 0);
		pb_varint(b, (uint64_t)ts_ms);
	}
}

static void quote(struct pane_buf *b, const char *s)
{
	pane_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': pane_buf_adds(b, "\\\""); break;
		case '\\': pane_buf_adds(b, "\\\\"); break;
		case '\n': pane_buf_adds(b, "\\n"); break;
		case '\r': pane_buf_adds(b, "\\r"); break;
		case '\t': pane_buf_adds(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				pane_buf_addf(b, "\\x%02x", *p);
			else
				pane_buf_addc(b, (char)*p);
		}
	}
	pane_buf_addc(b, '"');
}

void loki_labels_text(struct pane_buf *b, const struct pane_relabel_labels *ls)
{
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < ls->n; i++) {
		if (i)
			pane_buf_adds(b, ", ");
		pane_buf_adds(b, ls->names[i]);
		pane_buf_addc(b, '=');
		quote(b, ls->values[i]);
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
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}
