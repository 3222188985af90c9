#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send a corpus of malformed frames to zpath and say which drop reason each must count.

    malformed_frames.py IFACE KERNEL_MAC ZPATH_MAC KERNEL_IP ZPATH_IP [--list]

Every frame carries exactly one fault (checksums are right unless the checksum is the fault),
so the drop reason it must be counted under does not depend on the order of the checks.
Prints, after sending, one line per drop reason: "<reason> <frames sent>". Frames whose reason
belongs to the layers above IP (TCP, UDP) are sent too, under the reason "any": zpath must
survive them; their counters are checked by those layers' own tests.
"""
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw, fragment, sendp
from scapy.layers.inet import IPOption_RR, IPOption_Router_Alert
from scapy.layers.inet6 import ICMPv6EchoRequest


def ip_csum(pkt):
    """The header checksum scapy would write, for building a wrong one on purpose."""
    return IP(bytes(pkt[IP])).chksum


def corpus(kmac, zmac, kip, zip_):
    eth = Ether(src=kmac, dst=zmac)
    bcast = Ether(src=kmac, dst="ff:ff:ff:ff:ff:ff")
    ip = IP(src=kip, dst=zip_)
    echo = ICMP(type=8, id=0x7a7a, seq=1) / Raw(b"zpath-malformed-" * 2)
    frames = []

    def add(reason, what, frame):
        frames.append((reason, what, frame))

    # Ethernet
    add("eth_type", "unknown EtherType 0x88b5", eth / Raw(b"\x00" * 46))
    add("eth_type", "802.1Q-tagged IPv4", Ether(src=kmac, dst=zmac) / Dot1Q(vlan=5) / ip / echo)
    add("eth_type", "IPv6 echo request", eth / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest())
    add("eth_dst", "unicast to another MAC", Ether(src=kmac, dst="02:11:22:33:44:55") / ip / echo)

    # IPv4 header
    add("ip_short", "11 bytes of IPv4", Ether(src=kmac, dst=zmac, type=0x0800) / Raw(bytes(ip / echo)[:11]))
    add("ip_short", "Ethernet header only", Ether(src=kmac, dst=zmac, type=0x0800))
    add("ip_version", "version 6 in an IPv4 frame", eth / IP(src=kip, dst=zip_, version=6) / echo)
    add("ip_version", "version 0", eth / IP(src=kip, dst=zip_, version=0) / echo)
    add("ip_hdrlen", "IHL 4 (16-byte header)", eth / IP(src=kip, dst=zip_, ihl=4) / echo)
    add("ip_hdrlen", "IHL 0", eth / IP(src=kip, dst=zip_, ihl=0) / echo)
    add("ip_options", "record-route option", eth / IP(src=kip, dst=zip_, options=[IPOption_RR()]) / echo)
    add("ip_options", "router-alert option", eth / IP(src=kip, dst=zip_, options=[IPOption_Router_Alert()]) / echo)
    add("ip_totlen", "total length beyond the frame", eth / IP(src=kip, dst=zip_, len=1000) / echo)
    add("ip_totlen", "total length below the header", eth / IP(src=kip, dst=zip_, len=12) / echo)
    good = eth / ip / echo
    add("ip_csum", "wrong header checksum", eth / IP(src=kip, dst=zip_, chksum=ip_csum(good) ^ 0x5A5A) / echo)
    add("ip_csum", "zero header checksum", eth / IP(src=kip, dst=zip_, chksum=0) / echo
        if ip_csum(good) != 0 else eth / IP(src=kip, dst=zip_, chksum=1) / echo)
    add("ip_fragment", "first fragment (MF, offset 0)", eth / IP(src=kip, dst=zip_, flags="MF", id=7) / echo)
    add("ip_fragment", "middle fragment (offset 800)", eth / IP(src=kip, dst=zip_, frag=100, id=8, proto=1) / Raw(b"y" * 64))
    for f in fragment(IP(src=kip, dst=zip_, id=9) / ICMP(type=8, id=1, seq=2) / Raw(b"z" * 1200), fragsize=600):
        add("ip_fragment", "fragment of a 1.2 kB ping", eth / f)
    add("ip_bad_src", "multicast source", eth / IP(src="224.0.0.5", dst=zip_) / echo)
    add("ip_bad_src", "broadcast source", eth / IP(src="255.255.255.255", dst=zip_) / echo)
    add("ip_bad_src", "loopback source", eth / IP(src="127.0.0.1", dst=zip_) / echo)
    add("ip_bad_src", "our own address as source", eth / IP(src=zip_, dst=zip_) / echo)
    add("ip_not_for_us", "another host's address", eth / IP(src=kip, dst="10.78.0.77") / echo)
    add("ip_proto", "protocol 253", eth / IP(src=kip, dst=zip_, proto=253) / Raw(b"x" * 16))

    # ICMP
    add("icmp_short", "3-byte ICMP message", eth / IP(src=kip, dst=zip_, proto=1) / Raw(b"\x08\x00\x00"))
    okicmp = ICMP(bytes(echo))
    add("icmp_csum", "wrong ICMP checksum", eth / ip / ICMP(type=8, id=0x7a7a, seq=1, chksum=okicmp.chksum ^ 0x1111) / Raw(b"zpath-malformed-" * 2))
    add("icmp_type", "timestamp request (type 13)", eth / ip / ICMP(type=13))

    # ARP
    arp_ok = dict(hwsrc=kmac, psrc=kip, pdst=zip_)
    add("arp_short", "8-byte ARP body", Ether(src=kmac, dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(bytes(ARP(op=1, **arp_ok))[:8]))
    add("arp_format", "hardware type 6 (IEEE 802)", bcast / ARP(hwtype=6, op=1, **arp_ok))
    add("arp_format", "protocol type 0x86dd", bcast / ARP(ptype=0x86DD, op=1, **arp_ok))
    add("arp_op", "opcode 5", bcast / ARP(op=5, **arp_ok))
    add("arp_not_for_us", "request for another address", bcast / ARP(op=1, hwsrc=kmac, psrc=kip, pdst="10.78.0.77"))
    add("arp_bad_sender", "multicast sender address", bcast / ARP(op=1, hwsrc=kmac, psrc="224.0.0.1", pdst=zip_))
    add("arp_bad_sender", "broadcast sender address", bcast / ARP(op=1, hwsrc=kmac, psrc="255.255.255.255", pdst=zip_))
    add("arp_conflict", "another host claims zpath's address",
        Ether(src="02:11:22:33:44:66", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="02:11:22:33:44:66", psrc=zip_, pdst=kip))

    # The layers above IP (their drop reasons belong to the TCP engine and to what handles UDP).
    add("any", "truncated TCP header (3 bytes)", eth / IP(src=kip, dst=zip_, proto=6) / Raw(b"\x00\x07\x00"))
    add("any", "TCP data offset 15 beyond the segment", eth / ip / TCP(sport=4000, dport=7, dataofs=15, flags="S"))
    add("any", "TCP data offset 2", eth / ip / TCP(sport=4000, dport=7, dataofs=2, flags="S"))
    add("any", "TCP wrong checksum", eth / ip / TCP(sport=4000, dport=7, flags="S", chksum=0x1234))
    add("any", "TCP SYN+FIN+RST+URG", eth / ip / TCP(sport=4000, dport=7, flags="SFRU"))
    add("any", "TCP option with length 0", eth / ip / TCP(sport=4000, dport=7, flags="S", dataofs=6) / Raw(b"\x02\x00\x05\xb4"))
    add("any", "truncated UDP header", eth / IP(src=kip, dst=zip_, proto=17) / Raw(b"\x00\x07"))
    add("any", "UDP length beyond the datagram", eth / ip / UDP(sport=4000, dport=7, len=500) / Raw(b"u" * 8))
    return frames


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    iface, kmac, zmac, kip, zip_ = sys.argv[1:6]
    frames = corpus(kmac, zmac, kip, zip_)
    if "--list" in sys.argv[6:]:
        for reason, what, frame in frames:
            print(f"{reason:15} {len(bytes(frame)):5} B  {what}")
        return
    counts = {}
    for reason, what, frame in frames:
        sendp(frame, iface=iface, verbose=False)
        counts[reason] = counts.get(reason, 0) + 1
    for reason, n in counts.items():
        print(reason, n)


if __name__ == "__main__":
    main()
