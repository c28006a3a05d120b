/*
 * pbjson.c - protobuf (protobuf-c) -> proto3 JSON tree (see pbjson.h).
 *
 * Idea: protobuf-c already knows every message's layout through its
 * descriptors (field number, type, label, offset, quantifier offset), so a
 * single recursive function turns any decoded message into the JSON the
 * same message would have been sent as. Receivers then keep one mapping
 * from that JSON to records, whichever encoding arrived.
 *
 * Steps, each bounding what the next may cost:
 *   1. depth(): walks the wire format with the descriptors, following only
 *      fields declared as messages, and refuses nesting deeper than
 *      PANE_PBJSON_MAX_DEPTH. protobuf-c recurses once per level without a
 *      limit, so this runs first (it recurses at most MAX_DEPTH times).
 *   2. protobuf_c_message_unpack() with a counting allocator: the decoded
 *      form may take at most mem_max bytes (16 bytes of bookkeeping are
 *      charged per allocation), so a body of many empty sub-messages
 *      cannot multiply into gigabytes.
 *   3. to_json(): the tree; strings are checked to be UTF-8 here.
 *
 * Thread context: none shared; every call has its own allocator state.
 */
#include "receivers/pbjson.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* ---- 1. nesting depth on the wire ---- */

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* 0 when p[0..len) is well-formed enough to walk and nests at most
 * PANE_PBJSON_MAX_DEPTH levels; -1 malformed, -2 too deep. */
static int depth(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, int level)
{
	if (level > PANE_PBJSON_MAX_DEPTH)
		return -2;
	const uint8_t *end = p + len;
	while (p < end) {
		uint64_t tag, v;
		if (rd_varint(&p, end, &tag) < 0)
			return -1;
		switch (tag & 7) {
		case 0:
			if (rd_varint(&p, end, &v) < 0)
				return -1;
			break;
		case 1:
			if (end - p < 8)
				return -1;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return -1;
			p += 4;
			break;
		case 2: {
			if (rd_varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
				return -1;
			const ProtobufCFieldDescriptor *f =
			    tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
			                           : NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int r = depth(f->descriptor, p, (size_t)v, level + 1);
				if (r < 0)
					return r;
			}
			p += v;
			break;
		}
		default: /* groups (3, 4) are not proto3; 6, 7 do not exist */ return -1;
		}
	}
	return 0;
}

/* ---- 2. a counting allocator ---- */

struct budget {
	size_t left;
	bool exhausted;
};

static void *b_alloc(void *data, size_t size)
{
	struct budget *b = data;
	if (size > b->left || b->left - size < 16) {
		b->exhausted = true;
		return NULL;
	}
	b->left -= size + 16;
	return malloc(size); /* protobuf-c handles NULL: the unpack fails cleanly */
}

static void b_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

/* ---- 3. the tree ---- */

static void camel(const char *name, char *out, size_t n)
{
	size_t o = 0;
	bool up = false;
	for (const char *s = name; *s && o + 1 < n; s++) {
		if (*s == '_') {
			up = true;
			continue;
		}
		out[o++] = up && *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
		up = false;
	}
	out[o] = '\0';
}

static json_t *dbl(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

static json_t *bytes_json(const ProtobufCBinaryData *b, bool hex)
{
	static const char hx[] = "0123456789abcdef";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = b->len, cap = hex ? 2 * n + 1 : 4 * ((n + 2) / 3) + 1;
	char *s = pane_xmalloc(cap), *o = s;
	if (hex) {
		for (size_t i = 0; i < n; i++) {
			*o++ = hx[b->data[i] >> 4];
			*o++ = hx[b->data[i] & 15];
		}
	} else {
		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)b->data[i] << 16;
			if (i + 1 < n)
				v |= (uint32_t)b->data[i + 1] << 8;
			if (i + 2 < n)
				v |= b->data[i + 2];
			*o++ = b64[v >> 18 & 63];
			*o++ = b64[v >> 12 & 63];
			*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
			*o++ = i + 2 < n ? b64[v & 63] : '=';
		}
	}
	json_t *j = json_stringn(s, (size_t)(o - s));
	free(s);
	return j;
}

static json_t *to_json(const ProtobufCMessage *m, struct pane_err *err);

/* One value of field f at ptr; NULL with err set for a string that is not
 * UTF-8 (or a nested failure). */
static json_t *value(const ProtobufCFieldDescriptor *f, const void *ptr, struct pane_err *err)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM: return json_integer(*(const int32_t *)ptr);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)ptr);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: return json_integer(*(const int64_t *)ptr);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t u = *(const uint64_t *)ptr;
		return json_integer(u > INT64_MAX ? INT64_MAX : (json_int_t)u);
	}
	case PROTOBUF_C_TYPE_FLOAT: return dbl(*(const float *)ptr);
	case PROTOBUF_C_TYPE_DOUBLE: return dbl(*(const double *)ptr);
	case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)ptr);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)ptr;
		json_t *j = json_string(s ? s : "");
		if (!j)
			pane_err_set(err, PANE_EINVAL, "field %s is not valid UTF-8 (protobuf strings are UTF-8)",
			             f->name);
		return j;
	}
	case PROTOBUF_C_TYPE_BYTES: return bytes_json(ptr, !strcmp(f->name, "trace_id") || !strcmp(f->name, "span_id"));
	case PROTOBUF_C_TYPE_MESSAGE: return to_json(*(ProtobufCMessage *const *)ptr, err);
	}
	return json_null();
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	default: return 4;
	}
}

static json_t *to_json(const ProtobufCMessage *m, struct pane_err *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	json_t *o = json_object();
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *ptr = base + f->offset;
		char key[64];
		camel(f->name, key, sizeof key);
		json_t *v;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			if (!n)
				continue;
			const char *arr = *(char *const *)ptr;
			v = json_array();
			for (size_t k = 0; k < n; k++) {
				json_t *e = value(f, arr + k * elem_size(f->type), err);
				if (!e) {
					json_decref(v);
					json_decref(o);
					return NULL;
				}
				json_array_append_new(v, e);
			}
		} else {
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
			    !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && f->type != PROTOBUF_C_TYPE_MESSAGE &&
			    f->type != PROTOBUF_C_TYPE_STRING &&
			    !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
				continue;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE && !*(ProtobufCMessage *const *)ptr)
				continue;
			if (!(v = value(f, ptr, err))) {
				json_decref(o);
				return NULL;
			}
		}
		json_object_set_new(o, key, v);
	}
	return o;
}

ProtobufCMessage *pane_pb_unpack(const ProtobufCMessageDescriptor *d, const void *pb, size_t len, size_t mem_max,
				 struct pane_err *err)
{
	int r = depth(d, pb, len, 0);
	if (r == -2) {
		pane_err_set(err, PANE_EINVAL, "protobuf messages nest more than %d levels deep", PANE_PBJSON_MAX_DEPTH);
		return NULL;
	}
	if (r < 0) {
		pane_err_set(err, PANE_EINVAL, "body is not a valid protobuf %s", d->short_name);
		return NULL;
	}
	struct budget b = {.left = mem_max};
	ProtobufCAllocator a = {.alloc = b_alloc, .free = b_free, .allocator_data = &b};
	ProtobufCMessage *m = protobuf_c_message_unpack(d, &a, len, pb);
	if (!m) {
		if (b.exhausted)
			pane_err_set(err, PANE_ETOOBIG, "the decoded %s would need more than %zu bytes", d->short_name,
				     mem_max);
		else
			pane_err_set(err, PANE_EINVAL, "body is not a valid protobuf %s", d->short_name);
	}
	return m; /* b_alloc is malloc: the default allocator frees it */
}

json_t *pane_pbjson_decode(const ProtobufCMessageDescriptor *d, const void *pb, size_t len, size_t mem_max,
			   struct pane_err *err)
{
	ProtobufCMessage *m = pane_pb_unpack(d, pb, len, mem_max, err);
	if (!m)
		return NULL;
	json_t *j = to_json(m, err);
	protobuf_c_message_free_unpacked(m, NULL);
	return j;
}
