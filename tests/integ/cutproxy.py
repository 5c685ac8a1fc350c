#!/usr/bin/env python3
"""A TCP relay for one fault: it forwards every connection from LISTEN to TARGET, but
cuts the first response to a GET of an image's rootfs (without a Range header) after
half of its body, closing both sides. The node's init must then resume with Range.
This is test fault injection in front of the real bootsvc, not a stand-in for it.
With "transparent" it connects to TARGET from the client's own address (IP_TRANSPARENT),
so bootsvc sees the node's address as it would without the relay (node calls are served
to a node's fixed address only); the caller routes TARGET's answers to those addresses
back to the local host (tests/integ/boot_faults.sh).
usage: cutproxy.py LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT MARKER_FILE [transparent]"""
import socket, sys, threading

listen_ip, listen_port, target_ip, target_port, marker = sys.argv[1:6]
transparent = len(sys.argv) > 6 and sys.argv[6] == "transparent"
IP_TRANSPARENT = 19  # <linux/in.h>
cut_done = threading.Event()


def pump(src, dst, limit=None):
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if limit is not None and sent + len(data) >= limit:
                dst.sendall(data[: limit - sent])
                return True
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    return False


def connect_upstream(client):
    if not transparent:
        return socket.create_connection((target_ip, int(target_port)))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
    s.bind((client.getpeername()[0], 0))
    s.connect((target_ip, int(target_port)))
    return s


def handle(client):
    try:
        upstream = connect_upstream(client)
    except OSError:
        # The target is down: the client sees its connection closed at once, as it would
        # without the relay (refused), not a connection that hangs until it times out.
        client.close()
        return
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(65536)
        if not chunk:
            break
        head += chunk
    upstream.sendall(head)
    first = head.split(b"\r\n", 1)[0]
    want_cut = (not cut_done.is_set() and first.startswith(b"GET ") and
                b"/rootfs " in first and b"\nrange:" not in head.lower())
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    if want_cut:
        cut_done.set()
        # Response head first, to learn the length, then half the body.
        resp = b""
        while b"\r\n\r\n" not in resp:
            resp += upstream.recv(65536)
        hdr, body = resp.split(b"\r\n\r\n", 1)
        length = 0
        for line in hdr.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        client.sendall(hdr + b"\r\n\r\n")
        half = length // 2
        if len(body) >= half:
            client.sendall(body[:half])
        else:
            client.sendall(body)
            pump(upstream, client, half - len(body))
        open(marker, "w").write("cut at %d of %d\n" % (half, length))
    else:
        pump(upstream, client)
    for s in (client, upstream):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((listen_ip, int(listen_port)))
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
