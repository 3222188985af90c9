#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kernel-side TCP client for tests/integration/test_zpathctl_tcp.sh, driven line by line.

Run inside the test's network namespace (as a bash coproc); it reads one command per line on
stdin and answers one line on stdout ("ok ..." or "err ..."), so the test can hold several
connections open while it inspects zpath with zpathctl:

    open A.B.C.D:P N GREET  open N connections; read GREET bytes (zp_peer --greet) on each
                            -> "ok I=LADDR:LPORT ..." (I: index of each new connection)
    send I BYTES            send BYTES random bytes on connection I and read their echo back
                            -> "ok sent=S recvd=R" (totals of connection I)
    close I                 clean close: SHUT_WR, read to end of stream, close
                            -> "ok eof sent=S recvd=R"
    recv I                  one recv (what the application sees next)
                            -> "ok data N" | "ok eof" | "err ECONNRESET" | "err timeout" ...
    quit                    close everything (SO_LINGER {1,0}) and exit -> "ok bye"

Totals: sent = payload bytes written to zpath, recvd = payload bytes read from zpath.
"""
import errno
import os
import socket
import struct
import sys

TIMEOUT = 10.0


class Conn:
    def __init__(self, s):
        self.s = s
        self.sent = 0
        self.recvd = 0


def read_exact(c, n):
    got = 0
    while got < n:
        data = c.s.recv(min(65536, n - got))
        if not data:
            raise OSError(errno.EPIPE, "end of stream after %d of %d bytes" % (got, n))
        got += len(data)
        c.recvd += len(data)
    return got


def ename(e):
    return errno.errorcode.get(e.errno, str(e)) if isinstance(e, OSError) and e.errno else str(e)


def main():
    conns = []
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        try:
            if w[0] == "open":
                host, port = w[1].rsplit(":", 1)
                n, greet = int(w[2]), int(w[3])
                out = []
                for _ in range(n):
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.settimeout(TIMEOUT)
                    s.connect((host, int(port)))
                    c = Conn(s)
                    read_exact(c, greet)
                    conns.append(c)
                    a = s.getsockname()
                    out.append("%d=%s:%d" % (len(conns) - 1, a[0], a[1]))
                reply = "ok " + " ".join(out)
            elif w[0] == "send":
                c, n = conns[int(w[1])], int(w[2])
                c.s.sendall(os.urandom(n))
                c.sent += n
                read_exact(c, n)
                reply = "ok sent=%d recvd=%d" % (c.sent, c.recvd)
            elif w[0] == "close":
                c = conns[int(w[1])]
                c.s.shutdown(socket.SHUT_WR)
                while True:
                    data = c.s.recv(65536)
                    if not data:
                        break
                    c.recvd += len(data)
                c.s.close()
                reply = "ok eof sent=%d recvd=%d" % (c.sent, c.recvd)
            elif w[0] == "recv":
                c = conns[int(w[1])]
                try:
                    data = c.s.recv(65536)
                    c.recvd += len(data)
                    reply = "ok data %d" % len(data) if data else "ok eof"
                except socket.timeout:
                    reply = "err timeout"
            elif w[0] == "quit":
                for c in conns:
                    if c.s.fileno() >= 0:
                        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
                        c.s.close()
                print("ok bye", flush=True)
                return 0
            else:
                reply = "err unknown command %s" % w[0]
        except (OSError, IndexError, ValueError) as e:
            reply = "err %s" % ename(e)
        print(reply, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
