"""hookfake.py - what the Slack and PagerDuty fakes share (standard library only):
a threaded loopback HTTP server that takes JSON POSTs, checks each one against
the provider's documented contract, records what arrived and can misbehave.

Test control (never part of a provider's contract):
  GET  /_received          JSON list of {"path", "body", "status", "t", "target",
                           "auth", "ua" (and over TLS "cn", "tls")} for every
                           request that passed the contract check and was accepted
  GET  /_requests          every request, including refused and faulted ones
  POST /_faults            {"faults": [{"kind": "status"|"hang", "status": 429,
                           "retry_after": 1, "count": 2}]} - applied in order to
                           the next requests ("count" -1 = until reset)
  POST /_reset             forget everything (received, requests, faults)

Faults can also be given at start: --fault 429:2 (two 429s with Retry-After 1),
--fault 500:3, --fault hang:1. --tls CERT KEY CLIENT_CA serves HTTPS and demands
a client certificate signed by CLIENT_CA (--tls13: TLS 1.3 only). A "down" receiver is simply a fake not running.
Every accepted request prints one line "received PATH SUMMARY" on stdout.
"""
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Invalid(Exception):
    """The request breaks the provider's contract: answer with the provider's error."""


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.received = []
        self.requests = []
        self.faults = []

    def take_fault(self):
        with self.lock:
            for f in self.faults:
                if f.get("count", 1) != 0:
                    if f.get("count", 1) > 0:
                        f["count"] = f.get("count", 1) - 1
                    return dict(f)
        return None


def parse_fault(text):
    kind, _, count = text.partition(":")
    count = int(count or "1")
    if kind == "hang":
        return {"kind": "hang", "count": count}
    st = int(kind)
    f = {"kind": "status", "status": st, "count": count}
    if st == 429:
        f["retry_after"] = 1
    return f


def make_handler(state, provider):
    """provider: .check(path, body_obj, headers) -> (status, answer_text, summary)
    raising Invalid(status, text) for a contract violation."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without this, Nagle holds the
        # body until the client's delayed ACK (40 ms per request on keep-alive)
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def answer(self, status, text, headers=None, ctype="application/json"):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            with state.lock:
                if path == "/_received":
                    return self.answer(200, json.dumps(state.received))
                if path == "/_requests":
                    return self.answer(200, json.dumps(state.requests))
            if path == "/_ping":
                return self.answer(200, "{}")
            self.answer(405, provider.method_error())

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            if path == "/_reset":
                with state.lock:
                    state.reset()
                return self.answer(200, "{}")
            if path == "/_faults":
                with state.lock:
                    state.faults = json.loads(raw or b"{}").get("faults", [])
                return self.answer(200, "{}")
            # how it came: the request target as sent (a proxy sees the
            # absolute URL), the credentials, and over TLS the client
            # certificate's name and the protocol version
            rec = {"path": path, "t": time.time(), "target": self.path,
                   "auth": self.headers.get("Authorization"), "ua": self.headers.get("User-Agent", "")}
            if hasattr(self.connection, "version"):
                cert = self.connection.getpeercert() or {}
                rec["cn"] = dict(x[0] for x in cert.get("subject", ())).get("commonName")
                rec["tls"] = self.connection.version()
            fault = state.take_fault()
            if fault:
                rec["fault"] = fault["kind"]
                with state.lock:
                    state.requests.append(rec)
                if fault["kind"] == "hang":
                    time.sleep(fault.get("seconds", 30))
                    return self.answer(504, "{}")
                st = fault.get("status", 500)
                h = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else {}
                return self.answer(st, provider.fault_body(st), h, provider.ctype)
            try:
                if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                    raise Invalid(400, provider.invalid_body("content type must be application/json"))
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise Invalid(400, provider.invalid_body("body is not JSON"))
                status, text, summary = provider.check(path, body)
            except Invalid as e:
                rec["status"], rec["error"] = e.args[0], e.args[1]
                with state.lock:
                    state.requests.append(rec)
                print("refused %s %s" % (path, e.args[1]), flush=True)
                return self.answer(e.args[0], e.args[1], None, provider.ctype)
            rec["status"], rec["body"] = status, body
            with state.lock:
                state.requests.append(rec)
                state.received.append(rec)
            print("received %s %s" % (path, summary), flush=True)
            self.answer(status, text, None, provider.ctype)

    return H


def main(provider, argv):
    if len(argv) < 2:
        sys.exit("usage: %s PORT [--fault 429:2|500:3|hang:1]... [--tls CERT KEY CLIENT_CA [--tls13]]" % argv[0])
    state = State()
    tls, tls13 = None, False
    i = 2
    while i < len(argv):
        if argv[i] == "--fault" and i + 1 < len(argv):
            state.faults.append(parse_fault(argv[i + 1]))
            i += 2
        elif argv[i] == "--tls" and i + 3 < len(argv):
            tls = argv[i + 1:i + 4]
            i += 4
        elif argv[i] == "--tls13":
            tls13 = True
            i += 1
        else:
            sys.exit("unknown option %s" % argv[i])
    srv = ThreadingHTTPServer(("127.0.0.1", int(argv[1])), make_handler(state, provider))
    srv.daemon_threads = True
    if tls:  # HTTPS that demands a client certificate signed by CLIENT_CA
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tls13:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(tls[0], tls[1])
        ctx.load_verify_locations(tls[2])
        ctx.verify_mode = ssl.CERT_REQUIRED
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
