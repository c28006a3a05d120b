#!/usr/bin/env python3
"""connect_proxy.py - an HTTP proxy for HTTPS on loopback: CONNECT tunnels
(RFC 9110 9.3.6), recorded.

  python3 tests/fakes/connect_proxy.py PORT

Answers "CONNECT host:port" with 200 and relays bytes both ways until either
side closes; anything else gets 405. GET /_connects lists every CONNECT:
{"target": "host:port", "headers": {name: value}}.
"""
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

connects, lock = [], threading.Lock()


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path != "/_connects":
            self.send_response(405); self.send_header("Content-Length", "0"); self.end_headers()
            return
        with lock:
            data = json.dumps(connects).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)

    def do_CONNECT(self):
        with lock:
            connects.append({"target": self.path, "headers": dict(self.headers.items())})
        host, _, port = self.path.rpartition(":")
        try:
            up = socket.create_connection((host, int(port)), timeout=10)
        except (OSError, ValueError):
            self.send_response(502); self.send_header("Content-Length", "0"); self.end_headers()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        t = threading.Thread(target=relay, args=(up, self.connection), daemon=True)
        t.start()
        relay(self.connection, up)
        t.join()
        self.close_connection = True


srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
srv.daemon_threads = True
print("listening on 127.0.0.1:%s" % sys.argv[1], flush=True)
srv.serve_forever()
