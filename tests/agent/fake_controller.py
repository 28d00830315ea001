#!/usr/bin/env python3
"""A fake egress-controller: the node endpoints of docs/api.md, enough to
test egressd's agent without the real controller.

  fake_controller.py --listen 127.0.0.1:8700 --state STATE.json \
      [--token ege_x --node acc1] [--publish policy.yaml] [--telemetry-log F]

  POST /api/v1/enroll           {"token","node"} -> {"node","credential"}
  GET  /api/v1/node/policy      ?known=V&wait=S  long-poll, 200 or 204
  POST /api/v1/node/telemetry   logged as one JSON line per POST
                                -> {"region_metrics":[...]}

Knobs (no authentication; loopback tests only):
  POST /_fake/publish           body: a policy document -> {"version":N}
                                (?bad_digest=1: with a digest that is wrong)
  POST /_fake/fail?status=503   answer node endpoints with that status
                                (status=0: serve normally again)
Going down is killing the process; --state keeps versions, tokens and
credentials, so a restarted fake is the same controller.
"""
import argparse
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, path):
        self.path = path
        self.cond = threading.Condition()
        self.fail_status = 0
        try:
            with open(path) as f:
                self.data = json.load(f)
        except FileNotFoundError:
            self.data = {"versions": [], "tokens": {}, "credentials": {}}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f)
        import os
        os.replace(tmp, self.path)

    def current(self):
        v = self.data["versions"]
        return v[-1] if v else None

    def publish(self, document, bad_digest=False):
        with self.cond:
            version = len(self.data["versions"]) + 1
            digest = hashlib.blake2s(document.encode()).hexdigest()
            if bad_digest:
                digest = digest[::-1]
            self.data["versions"].append({
                "version": version, "document": document, "digest": digest,
                "published": time.time()})
            self.save()
            self.cond.notify_all()
            return version


REGION_METRICS = [{"node": "egr9", "region": "eu", "rtt_ms": 12.5, "loss_pct": 0.0}]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        print("fake: %s %s" % (self.address_string(), fmt % args), flush=True)

    def answer(self, status, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def node(self):
        """The node name for the bearer credential, or None."""
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            return None
        return self.server.state.data["credentials"].get(auth[7:])

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/api/v1/node/policy":
            return self.answer(404, {"error": "not found"})
        st = self.server.state
        if st.fail_status:
            return self.answer(st.fail_status, {"error": "failing on purpose"})
        if not self.node():
            return self.answer(401, {"error": "unauthorized"})
        q = urllib.parse.parse_qs(url.query)
        known = int(q.get("known", ["0"])[0])
        wait = min(int(q.get("wait", ["25"])[0]), 60)
        deadline = time.time() + wait
        with st.cond:
            while True:
                cur = st.current()
                if cur and cur["version"] != known:
                    return self.answer(200, {k: cur[k] for k in
                                             ("version", "document", "digest")})
                left = deadline - time.time()
                if left <= 0:
                    return self.answer(204)
                st.cond.wait(left)

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        st = self.server.state
        body = self.body()
        if url.path == "/_fake/publish":
            bad = "bad_digest=1" in url.query
            return self.answer(200, {"version": st.publish(body.decode(), bad)})
        if url.path == "/_fake/fail":
            q = urllib.parse.parse_qs(url.query)
            st.fail_status = int(q.get("status", ["503"])[0])
            return self.answer(200, {"fail_status": st.fail_status})
        if st.fail_status:
            return self.answer(st.fail_status, {"error": "failing on purpose"})
        if url.path == "/api/v1/enroll":
            return self.enroll(body)
        if url.path == "/api/v1/node/telemetry":
            return self.telemetry(body)
        return self.answer(404, {"error": "not found"})

    def enroll(self, body):
        st = self.server.state
        try:
            req = json.loads(body)
        except ValueError:
            return self.answer(400, {"error": "not JSON"})
        node = st.data["tokens"].pop(req.get("token", ""), None)
        if node is None or node != req.get("node"):
            return self.answer(401, {"error": "unauthorized"})
        cred = "egn_" + secrets.token_hex(16)
        st.data["credentials"][cred] = node
        st.save()
        return self.answer(200, {"node": node, "credential": cred})

    def telemetry(self, body):
        node = self.node()
        if not node:
            return self.answer(401, {"error": "unauthorized"})
        try:
            snap = json.loads(body)
        except ValueError:
            return self.answer(400, {"error": "not JSON"})
        if self.server.telemetry_log:
            with open(self.server.telemetry_log, "a") as f:
                f.write(json.dumps({"node": node, "time": time.time(),
                                    "telemetry": snap}) + "\n")
        return self.answer(200, {"region_metrics": REGION_METRICS})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:8700")
    ap.add_argument("--state", required=True)
    ap.add_argument("--token")
    ap.add_argument("--node")
    ap.add_argument("--publish")
    ap.add_argument("--telemetry-log")
    a = ap.parse_args()
    st = State(a.state)
    if a.token:
        st.data["tokens"][a.token] = a.node
        st.save()
    if a.publish:
        with open(a.publish) as f:
            st.publish(f.read())
    host, port = a.listen.rsplit(":", 1)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.state = st
    srv.telemetry_log = a.telemetry_log
    print("fake: listening on %s" % a.listen, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
