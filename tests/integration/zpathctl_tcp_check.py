#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks on zpathctl output for tests/integration/test_zpathctl_tcp.sh.

    netstat TABLE JSON [--listen ADDR:PORT]... [--est LOCAL=PEER]...
        The table and the JSON of `zpathctl netstat` (same filters) list the same connections,
        and exactly the expected ones: LISTEN sockets on ADDR:PORT, ESTABLISHED connections
        LOCAL (zpath addr:port) = PEER (kernel addr:port), each on worker 0 with empty queues.
        Prints "PEER ID_HEX" per ESTABLISHED connection.
    stats TABLE JSON [--min NAME=N]... [--tcp-min NAME=N]...
        The TOTAL column of `zpathctl stats` agrees with the JSON taken just after it (equal or
        grown, counters only increase); each --min counter is at least N. --tcp-min: a TCP
        counter (dataplane/tcp: segs_in, passive_opens, keepalive_probes, ...), wherever the
        JSON has it; exit 3 if the stats have no TCP counters at all.
    record FILE RECORD REMOTE [KEY=VALUE]...
        In the JSON lines of `zpathctl --json monitor`: the RECORD (CONN_OPEN, CONN_CLOSE) whose
        remote is REMOTE exists (else exit 1, "absent") and has every KEY=VALUE (else exit 2).
        Prints the record.
    stream FILE INSTANCE
        The whole stream: INIT first (our instance), TERM planned last, no LOST, every
        CONN_OPEN closed by exactly one later CONN_CLOSE of the same id and 4-tuple.
Exit status 0 when the check holds, else non-zero with the reason on stderr.
"""
import json
import sys


def die(msg, code=2):
    print("check: " + msg, file=sys.stderr)
    sys.exit(code)


def opts(args, names):
    out = {n: [] for n in names}
    i = 0
    while i < len(args):
        if args[i] not in out or i + 1 >= len(args):
            die("bad argument %s" % args[i])
        out[args[i]].append(args[i + 1])
        i += 2
    return out


def table_rows(path):
    lines = [l for l in open(path).read().splitlines() if l.strip()]
    if not lines:
        die("empty table")
    head = lines[0].split()
    return head, [l.split() for l in lines[1:]]


def cmd_netstat(args):
    table, js = args[0], args[1]
    o = opts(args[2:], ["--listen", "--est"])
    head, rows = table_rows(table)
    if head != ["ID", "W", "STATE", "RECV-Q", "SEND-Q", "LOCAL", "PEER", "RTT(us)", "CWND",
                "TRANSPORT", "TLS"]:
        die("netstat header: %s" % head)
    j = json.load(open(js))
    if not j.get("ok") or j.get("unanswered_workers") or j.get("truncated"):
        die("netstat JSON: %s" % j)
    conns = j["connections"]
    if len(rows) != len(conns):
        die("table has %d rows, JSON %d connections" % (len(rows), len(conns)))
    for r, c in zip(rows, conns):
        want = [c["id_hex"], str(c["worker"]), c["state"], str(c["rcv_queue"]),
                str(c["snd_queue"]), "%s:%d" % (c["laddr"], c["lport"]),
                "%s:%d" % (c["raddr"], c["rport"]), str(c["rtt_us"]), str(c["cwnd"]),
                c["transport"], c["tls"]]
        # RTT and cwnd may move between the two requests; everything else must agree.
        if [r[k] for k in (0, 1, 2, 5, 6, 9, 10)] != [want[k] for k in (0, 1, 2, 5, 6, 9, 10)]:
            die("table row %s != JSON %s" % (r, want))
        if c["id_hex"] != "0x%016x" % c["id"]:
            die("id_hex %s does not spell id %d" % (c["id_hex"], c["id"]))
        if c["worker"] != c["id"] >> 48 or c["transport"] != "tcp" or c["tls"] != "-":
            die("connection %s: worker/transport/tls: %s" % (c["id_hex"], c))
    got_listen = sorted("%s:%d" % (c["laddr"], c["lport"]) for c in conns
                        if c["state"] == "LISTEN")
    if got_listen != sorted(o["--listen"]):
        die("LISTEN sockets %s, expected %s" % (got_listen, sorted(o["--listen"])))
    est = {}
    for c in conns:
        if c["state"] == "LISTEN":
            continue
        if c["state"] != "ESTABLISHED":
            die("unexpected %s connection %s" % (c["state"], c))
        est["%s:%d=%s:%d" % (c["laddr"], c["lport"], c["raddr"], c["rport"])] = c
    if sorted(est) != sorted(o["--est"]):
        die("ESTABLISHED %s, expected %s" % (sorted(est), sorted(o["--est"])))
    for k, c in est.items():
        if c["worker"] != 0 or c["snd_queue"] != 0 or c["rcv_queue"] != 0:
            die("connection %s: worker %d, send-q %d, recv-q %d (expected 0, 0, 0)"
                % (k, c["worker"], c["snd_queue"], c["rcv_queue"]), 4)
        print("%s %s" % (k.split("=")[1], c["id_hex"]))


def find_key(o, name):
    """The value of counter `name` anywhere in o (dicts), or None."""
    if isinstance(o, dict):
        if name in o and isinstance(o[name], int):
            return o[name]
        for v in o.values():
            r = find_key(v, name)
            if r is not None:
                return r
    return None


def cmd_stats(args):
    table, js = args[0], args[1]
    o = opts(args[2:], ["--min", "--tcp-min"])
    head, rows = table_rows(table)
    if head[0] != "COUNTER" or head[-1] != "TOTAL":
        die("stats header: %s" % head)
    j = json.load(open(js))
    tot = j["total"]["stats"]
    seen = 0
    for r in rows:
        if r[0] in ("DROP", "no", "control:", "monitor") or len(r) != len(head):
            break
        if r[0] not in tot:
            continue  # a TCP counter, say, in a section of its own
        if not tot[r[0]] >= int(r[-1]):
            die("stats %s: table %s, JSON (later) %d" % (r[0], r[-1], tot[r[0]]))
        seen += 1
    if seen == 0:
        die("no counter of the table found in the JSON")
    for kv in o["--min"]:
        k, v = kv.split("=")
        if tot.get(k, -1) < int(v):
            die("stats %s = %s, expected >= %s" % (k, tot.get(k), v))
    if o["--tcp-min"]:
        if find_key(j["total"], "passive_opens") is None:
            print("no TCP counters (segs_in, passive_opens, ...) in zpathctl stats", file=sys.stderr)
            sys.exit(3)
        for kv in o["--tcp-min"]:
            k, v = kv.split("=")
            got = find_key(j["total"], k)
            if got is None or got < int(v):
                die("TCP counter %s = %s, expected >= %s" % (k, got, v))


def records(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def cmd_record(args):
    path, rec, remote = args[0], args[1], args[2]
    for r in records(path):
        if r.get("record") == rec and r.get("remote") == remote:
            bad = []
            for kv in args[3:]:
                k, v = kv.split("=", 1)
                got = r.get(k)
                if isinstance(got, bool):
                    got = "true" if got else "false"
                if str(got) != v:
                    bad.append("%s=%s (expected %s)" % (k, got, v))
            print(json.dumps(r))
            if bad:
                die("%s of %s: %s" % (rec, remote, ", ".join(bad)), 2)
            return
    print("absent")
    sys.exit(1)


def cmd_stream(args):
    path, inst = args[0], args[1]
    rs = records(path)
    if not rs or rs[0].get("record") != "INIT" or rs[0].get("instance") != inst:
        die("first record is not INIT of %s: %s" % (inst, rs[:1]))
    if rs[-1].get("record") != "TERM" or rs[-1].get("termcode") != 0:
        die("last record is not TERM planned: %s" % rs[-1:])
    open_ = {}
    closed = set()
    for r in rs[1:-1]:
        k = r.get("record")
        if k == "CONN_OPEN":
            if r["id"] in open_ or r["id"] in closed:
                die("CONN_OPEN twice for %s" % r["id_hex"])
            open_[r["id"]] = r
        elif k == "CONN_CLOSE":
            o = open_.pop(r["id"], None)
            if o is None:
                die("CONN_CLOSE %s without CONN_OPEN" % r["id_hex"])
            if (o["local"], o["remote"]) != (r["local"], r["remote"]):
                die("CONN_CLOSE %s: 4-tuple %s-%s, opened as %s-%s"
                    % (r["id_hex"], r["local"], r["remote"], o["local"], o["remote"]))
            closed.add(r["id"])
        else:
            die("unexpected record %s" % r)
    if open_:
        die("never closed: %s" % sorted(v["id_hex"] for v in open_.values()))
    print("%d connections opened and closed" % len(closed))


def main():
    if len(sys.argv) < 3:
        die("usage: see the file comment")
    {"netstat": cmd_netstat, "stats": cmd_stats, "record": cmd_record,
     "stream": cmd_stream}.get(sys.argv[1], lambda a: die("unknown check %s" % sys.argv[1]))(
        sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
