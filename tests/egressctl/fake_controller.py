#!/usr/bin/env python3
"""A tiny fake of egress-controller's REST API (docs/api.md) for testing
egressctl's client: plain HTTP on 127.0.0.1, canned answers from the
api_*.json fixtures next to this file, every request logged to LOG as one
JSON line {method, path, auth, body}.

Usage: fake_controller.py PORTFILE LOG   (writes the port it listens on)

Behaviour: token "ega_good" is accepted, anything else gets 401, except
"ega_slow" (answers after 3 s) and "ega_notjson" (200 with a text body).
A document containing "BAD" fails validation (422); apply and rollback
want expected_version 3 (else 409, current 3); rollback to 99 is 404."""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
LOG = sys.argv[2]


def fixture(name):
    with open(os.path.join(HERE, "api_%s.json" % name)) as f:
        return json.load(f)


ERRORS = {"error": "policy does not validate",
          "errors": ["p.yaml:3:7: unknown region \"eu-west\"; regions are: eu, us",
                     "p.yaml:9:1: unknown key \"rulez\""]}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, obj, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = "not json"
        auth = self.headers.get("Authorization", "")
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": method, "path": self.path, "auth": auth,
                                "type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token == "ega_slow":
            time.sleep(3)
        if token == "ega_notjson":
            return self.answer(200, None, b"hello")
        if token not in ("ega_good", "ega_slow"):
            return self.answer(401, {"error": "unauthorized"})
        self.route(method, self.path.split("?")[0], body or {})

    def route(self, method, path, body):
        doc = body.get("document", "") if isinstance(body, dict) else ""
        if method == "GET" and path == "/api/v1/policy":
            return self.answer(200, {"version": 3, "document": "version: 1\n"})
        if method == "GET" and path == "/api/v1/policy/versions":
            return self.answer(200, fixture("versions"))
        if method == "GET" and path == "/api/v1/nodes":
            return self.answer(200, fixture("nodes"))
        if method == "GET" and path == "/api/v1/audit":
            return self.answer(200, fixture("audit"))
        if method == "POST" and path == "/api/v1/tokens/enroll":
            return self.answer(200, fixture("enroll-token"))
        if method == "POST" and path == "/api/v1/policy/plan":
            return self.answer(422, ERRORS) if "BAD" in doc else \
                self.answer(200, fixture("plan"))
        if method == "POST" and path in ("/api/v1/policy/apply", "/api/v1/policy/rollback"):
            if "BAD" in doc:
                return self.answer(422, ERRORS)
            if body.get("to_version") == 99:
                return self.answer(404, {"error": "no such version"})
            if body.get("expected_version") != 3:
                return self.answer(409, {"error": "stale expected version",
                                         "current_version": 3})
            return self.answer(200, {"version": 4})
        self.answer(404, {"error": "not found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
