"""rw_fake.py - a Prometheus remote_write 1.0 receiver on loopback (standard
library only) that checks every request as Prometheus does and records the
samples; for fault tests it first answers a scripted series of statuses.

Contract checked (prometheus/prompb remote.proto, types.proto; the remote
write 1.0 spec): POST, Content-Encoding: snappy, Content-Type:
application/x-protobuf, X-Prometheus-Remote-Write-Version: 0.1.0, a snappy
block body holding WriteRequest{1 timeseries: TimeSeries{1 labels:
Label{1 name, 2 value}, 2 samples: Sample{1 double value, 2 int64
timestamp}}}; label names sorted, unique, __name__ present. A bad request
gets 400 (and is recorded as an error: the test fails on any).

Usage: rw_fake.py PORT RECORD_FILE [SCRIPT]
SCRIPT is a comma list of "STATUS" or "STATUS*N" answered before accepting
(e.g. "500*3,429*3"); a 429 or 503 carries Retry-After: 1.
Accepted samples are appended to RECORD_FILE as JSON lines
{"labels": {...}, "value": v, "ts": ms}; errors as {"error": "..."}.
GET /__fake/stats answers {"requests": n, "accepted": n, "refused": n}.
"""
import json
import math
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbsnappy as pb  # noqa: E402

lock = threading.Lock()
stats = {"requests": 0, "accepted": 0, "refused": 0}
script = []


def decode(body):
    raw = pb.snappy_decompress(body)
    out = []
    for f, w, v in pb.fields(raw):
        if f != 1:
            if f == 3:
                continue  # metadata
            raise pb.DecodeError("WriteRequest: unexpected field %d" % f)
        pb.expect(f, w, 2, "WriteRequest.timeseries")
        labels, names, samples = {}, [], []
        for tf, tw, tv in pb.fields(v):
            if tf == 1:
                pb.expect(tf, tw, 2, "TimeSeries.labels")
                name = value = ""
                for lf, lw, lv in pb.fields(tv):
                    pb.expect(lf, lw, 2, "Label")
                    if lf == 1:
                        name = pb.utf8(lv, "label name")
                    elif lf == 2:
                        value = pb.utf8(lv, "label value")
                    else:
                        raise pb.DecodeError("Label: unexpected field %d" % lf)
                if not name:
                    raise pb.DecodeError("empty label name")
                names.append(name)
                labels[name] = value
            elif tf == 2:
                pb.expect(tf, tw, 2, "TimeSeries.samples")
                val, ts = 0.0, 0
                for sf, sw, sv in pb.fields(tv):
                    if sf == 1:
                        pb.expect(sf, sw, 1, "Sample.value")
                        val = pb.as_double(sv)
                    elif sf == 2:
                        pb.expect(sf, sw, 0, "Sample.timestamp")
                        ts = pb.as_int64(sv)
                    else:
                        raise pb.DecodeError("Sample: unexpected field %d" % sf)
                samples.append((val, ts))
            elif tf in (3, 4):
                continue
            else:
                raise pb.DecodeError("TimeSeries: unexpected field %d" % tf)
        if names != sorted(names) or len(set(names)) != len(names):
            raise pb.DecodeError("labels not sorted and unique: %s" % names)
        if "__name__" not in labels:
            raise pb.DecodeError("no __name__ label")
        for val, ts in samples:
            out.append({"labels": labels, "value": None if math.isnan(val) else val, "ts": ts})
    return out


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/__fake/stats":
            with lock:
                self.reply(200, json.dumps(stats).encode())
        else:
            self.reply(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            stats["requests"] += 1
            if script:
                code = script.pop(0)
                stats["refused"] += 1
                hdr = {"Retry-After": "1"} if code in (429, 503) else {}
                self.reply(code, b"scripted failure\n", hdr)
                return
        err = None
        if self.headers.get("Content-Encoding") != "snappy":
            err = "Content-Encoding is not snappy"
        elif self.headers.get("Content-Type") != "application/x-protobuf":
            err = "Content-Type is not application/x-protobuf"
        elif self.headers.get("X-Prometheus-Remote-Write-Version") != "0.1.0":
            err = "X-Prometheus-Remote-Write-Version is not 0.1.0"
        samples = []
        if not err:
            try:
                samples = decode(body)
            except pb.DecodeError as e:
                err = str(e)
        with lock:
            with open(record, "a") as f:
                if err:
                    f.write(json.dumps({"error": err}) + "\n")
                for s in samples:
                    f.write(json.dumps(s) + "\n")
            stats["accepted"] += 0 if err else 1
        self.reply(400 if err else 204, (err + "\n").encode() if err else b"")


if __name__ == "__main__":
    port, record = int(sys.argv[1]), sys.argv[2]
    for part in (sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else []):
        code, _, times = part.partition("*")
        script += [int(code)] * int(times or "1")
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.serve_forever()
