#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""kpeer: the Linux-kernel end of the interop tests, with the same step language as zp_peer.

    kpeer.py server --bind A.B.C.D:P [--conns N] --steps LIST [--timeout S]
    kpeer.py client --connect A.B.C.D:P [--bind-port P] [--conns N] --steps LIST [--timeout S]

Steps (comma separated), run in order on each connection:
    send:N  recv:N  recv_eof  recv_zero  expect_reset  send_fails:ERRNO  echo
    shut_wr  shut_rd  linger0  close  sleep:MS
Everything sent is random (os.urandom); the SHA-256 of what was sent and of what was
received (over all connections, in order) is printed as one line on stdout:
    kpeer: result=ok conns=1 rx_bytes=.. rx_sha256=.. tx_bytes=.. tx_sha256=..
Exit status 0 ok, 1 a step failed (result=fail reason="..."), 2 usage error.
A server prints "kpeer: listening" on stderr once it accepts connections.
"""
import argparse
import errno
import hashlib
import os
import socket
import struct
import sys
import time

CHUNK = 1 << 20


class Fail(Exception):
    pass


class Peer:
    def __init__(self, args):
        self.args = args
        self.rx = hashlib.sha256()
        self.tx = hashlib.sha256()
        self.rx_bytes = 0
        self.tx_bytes = 0
        self.conns = 0
        self.quiet = args.quiet

    def note(self, msg):
        if not self.quiet:
            print("kpeer: " + msg, file=sys.stderr, flush=True)

    # -- data ------------------------------------------------------------------------------
    def send(self, s, n):
        left = n
        while left > 0:
            buf = os.urandom(min(left, CHUNK))
            try:
                s.sendall(buf)
            except OSError as e:
                raise Fail("send: %s after %d of %d bytes" % (errno.errorcode.get(e.errno, e),
                                                              n - left, n))
            self.tx.update(buf)
            self.tx_bytes += len(buf)
            left -= len(buf)

    def recv(self, s, want, echo=False, tolerate_reset=False):
        """Receive want bytes (None: until EOF). Returns (bytes, eof, reset)."""
        got = 0
        while want is None or got < want:
            cap = CHUNK if want is None else min(CHUNK, want - got)
            try:
                data = s.recv(cap)
            except ConnectionResetError:
                if tolerate_reset:
                    return got, False, True
                raise Fail("recv: ECONNRESET after %d bytes" % got)
            except socket.timeout:
                raise Fail("recv: nothing for %s s after %d bytes" % (self.args.timeout, got))
            except OSError as e:
                raise Fail("recv: %s after %d bytes" % (errno.errorcode.get(e.errno, e), got))
            if not data:
                return got, True, False
            self.rx.update(data)
            self.rx_bytes += len(data)
            got += len(data)
            if echo:
                s.sendall(data)
                self.tx.update(data)
                self.tx_bytes += len(data)
        return got, False, False

    # -- steps -----------------------------------------------------------------------------
    def run_steps(self, s):
        for step in self.args.steps.split(","):
            name, _, arg = step.partition(":")
            if s is None and name != "sleep":
                raise Fail("step %s needs an open socket (closed earlier)" % step)
            if name == "send":
                self.send(s, int(arg, 0))
                self.note("sent %s bytes" % arg)
            elif name == "recv":
                n, eof, _ = self.recv(s, int(arg, 0))
                if n < int(arg, 0):
                    raise Fail("recv: EOF after %d of %s bytes" % (n, arg))
                self.note("received %d bytes" % n)
            elif name in ("recv_eof", "echo"):
                n, _, _ = self.recv(s, None, echo=name == "echo")
                self.note("%s %d bytes, then EOF" % ("echoed" if name == "echo" else "received",
                                                     n))
                if name == "echo":
                    s.shutdown(socket.SHUT_WR)
            elif name == "recv_zero":
                try:
                    data = s.recv(CHUNK)
                except OSError as e:
                    raise Fail("recv after EOF: %s, expected 0" % errno.errorcode.get(e.errno, e))
                if data:
                    raise Fail("recv after EOF returned data")
            elif name == "expect_reset":
                n, eof, reset = self.recv(s, None, tolerate_reset=True)
                if not reset:
                    raise Fail("expected ECONNRESET, got EOF after %d bytes" % n)
                self.note("data (%d bytes), then ECONNRESET (as expected)" % n)
                try:
                    data = s.recv(CHUNK)
                except OSError as e:
                    raise Fail("recv after ECONNRESET: %s, expected 0"
                               % errno.errorcode.get(e.errno, e))
                if data:
                    raise Fail("recv after ECONNRESET returned data")
            elif name == "send_fails":
                want = getattr(errno, arg)
                try:
                    s.send(b"x")
                    got = 0
                except OSError as e:
                    got = e.errno
                if got != want:
                    raise Fail("send: got %s, expected %s" % (errno.errorcode.get(got, "success"),
                                                              arg))
                self.note("send: %s (as expected)" % arg)
            elif name == "shut_wr":
                s.shutdown(socket.SHUT_WR)
            elif name == "shut_rd":
                s.shutdown(socket.SHUT_RD)
            elif name == "linger0":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif name == "close":
                s.close()
                s = None
            elif name == "sleep":
                time.sleep(int(arg, 0) / 1000.0)
            else:
                raise Fail("unknown step %s" % step)
        return s

    # -- roles -----------------------------------------------------------------------------
    def server(self):
        host, _, port = self.args.bind.rpartition(":")
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host or "0.0.0.0", int(port)))
        ls.listen(128)
        ls.settimeout(self.args.timeout)
        self.note("listening")
        try:
            for _ in range(self.args.conns):
                try:
                    s, peer = ls.accept()
                except socket.timeout:
                    raise Fail("no connection within %s s" % self.args.timeout)
                s.settimeout(self.args.timeout)
                if self.args.conns <= 10:
                    self.note("connection from %s:%d" % peer)
                s = self.run_steps(s)
                if s is not None:
                    s.close()
                self.conns += 1
        finally:
            ls.close()

    def client(self):
        host, _, port = self.args.connect.rpartition(":")
        for i in range(self.args.conns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.args.bind_port:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", self.args.bind_port))
            s.settimeout(self.args.timeout)
            try:
                s.connect((host, int(port)))
            except OSError as e:
                s.close()
                raise Fail("connect (connection %d): %s" % (i + 1, e))
            s = self.run_steps(s)
            if s is not None:
                s.close()
            self.conns += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--bind", help="server: ADDR:PORT to listen on")
    ap.add_argument("--connect", help="client: ADDR:PORT")
    ap.add_argument("--bind-port", type=int, default=0, help="client: local port")
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--steps", required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if (args.role == "server") != (args.bind is not None) or \
            (args.role == "client") != (args.connect is not None):
        ap.error("server needs --bind, client needs --connect")
    p = Peer(args)
    reason = None
    try:
        p.server() if args.role == "server" else p.client()
    except Fail as e:
        reason = str(e)
        print("kpeer: FAIL: " + reason, file=sys.stderr, flush=True)
    line = "kpeer: result=%s conns=%d rx_bytes=%d rx_sha256=%s tx_bytes=%d tx_sha256=%s" % (
        "fail" if reason else "ok", p.conns, p.rx_bytes, p.rx.hexdigest(), p.tx_bytes,
        p.tx.hexdigest())
    if reason:
        line += ' reason="%s"' % reason.replace('"', "'")
    print(line, flush=True)
    return 1 if reason else 0


if __name__ == "__main__":
    sys.exit(main())
