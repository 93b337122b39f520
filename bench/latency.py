#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""bench/latency.py: the two timed control-plane paths of `make bench`.

  latency.py bind SOCK DEV PREFIX N SRC DST
      Port policy bind latency. Run inside the host namespace, with vmqd
      serving SOCK and `dev set DEV ports 'PREFIX*'` in force. N times: a
      "VM" (this process) creates tap PREFIX<k> (TUNSETIFF: the link appears)
      and brings it up, then writes one unmarked UDP frame (IPv4 SRC -> DST,
      port 9) into it every ~100 us, from the host's side of the tap: the
      host routes each to DEV at once, in the write (tun's receive path runs
      in the writer's context), so frames written before the binding leave
      on the default queue and frames written after it on the port's own
      queue. Meanwhile `port show` is asked on one connection every ~1 ms
      until the tap is listed, live. 20 ms of frames later the writes stop;
      the new queue's packet counter (stats show, before and after) says how
      many of the N frames were steered: the last S of them, so the first
      steered one is frame N-S, whose write time is known. Then the tap is
      closed (the link goes) and its binding must go too before the next.
      One line per run on stdout:
        REP BOUND_MS STEER_MS FRAMES STEERED QUEUE TXQ GAP_US
      BOUND_MS: link creation -> the answer listing the binding; STEER_MS:
      link creation -> the write of the first steered frame; GAP_US: the
      time between that write and the one before (the figure's resolution).

  latency.py ping SOCK READY TIMEOUT
      Waits for a vmqd on SOCK: touches file READY, then tries to connect
      every 0.5 ms (a killed vmqd's socket refuses, a missing one is ENOENT)
      and, once connected, sends `daemon ping`. Prints the wall-clock time
      the answer arrived (seconds since the epoch, as bash's $EPOCHREALTIME)
      and the answering pid. Exits 1 after TIMEOUT seconds.

Exits non-zero on a real error only (vmqd does not answer, the port is never
bound, nothing is steered, frames go missing); times are never judged here.
"""
import ctypes
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_UP = 0x1
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCGIFHWADDR = 0x8927
PR_SET_TIMERSLACK = 29

WRITE_EVERY_S = 0.0001  # one frame per ~100 us (sleep granularity adds to it)
POLL_EVERY_NS = 1000000  # port show every 1 ms until bound
AFTER_BOUND_NS = 20000000  # frames go on this long once the binding is seen
BIND_TIMEOUT_NS = 5 * 1000000000  # a real error beyond this
GONE_TIMEOUT_S = 5.0


def die(msg):
    sys.exit("latency.py: %s" % msg)


class Ctl:
    """One connection to vmqd; one request in flight at a time."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.pending = False

    def send(self, obj, cmd, args=None):
        req = {"version": 1, "object": obj, "command": cmd}
        if args:
            req["args"] = args
        self.s.sendall(json.dumps(req).encode() + b"\n")
        self.pending = True

    def poll(self, timeout):
        """The answer to the request in flight, or None if none by timeout."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = max(end - time.monotonic(), 0)
            if not select.select([self.s], [], [], left)[0]:
                return None
            chunk = self.s.recv(1 << 20)
            if not chunk:
                die("vmqd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.pending = False
        ans = json.loads(line)
        if not ans.get("ok"):
            die("vmqd answered an error: %s" % line.decode(errors="replace"))
        return ans["result"]

    def call(self, obj, cmd, args=None):
        self.send(obj, cmd, args)
        ans = self.poll(10.0)
        if ans is None:
            die("no answer to %s %s within 10 s" % (obj, cmd))
        return ans


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(dst_mac, src, dst):
    payload = b"vmq bench bind\0\0"
    udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + bytes.fromhex("02766d710099") + b"\x08\x00" + ip + udp


def queue_packets(stats, dev):
    out = {}
    for d in stats["devs"]:
        if d["dev"] == dev:
            for q in d["queues"]:
                out[q["id"]] = q["packets"]
    return out


def port_of(ports, name):
    for p in ports["ports"]:
        if p["port"] == name:
            return p
    return None


def bind_once(ctl, dev, tap, src, dst):
    before = queue_packets(ctl.call("stats", "show", {"dev": dev}), dev)
    ifr = struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI)
    sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic_ns()  # the link is about to exist
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifr)
        flags = struct.unpack("16sH", fcntl.ioctl(sk, SIOCGIFFLAGS, ifr))[1]
        fcntl.ioctl(sk, SIOCSIFFLAGS, struct.pack("16sH", tap.encode(), flags | IFF_UP))
        mac = fcntl.ioctl(sk, SIOCGIFHWADDR, struct.pack("16s16x", tap.encode()))[18:24]
        pkt = frame(mac, src, dst)
        writes = []
        bound_ns = None
        next_poll = t0
        port = None
        while True:
            os.write(fd, pkt)
            now = time.monotonic_ns()
            writes.append(now)
            if bound_ns is None:
                if ctl.pending:
                    ans = ctl.poll(0)
                    if ans is not None:
                        p = port_of(ans, tap)
                        if p and p.get("state") == "live":
                            bound_ns = time.monotonic_ns()
                            port = p
                if not ctl.pending and bound_ns is None and now >= next_poll:
                    ctl.send("port", "show")
                    next_poll = now + POLL_EVERY_NS
                if bound_ns is None and now - t0 > BIND_TIMEOUT_NS:
                    die("%s: not bound %d s after it appeared" % (tap, BIND_TIMEOUT_NS // 10**9))
            elif now - bound_ns >= AFTER_BOUND_NS:
                break
            time.sleep(WRITE_EVERY_S)
        if ctl.pending:  # the poll in flight when the loop ended
            if ctl.poll(10.0) is None:
                die("no answer to port show within 10 s")
        after = queue_packets(ctl.call("stats", "show", {"dev": dev}), dev)
        qid = port["queue"]
        txq = "-"  # the port's queue's TX queue, as queue show says
        for q in ctl.call("queue", "show", {"dev": dev})["queues"]:
            if q["id"] == qid:
                txq = q.get("txq", "-")
    finally:
        os.close(fd)  # the tap goes with its last file descriptor
        sk.close()
    steered = after.get(qid, 0) - before.get(qid, 0)
    n = len(writes)
    if steered <= 0 or steered > n:
        die("%s: %d frames written, %d counted on its queue %d" % (tap, n, steered, qid))
    others = sum(after.get(q, 0) - before.get(q, 0) for q in after if q != qid)
    if others + steered != n:
        die("%s: %d frames written, vmq counted %d (%d on queue %d)" %
            (tap, n, others + steered, steered, qid))
    first = n - steered
    gap = writes[first] - writes[first - 1] if first > 0 else writes[0] - t0
    # The link is gone: so must be the binding, before the next run.
    end = time.monotonic() + GONE_TIMEOUT_S
    while port_of(ctl.call("port", "show"), tap):
        if time.monotonic() > end:
            die("%s: still bound %.0f s after the link went" % (tap, GONE_TIMEOUT_S))
        time.sleep(0.002)
    return ((bound_ns - t0) / 1e6, (writes[first] - t0) / 1e6, n, steered, qid, txq, gap / 1e3)


def cmd_bind(sock, dev, prefix, n, src, dst):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0)  # 1 us: sleeps close to 100 us
    except OSError:
        pass
    ctl = Ctl(sock)
    for k in range(1, n + 1):
        r = bind_once(ctl, dev, "%s%d" % (prefix, k), src, dst)
        print("%d %.3f %.3f %d %d %d %s %.0f" % ((k,) + r), flush=True)


def cmd_ping(sock, ready, timeout):
    end = time.monotonic() + timeout
    with open(ready, "w"):
        pass
    while time.monotonic() < end:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            time.sleep(0.0005)
            continue
        s.settimeout(max(end - time.monotonic(), 0.001))
        try:
            s.sendall(b'{"version":1,"object":"daemon","command":"ping"}\n')
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            s.close()
            continue
        t = time.time()
        s.close()
        if b"\n" not in buf:  # closed on us: a daemon on its way out, try again
            continue
        ans = json.loads(buf.split(b"\n", 1)[0])
        if not ans.get("ok"):
            die("daemon ping: %r" % ans)
        print("%.6f %d" % (t, ans["result"]["pid"]))
        return
    die("no answer to daemon ping on %s within %.0f s" % (sock, timeout))


def main(argv):
    if len(argv) == 8 and argv[1] == "bind":
        cmd_bind(argv[2], argv[3], argv[4], int(argv[5]), argv[6], argv[7])
    elif len(argv) == 5 and argv[1] == "ping":
        cmd_ping(argv[2], argv[3], float(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
