#!/usr/bin/env python3
"""A stand-in for egressd's control socket, for egressctl's smoke tests.

Usage: EGRESS_CONTROL_DIR=DIR fake_server.py IFNAME FIXTURES_DIR

Listens on DIR/IFNAME.ctl and answers each request as docs/control.md
says egressd does, from the fixtures (tests/fixtures/control_*.json).
Every request line it receives is appended to DIR/requests.log, so a
test can check exactly what egressctl sent. Answers go out in small
pieces with pauses, so the client's reassembly is exercised. Special
cases: user=nobody -> an error answer; user=big -> a flows answer of
several megabytes; a malformed request -> {"error": ...}. Runs until
killed (SIGTERM)."""
import json
import os
import re
import signal
import socket
import sys
import time

REQUEST = re.compile(r"^[a-z]+( [a-z_]+=[^\s=]+)*$")


def load(fixtures, name):
    with open(os.path.join(fixtures, "control_%s.json" % name), "rb") as f:
        return f.read().rstrip(b"\n") + b"\n\n"


def big_flows(fixtures):
    one = json.loads(load(fixtures, "flows"))["flows"][0]
    flows = []
    for i in range(20000):
        f = dict(one)
        f["sport"] = 1024 + i % 60000
        f["src"] = "100.64.%d.%d" % (i // 250 % 250, i % 250 + 1)
        flows.append(f)
    body = {"total": len(flows), "count": len(flows), "flows": flows}
    return json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


STATS = b"rx_packets 10\ntx_packets 20\ndrop_bad_mac1 0\npeers 2\npacket_buffers 512\n\n"


def answer(fixtures, line):
    if not REQUEST.match(line):
        return b'{"error":"malformed request"}\n\n'
    cmd, *rest = line.split(" ")
    args = dict(kv.split("=", 1) for kv in rest)
    if args.get("user") == "nobody":
        return b'{"error":"unknown user nobody"}\n\n'
    if cmd == "stats":
        return STATS
    if cmd == "paths":
        return load(fixtures, "paths")
    if cmd == "flows":
        return big_flows(fixtures) if args.get("user") == "big" else load(fixtures, "flows")
    if cmd == "explain":
        if args.get("flow") == "1":
            return load(fixtures, "explain_flow")
        if args.get("user") == "mallory":
            return load(fixtures, "explain_deny")
        return load(fixtures, "explain")
    return b"error=unknown command\n\n"


def read_request(conn):
    data = b""
    while b"\n\n" not in data and len(data) <= 4096:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def serve(conn, fixtures, log):
    data = read_request(conn)
    if not data.endswith(b"\n\n") or data.count(b"\n") != 2:
        reply = b'{"error":"malformed request"}\n\n'
        line = repr(data)
    else:
        line = data[:-2].decode("utf-8", "replace")
        reply = answer(fixtures, line)
    with open(log, "a") as f:
        f.write(line + "\n")
    step = 1 if len(reply) < 4096 else 65536
    for i in range(0, len(reply), 7 * step):
        conn.sendall(reply[i:i + 7 * step])
        time.sleep(0.0005)


def main():
    ifname, fixtures = sys.argv[1], sys.argv[2]
    cdir = os.environ["EGRESS_CONTROL_DIR"]
    path = os.path.join(cdir, ifname + ".ctl")
    log = os.path.join(cdir, "requests.log")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv.bind(path)
    srv.listen(8)
    try:
        while True:
            conn, _ = srv.accept()
            with conn:
                serve(conn, fixtures, log)
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
