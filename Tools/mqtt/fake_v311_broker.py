#!/usr/bin/env python3
"""A stand-in for a broker that only speaks MQTT 3.1.1, for the protocol fallback checks (real
mosquitto speaks both and cannot be told to refuse 5).

A CONNECT at protocol level 5 is refused the way 3.1.1-only brokers do it, chosen by --refuse:
  connack  a 3.1.1 CONNACK with return code 0x01 "unacceptable protocol version", then close
           (what the MQTT 3.1.1 spec asks for, section 3.1.2.2)
  close    close the connection without any CONNACK (what some older brokers do)
A CONNECT at level 4 (3.1.1) or 3 (3.1) is accepted. After that it speaks just enough 3.1.1 for
a publisher: PUBLISH (QoS 1 answered with PUBACK, QoS 2 refused by closing), SUBSCRIBE (SUBACK
granting what was asked, at most QoS 1), PINGREQ, DISCONNECT. Anything else, or a malformed
packet, closes the connection and is logged as an error.

Prints its port on stdout, then serves until killed. With --log FILE every CONNECT, PUBLISH,
SUBSCRIBE, DISCONNECT and connection end is appended to FILE as one JSON object per line
(payloads as UTF-8 text, or base64 when not valid UTF-8), so a test can see exactly what the
client sent.

Usage: fake_v311_broker.py [--refuse connack|close] [--log FILE]
"""
import argparse
import base64
import json
import signal
import socket
import sys
import threading

LOG_LOCK = threading.Lock()


class ProtocolError(Exception):
    pass


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_packet(conn):
    """(first byte, body) or (None, None) at end of stream."""
    header = recv_exact(conn, 1)
    if header is None:
        return None, None
    length, multiplier = 0, 1
    for _ in range(4):
        b = recv_exact(conn, 1)
        if b is None:
            return None, None
        length += (b[0] & 0x7F) * multiplier
        multiplier *= 128
        if not b[0] & 0x80:
            break
    else:
        raise ProtocolError("remaining length longer than 4 bytes")
    body = recv_exact(conn, length) if length else b""
    if body is None:
        return None, None
    return header[0], body


def utf8_field(body, offset):
    if offset + 2 > len(body):
        raise ProtocolError("truncated string length")
    n = int.from_bytes(body[offset:offset + 2], "big")
    if offset + 2 + n > len(body):
        raise ProtocolError("truncated string")
    return body[offset + 2:offset + 2 + n], offset + 2 + n


def text(data):
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


class Session:
    def __init__(self, conn, peer, args):
        self.conn, self.peer, self.args = conn, peer, args

    def log(self, **event):
        if not self.args.log:
            return
        event["peer"] = self.peer
        with LOG_LOCK, open(self.args.log, "a") as f:
            f.write(json.dumps(event) + "\n")

    def connect(self, body):
        name, at = utf8_field(body, 0)
        if name not in (b"MQTT", b"MQIsdp") or at + 4 > len(body):
            raise ProtocolError(f"CONNECT with protocol name {name!r}")
        level, flags = body[at], body[at + 1]
        keepalive = int.from_bytes(body[at + 2:at + 4], "big")
        if level == 5:
            self.log(event="connect", level=level, result="refused-" + self.args.refuse)
            if self.args.refuse == "connack":
                self.conn.sendall(bytes([0x20, 0x02, 0x00, 0x01]))
            return False
        if level not in (3, 4):
            self.log(event="connect", level=level, result="refused-unknown-level")
            self.conn.sendall(bytes([0x20, 0x02, 0x00, 0x01]))
            return False
        at += 4
        client_id, at = utf8_field(body, at)
        event = {"event": "connect", "level": level, "result": "accepted", "client_id": client_id.decode(),
                 "keepalive": keepalive, "clean_session": bool(flags & 0x02), "will": None}
        if flags & 0x04:
            topic, at = utf8_field(body, at)
            message, at = utf8_field(body, at)
            event["will"] = {"topic": topic.decode(), "qos": (flags >> 3) & 3, "retain": bool(flags & 0x20), **text(message)}
        if flags & 0x80:
            user, at = utf8_field(body, at)
            event["username"] = user.decode()
        if flags & 0x40:
            _, at = utf8_field(body, at)
            event["password"] = True
        if at != len(body):
            raise ProtocolError(f"CONNECT has {len(body) - at} bytes after its fields (MQTT 5 properties?)")
        self.log(**event)
        self.conn.sendall(bytes([0x20, 0x02, 0x00, 0x00]))
        return True

    def publish(self, first, body):
        qos, retain, dup = (first >> 1) & 3, bool(first & 1), bool(first & 8)
        topic, at = utf8_field(body, 0)
        packet_id = None
        if qos == 3:
            raise ProtocolError("PUBLISH with QoS 3")
        if qos == 2:
            raise ProtocolError("PUBLISH with QoS 2 (not supported here)")
        if qos == 1:
            if at + 2 > len(body):
                raise ProtocolError("PUBLISH without packet id")
            packet_id = int.from_bytes(body[at:at + 2], "big")
            at += 2
        self.log(event="publish", topic=topic.decode(), qos=qos, retain=retain, dup=dup, packet_id=packet_id, **text(body[at:]))
        if qos == 1:
            self.conn.sendall(bytes([0x40, 0x02]) + packet_id.to_bytes(2, "big"))

    def subscribe(self, body):
        packet_id = int.from_bytes(body[0:2], "big")
        at, granted, filters = 2, [], []
        while at < len(body):
            topic, at = utf8_field(body, at)
            if at >= len(body):
                raise ProtocolError("SUBSCRIBE filter without options")
            options = body[at]
            at += 1
            if options & 0xFC:
                raise ProtocolError(f"SUBSCRIBE options 0x{options:02x} (MQTT 5 bits in a 3.1.1 session)")
            filters.append(topic.decode())
            granted.append(min(options & 3, 1))
        self.log(event="subscribe", filters=filters)
        self.conn.sendall(bytes([0x90, 2 + len(granted)]) + packet_id.to_bytes(2, "big") + bytes(granted))

    def run(self):
        with self.conn:
            try:
                first, body = read_packet(self.conn)
                if first is None:
                    return
                if first >> 4 != 1:
                    raise ProtocolError(f"first packet type {first >> 4}, expected CONNECT")
                if not self.connect(body):
                    return
                while True:
                    first, body = read_packet(self.conn)
                    if first is None:
                        self.log(event="closed", how="end of stream without DISCONNECT")
                        return
                    kind = first >> 4
                    if kind == 3:
                        self.publish(first, body)
                    elif kind == 8:
                        self.subscribe(body)
                    elif kind == 12:
                        self.conn.sendall(bytes([0xD0, 0x00]))
                    elif kind == 14:
                        if body:
                            raise ProtocolError("DISCONNECT with a body (MQTT 5 reason code?)")
                        self.log(event="disconnect")
                        return
                    else:
                        raise ProtocolError(f"packet type {kind} not expected from a publisher")
            except ProtocolError as e:
                self.log(event="error", detail=str(e))
            except OSError as e:
                self.log(event="closed", how=f"socket error {e}")


def main():
    # A test runner may have blocked SIGTERM in us; being stoppable matters more than anything.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refuse", choices=["connack", "close"], default="connack")
    parser.add_argument("--log")
    args = parser.parse_args()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    print(server.getsockname()[1], flush=True)
    while True:
        conn, peer = server.accept()
        session = Session(conn, f"{peer[0]}:{peer[1]}", args)
        threading.Thread(target=session.run, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
