#!/usr/bin/env python3
"""http-raw.py PORT [WAIT] - send stdin as-is to 127.0.0.1:PORT, print what
comes back, then "<closed>" when the server closed the connection or
"<open>" when it was still open WAIT seconds (default 2) after the last
byte.  For requests curl would not send: conflicting lengths, both framing
headers, no Host."""
import socket
import sys

port = int(sys.argv[1])
wait = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
request = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(request)
s.settimeout(wait)
answer = b""
state = "<open>"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            state = "<closed>"
            break
        answer += chunk
except socket.timeout:
    pass
except ConnectionResetError:
    state = "<closed>"
sys.stdout.buffer.write(answer.replace(b"\r\n", b"\n"))
sys.stdout.write("\n" + state + "\n")
