#!/usr/bin/env python3
"""httpspy.py: small misbehaving peers for the HTTP hardening tests (t0810).

    httpspy.py MODE --dir DIR [--cert PEM --key PEM] [--exit-with-parent]

Writes DIR/port once listening on 127.0.0.1 and logs one JSON line per
event to DIR/log.  Modes:

  tls      HTTPS with the given certificate; logs each request's method,
           path and header names (an Authorization header as its scheme and
           a SHA-256 of its value, never the value) and answers 404.
  slow     HTTPS; answers 200 with Content-Length: 100, then sends the
           body one byte every 500 ms (slowloris).
  silent   accepts TCP connections and never says a word (a peer that
           hangs: the client's timeouts must end it).
  blackhole
           a listening port that drops every SYN (security.md H-04): the
           socket listens with a backlog of 0 and never accepts, and the
           spy fills its accept queue itself; the kernel then drops each
           further SYN (TcpExt ListenOverflows counts them) and the client
           sees no answer at all, as behind a firewall's DROP rule.  The
           port is written only once a probe connection has timed out.
  proxy    a plain-HTTP CONNECT proxy: logs each request line and header
           names, tunnels CONNECT to 127.0.0.1 only, answers anything
           else with 405.

Python standard library only.
"""
import argparse
import hashlib
import json
import os
import select
import socket
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


def log(d, **ev):
    ev["time"] = time.time()
    with LOCK, open(os.path.join(d, "log"), "a") as f:
        f.write(json.dumps(ev) + "\n")


def read_head(f):
    """Request line and headers as (line, [(name, value)]), or None."""
    line = f.readline(65536)
    if not line:
        return None
    hdrs = []
    while True:
        h = f.readline(65536)
        if not h or h in (b"\r\n", b"\n"):
            break
        name, _, value = h.decode("latin-1").partition(":")
        hdrs.append((name.strip(), value.strip()))
    return line.decode("latin-1").rstrip("\r\n"), hdrs


def describe(hdrs):
    out = []
    for name, value in hdrs:
        if name.lower() in ("authorization", "proxy-authorization"):
            scheme = value.split(" ", 1)[0]
            digest = hashlib.sha256(value.encode("latin-1")).hexdigest()
            out.append("%s: %s sha256=%s" % (name, scheme, digest[:16]))
        else:
            out.append(name)
    return out


def serve_tls(conn, d, ctx):
    try:
        conn = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        log(d, event="handshake-failed", error=str(e)[:200])
        return
    f = conn.makefile("rb")
    head = read_head(f)
    if head is None:
        return
    line, hdrs = head
    log(d, event="request", line=line.split(" ")[0] + " " +
        (line.split(" ")[1] if " " in line else ""), headers=describe(hdrs))
    body = b'{"message":"spy","statusCode":404}'
    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json"
                 b"\r\nConnection: close\r\nContent-Length: " +
                 str(len(body)).encode() + b"\r\n\r\n" + body)


def serve_slow(conn, d, ctx):
    try:
        conn = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        return
    if read_head(conn.makefile("rb")) is None:
        return
    log(d, event="slow")
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n")
    for _ in range(100):
        time.sleep(0.5)
        conn.sendall(b" ")


def serve_silent(conn, d):
    log(d, event="connect")
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def pipe(a, b):
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 60)
            if not r:
                return
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return


def serve_proxy(conn, d):
    f = conn.makefile("rb")
    head = read_head(f)
    if head is None:
        return
    line, hdrs = head
    log(d, event="proxy", line=line, headers=describe(hdrs))
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != "CONNECT":
        conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n"
                     b"Content-Length: 0\r\n\r\n")
        return
    host, _, port = parts[1].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return
    up = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    pipe(conn, up)
    up.close()


def handle(conn, args, ctx):
    try:
        if args.mode == "tls":
            serve_tls(conn, args.dir, ctx)
        elif args.mode == "slow":
            serve_slow(conn, args.dir, ctx)
        elif args.mode == "silent":
            serve_silent(conn, args.dir)
        else:
            serve_proxy(conn, args.dir)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def blackhole(srv):
    """Fill srv's accept queue (listen(0): one slot) until a probe's SYN
    goes unanswered; returns the sockets holding the queue."""
    held = []
    port = srv.getsockname()[1]
    for _ in range(8):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(0.5)
        try:
            c.connect(("127.0.0.1", port))
        except socket.timeout:
            c.close()
            return held
        held.append(c)
    raise SystemExit("blackhole: SYNs are still answered after 8 connections")


def watch_parent():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("tls", "slow", "silent", "blackhole", "proxy"))
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--exit-with-parent", action="store_true")
    args = p.parse_args()
    ctx = None
    if args.mode in ("tls", "slow"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    os.makedirs(args.dir, exist_ok=True)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(0 if args.mode == "blackhole" else 64)
    if args.mode == "blackhole":
        held = blackhole(srv)
        log(args.dir, event="blackhole", held=len(held))
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.replace(tmp, os.path.join(args.dir, "port"))
    if args.exit_with_parent:
        threading.Thread(target=watch_parent, daemon=True).start()
    while args.mode == "blackhole":
        time.sleep(3600)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, args, ctx),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
