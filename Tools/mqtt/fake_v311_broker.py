#!/usr/bin/env python3
"""A stand-in for an MQTT 3.1.1-only broker, for the protocol fallback test: it answers a CONNECT
at protocol level 5 with the 3.1.1 CONNACK "unacceptable protocol version" (0x01) and closes, and
accepts level 4 (3.1.1). It prints its port, then serves until killed. Only CONNECT is understood;
everything after an accepted CONNECT is read and ignored."""
import socket
import sys
import threading


def read_packet(conn):
    header = conn.recv(1)
    if not header:
        return None, None
    length, shift = 0, 0
    while True:
        b = conn.recv(1)[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None, None
        body += chunk
    return header[0], body


def serve(conn):
    with conn:
        kind, body = read_packet(conn)
        if kind is None or kind >> 4 != 1:
            return
        name_len = int.from_bytes(body[0:2], "big")
        level = body[2 + name_len]
        if level == 5:
            conn.sendall(bytes([0x20, 0x02, 0x00, 0x01]))
            return
        conn.sendall(bytes([0x20, 0x02, 0x00, 0x00]))
        while True:
            kind, body = read_packet(conn)
            if kind is None:
                return
            if kind >> 4 == 12:  # PINGREQ -> PINGRESP
                conn.sendall(bytes([0xD0, 0x00]))


def main():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    print(server.getsockname()[1], flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
