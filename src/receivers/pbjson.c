/*
 * pbjson.c - protobuf messages from the wire (bounded) and from proto3 JSON
 * (see pbjson.h).
 *
 * Idea: protobuf-c already knows every message's layout through its
 * descriptors (field number, type, label, offset, quantifier offset), so a
 * single recursive function fills any message from its JSON form, and the
 * receivers keep one mapping over protobuf-c structs, whichever encoding
 * arrived.
 *
 * Wire decoding, each step bounding what the next may cost:
 *   1. depth(): walks the wire format with the descriptors, following only
 *      fields declared as messages, and refuses nesting deeper than
 *      PANE_PBJSON_MAX_DEPTH. protobuf-c recurses once per level without a
 *      limit, so this runs first (it recurses at most MAX_DEPTH times).
 *   2. protobuf_c_message_unpack() with a counting allocator: the decoded
 *      form may take at most mem_max bytes (16 bytes of bookkeeping are
 *      charged per allocation), so a body of many empty sub-messages
 *      cannot multiply into gigabytes. The allocator is malloc underneath,
 *      so the default allocator frees the result.
 * JSON: 3. from_json(), bounded by jansson's own nesting limit; messages
 *      are allocated with malloc like protobuf-c's, so one free serves both.
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
#include "base/str.h"

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

/* ---- 3. JSON -> message ---- */

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

/* A JSON number, or a string holding one (proto3 writes 64-bit integers
 * as strings, and NaN/Infinity as strings). */
static bool j_double(json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return true;
	}
	return json_is_string(v) &&
	       pane_str_to_double(pane_str_make(json_string_value(v), json_string_length(v)), out) == 0;
}

static bool j_int(json_t *v, bool is_signed, int64_t *i, uint64_t *u)
{
	if (json_is_integer(v)) {
		*i = (int64_t)json_integer_value(v);
		*u = *i < 0 ? 0 : (uint64_t)*i;
		return true;
	}
	double d;
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (!(d > -9.3e18 && d < 1.8e19))
			return false;
		*i = d >= 9.2e18 ? INT64_MAX : (int64_t)d;
		*u = d < 0 ? 0 : (uint64_t)d;
		return true;
	}
	if (!json_is_string(v))
		return false;
	struct pane_str s = pane_str_make(json_string_value(v), json_string_length(v));
	if (pane_str_to_i64(s, i) == 0) {
		*u = *i < 0 ? 0 : (uint64_t)*i;
		return true;
	}
	if (!is_signed && pane_str_to_u64(s, u) == 0) {
		*i = *u > INT64_MAX ? INT64_MAX : (int64_t)*u;
		return true;
	}
	return false;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* bytes: hex for trace_id/span_id (OTLP's JSON rule), base64 otherwise */
static bool j_bytes(json_t *v, bool hex, ProtobufCBinaryData *out)
{
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	uint8_t *b = pane_xmalloc(n / 2 + 3);
	size_t o = 0;
	if (hex) {
		if (n % 2)
			goto bad;
		for (size_t i = 0; i < n; i += 2) {
			int h = hexval(s[i]), l = hexval(s[i + 1]);
			if (h < 0 || l < 0)
				goto bad;
			b[o++] = (uint8_t)(h << 4 | l);
		}
	} else {
		uint32_t acc = 0;
		int bits = 0;
		b = pane_xrealloc(b, n + 1);
		for (size_t i = 0; i < n && s[i] != '='; i++) {
			int x = b64val(s[i]);
			if (x < 0)
				goto bad;
			acc = acc << 6 | (uint32_t)x;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				b[o++] = (uint8_t)(acc >> bits);
			}
		}
	}
	out->data = b;
	out->len = o;
	return true;
bad:
	free(b);
	return false;
}

static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *d, json_t *obj);

/* Sets one value of field f at ptr from v; false (nothing set) when v is
 * not of the field's type. */
static bool set_value(const ProtobufCFieldDescriptor *f, void *ptr, json_t *v)
{
	int64_t i;
	uint64_t u;
	double dv;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (!j_int(v, true, &i, &u) || i < INT32_MIN || i > INT32_MAX)
			return false;
		*(int32_t *)ptr = (int32_t)i;
		return true;
	case PROTOBUF_C_TYPE_ENUM:
		if (json_is_string(v)) {
			const ProtobufCEnumValue *ev =
			    protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(v));
			if (ev) {
				*(int32_t *)ptr = ev->value;
				return true;
			}
		}
		if (!j_int(v, true, &i, &u) || i < INT32_MIN || i > INT32_MAX)
			return false;
		*(int32_t *)ptr = (int32_t)i;
		return true;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (!j_int(v, false, &i, &u) || u > UINT32_MAX)
			return false;
		*(uint32_t *)ptr = (uint32_t)u;
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (!j_int(v, true, &i, &u))
			return false;
		*(int64_t *)ptr = i;
		return true;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (!j_int(v, false, &i, &u))
			return false;
		*(uint64_t *)ptr = u;
		return true;
	case PROTOBUF_C_TYPE_FLOAT:
		if (!j_double(v, &dv))
			return false;
		*(float *)ptr = (float)dv;
		return true;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!j_double(v, &dv))
			return false;
		*(double *)ptr = dv;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return false;
		*(protobuf_c_boolean *)ptr = json_is_true(v);
		return true;
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return false;
		*(char **)ptr = pane_xstrndup(json_string_value(v), json_string_length(v));
		return true;
	case PROTOBUF_C_TYPE_BYTES: return j_bytes(v, !strcmp(f->name, "trace_id") || !strcmp(f->name, "span_id"), ptr);
	case PROTOBUF_C_TYPE_MESSAGE:
		if (!json_is_object(v))
			return false;
		*(ProtobufCMessage **)ptr = from_json(f->descriptor, v);
		return true;
	}
	return false;
}

/* The message of type d that obj is the proto3 JSON form of. Fields are
 * looked up by their lowerCamelCase and their proto names; a field whose
 * JSON value has the wrong type is left at its default (lenient, as the
 * receivers always were); unknown keys are ignored. Never fails. */
static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *d, json_t *obj)
{
	ProtobufCMessage *m = pane_xcalloc(1, d->sizeof_message);
	protobuf_c_message_init(d, m);
	char *base = (char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char key[64];
		camel(f->name, key, sizeof key);
		json_t *v = json_object_get(obj, key);
		if (!v)
			v = json_object_get(obj, f->name);
		if (!v || json_is_null(v))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = json_array_size(v), es = elem_size(f->type), k = 0;
			if (!n)
				continue;
			char *arr = pane_xcalloc(n, es);
			for (size_t j = 0; j < n; j++)
				if (set_value(f, arr + k * es, json_array_get(v, j)))
					k++;
			*(size_t *)(base + f->quantifier_offset) = k;
			*(void **)(base + f->offset) = arr;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)(base + f->quantifier_offset))
			continue; /* another member of this oneof is set: the first one wins (and is the one freed) */
		if (!set_value(f, base + f->offset, v))
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*(uint32_t *)(base + f->quantifier_offset) = f->id;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
		         f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	}
	return m;
}

ProtobufCMessage *pane_pb_from_json(const ProtobufCMessageDescriptor *d, json_t *obj)
{
	return from_json(d, obj);
}

ProtobufCMessage *pane_pb_unpack(const ProtobufCMessageDescriptor *d, const void *pb, size_t len, size_t mem_max,
                                 struct pane_err *err)
{
	int r = depth(d, pb, len, 0);
	if (r == -2) {
		pane_err_set(err, PANE_EINVAL, "protobuf messages nest more than %d levels deep",
		             PANE_PBJSON_MAX_DEPTH);
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
