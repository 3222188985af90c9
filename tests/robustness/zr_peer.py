#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""zr_peer: the Linux-kernel end of the robustness suite (tests/robustness/run.sh).

    zr_peer.py server --bind A.B.C.D:P --bytes N [--stall S] [--limit S] [--accept-timeout S]
    zr_peer.py client --connect A.B.C.D:P --bytes N [--stall S] [--limit S]

One TCP connection carries N bytes each way, one direction after the other:
    client: send N random bytes, shut down writing, receive until end of stream, close;
    server: receive until end of stream, send N random bytes, shut down writing, wait until
            the peer has acknowledged all of it and our FIN (state CLOSED), close.
The server's peer may also be zpath's zp_peer client with the steps
"send:N,shut_wr,recv_eof,close": the same exchange.

Every second a progress line goes to stderr ("zr_peer: progress t=.. phase=.. bytes=..");
when no byte moved for --stall seconds (default 30) the run fails ("stalled"), and it fails
when the whole exchange takes longer than --limit seconds (default: no limit).

At the end one line on stdout:
    zr_peer: result=ok rx_bytes=.. rx_sha256=.. rx_s=.. rx_mbit=.. tx_bytes=.. tx_sha256=..
             tx_s=.. tx_mbit=.. retrans=.. [kernel TCP_INFO figures]
(result=fail reason="..." on failure). rx_s is first byte to end of stream; tx_s is the first
byte sent to the moment the peer had it all (server: our FIN acknowledged; client: the
peer's first byte back, which it sends only after our end of stream). Exit 0 ok, 1 fail,
2 usage.
"""
import argparse
import errno
import hashlib
import os
import select
import socket
import struct
import sys
import time

CHUNK = 1 << 20
TCP_CLOSE = 7


class Fail(Exception):
    pass


def tcp_info(s):
    """A few fields of Linux struct tcp_info (offsets of include/uapi/linux/tcp.h)."""
    try:
        b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return {}
    out = {"state": b[0]}

    def u32(off):
        return struct.unpack_from("I", b, off)[0] if len(b) >= off + 4 else None

    def u64(off):
        return struct.unpack_from("Q", b, off)[0] if len(b) >= off + 8 else None

    out["unacked"] = u32(24)
    out["total_retrans"] = u32(100)
    out["bytes_acked"] = u64(120)
    out["bytes_received"] = u64(128)
    out["dsack_dups"] = u32(216)
    out["reord_seen"] = u32(220)
    out["rcv_ooopack"] = u32(224)
    return out


class Peer:
    def __init__(self, a):
        self.a = a
        self.rx = hashlib.sha256()
        self.tx = hashlib.sha256()
        self.rx_bytes = self.tx_bytes = 0
        self.rx_s = self.tx_s = 0.0
        self.t_start = time.monotonic()
        self.phase = "connect"
        self.moved = 0  # bytes moved so far (any phase): the progress measure
        self.last_moved = 0
        self.t_last_move = time.monotonic()
        self.t_report = time.monotonic() + 1.0
        self.sock = None
        self.info = {}

    def note(self, msg):
        print("zr_peer: " + msg, file=sys.stderr, flush=True)

    # Called often: progress line, stall and time limit.
    def tick(self, extra=0):
        now = time.monotonic()
        moved = self.moved + extra
        if moved != self.last_moved:
            self.last_moved = moved
            self.t_last_move = now
        elif now - self.t_last_move >= self.a.stall:
            raise Fail("stalled: nothing moved for %.0f s in phase %s (rx %d, tx %d bytes)"
                       % (now - self.t_last_move, self.phase, self.rx_bytes, self.tx_bytes))
        if self.a.limit and now - self.t_start > self.a.limit:
            raise Fail("time limit of %s s reached in phase %s (rx %d, tx %d bytes)"
                       % (self.a.limit, self.phase, self.rx_bytes, self.tx_bytes))
        if now >= self.t_report:
            self.t_report += 1.0
            self.note("progress t=%.0f phase=%s rx=%d tx=%d"
                      % (now - self.t_start, self.phase, self.rx_bytes, self.tx_bytes))

    def recv_all(self, s):
        """Receive until end of stream. Returns the time of the first byte (or of EOF)."""
        self.phase = "rx"
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        t_first = None
        while True:
            self.tick()
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                continue
            try:
                n = s.recv_into(buf)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                raise Fail("recv: %s after %d bytes" % (errno.errorcode.get(e.errno, e),
                                                       self.rx_bytes))
            if n == 0:
                return t_first if t_first is not None else time.monotonic()
            if t_first is None:
                t_first = time.monotonic()
            self.rx.update(view[:n])
            self.rx_bytes += n
            self.moved += n

    def send_all(self, s, total):
        self.phase = "tx"
        left = total
        while left > 0:
            data = os.urandom(min(left, CHUNK))
            self.tx.update(data)
            view = memoryview(data)
            while view:
                self.tick()
                _, w, _ = select.select([], [s], [], 0.2)
                if not w:
                    continue
                try:
                    n = s.send(view)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    raise Fail("send: %s after %d of %d bytes"
                               % (errno.errorcode.get(e.errno, e), self.tx_bytes, total))
                view = view[n:]
                self.tx_bytes += n
                self.moved += n
            left -= len(data)

    def wait_acked(self, s):
        """Server: after our FIN, wait until the peer acknowledged everything (CLOSED)."""
        self.phase = "drain"
        while True:
            info = tcp_info(s)
            if not info or info["state"] == TCP_CLOSE:
                return
            # Progress while draining: bytes acknowledged.
            self.tick(extra=info.get("bytes_acked") or 0)
            time.sleep(0.005)

    def run_server(self):
        host, _, port = self.a.bind.rpartition(":")
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host or "0.0.0.0", int(port)))
        ls.listen(8)
        self.note("listening")
        r, _, _ = select.select([ls], [], [], self.a.accept_timeout)
        if not r:
            raise Fail("no connection within %s s" % self.a.accept_timeout)
        s, peer = ls.accept()
        ls.close()
        self.sock = s
        s.setblocking(False)
        self.note("connection from %s:%d" % peer)
        self.t_start = time.monotonic()
        self.t_last_move = self.t_start
        t_first = self.recv_all(s)
        t_eof = time.monotonic()
        self.rx_s = t_eof - t_first
        self.note("received %d bytes, then EOF" % self.rx_bytes)
        t0 = time.monotonic()
        self.send_all(s, self.a.bytes)
        s.shutdown(socket.SHUT_WR)
        self.wait_acked(s)
        self.tx_s = time.monotonic() - t0
        self.note("sent %d bytes, all acknowledged" % self.tx_bytes)
        self.info = tcp_info(s)
        s.close()

    def run_client(self):
        host, _, port = self.a.connect.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(self.a.stall)
        try:
            s.connect((host, int(port)))
        except OSError as e:
            raise Fail("connect: %s" % e)
        self.sock = s
        s.setblocking(False)
        self.t_start = time.monotonic()
        self.t_last_move = self.t_start
        t0 = time.monotonic()
        self.send_all(s, self.a.bytes)
        s.shutdown(socket.SHUT_WR)
        self.note("sent %d bytes, shut down writing" % self.tx_bytes)
        t_first = self.recv_all(s)
        self.tx_s = t_first - t0
        self.rx_s = time.monotonic() - t_first
        self.note("received %d bytes, then EOF" % self.rx_bytes)
        self.info = tcp_info(s)
        s.close()


def mbit(n, secs):
    return "%.1f" % (n * 8 / secs / 1e6) if secs > 0 else "0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--bind", help="server: ADDR:PORT to listen on")
    ap.add_argument("--connect", help="client: ADDR:PORT")
    ap.add_argument("--bytes", type=lambda v: int(v, 0), required=True)
    ap.add_argument("--stall", type=float, default=30.0)
    ap.add_argument("--limit", type=float, default=0.0)
    ap.add_argument("--accept-timeout", type=float, default=60.0)
    a = ap.parse_args()
    if (a.role == "server") != (a.bind is not None) or \
            (a.role == "client") != (a.connect is not None):
        ap.error("server needs --bind, client needs --connect")
    p = Peer(a)
    reason = None
    try:
        p.run_server() if a.role == "server" else p.run_client()
    except Fail as e:
        reason = str(e)
    except OSError as e:
        reason = "%s: %s" % (p.phase, e)
    if reason:
        print("zr_peer: FAIL: " + reason, file=sys.stderr, flush=True)
        if p.sock is not None:
            p.info = tcp_info(p.sock)
    line = ("zr_peer: result=%s rx_bytes=%d rx_sha256=%s rx_s=%.3f rx_mbit=%s tx_bytes=%d "
            "tx_sha256=%s tx_s=%.3f tx_mbit=%s" % (
                "fail" if reason else "ok", p.rx_bytes, p.rx.hexdigest(), p.rx_s,
                mbit(p.rx_bytes, p.rx_s), p.tx_bytes, p.tx.hexdigest(), p.tx_s,
                mbit(p.tx_bytes, p.tx_s)))
    for k in ("total_retrans", "dsack_dups", "reord_seen", "rcv_ooopack"):
        if p.info.get(k) is not None:
            line += " %s=%d" % (k, p.info[k])
    if reason:
        line += ' reason="%s"' % reason.replace('"', "'")
    print(line, flush=True)
    return 1 if reason else 0


if __name__ == "__main__":
    sys.exit(main())
