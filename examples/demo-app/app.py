#!/usr/bin/env python3
"""app.py - the small app `make demo` watches (python3 standard library only).

It plays a web service called `api` in environment `demo` and reports to pane
the way a real one would:

  metrics  every second, over StatsD (UDP), one counter line per status:
             http.requests:N|c|#service:api,environment:demo,status:200
           which pane stores as http_requests_total{service,environment,status};
           every 5 seconds, over OTLP/HTTP JSON (POST /v1/metrics), the cumulative
           latency histogram http_request_duration_seconds (_bucket{le}, _sum,
           _count) with resource attributes service.name=api,
           deployment.environment=demo
  logs     JSON lines (POST /api/v1/push/jsonlines?service=api&environment=demo):
           a sample of requests, and every error
  uploads  its users upload a file every --upload-every seconds
           (POST /v1/uploads/QUEUE); a `pane worker --queues QUEUE --http
           http://THIS/work` processes them by calling back POST /work

How it behaves follows the demo's story (tests/fakes/story.py): it asks the
simulated Render which phase the story is in (GET RENDER/__fake/story; as if it
knew which release it runs). While the bad release is live about 30 % of
requests fail with 500 and latency climbs; after the rollback it is healthy.
Without --render it stays healthy.

Its own pages (--listen): GET / is an upload page: it posts a file (through
POST /upload, relayed to pane), shows pane's 202 at once, then the job's
progress live (GET /jobs/ID/events relays pane's Server-Sent Events) until the
worker's result arrives. GET /healthz answers "ok".

    python3 examples/demo-app/app.py --pane http://127.0.0.1:8080 --statsd 127.0.0.1:8125 \
        [--render http://127.0.0.1:PORT/v1] [--listen 127.0.0.1:8090] [--queue uploads] \
        [--upload-every 20] [--rps 20]
"""
import argparse
import hashlib
import json
import math
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
SERVICE, ENVIRONMENT = "api", "demo"
PATHS = ["GET /api/orders", "POST /api/checkout", "GET /api/items", "GET /api/items/{id}"]


def log(msg):
    print("demo-app: " + msg, file=sys.stderr, flush=True)


class App:
    def __init__(self, a):
        self.a = a
        self.pane = a.pane.rstrip("/")
        host, port = a.statsd.rsplit(":", 1)
        self.statsd = (host, int(port))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.phase = {"phase": "calm", "version": "1.4.0"}
        self.lock = threading.Lock()
        self.buckets = [0] * (len(BOUNDS) + 1)
        self.count = 0
        self.sum = 0.0
        self.start_ns = time.time_ns()
        self.rng = random.Random(42)
        self.uploads = 0
        self.last_error = ""

    # ---- talking to pane ----
    def post(self, path, body, ctype, timeout=10):
        req = urllib.request.Request(self.pane + path, data=body, method="POST", headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()

    def warn_once(self, what, e):
        msg = "%s: %s" % (what, e)
        if msg != self.last_error:
            log(msg)
            self.last_error = msg

    # ---- the story ----
    def poll_phase(self):
        if not self.a.render:
            return
        base = self.a.render.rstrip("/")
        if base.endswith("/v1"):
            base = base[:-3]
        while True:
            try:
                with urllib.request.urlopen(base + "/__fake/story", timeout=5) as r:
                    ph = json.load(r)
                if ph and ph.get("phase") != self.phase.get("phase"):
                    log("story: %s (release %s)" % (ph["phase"], ph.get("version")))
                if ph:
                    self.phase = ph
            except (OSError, ValueError) as e:
                self.warn_once("render story", e)
            time.sleep(1)

    # ---- traffic ----
    def one_request(self, bad):
        r = self.rng.random()
        if bad:
            status = "500" if r < 0.3 else ("404" if r < 0.32 else "200")
            lat = self.rng.lognormvariate(math.log(0.8), 0.5)
        else:
            status = "500" if r < 0.005 else ("404" if r < 0.025 else "200")
            lat = self.rng.lognormvariate(math.log(0.04), 0.5)
        return status, lat, self.rng.choice(PATHS)

    def traffic(self):
        tick = 0
        while True:
            t = time.time()
            ph = self.phase
            bad = ph.get("phase") in ("bad", "rolling_back")
            counts = {}
            lines = []
            with self.lock:
                for _ in range(self.a.rps):
                    status, lat, path = self.one_request(bad)
                    counts[status] = counts.get(status, 0) + 1
                    i = next((k for k, b in enumerate(BOUNDS) if lat <= b), len(BOUNDS))
                    self.buckets[i] += 1
                    self.count += 1
                    self.sum += lat
                    if status == "500":
                        lines.append({"ts": t, "level": "error", "msg": "%s 500 %dms: ZeroDivisionError: division "
                                      "by zero in apply_discount" % (path.replace("{id}", "42"), lat * 1000),
                                      "release": ph.get("version"), "path": path})
                    elif self.rng.random() < 0.05:
                        lines.append({"ts": t, "level": "info", "msg": "%s %s %dms" % (path.replace("{id}", "42"),
                                                                                      status, lat * 1000),
                                      "release": ph.get("version"), "path": path})
            # StatsD: one counter line per status, in one datagram
            dgram = "\n".join("http.requests:%d|c|#service:%s,environment:%s,status:%s" % (n, SERVICE, ENVIRONMENT, s)
                              for s, n in sorted(counts.items()))
            try:
                self.udp.sendto(dgram.encode(), self.statsd)
            except OSError as e:
                self.warn_once("statsd", e)
            if lines:
                body = "\n".join(json.dumps(l) for l in lines).encode()
                try:
                    self.post("/api/v1/push/jsonlines?service=%s&environment=%s" % (SERVICE, ENVIRONMENT), body,
                              "application/x-ndjson")
                except (OSError, urllib.error.HTTPError) as e:
                    self.warn_once("logs", e)
            if tick % 5 == 0:
                self.send_histogram()
            tick += 1
            time.sleep(max(0.05, 1.0 - (time.time() - t)))

    def send_histogram(self):
        with self.lock:
            counts, n, s = list(self.buckets), self.count, self.sum

        def attr(k, v):
            return {"key": k, "value": {"stringValue": v}}

        doc = {"resourceMetrics": [{
            "resource": {"attributes": [attr("service.name", SERVICE), attr("deployment.environment", ENVIRONMENT)]},
            "scopeMetrics": [{"scope": {"name": "demo-app"}, "metrics": [{
                "name": "http_request_duration_seconds", "unit": "s",
                "description": "time to answer a request",
                "histogram": {"aggregationTemporality": 2, "dataPoints": [{
                    "startTimeUnixNano": str(self.start_ns), "timeUnixNano": str(time.time_ns()),
                    "count": str(n), "sum": s, "bucketCounts": [str(c) for c in counts],
                    "explicitBounds": BOUNDS}]}}]}]}]}
        try:
            self.post("/v1/metrics", json.dumps(doc).encode(), "application/json")
        except (OSError, urllib.error.HTTPError) as e:
            self.warn_once("otlp", e)

    # ---- users uploading files ----
    def upload(self, data, filename, ctype, user):
        q = urllib.parse.urlencode({"filename": filename, "user": user})
        return self.post("/v1/uploads/%s?%s" % (self.a.queue, q), data, ctype)

    def users(self):
        if self.a.upload_every <= 0:
            return
        time.sleep(min(5, self.a.upload_every))
        while True:
            self.uploads += 1
            rows = ["order,amount"] + ["%d,%.2f" % (k, self.rng.uniform(5, 200)) for k in range(20 + self.uploads % 30)]
            try:
                self.upload(("\n".join(rows) + "\n").encode(), "orders-%d.csv" % self.uploads, "text/csv",
                            str(self.uploads % 7))
            except (OSError, urllib.error.HTTPError) as e:
                self.warn_once("upload", e)
            time.sleep(self.a.upload_every)


def work(payload):
    """What the worker asks for (pane worker --http .../work): read the stored
    file and describe it. Raises ValueError for a job that can never succeed."""
    up = payload.get("upload") or {}
    path = up.get("path")
    if not path:
        raise ValueError("the job names no uploaded file")
    h = hashlib.sha256()
    size = lines = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    time.sleep(1.5)  # a thumbnailer or importer takes a moment; the page shows "running"
    return {"filename": up.get("filename"), "bytes": size, "lines": lines, "sha256": h.hexdigest(),
            "sha256_matches": h.hexdigest() == up.get("sha256")}


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>demo app - upload</title>
<style>body{font:15px system-ui,sans-serif;max-width:44em;margin:2em auto;color:#222}
pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap}li{margin:.2em 0}.done{color:#070}.failed{color:#b00}</style>
</head><body>
<h1>Upload a file</h1>
<p>The file goes to pane (<code>POST /v1/uploads/%(queue)s</code>), which answers 202 at once and
enqueues a job; a <code>pane worker</code> processes it. The job's progress arrives live
(<code>GET /v1/jobs/ID/events</code>, Server-Sent Events).</p>
<form id="f"><input type="file" id="file" required> <button>Upload</button>
<button type="button" id="sample">or upload a sample file</button></form>
<h2>Answer</h2><pre id="answer">(nothing yet)</pre>
<h2>Progress</h2><ol id="progress"></ol>
<h2>Result</h2><pre id="result">(waiting)</pre>
<script>
const $ = (id) => document.getElementById(id);
$("f").onsubmit = (ev) => {
  ev.preventDefault();
  if ($("file").files[0]) send($("file").files[0]);
};
$("sample").onclick = () => {
  const rows = ["order,amount"];
  for (let i = 1; i <= 10; i++) rows.push(i + "," + (i * 2.5).toFixed(2));
  send(new File([rows.join("\\n") + "\\n"], "sample-orders.csv", {type: "text/csv"}));
};
async function send(file) {
  $("progress").textContent = ""; $("result").textContent = "(waiting)";
  const res = await fetch("upload?filename=" + encodeURIComponent(file.name),
    {method: "POST", headers: {"Content-Type": file.type || "application/octet-stream"}, body: file});
  const text = await res.text();
  $("answer").textContent = res.status + " " + text;
  if (res.status !== 202) return;
  const job = JSON.parse(text);
  const es = new EventSource("jobs/" + job.job_id + "/events");
  es.onmessage = (e) => {
    const j = JSON.parse(e.data);
    const li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + "  " + j.state;
    li.className = j.state;
    $("progress").appendChild(li);
    if (["completed", "failed", "cancelled"].includes(j.state)) {
      es.close();
      $("result").textContent = JSON.stringify(j.result ?? j.errors ?? j, null, 2);
    }
  };
  es.onerror = () => es.close();
}
// ?sample=1 uploads the sample file at once (a link to share, and the demo's browser test)
if (new URLSearchParams(location.search).get("sample")) $("sample").click();
</script></body></html>
"""


def handler(app):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="application/json"):
            data = body if isinstance(body, bytes) else body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/":
                return self.answer(200, PAGE % {"queue": app.a.queue}, "text/html; charset=utf-8")
            if u.path == "/healthz":
                return self.answer(200, "ok\n", "text/plain")
            parts = u.path.split("/")
            if len(parts) == 4 and parts[1] == "jobs" and parts[3] == "events" and parts[2].isdigit():
                return self.relay_events(parts[2])
            self.answer(404, '{"error":"not found"}')

        def relay_events(self, job):
            try:
                up = urllib.request.urlopen(app.pane + "/v1/jobs/%s/events" % job, timeout=600)
            except urllib.error.HTTPError as e:
                return self.answer(e.code, e.read())
            except OSError as e:
                return self.answer(502, json.dumps({"error": str(e)}))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                with up:
                    for line in up:
                        self.wfile.write(line)
                        self.wfile.flush()
            except OSError:
                pass

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/upload":
                q = urllib.parse.parse_qs(u.query)
                name = (q.get("filename") or ["upload.bin"])[-1]
                try:
                    st, body = app.upload(self.body(), name,
                                          self.headers.get("Content-Type") or "application/octet-stream", "web")
                except urllib.error.HTTPError as e:
                    st, body = e.code, e.read()
                except OSError as e:
                    st, body = 502, json.dumps({"error": str(e)}).encode()
                return self.answer(st, body)
            if u.path == "/work":
                try:
                    job = json.loads(self.body() or b"{}")
                    return self.answer(200, json.dumps(work(job.get("payload") or {})))
                except (ValueError, OSError) as e:
                    return self.answer(422, json.dumps({"error": str(e)}))
            self.answer(404, '{"error":"not found"}')

    return H


def main():
    p = argparse.ArgumentParser(description="the demo app `make demo` watches")
    p.add_argument("--pane", default="http://127.0.0.1:8080", help="pane's URL")
    p.add_argument("--statsd", default="127.0.0.1:8125", help="pane's StatsD address HOST:PORT")
    p.add_argument("--render", default="", help="the simulated Render's API URL (for the story)")
    p.add_argument("--listen", default="127.0.0.1:8090", help="where the upload page listens")
    p.add_argument("--queue", default="uploads", help="queue the uploads go to")
    p.add_argument("--upload-every", type=float, default=20.0, help="seconds between users' uploads (0 = none)")
    p.add_argument("--rps", type=int, default=20, help="simulated requests per second")
    a = p.parse_args()
    app = App(a)
    host, port = a.listen.rsplit(":", 1)
    srv = ThreadingHTTPServer((host, int(port)), handler(app))
    srv.daemon_threads = True
    for fn in (app.poll_phase, app.traffic, app.users):
        threading.Thread(target=fn, daemon=True).start()
    log("listening on http://%s:%d/" % srv.server_address[:2])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
