"""fakebase.py - what the Render and Sentry fakes share (standard library only):
a threaded loopback HTTP server, request log, fault injection and time helpers.

Faults (set with POST /__fake/config {"faults": [...]}), each a dict:
  {"path": substring of the path (default: every API path),
   "kind": "status" | "truncated" | "huge" | "loop" | "slow",
   "status": 503, "body": optional text (default: the provider's error body),
   "count": how many requests it applies to (-1 = until reset; default 1),
   "headers": {name: value} extra headers, "mb": size for "huge" (default 50),
   "delay_ms": for "slow"}
"loop" is interpreted by the provider (a cursor that never advances).

Test control (never part of a provider's contract):
  POST /__fake/reset, POST /__fake/config, GET /__fake/requests, GET /__fake/ping

Live mode (--live SECONDS, off by default; for `make demo`, never for tests): a
thread calls the provider's live_tick(k) under the state lock every SECONDS, so a
demo keeps seeing new deploys, issues and log lines.
"""
import datetime as dt
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def now_us():
    return int(time.time() * 1000000)


def iso_us(ts_us):
    """RFC 3339 UTC with microseconds, as Render writes them."""
    d = dt.datetime.fromtimestamp(ts_us // 1000000, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % (ts_us % 1000000)


def iso_s(ts_us):
    """RFC 3339 UTC, whole seconds (Sentry's usual form)."""
    d = dt.datetime.fromtimestamp(ts_us // 1000000, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    """RFC 3339 / ISO 8601 (zone optional = UTC) or epoch seconds -> microseconds."""
    s = s.strip()
    if re.match(r"^\d+(\.\d+)?$", s):
        return int(float(s) * 1000000)
    s = s.replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)?$", s)
    if not m:
        raise ValueError("bad timestamp %r" % s)
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    us = int(base.timestamp()) * 1000000
    if m.group(2):
        us += int((m.group(2)[1:] + "000000")[:6])
    if m.group(3):
        sign = 1 if m.group(3)[0] == "+" else -1
        hh, mm = int(m.group(3)[1:3]), int(m.group(3)[4:6])
        us -= sign * (hh * 3600 + mm * 60) * 1000000
    return us


class Reply(Exception):
    """Raised by a handler to answer at once."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeState:
    def __init__(self):
        self.lock = threading.RLock()
        self.base_reset()

    def base_reset(self):
        self.faults = []
        self.requests = []
        self.window = [time.time(), 0]
        self.rate_limit = 0        # 0 = unlimited
        self.rate_window = 60
        self.skew_s = 0

    def take_fault(self, path):
        with self.lock:
            for f in self.faults:
                if f.get("path", "") in path and f.get("count", 1) != 0:
                    if f.get("count", 1) > 0:
                        f["count"] = f.get("count", 1) - 1
                    return dict(f)
        return None

    def rate_check(self):
        """Counts one request in the fixed window. Returns (limit, remaining, reset_s, over)."""
        with self.lock:
            if not self.rate_limit:
                return None
            t = time.time()
            if t - self.window[0] >= self.rate_window:
                # fixed windows aligned to the epoch, like Sentry's and Render's limiters
                self.window = [(t // self.rate_window) * self.rate_window, 0]
            self.window[1] += 1
            reset = max(1, int(self.window[0] + self.rate_window - t + 0.999))
            remaining = max(0, self.rate_limit - self.window[1])
            return (self.rate_limit, remaining, reset, self.window[1] > self.rate_limit)


def make_handler(state, provider):
    """provider: object with .route(method, path, query, headers) -> (status, body, headers),
    .error_body(status, message) -> text, .rate_headers(info) -> dict,
    .rate_body(info) -> text, .configure(dict), .reset(), .authorized(headers) -> bool,
    .control(path, payload) -> dict or None."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, body, headers=None, path=None, query=""):
            data = body.encode() if isinstance(body, str) else body
            if path is not None:  # logged before answering: a client that got the answer sees it counted
                with state.lock:
                    state.requests.append({"method": self.command, "path": path, "query": query,
                                           "status": status, "t": time.time()})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def send_huge(self, mb, path, query):
            """A 200 whose JSON body is mb megabytes, streamed without buffering it."""
            total = mb * 1024 * 1024
            item = b'{"cursor":"c","service":{"id":"srv-huge","name":"' + b"x" * 900 + b'"}},'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(total))
            self.end_headers()
            with state.lock:
                state.requests.append({"method": self.command, "path": path, "query": query,
                                       "status": 200, "t": time.time()})
            sent = 0
            try:
                self.wfile.write(b"[")
                sent = 1
                while sent + len(item) < total - 2:
                    self.wfile.write(item)
                    sent += len(item)
                self.wfile.write(b"1" * (total - sent - 1) + b"]")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def body_json(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            return json.loads(raw or b"{}")

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            if not u.path.startswith("/__fake/"):
                return self.send(405, provider.error_body(405, "method not allowed"))
            try:
                payload = self.body_json()
            except ValueError:
                return self.send(400, '{"error":"bad json"}')
            if u.path == "/__fake/reset":
                with state.lock:
                    state.base_reset()
                    provider.reset()
                return self.send(200, "{}")
            if u.path == "/__fake/config":
                with state.lock:
                    if "faults" in payload:
                        state.faults = payload["faults"]
                    for k in ("rate_limit", "rate_window", "skew_s"):
                        if k in payload:
                            setattr(state, k, payload[k])
                            if k == "rate_limit":
                                state.window = [0, 0]
                    provider.configure(payload)
                return self.send(200, "{}")
            with state.lock:
                out = provider.control(u.path, payload)
            if out is None:
                return self.send(404, '{"error":"no such control"}')
            return self.send(200, json.dumps(out))

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/__fake/ping":
                return self.send(200, "{}")
            if u.path == "/__fake/requests":
                with state.lock:
                    return self.send(200, json.dumps(state.requests))
            if u.path.startswith("/__fake/"):
                with state.lock:
                    out = provider.control(u.path, {})
                return self.send(200 if out is not None else 404, json.dumps(out))
            query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            if not provider.authorized(self.headers):
                return self.send(401, provider.error_body(401, "unauthorized"), path=u.path, query=u.query)
            limited = getattr(provider, "has_rate_limits", lambda: True)()
            rate = state.rate_check() if limited else None
            rh = provider.rate_headers(rate) if rate else {}
            if rate and rate[3]:
                return self.send(429, provider.rate_body(rate), rh, path=u.path, query=u.query)
            fault = state.take_fault(u.path)
            if fault:
                kind = fault.get("kind", "status")
                if kind == "slow":
                    time.sleep(fault.get("delay_ms", 1000) / 1000.0)
                elif kind == "huge":
                    return self.send_huge(int(fault.get("mb", 50)), u.path, u.query)
                elif kind == "status":
                    st = int(fault.get("status", 500))
                    body = fault.get("body")
                    if body is None:
                        body = provider.error_body(st, "injected fault")
                    h = dict(rh)
                    h.update(fault.get("headers", {}))
                    return self.send(st, body, h, path=u.path, query=u.query)
            try:
                status, body, headers = provider.route("GET", u.path, query, fault)
            except Reply as r:
                status, body, headers = r.status, r.body, r.headers
            h = dict(rh)
            h.update(headers or {})
            if fault and fault.get("kind") == "truncated" and status == 200:
                body = body[: max(1, len(body) // 2)]
            self.send(status, body, h, path=u.path, query=u.query)

    return H


def start_live(state, every_s, tick):
    """Calls tick(k) (k = 0, 1, ...) under state.lock every every_s seconds on a
    daemon thread; tick(0) runs at once. every_s <= 0: nothing (the default)."""
    if every_s <= 0:
        return

    def run():
        k = 0
        while True:
            with state.lock:
                try:
                    tick(k)
                except Exception as e:  # a demo nicety must never stop the fake
                    print("live tick %d failed: %r" % (k, e), file=sys.stderr, flush=True)
            k += 1
            time.sleep(every_s)

    threading.Thread(target=run, daemon=True).start()


def serve(port, state, provider):
    srv = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state, provider))
    srv.daemon_threads = True
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def main_args(argv, defaults):
    """PORT [--name value]... -> (port, dict) with defaults' types."""
    if len(argv) < 2:
        sys.exit("usage: %s PORT [options]" % argv[0])
    port = int(argv[1])
    opts = dict(defaults)
    i = 2
    while i < len(argv):
        k = argv[i].lstrip("-").replace("-", "_")
        if k not in opts or i + 1 >= len(argv):
            sys.exit("unknown or incomplete option %s" % argv[i])
        opts[k] = type(defaults[k])(argv[i + 1])
        i += 2
    return port, opts
