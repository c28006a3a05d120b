"""loki_fake.py - Loki's push endpoint on loopback (standard library only):
POST /loki/api/v1/push with a snappy-compressed protobuf body, checked against
Loki's push.proto (pkg/push/push.proto) and answered as Loki does: 204 with
an empty body; 400 with a text reason for a body it cannot take.

Checked: Content-Type application/x-protobuf; PushRequest{1 streams:
StreamAdapter{1 labels string (a LogQL label set {name="value", ...}, names
valid, values Go-quoted), 2 entries: EntryAdapter{1 timestamp
google.protobuf.Timestamp{1 seconds int64, 2 nanos int32 in [0, 1e9)},
2 line string, 3 structuredMetadata: LabelPairAdapter{1 name, 2 value}},
3 hash uint64}}; a stream with no entries or no labels is refused.

Usage: loki_fake.py PORT RECORD_FILE
Every accepted entry is appended to RECORD_FILE as a JSON line
{"labels": {...}, "ts_ns": n, "line": "...", "meta": {...}}; errors as
{"error": "..."}.
"""
import ast
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbsnappy as pb  # noqa: E402

lock = threading.Lock()
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_labels(s):
    if not (s.startswith("{") and s.endswith("}")):
        raise pb.DecodeError("labels %r are not {...}" % s)
    inner, out, i = s[1:-1], {}, 0
    while i < len(inner):
        m = LABEL.match(inner, i)
        if not m:
            raise pb.DecodeError("cannot parse labels %r at %d" % (s, i))
        name = m.group(1)
        if name in out:
            raise pb.DecodeError("duplicate label %s" % name)
        out[name] = ast.literal_eval('"' + m.group(2) + '"')
        i = m.end()
    if not out:
        raise pb.DecodeError("empty label set")
    return out


def decode(body):
    raw = pb.snappy_decompress(body)
    out = []
    for f, w, v in pb.fields(raw):
        if f != 1:
            raise pb.DecodeError("PushRequest: unexpected field %d" % f)
        pb.expect(f, w, 2, "PushRequest.streams")
        labels, entries = None, []
        for sf, sw, sv in pb.fields(v):
            if sf == 1:
                pb.expect(sf, sw, 2, "StreamAdapter.labels")
                labels = parse_labels(pb.utf8(sv, "labels"))
            elif sf == 2:
                pb.expect(sf, sw, 2, "StreamAdapter.entries")
                sec = nanos = 0
                line, meta = "", {}
                for ef, ew, ev in pb.fields(sv):
                    if ef == 1:
                        pb.expect(ef, ew, 2, "EntryAdapter.timestamp")
                        for tf, tw, tv in pb.fields(ev):
                            pb.expect(tf, tw, 0, "Timestamp")
                            if tf == 1:
                                sec = pb.as_int64(tv)
                            elif tf == 2:
                                nanos = tv
                            else:
                                raise pb.DecodeError("Timestamp: unexpected field %d" % tf)
                        if not 0 <= nanos < 1000000000:
                            raise pb.DecodeError("nanos out of range")
                    elif ef == 2:
                        pb.expect(ef, ew, 2, "EntryAdapter.line")
                        line = pb.utf8(ev, "line")
                    elif ef == 3:
                        pb.expect(ef, ew, 2, "EntryAdapter.structuredMetadata")
                        name = value = ""
                        for lf, lw, lv in pb.fields(ev):
                            pb.expect(lf, lw, 2, "LabelPairAdapter")
                            if lf == 1:
                                name = pb.utf8(lv, "name")
                            elif lf == 2:
                                value = pb.utf8(lv, "value")
                        meta[name] = value
                    else:
                        raise pb.DecodeError("EntryAdapter: unexpected field %d" % ef)
                entries.append({"ts_ns": sec * 1000000000 + nanos, "line": line, "meta": meta})
            elif sf == 3:
                pb.expect(sf, sw, 0, "StreamAdapter.hash")
            else:
                raise pb.DecodeError("StreamAdapter: unexpected field %d" % sf)
        if labels is None:
            raise pb.DecodeError("stream without labels")
        if not entries:
            raise pb.DecodeError("stream without entries")
        for e in entries:
            e["labels"] = labels
            out.append(e)
    return out


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        err, entries = None, []
        if self.path != "/loki/api/v1/push":
            err = "404 page not found"
        elif self.headers.get("Content-Type") != "application/x-protobuf":
            err = "Content-Type is not application/x-protobuf"
        else:
            try:
                entries = decode(body)
            except pb.DecodeError as e:
                err = str(e)
        with lock, open(record, "a") as f:
            if err:
                f.write(json.dumps({"error": err}) + "\n")
            for e in entries:
                f.write(json.dumps(e) + "\n")
        code, msg = (400, (err + "\n").encode()) if err else (204, b"")
        self.send_response(code)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)


if __name__ == "__main__":
    port, record = int(sys.argv[1]), sys.argv[2]
    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
