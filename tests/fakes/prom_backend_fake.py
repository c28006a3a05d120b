#!/usr/bin/env python3
"""prom_backend_fake.py - a hostile Prometheus-compatible query API (stdlib only).

For tests/integration/remote/test_hostile.sh: pane's remote query backend
(src/remote) pointed at this fake must turn every misbehaviour into a clear
error, never a crash or unbounded memory. It answers the three calls pane
makes (POST /api/v1/query, POST /api/v1/labels, GET /api/v1/label/X/values)
in the Prometheus HTTP API's shapes, and misbehaves as the current mode says:

  ok        a matrix with one series of 3 samples; labels; values; metadata
            (fake_metric, a_gauge and an invalid name; ?metric= filters)
  slow      waits (until the mode changes, at most 60 s) before answering ok
  error500  500 with Prometheus' error envelope ("boom from the fake")
  html500   500 with an HTML page
  huge      200 with a 50 MB body that never ends the JSON
  garbage   200 with text that is not JSON
  shape     200 JSON success whose samples are not [time, "value"]
  many      200 a matrix of 5,000 samples (more than a small max_samples)

Control: POST /__fake/mode with the mode name as body; GET /__fake/ping;
GET /__fake/requests (how many API requests arrived, how many slow ones
were answered, and the last one's Authorization and X-Scope-OrgID, as JSON).
  prom_backend_fake.py PORTFILE   (binds 127.0.0.1:0, writes the port there)
"""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"mode": "ok", "requests": 0}
lock = threading.Lock()
changed = threading.Condition(lock)


def matrix(n):
    vals = [[1700000000 + 15 * i, str(float(i))] for i in range(n)]
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "fake_metric", "job": "fake"}, "values": vals}]}}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        b = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        path = self.path.split("?")[0]
        if path == "/__fake/mode":
            with changed:
                state["mode"] = body.strip()
                changed.notify_all()
            return self.send(200, {"mode": state["mode"]})
        if path == "/__fake/ping":
            return self.send(200, {"ok": True})
        if path == "/__fake/requests":
            return self.send(200, {"requests": state["requests"], "slow_answered": state.get("slow_answered", 0),
                                   "authorization": state.get("authorization", ""), "org": state.get("org", "")})
        if not path.startswith("/api/v1/"):
            return self.send(404, {"status": "error", "errorType": "not_found", "error": "no such path"})
        with changed:
            state["requests"] += 1
            state["authorization"] = self.headers.get("Authorization", "")
            state["org"] = self.headers.get("X-Scope-OrgID", "")
            mode = state["mode"]
            if mode == "slow":
                changed.wait_for(lambda: state["mode"] != "slow", timeout=60)
                state["slow_answered"] = state.get("slow_answered", 0) + 1
                mode = "ok"
        if mode == "error500":
            return self.send(500, {"status": "error", "errorType": "internal", "error": "boom from the fake"})
        if mode == "html500":
            return self.send(500, "<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
        if mode == "garbage":
            return self.send(200, "this is not json {{{", "text/plain")
        if mode == "shape":
            return self.send(200, {"status": "success", "data": {"resultType": "matrix", "result": [
                {"metric": {"__name__": "fake_metric"}, "values": ["one", "two"]}]}})
        if mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(50 << 20))
            self.end_headers()
            chunk = b'{"status":"success","data":{"resultType":"matrix","result":[' + b" " * (1 << 20)
            try:
                self.wfile.write(chunk)
                for _ in range(49):
                    self.wfile.write(b" " * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if mode == "many":
            return self.send(200, matrix(5000))
        if path == "/api/v1/query":
            return self.send(200, matrix(3))
        if path == "/api/v1/metadata":
            md = {"fake_metric": [{"type": "counter", "help": "A fake counter.", "unit": ""}],
                  "a_gauge": [{"type": "gauge", "help": "Bytes \u00e9.", "unit": "bytes"}],
                  "not a name": [{"type": "gauge", "help": "", "unit": ""}]}
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            if "metric" in q:
                md = {k: v for k, v in md.items() if k == q["metric"][0]}
            return self.send(200, {"status": "success", "data": md})
        if path == "/api/v1/labels":
            return self.send(200, {"status": "success", "data": ["__name__", "job"]})
        if path.startswith("/api/v1/label/"):
            return self.send(200, {"status": "success", "data": ["fake"]})
        return self.send(404, {"status": "error", "errorType": "not_found", "error": "not faked"})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
