#!/usr/bin/env python3
"""input-gen.py - inputs of exact sizes, and pipes that split them unevenly.

    input-gen.py sized N [--no-final-lf] [--seed S]
        order records (the shape of build/gen-orders) totalling exactly N
        bytes: lines of 220 to 3000 bytes, escapes and non-ASCII UTF-8
        included; an N too small for one record gives blank lines
    input-gen.py gzip-sized N
        a gzip file of exactly N bytes (stored, level 0) of sized records
    input-gen.py csv-sized N [--lf-at K] [--crlf] [--no-final-lf] [--seed S]
        a CSV file of exactly N bytes: a header row, then order rows of 220
        to 3000 bytes whose quoted last field holds doubled quotes, commas,
        non-ASCII UTF-8 and a LF (with --lf-at, the LF of one row is byte K
        of the file, 0-based); rows end in CRLF with --crlf
    input-gen.py line N [--id I]
        one order record of exactly N bytes, without its LF
    input-gen.py pieces [--seed S] [--max BYTES] [--pause-every K]
                        [--pause-ms MS]
        copy standard input to standard output in writes of 1 to BYTES
        bytes (random sizes, each as small as 1), sleeping MS after every
        K writes: the reader must not depend on how read(2) splits a stream
    input-gen.py bursts [--lone K] [--burst N] [--pause-ms MS]
        copy standard input's lines to standard output as K lines written
        one at a time with a pause of MS after each, then N lines in one
        go, and again: a stream that comes both alone and in bursts
"""
import argparse
import gzip
import os
import random
import sys
import time

MIN_LINE = 220


def record(i, size):
    """One order record of exactly SIZE bytes (without LF)."""
    head = ('{"order_id":%d,"customer_id":%d,"product_id":%d,"quantity":%d,'
            '"amount":%d.%02d,"shipping":%d.5,"tax":%d.25,'
            '"shipping_address":"%d Strada \\"Nou\u0103\\", Z\u00fcrich '
            % (i, i * 7 % 50000, i % 1000, 1 + i % 9, i % 5000, i % 100,
               i % 30, i % 400, i)).encode()
    pad = size - len(head) - 2
    if pad < 0:
        raise SystemExit("input-gen.py: a record needs at least %d bytes"
                         % (len(head) + 2))
    return head + b"x" * pad + b'"}'


def gzip_sized(n):
    """Stored gzip grows one byte a byte with its data: search the size."""
    for size in range(n - 18, 0, -1):
        data = sized_bytes(size, True, 1)
        z = gzip.compress(data, compresslevel=0, mtime=0)
        if len(z) == n:
            return z
    raise SystemExit("input-gen.py: no gzip file of %d bytes" % n)


def sized(n, final_lf, seed):
    sys.stdout.buffer.write(sized_bytes(n, final_lf, seed))


def sized_bytes(n, final_lf, seed):
    rng = random.Random(seed)
    out = bytearray()
    i = 1
    while len(out) < n:
        left = n - len(out)
        if left < MIN_LINE:
            # Only when N itself is smaller than a record: blank lines.
            out += b" " * (left - 1) + b"\n" if final_lf else b" " * left
            break
        size = rng.randint(MIN_LINE, 3000)
        if left - size < MIN_LINE:
            size = left
        out += record(i, size - 1) + b"\n"
        i += 1
    if not final_lf and out.endswith(b"\n") and len(out) >= MIN_LINE:
        # The last record without its LF: one byte more in its padding.
        out[-3:] = b'x"}'
    return bytes(out)


CSV_LF_POS = 100  # where the LF of a row's note field is, with --lf-at


def csv_row(i, size, eol, lf_pos=None):
    """One CSV order row of exactly SIZE bytes, EOL included."""
    head = ('%d,%d,%d.%02d,"' % (i, i * 7 % 50000, i % 5000, i % 100)).encode()
    text = '%d Strada ""Nou\u0103"", Z\u00fcrich, ' % i
    body = text.encode()
    pad = size - len(head) - len(body) - 1 - len(eol)
    if pad < 2:
        raise SystemExit("input-gen.py: a CSV row needs more bytes")
    note = bytearray(body + b"x" * pad)
    at = lf_pos - len(head) if lf_pos is not None else len(note) // 2
    if not 0 <= at < len(note) or (lf_pos is not None and at < len(body)):
        raise SystemExit("input-gen.py: no room for the LF at %d" % lf_pos)
    note[at] = ord("\n")
    return head + bytes(note) + b'"' + eol


def csv_sized(n, lf_at, crlf, final_lf, seed):
    rng = random.Random(seed)
    eol = b"\r\n" if crlf else b"\n"
    out = bytearray(b"order_id,customer_id,amount,note" + eol)
    i = 1
    placed = lf_at is None
    while len(out) < n:
        left, start = n - len(out), len(out)
        lf_pos = None
        size = rng.randint(MIN_LINE, 3000)
        if not placed:
            gap = lf_at - start - CSV_LF_POS  # bytes before the LF's row
            if gap == 0:
                lf_pos, placed = CSV_LF_POS, True
            elif gap < MIN_LINE:
                raise SystemExit("input-gen.py: --lf-at %d cannot be met" % lf_at)
            else:
                size = gap if gap <= 3000 else min(size, gap - MIN_LINE)
        if left - size < MIN_LINE:
            size = left
        out += csv_row(i, size, eol, lf_pos)
        i += 1
    if not placed or len(out) != n:
        raise SystemExit("input-gen.py: no CSV file of %d bytes with these"
                         " constraints" % n)
    if not final_lf:
        # The last row without its line end: its padding takes the bytes.
        cut = len(eol)
        out[-cut - 1:] = b"x" * cut + b'"'
    sys.stdout.buffer.write(bytes(out))


def pieces(seed, most, every, pause_ms):
    rng = random.Random(seed)
    pending = b""
    writes = 0
    eof = False
    while True:
        want = rng.randint(1, most)
        while len(pending) < want and not eof:
            chunk = os.read(0, max(want - len(pending), 1 << 16))
            if not chunk:
                eof = True
            pending += chunk
        if not pending:
            return
        piece, pending = pending[:want], pending[want:]
        view = memoryview(piece)
        while view:
            view = view[os.write(1, view):]
        writes += 1
        if every and writes % every == 0:
            time.sleep(pause_ms / 1000.0)


def bursts(lone, burst, pause_ms):
    lines = sys.stdin.buffer.readlines()
    out = sys.stdout.buffer
    i = 0
    while i < len(lines):
        for line in lines[i:i + lone]:
            out.write(line)
            out.flush()
            time.sleep(pause_ms / 1000.0)
        i += lone
        out.write(b"".join(lines[i:i + burst]))
        out.flush()
        i += burst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sized")
    s.add_argument("n", type=int)
    s.add_argument("--no-final-lf", action="store_true")
    s.add_argument("--seed", type=int, default=1)
    g = sub.add_parser("gzip-sized")
    g.add_argument("n", type=int)
    c = sub.add_parser("csv-sized")
    c.add_argument("n", type=int)
    c.add_argument("--lf-at", type=int)
    c.add_argument("--crlf", action="store_true")
    c.add_argument("--no-final-lf", action="store_true")
    c.add_argument("--seed", type=int, default=1)
    l = sub.add_parser("line")
    l.add_argument("n", type=int)
    l.add_argument("--id", type=int, default=1)
    p = sub.add_parser("pieces")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max", type=int, default=100000)
    p.add_argument("--pause-every", type=int, default=0)
    p.add_argument("--pause-ms", type=float, default=0)
    b = sub.add_parser("bursts")
    b.add_argument("--lone", type=int, default=10)
    b.add_argument("--burst", type=int, default=10000)
    b.add_argument("--pause-ms", type=float, default=20)
    a = ap.parse_args()
    try:
        if a.cmd == "sized":
            sized(a.n, not a.no_final_lf, a.seed)
        elif a.cmd == "gzip-sized":
            sys.stdout.buffer.write(gzip_sized(a.n))
        elif a.cmd == "csv-sized":
            csv_sized(a.n, a.lf_at, a.crlf, not a.no_final_lf, a.seed)
        elif a.cmd == "line":
            sys.stdout.buffer.write(record(a.id, a.n))
        elif a.cmd == "bursts":
            bursts(a.lone, a.burst, a.pause_ms)
        else:
            pieces(a.seed, a.max, a.pause_every, a.pause_ms)
    except BrokenPipeError:
        os._exit(141)


if __name__ == "__main__":
    main()
