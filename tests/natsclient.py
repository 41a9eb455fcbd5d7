#!/usr/bin/env python3
"""tests/natsclient.py - a minimal NATS client for the tests, on the wire protocol.

  natsclient.py pub URL SUBJECT [-H 'Name: value']...  stdin, as is, is one message
  natsclient.py lines URL SUBJECT                       each line of stdin is one message
  natsclient.py req URL SUBJECT [BODY]                  a request; prints the reply's body

It sends bytes exactly as given (invalid JSON, NUL, any size), which the
etl programs themselves never would, and asks JetStream's API about
streams and consumers ($JS.API.STREAM.INFO.<name>).
"""
import socket
import sys
from urllib.parse import urlparse


def connect(url):
    u = urlparse(url)
    s = socket.create_connection((u.hostname, u.port or 4222), timeout=10)
    f = s.makefile('rb')
    f.readline()  # INFO
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n')
    return s, f


def pong(s, f):
    s.sendall(b'PING\r\n')
    while True:
        line = f.readline()
        if not line:
            sys.exit('natsclient: connection closed')
        if line.startswith(b'PONG'):
            return
        if line.startswith(b'-ERR'):
            sys.exit('natsclient: ' + line.decode().strip())


def pub_frame(subject, body, headers=(), reply=''):
    subj = subject + (' ' + reply if reply else '')
    if not headers:
        return b'PUB %s %d\r\n%s\r\n' % (subj.encode(), len(body), body)
    hdr = b'NATS/1.0\r\n' + b''.join(h.encode() + b'\r\n' for h in headers) + b'\r\n'
    return b'HPUB %s %d %d\r\n%s%s\r\n' % (subj.encode(), len(hdr), len(hdr) + len(body), hdr, body)


def main():
    cmd, url, subject = sys.argv[1:4]
    rest = sys.argv[4:]
    s, f = connect(url)
    if cmd == 'pub':
        headers = [rest[i + 1] for i in range(0, len(rest), 2) if rest[i] == '-H']
        s.sendall(pub_frame(subject, sys.stdin.buffer.read(), headers))
        pong(s, f)
    elif cmd == 'lines':
        out = []
        for line in sys.stdin.buffer:
            out.append(pub_frame(subject, line.rstrip(b'\n')))
            if len(out) >= 1000:
                s.sendall(b''.join(out))
                out = []
        s.sendall(b''.join(out))
        pong(s, f)
    elif cmd == 'req':
        body = rest[0].encode() if rest else b''
        s.sendall(b'SUB _INBOX.t 1\r\n' + pub_frame(subject, body, reply='_INBOX.t'))
        while True:
            line = f.readline()
            if not line:
                sys.exit('natsclient: no reply')
            if line.startswith(b'PING'):
                s.sendall(b'PONG\r\n')
            elif line.startswith(b'MSG') or line.startswith(b'HMSG'):
                size = int(line.split()[-1])
                data = f.read(size + 2)[:size]
                if line.startswith(b'HMSG'):
                    hlen = int(line.split()[-2])
                    data = data[hlen:]
                sys.stdout.buffer.write(data + b'\n')
                return
    else:
        sys.exit('natsclient: unknown command ' + cmd)


main()
