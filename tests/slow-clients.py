#!/usr/bin/env python3
"""slow-clients.py - slow and impatient HTTP clients, for tests/t/42.

  slow-clients.py hold PORT --count N --source ADDR --mode headers|body
                  --every SECONDS --for SECONDS
      Open N connections to 127.0.0.1:PORT from ADDR (slowloris).  Each sends
      a request line, then one header line every SECONDS (headers), or whole
      headers announcing a large body and then one byte of it every SECONDS
      (body).  Prints "ready N" once all are open, then, when all are closed
      or after --for seconds, one line per connection: its index and how long
      it lived (seconds from connect until the server closed it), "open" when
      it never was.

  slow-clients.py post PORT --count N --source ADDR
      Post N small JSON records one after another, each on a new connection
      from ADDR; print "STATUS SECONDS" per request (connect to answer).
"""
import argparse
import resource
import selectors
import socket
import sys
import time


def raise_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def hold(a):
    raise_open_files()
    sel = selectors.DefaultSelector()
    opened, lifetime, socks = [], {}, {}
    if a.mode == "headers":
        first = b"POST / HTTP/1.1\r\nHost: x\r\n"
    else:
        first = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000000\r\n\r\n[")
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((a.source, 0))
        s.connect(("127.0.0.1", a.port))
        opened.append(time.monotonic())
        try:
            s.sendall(first)
        except OSError:
            pass
        s.setblocking(False)
        socks[i] = s
        sel.register(s, selectors.EVENT_READ, i)
    print("ready", a.count, flush=True)

    def closed(i, now):
        lifetime[i] = now - opened[i]
        sel.unregister(socks[i])
        socks.pop(i).close()

    end = time.monotonic() + a.seconds
    next_send = time.monotonic() + a.every
    n = 0
    while socks and time.monotonic() < end:
        now = time.monotonic()
        for key, _ in sel.select(max(0.0, min(next_send, end) - now)):
            i = key.data
            try:
                if socks[i].recv(65536):
                    continue  # an answer: wait for the close after it
            except BlockingIOError:
                continue
            except OSError:
                pass
            closed(i, time.monotonic())
        if time.monotonic() >= next_send:
            n += 1
            line = b"X-Slow-%d: 1\r\n" % n if a.mode == "headers" else b" "
            for i in list(socks):
                try:
                    socks[i].send(line)
                except BlockingIOError:
                    pass
                except OSError:
                    closed(i, time.monotonic())
            next_send += a.every
    for i in range(a.count):
        print(i, "%.3f" % lifetime[i] if i in lifetime else "open")


def post(a):
    body = b'{"slow":false}'
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    for _ in range(a.count):
        start = time.monotonic()
        status = "none"
        try:
            s = socket.create_connection(("127.0.0.1", a.port), timeout=10,
                                         source_address=(a.source, 0))
            s.sendall(request)
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            s.close()
            if answer.startswith(b"HTTP/1.1 "):
                status = answer[9:12].decode()
        except OSError as e:
            status = "error:" + e.__class__.__name__
        print(status, "%.3f" % (time.monotonic() - start), flush=True)


p = argparse.ArgumentParser()
sub = p.add_subparsers(dest="what", required=True)
h = sub.add_parser("hold")
h.add_argument("port", type=int)
h.add_argument("--count", type=int, default=1000)
h.add_argument("--source", default="127.0.0.1")
h.add_argument("--mode", choices=["headers", "body"], default="headers")
h.add_argument("--every", type=float, default=1.0)
h.add_argument("--for", dest="seconds", type=float, default=30.0)
q = sub.add_parser("post")
q.add_argument("port", type=int)
q.add_argument("--count", type=int, default=100)
q.add_argument("--source", default="127.0.0.2")
a = p.parse_args()
hold(a) if a.what == "hold" else post(a)
