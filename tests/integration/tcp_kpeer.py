#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Linux-kernel end of the TCP integration tests (tests/integration/test_tcp_kernel_*.sh).

  tcp_kpeer.py client --connect A.B.C.D:P [--bytes N] [--conns K] [--size S]
                      [--rr] [--rst-after-echo] [--expect-reset]
  tcp_kpeer.py server --bind A.B.C.D:P [--conns K] [--mode echo|store|rst-after:N]

client: K connections one after the other; on each, N random bytes are sent (in writes of S
bytes) while the echo is read concurrently, then SHUT_WR (half-close), then the echo is read
to end of stream; SHA-256 of both directions must match. --rr: one S-byte message at a time,
each waiting for its echo (round-trip times reported). --rst-after-echo: once the whole echo
came back, close with SO_LINGER {1,0} (RST) instead of half-closing. --expect-reset: reading
must end in ECONNRESET (the bytes before it are counted), not in end of stream.

server: accepts K connections (one thread each). echo: send back what comes until end of
stream, then close. store: read to end of stream first, then send it all back, then close
(the peer half-closed long before). rst-after:N: echo N bytes, then close with SO_LINGER
{1,0}. Prints "tcp_kpeer: listening" on stderr once it listens.

One summary line on stdout: "tcp_kpeer: result=ok|fail key=value ..."; exit 0 iff ok.
"""
import argparse
import errno
import hashlib
import os
import socket
import struct
import sys
import threading
import time

LINGER0 = struct.pack("ii", 1, 0)


def addr(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def out(success, **kv):
    print("tcp_kpeer: result=%s %s" % ("ok" if success else "fail",
                                       " ".join("%s=%s" % (k, v) for k, v in kv.items())),
          flush=True)
    return 0 if success else 1


# ---- client -------------------------------------------------------------------------------

def one_stream(a, n, size, rst_after_echo, expect_reset, timeout):
    """One connection: send n random bytes while reading the echo. Returns a dict."""
    s = socket.create_connection(a, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tx, rx = hashlib.sha256(), hashlib.sha256()
    res = {"tx": 0, "rx": 0, "reset": False, "err": None}

    def sender():
        try:
            left = n
            while left > 0:
                b = os.urandom(min(size, left))
                s.sendall(b)
                tx.update(b)
                res["tx"] += len(b)
                left -= len(b)
            if not rst_after_echo:
                s.shutdown(socket.SHUT_WR)
        except (ConnectionResetError, BrokenPipeError):
            # The reset may reach the sending thread first; it then consumes the socket
            # error and the reader only sees end of stream.
            res["reset"] = True
            if not expect_reset:
                res["err"] = "send: reset by peer"
        except OSError as e:
            if not expect_reset:
                res["err"] = "send: %s" % e

    small = n <= 65536 and not expect_reset
    if small:
        sender()
    else:
        t = threading.Thread(target=sender)
        t.start()
    try:
        while True:
            if rst_after_echo and res["rx"] == n:
                break
            d = s.recv(1 << 20)
            if not d:
                break
            rx.update(d)
            res["rx"] += len(d)
    except ConnectionResetError:
        res["reset"] = True
    except OSError as e:
        res["err"] = "recv: %s" % e
    if not small:
        t.join()
    if res["reset"] and not expect_reset and not res["err"]:
        res["err"] = "reset by peer"
    if rst_after_echo:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()
    res["sha_tx"], res["sha_rx"] = tx.hexdigest(), rx.hexdigest()
    return res


def one_rr(a, n, size, timeout, rtts):
    s = socket.create_connection(a, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    res = {"tx": 0, "rx": 0, "reset": False, "err": None}
    tx, rx = hashlib.sha256(), hashlib.sha256()
    try:
        while res["tx"] < n:
            b = os.urandom(min(size, n - res["tx"]))
            t0 = time.perf_counter()
            s.sendall(b)
            tx.update(b)
            res["tx"] += len(b)
            got = 0
            while got < len(b):
                d = s.recv(len(b) - got)
                if not d:
                    raise OSError("end of stream in the middle of a message")
                rx.update(d)
                got += len(d)
            rtts.append(time.perf_counter() - t0)
            res["rx"] += got
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            res["err"] = "data after the last echo"
    except ConnectionResetError:
        res["reset"] = True
    except OSError as e:
        res["err"] = str(e)
    s.close()
    res["sha_tx"], res["sha_rx"] = tx.hexdigest(), rx.hexdigest()
    return res


def client(o):
    a = addr(o.connect)
    rtts = []
    ok, fails, resets, txb, rxb = 0, [], 0, 0, 0
    t0 = time.perf_counter()
    for i in range(o.conns):
        try:
            if o.rr:
                r = one_rr(a, o.bytes, o.size, o.timeout, rtts)
            else:
                r = one_stream(a, o.bytes, o.size, o.rst_after_echo, o.expect_reset,
                               o.timeout)
        except OSError as e:
            fails.append("conn %d: connect: %s" % (i, e))
            continue
        txb += r["tx"]
        rxb += r["rx"]
        resets += r["reset"]
        if r["err"]:
            fails.append("conn %d: %s" % (i, r["err"]))
        elif o.expect_reset:
            if not r["reset"]:
                fails.append("conn %d: end of stream, expected ECONNRESET" % i)
            else:
                ok += 1
        elif r["reset"]:
            fails.append("conn %d: ECONNRESET after %d bytes" % (i, r["rx"]))
        elif r["tx"] != o.bytes or r["rx"] != r["tx"] or r["sha_tx"] != r["sha_rx"]:
            fails.append("conn %d: sent %d bytes (%s), echo %d bytes (%s)" %
                         (i, r["tx"], r["sha_tx"][:16], r["rx"], r["sha_rx"][:16]))
        else:
            ok += 1
    secs = time.perf_counter() - t0
    for f in fails[:5]:
        print("tcp_kpeer: " + f, file=sys.stderr)
    kv = {"conns": o.conns, "ok": ok, "failed": len(fails), "resets": resets,
          "tx_bytes": txb, "rx_bytes": rxb, "ms": int(secs * 1000),
          "mbit_s": int(rxb * 8 / secs / 1e6) if secs > 0 else 0,
          "conns_s": int(o.conns / secs) if secs > 0 else 0}
    if o.conns == 1 and not o.rr and not fails:
        kv["sha_tx"], kv["sha_rx"] = r["sha_tx"], r["sha_rx"]
    if rtts:
        rtts.sort()
        us = [int(x * 1e6) for x in rtts]
        kv.update(rtt_n=len(us), rtt_avg_us=sum(us) // len(us), rtt_p50_us=us[len(us) // 2],
                  rtt_p99_us=us[min(len(us) - 1, len(us) * 99 // 100)], rtt_max_us=us[-1])
    return out(ok == o.conns, **kv)


# ---- server -------------------------------------------------------------------------------

def serve_conn(c, mode, stats, lock):
    rx, tx = hashlib.sha256(), hashlib.sha256()
    nin = nout = 0
    reset = False
    err = None
    try:
        if mode == "store":
            buf = []
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                buf.append(d)
                rx.update(d)
                nin += len(d)
            for d in buf:
                c.sendall(d)
                tx.update(d)
                nout += len(d)
        else:
            limit = int(mode.split(":")[1]) if mode.startswith("rst-after:") else None
            while limit is None or nout < limit:
                d = c.recv(1 << 20 if limit is None else min(1 << 20, limit - nout))
                if not d:
                    break
                rx.update(d)
                nin += len(d)
                c.sendall(d)
                tx.update(d)
                nout += len(d)
            if limit is not None:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    except ConnectionResetError:
        reset = True
    except OSError as e:
        if e.errno == errno.EPIPE:
            reset = True
        else:
            err = str(e)
    c.close()
    with lock:
        stats["conns"] += 1
        stats["resets"] += reset
        stats["bytes_in"] += nin
        stats["bytes_out"] += nout
        stats["last_sha_in"] = rx.hexdigest()
        if err:
            stats["errors"].append(err)


def server(o):
    a = addr(o.bind)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(a)
    ls.listen(1024)
    ls.settimeout(o.timeout)
    print("tcp_kpeer: listening on %s:%d" % a, file=sys.stderr, flush=True)
    stats = {"conns": 0, "resets": 0, "bytes_in": 0, "bytes_out": 0, "errors": [],
             "last_sha_in": ""}
    lock = threading.Lock()
    threads = []
    try:
        for _ in range(o.conns):
            c, _peer = ls.accept()
            c.settimeout(o.timeout)
            t = threading.Thread(target=serve_conn, args=(c, o.mode, stats, lock))
            t.start()
            threads.append(t)
            threads = [x for x in threads if x.is_alive()]
    except socket.timeout:
        stats["errors"].append("accept timed out")
    for t in threads:
        t.join()
    for e in stats["errors"][:5]:
        print("tcp_kpeer: " + e, file=sys.stderr)
    return out(not stats["errors"] and stats["conns"] == o.conns, conns=stats["conns"],
               resets=stats["resets"], bytes_in=stats["bytes_in"],
               bytes_out=stats["bytes_out"], errors=len(stats["errors"]),
               sha_in=stats["last_sha_in"])


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="role", required=True)
    c = sub.add_parser("client")
    c.add_argument("--connect", required=True)
    c.add_argument("--bytes", type=int, default=1 << 20)
    c.add_argument("--conns", type=int, default=1)
    c.add_argument("--size", type=int, default=65536)
    c.add_argument("--rr", action="store_true")
    c.add_argument("--rst-after-echo", action="store_true")
    c.add_argument("--expect-reset", action="store_true")
    c.add_argument("--timeout", type=float, default=20)
    s = sub.add_parser("server")
    s.add_argument("--bind", required=True)
    s.add_argument("--conns", type=int, default=1)
    s.add_argument("--mode", default="echo")
    s.add_argument("--timeout", type=float, default=40)
    o = p.parse_args()
    return client(o) if o.role == "client" else server(o)


if __name__ == "__main__":
    sys.exit(main())
