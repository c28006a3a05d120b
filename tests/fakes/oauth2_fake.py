#!/usr/bin/env python3
"""oauth2_fake.py - an OAuth 2.0 token endpoint on loopback: the client
credentials grant (RFC 6749 4.4) for the notifiers' http_config.oauth2.

  python3 tests/fakes/oauth2_fake.py PORT CLIENT_ID CLIENT_SECRET [--form-only] [--expires-in N]

Contract (RFC 6749 2.3.1, 4.4, 5.1, 5.2): POST /token with Content-Type
application/x-www-form-urlencoded and grant_type=client_credentials; the
client authenticates with HTTP Basic (id and secret each form-encoded first)
or, where the server allows it, client_id and client_secret in the form (not
both ways at once); scope is optional. Answers 200 {"access_token",
"token_type": "bearer", "expires_in"} with Cache-Control: no-store, or 400
{"error": "invalid_request" | "unsupported_grant_type"}, or 401
{"error": "invalid_client"} with WWW-Authenticate. --form-only refuses Basic
(invalid_client), as some servers do. Tokens are "tok-1", "tok-2", ...

Test control: GET /_tokens lists every token request: {"ok", "style"
("basic" or "form"), "form" (the decoded fields but the secret), "token"}.
"""
import base64
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, cid, csecret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
form_only = "--form-only" in sys.argv
expires_in = int(sys.argv[sys.argv.index("--expires-in") + 1]) if "--expires-in" in sys.argv else 3600
requests, lock = [], threading.Lock()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_tokens":
            with lock:
                return self.reply(200, requests)
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        rec = {"ok": False}
        with lock:
            requests.append(rec)
        if self.path != "/token":
            return self.reply(404, {"error": "not found"})
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return self.reply(400, {"error": "invalid_request", "error_description": "form-encoded body expected"})
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        rec["form"] = {k: v for k, v in form.items() if k != "client_secret"}
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            rec["style"] = "basic"
            if "client_id" in form or form_only:
                return self.reply(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="fake"'})
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            got = (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(pw))
        else:
            rec["style"] = "form"
            got = (form.get("client_id"), form.get("client_secret"))
        if got != (cid, csecret):
            return self.reply(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="fake"'})
        if form.get("grant_type") != "client_credentials":
            return self.reply(400, {"error": "unsupported_grant_type"})
        with lock:
            rec["token"] = "tok-%d" % (1 + sum(1 for r in requests if r.get("token")))
            rec["ok"] = True
        self.reply(200, {"access_token": rec["token"], "token_type": "bearer", "expires_in": expires_in})


srv = ThreadingHTTPServer(("127.0.0.1", port), H)
srv.daemon_threads = True
print("listening on 127.0.0.1:%d" % port, flush=True)
srv.serve_forever()
