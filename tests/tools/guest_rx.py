#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""guest_rx.py PORT OUT: the wire side's receiver of the test guests' datagrams.

Binds UDP PORT on every address and records, per tag, which sequence
numbers arrived (payload: tests/guest/sender.c: bytes 0..7 the sequence
number, big-endian; bytes 8..23 the tag, NUL-padded). Every 0.1 s that
something changed, OUT is rewritten (atomically: a temporary file, then
rename) with one JSON object:

  {"bad": datagrams that were not 24 bytes,
   "tags": {TAG: {"count": datagrams, "unique": distinct sequence numbers,
                  "dups": count - unique, "max": highest seq (-1: none),
                  "missing": numbers in 0..max not received,
                  "first_missing": the lowest of them (-1: none),
                  "first": wall-clock time of the first datagram (s),
                  "last": of the last one, "sports": distinct source ports,
                  "max_gap": the longest time between two consecutive
                  datagrams of the tag (s),
                  "reordered": datagrams that arrived after one with a
                  higher sequence number (late: overtaken on the way)}}}

OUT exists (with no tags) as soon as the socket is bound. Runs until
SIGTERM or SIGINT, then writes OUT a last time.
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import time


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    tags = {}
    bad = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    def write():
        doc = {"bad": bad, "tags": {}}
        for tag, t in tags.items():
            seen = t["seen"]
            hi = len(seen) - 1
            missing = [i for i in range(hi + 1) if not seen[i]]
            doc["tags"][tag] = {
                "count": t["count"], "unique": t["unique"],
                "dups": t["count"] - t["unique"], "max": hi,
                "missing": len(missing),
                "first_missing": missing[0] if missing else -1,
                "first": t["first"], "last": t["last"],
                "sports": len(t["sports"]), "max_gap": t["max_gap"],
                "reordered": t["reordered"],
            }
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, sort_keys=True)
        os.rename(tmp, out)

    write()
    dirty = False
    next_write = time.monotonic() + 0.1
    while not stop:
        try:
            r, _, _ = select.select([s], [], [], 0.05)
        except InterruptedError:
            continue
        if r:
            while True:
                try:
                    data, addr = s.recvfrom(2048)
                except BlockingIOError:
                    break
                now = time.time()
                if len(data) != 24:
                    bad += 1
                    dirty = True
                    continue
                (seq,) = struct.unpack(">Q", data[:8])
                tag = data[8:].rstrip(b"\0").decode("ascii", "replace")
                t = tags.get(tag)
                if t is None:
                    t = tags[tag] = {"seen": bytearray(), "count": 0, "unique": 0,
                                     "first": now, "last": now, "sports": set(),
                                     "max_gap": 0.0, "reordered": 0}
                if seq >= 1 << 24:
                    bad += 1
                    dirty = True
                    continue
                if seq + 1 < len(t["seen"]) and not t["seen"][seq]:
                    t["reordered"] += 1  # a higher number came first
                if seq >= len(t["seen"]):
                    t["seen"].extend(bytes(seq + 1 - len(t["seen"])))
                t["count"] += 1
                if not t["seen"][seq]:
                    t["seen"][seq] = 1
                    t["unique"] += 1
                t["max_gap"] = max(t["max_gap"], now - t["last"])
                t["last"] = now
                t["sports"].add(addr[1])
                dirty = True
        if dirty and time.monotonic() >= next_write:
            write()
            dirty = False
            next_write = time.monotonic() + 0.1
    write()


if __name__ == "__main__":
    main()
