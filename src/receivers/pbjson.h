/*
 * pbjson.h - a protobuf message, decoded by protobuf-c, as its proto3 JSON
 * mapping (a jansson tree).
 *
 * Why: OTLP has two encodings of one schema. Decoding protobuf into the
 * tree the JSON form parses into lets one walker (otlp.c) map both, so
 * the protobuf and JSON receivers cannot drift apart. The translation is
 * driven by protobuf-c's descriptors, not written per message.
 *
 * The mapping, as proto3 JSON defines it: field names in lowerCamelCase;
 * 64-bit integers as JSON integers (uint64 above INT64_MAX clamps); enums
 * as numbers; non-finite doubles as "NaN"/"Infinity"/"-Infinity"; bytes as
 * base64, except fields named trace_id and span_id, which are lowercase hex
 * (OTLP's JSON rule). Scalars of a proto3 message are always present (their
 * zero when absent on the wire); absent sub-messages and unset oneof
 * members are left out.
 *
 * Bounds (hostile input): message nesting deeper than PANE_PBJSON_MAX_DEPTH
 * is refused before protobuf-c (which recurses without a limit) sees it;
 * the decoded form may take at most mem_max bytes (PANE_ETOOBIG past it).
 * Strings must be UTF-8, as proto3 requires (PANE_EINVAL otherwise).
 */
#ifndef PANE_RECEIVERS_PBJSON_H
#define PANE_RECEIVERS_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "base/err.h"

#define PANE_PBJSON_MAX_DEPTH 48

/* Decodes pb[0..len) as a message of type d and returns its JSON tree (the
 * caller json_decref()s it), or NULL with err set: PANE_EINVAL for
 * malformed or too deeply nested input or a string that is not UTF-8,
 * PANE_ETOOBIG past mem_max. */
json_t *pane_pbjson_decode(const ProtobufCMessageDescriptor *d, const void *pb, size_t len, size_t mem_max,
                           struct pane_err *err);

/* Steps 1 and 2 only (depth check, bounded protobuf-c unpack), for
 * receivers that walk the decoded message themselves. Free the result with
 * protobuf_c_message_free_unpacked(m, NULL). NULL with err set as above
 * (strings are not checked for UTF-8 here). */
ProtobufCMessage *pane_pb_unpack(const ProtobufCMessageDescriptor *d, const void *pb, size_t len, size_t mem_max,
                                 struct pane_err *err);

#endif
