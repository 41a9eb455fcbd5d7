#!/usr/bin/env python3
"""load-client.py - POST orders over many keep-alive connections, and say
which were answered 2xx.

    load-client.py PORT[/PATH] ANSWERED [CONNECTIONS] [SECONDS] [HMAC_SECRET_FILE]

Each connection posts one order at a time, each with an order_id no other
request has, and appends the order_id to ANSWERED (one per line) once the
whole 2xx answer has come back.  A connection that fails reconnects; the
client ends when the server refuses new connections on every one of them
(it stopped), or after SECONDS (default 60).  Statuses other than 2xx are
counted on stderr at the end.  With HMAC_SECRET_FILE each body is signed
GitHub's way (X-Hub-Signature-256: sha256=HEX).  $LOAD_PAD (bytes) lengthens
each order's shipping_address, so that a pipe holds fewer of them.  Used by tests/t/46-stop.sh to stop a loaded
pipeline and check that every answered request became a row.
"""
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time

port, _, path = sys.argv[1].partition("/")
port, path = int(port), "/" + path
answered = open(sys.argv[2], "a", buffering=1)
connections = int(sys.argv[3]) if len(sys.argv) > 3 else 64
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
secret = None
if len(sys.argv) > 5:
    with open(sys.argv[5], "rb") as f:
        secret = f.read().rstrip(b"\r\n")
lock = threading.Lock()
other = {}
end = time.monotonic() + seconds
address = "1 Main St" + " " * int(os.environ.get("LOAD_PAD", "0"))


def note(status, order_id):
    with lock:
        if 200 <= status < 300:
            answered.write("%d\n" % order_id)
        else:
            other[status] = other.get(status, 0) + 1


def post_orders(n):
    order_id = n
    conn = None
    while time.monotonic() < end:
        body = json.dumps({"order_id": order_id, "product_id": 7,
                           "quantity": 1, "amount": 10.5, "shipping": 2.25,
                           "tax": 1.0, "shipping_address": address})
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(
                secret, body.encode(), hashlib.sha256).hexdigest()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.connect()
            conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            resp.read()
            note(resp.status, order_id)
            if resp.will_close:
                conn.close()
                conn = None
        except ConnectionRefusedError:
            return
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
        order_id += connections


threads = [threading.Thread(target=post_orders, args=(n,))
           for n in range(1, connections + 1)]
for t in threads:
    t.start()
for t in threads:
    t.join()
answered.close()
for status, n in sorted(other.items()):
    print("status %d: %d" % (status, n), file=sys.stderr)
