#!/usr/bin/env python3
"""tests/http-receiver.py - a scripted HTTP receiver for etl-load-http's tests.

    http-receiver.py MODE PORTFILE LOG

Listens on 127.0.0.1 on a port of the kernel's choosing, written to PORTFILE
once it accepts connections.  Every record it accepts is appended to LOG, one
line each, before the answer is sent, so a client that saw the answer can
count on the record being in LOG.  The first request's Authorization and
X-Tag headers go to LOG.headers, one line each.

MODE:
  pattern  a record's "id" decides its answer.  A record with "bad" gets 400
           and {"error":"bad record <id>"}; an id ending in 1 or 6 gets 503 the
           first time; one ending in 2 or 7 gets 429 the first time, with
           Retry-After: 1 when the id ends in 02 and as an HTTP-date when it
           ends in 07; everything else, and every retry, gets 204.
  slow     each request waits 0-20 ms (at random), then 204: answers come
           back in another order than the requests went out.
  hold     each request waits 1 s, then 204.
  never    reads each request and never answers it.
  closing  204 for every record, but each keep-alive connection is closed
           after its 7th answer (with Connection: close), and the first
           request of an id ending in 3 is read and not answered: its
           connection is closed at once.
  idle     204 for every record; a connection idle for 0.3 s is closed.
"""
import email.utils
import http.server
import json
import os
import random
import sys
import threading
import time

mode, portfile, log_path = sys.argv[1:4]
lock = threading.Lock()
attempts = {}
log = open(log_path, "a", buffering=1)
auth_seen = False


def first_time(key):
    with lock:
        n = attempts.get(key, 0)
        attempts[key] = n + 1
        return n == 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.served = getattr(self, "served", 0) + 1
        if mode == "closing" and self.served % 7 == 0:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def accept(self, records):
        with lock:
            for r in records:
                log.write(json.dumps(r, separators=(",", ":")) + "\n")
            log.flush()
        self.answer(204)

    def do_POST(self):
        global auth_seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            if not auth_seen:
                auth_seen = True
                with open(log_path + ".headers.tmp", "w") as f:
                    for name in ("Authorization", "X-Tag"):
                        f.write(self.headers.get(name, "") + "\n")
                os.rename(log_path + ".headers.tmp", log_path + ".headers")
        if mode == "never":
            time.sleep(3600)
            return
        if self.headers.get("Content-Type", "").startswith("application/x-ndjson"):
            records = [json.loads(l) for l in body.decode().splitlines() if l]
        else:
            value = json.loads(body)
            records = value if isinstance(value, list) else [value]
        if mode == "slow":
            time.sleep(random.random() * 0.02)
            return self.accept(records)
        if mode == "hold":
            time.sleep(1)
            return self.accept(records)
        if mode == "idle":
            return self.accept(records)
        if mode == "closing":
            rid = records[0].get("id", 0)
            if rid % 10 == 3 and first_time(rid):
                self.close_connection = True
                return
            return self.accept(records)
        r = records[0]
        rid = r.get("id", 0)
        if "bad" in r:
            return self.answer(400, b'{"error":"bad record %d"}' % rid,
                               [("Content-Type", "application/json")])
        if rid % 5 == 1 and first_time(rid):
            return self.answer(503, b"busy")
        if rid % 5 == 2 and first_time(rid):
            headers = []
            if rid % 100 == 2:
                headers = [("Retry-After", "1")]
            elif rid % 100 == 7:
                headers = [("Retry-After", email.utils.formatdate(time.time() + 1, usegmt=True))]
            return self.answer(429, b"slow down", headers)
        self.accept(records)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if mode == "idle":
    Handler.timeout = 0.3
server = Server(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
