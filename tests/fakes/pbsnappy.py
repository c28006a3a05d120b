"""pbsnappy.py - snappy block decompression and a strict protobuf reader
(standard library only), for the fakes that receive pane's remote_write and
Loki push: they decode every request as the real receiver would and refuse
what the .proto files do not allow.

Formats: snappy's block format (format_description.txt: a varint length,
then literal and copy elements); protobuf wire format (varint, 64-bit,
length-delimited, 32-bit; groups are refused).
"""
import struct


class DecodeError(Exception):
    pass


def _varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b):
            raise DecodeError("truncated varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7
        if shift > 63:
            raise DecodeError("varint too long")


def snappy_decompress(b):
    n, i = _varint(b, 0)
    out = bytearray()
    while i < len(b):
        tag = b[i]
        i += 1
        t = tag & 3
        if t == 0:  # literal
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(b[i:i + nb], "little")
                i += nb
            ln += 1
            if i + ln > len(b):
                raise DecodeError("literal past the end")
            out += b[i:i + ln]
            i += ln
            continue
        if t == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | b[i]
            i += 1
        elif t == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(b[i:i + 2], "little")
            i += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(b[i:i + 4], "little")
            i += 4
        if off == 0 or off > len(out):
            raise DecodeError("copy offset out of range")
        for _ in range(ln):
            out.append(out[-off])
    if len(out) != n:
        raise DecodeError("decompressed length %d, header said %d" % (len(out), n))
    return bytes(out)


def fields(b):
    """Yields (field number, wire type, value) of one message; value is an
    int for varints, bytes for length-delimited, raw bytes for fixed."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        f, w = key >> 3, key & 7
        if f == 0:
            raise DecodeError("field number 0")
        if w == 0:
            v, i = _varint(b, i)
        elif w == 1:
            if i + 8 > len(b):
                raise DecodeError("truncated fixed64")
            v = b[i:i + 8]
            i += 8
        elif w == 2:
            ln, i = _varint(b, i)
            if i + ln > len(b):
                raise DecodeError("length-delimited field past the end")
            v = b[i:i + ln]
            i += ln
        elif w == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise DecodeError("wire type %d not allowed" % w)
        yield f, w, v


def expect(f, w, want_w, msg):
    if w != want_w:
        raise DecodeError("%s: field %d has wire type %d, want %d" % (msg, f, w, want_w))


def as_int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def as_double(raw):
    return struct.unpack("<d", raw)[0]


def utf8(v, what):
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("%s is not UTF-8" % what)
