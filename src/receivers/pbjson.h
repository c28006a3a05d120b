/*
 * pbjson.h - protobuf messages (protobuf-c) from the wire, bounded, and
 * from their proto3 JSON form.
 *
 * Why: OTLP has two encodings of one schema. Decoding both into the same
 * protobuf-c structs lets one walker (otlp.c) map them, so the protobuf
 * and JSON receivers cannot drift apart, and the protobuf path (what the
 * SDKs send by default) pays for no intermediate tree. The JSON side is
 * driven by protobuf-c's descriptors, not written per message.
 *
 * The JSON form, as proto3 defines it: field names in lowerCamelCase (the
 * proto names are accepted too); 64-bit integers as numbers or strings;
 * enums as numbers or names; doubles as numbers or "NaN"/"Infinity"/
 * "-Infinity"; bytes as base64, except fields named trace_id and span_id,
 * which are hex (OTLP's JSON rule). A value of the wrong type leaves its
 * field at the default; unknown keys are ignored.
 *
 * Bounds (hostile input): message nesting deeper than PANE_PBJSON_MAX_DEPTH
 * is refused before protobuf-c (which recurses without a limit) sees it;
 * the decoded message may take at most mem_max bytes (PANE_ETOOBIG past
 * it). protobuf-c does not check that strings are UTF-8: callers do where
 * it matters.
 */
#ifndef PANE_RECEIVERS_PBJSON_H
#define PANE_RECEIVERS_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "base/err.h"

#define PANE_PBJSON_MAX_DEPTH 48

/* Decodes pb[0..len) as a message of type d. Free the result with
 * protobuf_c_message_free_unpacked(m, NULL). NULL with err set:
 * PANE_EINVAL for malformed or too deeply nested input, PANE_ETOOBIG past
 * mem_max. */
ProtobufCMessage *pane_pb_unpack(const ProtobufCMessageDescriptor *d, const void *pb, size_t len, size_t mem_max,
                                 struct pane_err *err);

/* The message of type d whose proto3 JSON form is obj (an object; anything
 * else gives an empty message). Never fails; free as above. */
ProtobufCMessage *pane_pb_from_json(const ProtobufCMessageDescriptor *d, json_t *obj);

#endif
