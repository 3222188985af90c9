#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/*/*.bin).

corpus/frame: whole Ethernet frames peer (10.0.0.2, 02:aa:00:00:00:02) -> stack (10.0.0.1,
02:00:00:00:00:01), as fuzz_frame_input takes them.
corpus/tcp: inputs of fuzz_tcp_segment: a control byte, then [length byte][TCP segment]...
(see fuzz_tcp_segment.c for the layout).

Plain struct packing, no scapy, so the seeds are reproducible anywhere:
    python3 tests/fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL_MAC = bytes([0x02, 0, 0, 0, 0, 0x01])
PEER_MAC = bytes([0x02, 0xaa, 0, 0, 0, 0x02])
BCAST = b"\xff" * 6
LOCAL_IP = bytes([10, 0, 0, 1])
PEER_IP = bytes([10, 0, 0, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, ident=1, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0,
                      src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(sport, dport, seq, ack, flags, payload=b"", opts=b"", win=65535, src=PEER_IP,
        dst=LOCAL_IP):
    while len(opts) % 4:
        opts += b"\x01"
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    c = csum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTS = (b"\x02\x04\x05\xb4"               # MSS 1460
            + b"\x04\x02"                      # SACK permitted
            + b"\x08\x0a" + struct.pack("!II", 12345, 0)  # timestamps
            + b"\x01\x03\x03\x07")             # NOP, window scale 7


def frame_ipv4(proto, payload):
    return eth(LOCAL_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, LOCAL_IP, proto, payload))


def arp(op, sha, sip, tha, tip, dst):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, sip, tha, tip)
    return eth(dst, sha, 0x0806, body)


def icmp_echo(ident, seq, n):
    data = bytes(i & 0xFF for i in range(n))
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    c = csum(hdr + data)
    return hdr[:2] + struct.pack("!H", c) + hdr[4:] + data


def icmp_unreach(code, quoted):
    hdr = struct.pack("!BBHI", 3, code, 0, 0)
    c = csum(hdr + quoted)
    return hdr[:2] + struct.pack("!H", c) + hdr[4:] + quoted


def udp(sport, dport, payload):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return hdr + payload


FRAMES = {
    "arp_request": arp(1, PEER_MAC, PEER_IP, b"\0" * 6, LOCAL_IP, BCAST),
    "arp_reply": arp(2, bytes([2, 0xaa, 0, 0, 0, 3]), bytes([10, 0, 0, 3]), LOCAL_MAC, LOCAL_IP,
                     LOCAL_MAC),
    "ping": frame_ipv4(1, icmp_echo(0x1234, 1, 56)),
    "ping_offlink": eth(LOCAL_MAC, PEER_MAC, 0x0800,
                        ipv4(bytes([192, 0, 2, 7]), LOCAL_IP, 1, icmp_echo(7, 1, 16))),
    "tcp_syn": frame_ipv4(6, tcp(40000, 80, 1000, 0, SYN, opts=SYN_OPTS)),
    "tcp_data": frame_ipv4(6, tcp(40000, 80, 1001, 5000, ACK | PSH, b"hello, zpath\n" * 8)),
    "tcp_fin": frame_ipv4(6, tcp(40000, 80, 1001, 5000, ACK | FIN)),
    "tcp_rst": frame_ipv4(6, tcp(40000, 80, 1001, 0, RST)),
    "udp": frame_ipv4(17, udp(5353, 53, b"\0" * 12)),
    "icmp_unreach_tcp": frame_ipv4(1, icmp_unreach(
        3, ipv4(LOCAL_IP, PEER_IP, 6, tcp(80, 40000, 5000, 1001, ACK, src=LOCAL_IP,
                                        dst=PEER_IP))[:28])),
}


def seg(s):
    assert len(s) < 256
    return bytes([len(s)]) + s


# fuzz_tcp_segment inputs. Control byte bits: see fuzz_tcp_segment.c.
T_EST, T_REL, T_RAWSUM, T_READ, T_SEND, T_SHUT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
TCP_INPUTS = {
    "listen_syn": bytes([0]) + seg(tcp(0, 0, 1000, 0, SYN, opts=SYN_OPTS)),
    "listen_ack": bytes([0]) + seg(tcp(0, 0, 1000, 77, ACK)),
    "est_data": bytes([T_EST | T_REL | T_READ]) + seg(tcp(0, 0, 0, 0, ACK | PSH, b"x" * 100)),
    "est_data_ooo": bytes([T_EST | T_REL | T_READ])
    + seg(tcp(0, 0, 50, 0, ACK | PSH, b"b" * 50)) + seg(tcp(0, 0, 0, 0, ACK | PSH, b"a" * 50)),
    "est_fin": bytes([T_EST | T_REL | T_READ]) + seg(tcp(0, 0, 0, 0, ACK | FIN)),
    "est_rst": bytes([T_EST | T_REL]) + seg(tcp(0, 0, 0, 0, RST)),
    "est_data_rst": bytes([T_EST | T_REL | T_READ])
    + seg(tcp(0, 0, 0, 0, ACK | PSH, b"y" * 20)) + seg(tcp(0, 0, 20, 0, RST)),
    "est_send_ack": bytes([T_EST | T_REL | T_SEND]) + seg(tcp(0, 0, 0, 1000, ACK))
    + b"\0" + seg(tcp(0, 0, 0, 1000, ACK, win=0)),
    "est_shut_fin": bytes([T_EST | T_REL | T_SHUT | T_READ]) + seg(tcp(0, 0, 0, 1, ACK | FIN)),
    "est_syn": bytes([T_EST | T_REL]) + seg(tcp(0, 0, 0, 0, SYN, opts=SYN_OPTS)),
}


def write(sub, items):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(data)


write("frame", FRAMES)
write("tcp", TCP_INPUTS)
