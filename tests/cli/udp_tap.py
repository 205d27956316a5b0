#!/usr/bin/env python3
"""UDP tap for the CLI tests: records what a client sends, and sends it again later.

  udp_tap.py relay LISTEN_ADDR TARGET_ADDR TARGET_PORT CAPTURE_FILE
      Relays datagrams between clients and TARGET_ADDR:TARGET_PORT, appending each datagram a
      client sends to CAPTURE_FILE (one hex line each). Prints "relay PORT" once listening on
      LISTEN_ADDR (ephemeral port); stops after 120 s without traffic or on SIGTERM.
  udp_tap.py send ADDR PORT CAPTURE_FILE PATH
      Sends again, in order, each captured request whose Uri-Path is PATH (e.g. "counter" or
      "pqc/session/init"), one at a time, each under a new message ID, from one socket, and
      prints for each the answer (same message ID or same token): "CODE PAYLOAD" (e.g.
      "4.01 unknown session"; a payload that is not printable text as "<N bytes>"), or
      "none" after 3 s.
Addresses are numeric IPv4 or IPv6 (no brackets)."""
import select
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def relay(listen_addr, target_addr, target_port, capture):
    down = socket.socket(family(listen_addr), socket.SOCK_DGRAM)
    down.bind((listen_addr, 0))
    up = socket.socket(family(target_addr), socket.SOCK_DGRAM)
    up.connect((target_addr, int(target_port)))
    print("relay %d" % down.getsockname()[1], flush=True)
    client = None
    with open(capture, "a") as out:
        while True:
            ready, _, _ = select.select([down, up], [], [], 120)
            if not ready:
                return
            if down in ready:
                data, client = down.recvfrom(65536)
                out.write(data.hex() + "\n")
                out.flush()
                up.send(data)
            if up in ready:
                data = up.recv(65536)
                if client is not None:
                    down.sendto(data, client)


def option_field(nibble, d, i):
    """An option delta or length nibble with its extension bytes at d[i:]; (value, next i)."""
    if nibble == 13:
        return d[i] + 13, i + 1
    if nibble == 14:
        return (d[i] << 8 | d[i + 1]) + 269, i + 2
    return nibble, i


def parse(d):
    """(Uri-Path as "a/b", payload) of CoAP message d (RFC 7252 sections 3.1, 5.10.1)."""
    i, number, path = 4 + (d[0] & 0x0F), 0, []
    while i < len(d) and d[i] != 0xFF:
        delta, length = d[i] >> 4, d[i] & 0x0F
        delta, i = option_field(delta, d, i + 1)
        length, i = option_field(length, d, i)
        number += delta
        if number == 11:
            path.append(d[i:i + length].decode("utf-8", "replace"))
        i += length
    return "/".join(path), (d[i + 1:] if i < len(d) else b"")


def send(addr, port, capture, path):
    with open(capture) as f:
        captured = [bytes.fromhex(line.strip()) for line in f if line.strip()]
    requests = [d for d in captured if len(d) >= 4 and 1 <= d[1] <= 31 and parse(d)[0] == path]
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    mid = 0x7100
    for d in requests:
        mid += 1
        d = d[:2] + bytes([mid >> 8, mid & 0xFF]) + d[4:]
        token = d[4:4 + (d[0] & 0x0F)]
        s.send(d)
        answer = "none"
        # the answer: piggybacked (same message ID) or separate (same token), not an empty ACK
        while select.select([s], [], [], 3)[0]:
            a = s.recv(65536)
            if len(a) >= 4 and a[1] != 0 and ((a[2] << 8 | a[3]) == mid or
                                              a[4:4 + (a[0] & 0x0F)] == token):
                payload = parse(a)[1]
                text = payload.decode("ascii", "replace")
                if not text.isprintable():
                    text = "<%d bytes>" % len(payload)
                answer = "%d.%02d %s" % (a[1] >> 5, a[1] & 31, text)
                break
        print(answer, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "relay":
        relay(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "send":
        send(*sys.argv[2:])
    else:
        sys.exit(__doc__)
