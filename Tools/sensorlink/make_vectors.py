#!/usr/bin/env python3
"""Writes the SensorLink test vectors in Tests/Fixtures/sensorlink/ from docs/SENSORLINK.md.

This is a second implementation of the wire format, written from the spec with nothing but the
Python standard library (struct, binascii.crc_hqx for CRC-16/CCITT-FALSE) and checked against the
`cobs` package from PyPI (cobs==1.2.2), so the Swift codec and the C firmware are both tested
against bytes that neither of them produced.

Outputs:
  <name>.bin     one frame, or a stream of frames with damage, exactly as on the wire
  vectors.json   every file's contents as fields, the decoder events and counters each stream
                 must produce (from the reference decoder below), CRC and COBS vectors
  README.md      one line per file

Usage:
  Tools/sensorlink/make_vectors.py            rewrite the fixtures
  Tools/sensorlink/make_vectors.py --check    exit 1 if the committed fixtures differ
  Needs `pip install cobs==1.2.2` for the COBS cross-check; --no-cobs-oracle skips it.
"""
import binascii
import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "sensorlink"

VERSION = 1
HEADER = 12
MAX_FRAME = 1024
TYPES = {"hello": 1, "waveform": 2, "vitals": 3, "status": 4}
TYPE_NAMES = {v: k for k, v in TYPES.items()}


# --- Wire primitives ---------------------------------------------------------------------------

def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """COBS, minimal form: no trailing 0x01 block after data ending on a full 254-byte block."""
    out = bytearray()
    block = bytearray()
    last_full = False
    for b in data:
        last_full = False
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
                last_full = True
    if not last_full:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode_lenient(data: bytes):
    """Unstuffs as the streaming decoder does, byte by byte. Returns (decoded, complete): the
    bytes a receiver has produced by the end of `data`, and whether the last block was whole."""
    out = bytearray()
    remaining = 0
    zero_next = False
    for b in data:
        assert b != 0
        if remaining:
            out.append(b)
            remaining -= 1
        else:
            if zero_next:
                out.append(0)
            remaining = b - 1
            zero_next = b != 0xFF
    return bytes(out), remaining == 0


# --- Frames from field descriptions (the same dictionaries go into vectors.json) ----------------

def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def payload_bytes(kind: str, p: dict) -> bytes:
    if kind == "hello":
        b = struct.pack("<BBBBB", *p["firmware"], 1 if p["boot"] else 0, len(p["channels"]))
        for c in p["channels"]:
            b += struct.pack("<BBBBIIi", c["id"], c["kind"], c["format"], c["unit"], c["rate_mhz"],
                             c["scale_bits"], c["offset"])
        return b
    if kind == "waveform":
        s = p["samples"]
        fmt = {1: "h", 2: "i"}[p["format"]]
        return struct.pack("<BBHIQ", p["channel"], p["format"], len(s), p["rate_mhz"],
                           p["first_sample_index"]) + struct.pack(f"<{len(s)}{fmt}", *s)
    if kind == "vitals":
        b = struct.pack("<B", len(p["readings"]))
        for r in p["readings"]:
            b += struct.pack("<BBbBi", r["kind"], r["unit"], r["exponent"], r["quality"], r["mantissa"])
        return b
    if kind == "status":
        b = struct.pack("<HBBIB", p["lead_off"], p["battery_percent"], p["power"], p["dropped_samples"],
                        len(p["faults"]))
        for f in p["faults"]:
            b += struct.pack("<BB", f["sensor"], f["code"])
        return b
    raise ValueError(kind)


def frame_bytes(f: dict) -> bytes:
    """Header + payload + CRC of a frame description, before COBS. A description with `raw`
    builds frames this decoder must reject though their CRC is valid (other version, unknown
    type, inconsistent payload)."""
    if "raw" in f:
        r = f["raw"]
        body = struct.pack("<BBHQ", r["version"], r["type_byte"], f["sequence"], f["timestamp_us"])
        body += bytes.fromhex(r["payload_hex"])
    else:
        body = struct.pack("<BBHQ", VERSION, TYPES[f["type"]], f["sequence"], f["timestamp_us"])
        body += payload_bytes(f["type"], f["payload"])
    assert len(body) + 2 <= MAX_FRAME or f.get("oversize"), f
    return body + struct.pack("<H", crc16(body))


def wire(f: dict) -> bytes:
    return cobs_encode(frame_bytes(f)) + b"\x00"


# --- Reference decoder: what a receiver must report for a byte stream ----------------------------

def payload_ok(type_byte: int, p: bytes) -> str | None:
    """None if the payload parses, else the error name."""
    n = len(p)
    if type_byte == 1:
        if n < 5 or n != 5 + 16 * p[4]:
            return "malformed-payload"
        if any(p[5 + 16 * i + 2] not in (1, 2) for i in range(p[4])):
            return "bad-sample-format"
    elif type_byte == 2:
        if n < 16:
            return "malformed-payload"
        if p[1] not in (1, 2):
            return "bad-sample-format"
        count = struct.unpack_from("<H", p, 2)[0]
        if n != 16 + count * (2 if p[1] == 1 else 4):
            return "malformed-payload"
    elif type_byte == 3:
        if n < 1 or n != 1 + 8 * p[0]:
            return "malformed-payload"
    elif type_byte == 4:
        if n < 9 or n != 9 + 2 * p[8]:
            return "malformed-payload"
    return None


STAT_KEYS = ["bytes", "bytes_before_sync", "dropped_bytes", "frames", "cobs_errors", "crc_errors",
             "oversize_frames", "short_frames", "unsupported_versions", "unknown_types",
             "malformed_payloads", "sequence_gaps", "frames_lost", "sequence_rewinds", "device_restarts"]


def reference_decode(stream: bytes, frames: list[dict], max_frame: int = MAX_FRAME):
    """Events and counters per docs/SENSORLINK.md ("Receiver"). A delivered frame is reported as
    its index in `frames` (the frame descriptions the stream was built from)."""
    by_bytes = {frame_bytes(f): i for i, f in enumerate(frames)}
    stats = dict.fromkeys(STAT_KEYS, 0)
    stats["bytes"] = len(stream)
    events = []
    expected = None
    chunks = stream.split(b"\x00")
    for k, chunk in enumerate(chunks):
        if k == len(chunks) - 1:
            break  # bytes after the last delimiter: a frame still arriving
        if not chunk:
            continue

        def drop(name, counter):
            stats[counter] += 1
            stats["dropped_bytes"] += len(chunk)
            events.append({"dropped": name})

        data, complete = cobs_decode_lenient(chunk)
        if len(data) > max_frame:
            drop("oversize", "oversize_frames")
            continue
        if not complete:
            drop("cobs", "cobs_errors")
            continue
        if len(data) < HEADER + 2:
            drop("too-short", "short_frames")
            continue
        if crc16(data[:-2]) != struct.unpack("<H", data[-2:])[0]:
            drop("crc", "crc_errors")
            continue
        version, type_byte, seq = struct.unpack_from("<BBH", data)
        payload = data[HEADER:-2]
        boot = version == VERSION and type_byte == 1 and len(payload) >= 4 and payload[3] & 1
        if boot:
            stats["device_restarts"] += 1
            events.append({"restart": seq})
        elif expected is not None and seq != expected:
            ahead = (seq - expected) % 65536
            if ahead < 0x8000:
                stats["sequence_gaps"] += 1
                stats["frames_lost"] += ahead
                events.append({"gap": [expected, seq, ahead]})
            else:
                stats["sequence_rewinds"] += 1
                events.append({"rewound": [expected, seq]})
        expected = (seq + 1) % 65536
        if version != VERSION:
            drop("unsupported-version", "unsupported_versions")
            continue
        if type_byte not in TYPE_NAMES:
            drop("unknown-type", "unknown_types")
            continue
        error = payload_ok(type_byte, payload)
        if error:
            drop(error, "malformed_payloads")
            continue
        stats["frames"] += 1
        events.append({"frame": by_bytes[data]})
    return events, stats


# --- The vectors ---------------------------------------------------------------------------------

# ADS1292R, gain 6, VREF 2.42 V: one count of the 24-bit converter is 2·VREF/6/2^24 V, in mV.
ADS1292R_MV = 2 * 2.42 / 6 / 2**24 * 1000


def channel(id, kind, fmt, unit, rate_mhz, scale, offset):
    return {"id": id, "kind": kind, "format": fmt, "unit": unit, "rate_mhz": rate_mhz,
            "scale": struct.unpack("<f", struct.pack("<f", scale))[0], "scale_bits": f32_bits(scale),
            "offset": offset}


HELLO = {
    "sequence": 0, "timestamp_us": 1523, "type": "hello",
    "payload": {"firmware": [1, 2, 3], "boot": True, "channels": [
        channel(0, 1, 2, 1, 500_000, ADS1292R_MV, 0),       # ECG, int32, mV, 500 Hz
        channel(1, 2, 2, 0, 500_000, 1.0, 0),               # respiration impedance, raw counts
        channel(2, 3, 2, 0, 100_000, 1.0, 0),               # PPG red, 18-bit counts
        channel(3, 4, 2, 0, 100_000, 1.0, 0),               # PPG infrared
        channel(4, 1, 1, 1, 360_000, 1 / 200, 1024),        # ECG replayed from MIT-BIH (sensor-sim)
    ]},
}

FRAMES = [
    ("hello.bin", "boot hello: firmware 1.2.3, five channels (ADS1292R ECG and respiration, "
                  "MAX30102 red and IR, an MIT-BIH replay channel with scale 1/200 mV and offset 1024)", HELLO),
    ("hello-periodic.bin", "periodic hello (boot flag clear), no channels, sequence 0xFFFF",
     {"sequence": 0xFFFF, "timestamp_us": 5_000_000_000, "type": "hello",
      "payload": {"firmware": [0, 0, 1], "boot": False, "channels": []}}),
    ("waveform-int16.bin", "int16 block, 360 Hz: zeros, +-1, the int16 extremes and MIT-BIH-like values",
     {"sequence": 0x1234, "timestamp_us": 2_777_777, "type": "waveform",
      "payload": {"channel": 4, "format": 1, "rate_mhz": 360_000, "first_sample_index": 1000,
                  "samples": [0, 0, 1, -1, 32767, -32768, 0x0100, 0x00FF, 995, 1013, 1120, -256]}}),
    ("waveform-int32.bin", "int32 block, 100 Hz, first sample index beyond 32 bits, timestamp beyond 32 bits",
     {"sequence": 7, "timestamp_us": 0x1_2345_6789, "type": "waveform",
      "payload": {"channel": 2, "format": 2, "rate_mhz": 100_000, "first_sample_index": 0x2_0000_0005,
                  "samples": [0, 2147483647, -2147483648, 262143, -1, 65536, 1]}}),
    ("waveform-long-run.bin", "int16 block whose 300 non-zero sample bytes make full 254-byte COBS blocks",
     {"sequence": 300, "timestamp_us": 86_400_000_000, "type": "waveform",
      "payload": {"channel": 0, "format": 1, "rate_mhz": 500_000, "first_sample_index": 43_200_000,
                  "samples": [0x0101 + i for i in range(150)]}}),
    ("waveform-max.bin", "the longest frame: 497 int16 samples, 1024 bytes before COBS",
     {"sequence": 2, "timestamp_us": 10, "type": "waveform",
      "payload": {"channel": 0, "format": 1, "rate_mhz": 500_000, "first_sample_index": 0,
                  "samples": [(i * 37) % 65536 - 32768 for i in range(497)]}}),
    ("vitals.bin", "HR 72 /min (quality 95), SpO2 97 % (90), RR 16 /min (quality unknown), "
                   "temperature 36.8 C as 368e-1, systolic 120 mmHg",
     {"sequence": 41, "timestamp_us": 60_000_123, "type": "vitals",
      "payload": {"readings": [
          {"kind": 1, "unit": 3, "mantissa": 72, "exponent": 0, "quality": 95},
          {"kind": 3, "unit": 4, "mantissa": 97, "exponent": 0, "quality": 90},
          {"kind": 4, "unit": 3, "mantissa": 16, "exponent": 0, "quality": 255},
          {"kind": 5, "unit": 5, "mantissa": 368, "exponent": -1, "quality": 100},
          {"kind": 6, "unit": 6, "mantissa": 120, "exponent": 0, "quality": 255}]}}),
    ("status.bin", "lead off on IN1N and RLD, battery 87 %, external power and charging, 12 samples "
                   "dropped on the device, faults: pulse oximeter no contact, ECG front end saturated",
     {"sequence": 512, "timestamp_us": 61_000_000, "type": "status",
      "payload": {"lead_off": 0b10010, "battery_percent": 87, "power": 3, "dropped_samples": 12,
                  "faults": [{"sensor": 2, "code": 5}, {"sensor": 1, "code": 3}]}}),
    ("status-ok.bin", "all electrodes on, no battery (255), no faults",
     {"sequence": 513, "timestamp_us": 62_000_000, "type": "status",
      "payload": {"lead_off": 0, "battery_percent": 255, "power": 1, "dropped_samples": 0, "faults": []}}),
]


def ecg_block(seq, first, n=10):
    """A waveform frame of the stream vectors: channel 0, int32, 500 Hz, a small ramp."""
    return {"sequence": seq, "timestamp_us": 1_000_000 + first * 2000, "type": "waveform",
            "payload": {"channel": 0, "format": 2, "rate_mhz": 500_000, "first_sample_index": first,
                        "samples": [(first + i) * 3 - 40 for i in range(n)]}}


def damaged_stream():
    """Every kind of damage between good frames; returns (bytes, frames, story)."""
    frames = [HELLO] + [ecg_block(s, 10 * (s - 1)) for s in range(1, 16)]
    status = {"sequence": 16, "timestamp_us": 1_040_000, "type": "status",
              "payload": {"lead_off": 1, "battery_percent": 50, "power": 0, "dropped_samples": 0, "faults": []}}
    unknown = {"sequence": 12, "timestamp_us": 1_030_000, "raw": {"version": 1, "type_byte": 0x7F, "payload_hex": "c0ffee"}}
    future = {"sequence": 13, "timestamp_us": 1_030_500, "raw": {"version": 2, "type_byte": 2, "payload_hex": "00"}}
    bad_count = {"sequence": 14, "timestamp_us": 1_031_000,
                 "raw": {"version": 1, "type_byte": 3, "payload_hex": "02" + "01030000" "48000000"}}
    frames += [unknown, future, bad_count, status]
    w = [wire(f) for f in frames]
    s = bytearray(b"\x00")                          # the delimiter a device sends at boot
    s += w[0] + w[1]                                # hello (boot, seq 0), block seq 1
    s += bytes([0x05, 0x11, 0x22]) + b"\x00"        # garbage: block announces 4 bytes, 2 follow -> cobs
    s += bytes([0x03, 0xAA, 0xBB, 0x02, 0xCC]) + b"\x00"  # garbage, valid COBS, 4 bytes -> too-short
    s += b"\x00\x00"                                # padding delimiters: ignored
    s += w[2]                                       # seq 2
    bad = bytearray(w[3]); bad[20] ^= 0x04          # seq 3, one bit flipped in a sample -> crc
    s += bad
    s += w[4]                                       # seq 4 -> gap: 3 lost
    s += w[5]                                       # seq 5
    s += w[8]                                       # seq 8 -> gap: 6, 7 lost
    s += bytes([0x01] * 1100) + b"\x00"             # 1099 zero bytes decoded -> oversize
    s += w[9]                                       # seq 9
    s += w[10][:-3] + b"\x00"                       # seq 10 lost its last 2 bytes: last block incomplete -> cobs
    s += bytes([0x7E, 0x21]) + w[11]                # garbage glued to seq 11 -> that frame lost (cobs)
    s += w[16]                                      # seq 12, unknown type 0x7F -> gap (10, 11) then unknown-type
    s += w[17]                                      # seq 13, version 2 -> unsupported-version
    s += w[18]                                      # seq 14, vitals with count 2 but one reading -> malformed
    s += w[15]                                      # seq 15
    s += w[19]                                      # seq 16 status
    s += bytes([0x02, 0x33])                        # trailing partial frame: not reported yet
    story = {"frames": 9, "cobs_errors": 3, "short_frames": 1, "crc_errors": 1, "oversize_frames": 1,
             "unknown_types": 1, "unsupported_versions": 1, "malformed_payloads": 1,
             "sequence_gaps": 3, "frames_lost": 5, "device_restarts": 1}
    return bytes(s), frames, story


def wrap_stream():
    """The 16-bit sequence wrapping inside a gap, then a rewind and a device restart."""
    frames = [ecg_block(s, 10 * i) for i, s in enumerate([0xFFFE, 0xFFFF, 0x0001, 0x0002, 0x0001])]
    reboot = dict(HELLO)
    frames.append(reboot)
    frames.append(ecg_block(1, 0))
    s = b"".join(wire(f) for f in frames)
    story = {"frames": 7, "sequence_gaps": 1, "frames_lost": 1, "sequence_rewinds": 1, "device_restarts": 1}
    return s, frames, story


def clean_stream():
    """What the firmware sends after boot: hello, interleaved ECG and PPG blocks, vitals, status."""
    frames = [HELLO]
    seq = 1
    for k in range(6):
        frames.append(dict(ecg_block(seq, 25 * k, 25), sequence=seq)); seq += 1
        if k % 2 == 1:
            frames.append({"sequence": seq, "timestamp_us": 1_000_000 + k * 50_000, "type": "waveform",
                           "payload": {"channel": 2, "format": 2, "rate_mhz": 100_000, "first_sample_index": 5 * k,
                                       "samples": [100_000 + 7 * (5 * k + i) for i in range(10)]}}); seq += 1
    frames.append(dict(FRAMES[6][2], sequence=seq)); seq += 1
    frames.append(dict(FRAMES[8][2], sequence=seq))
    s = b"\x00" + b"".join(wire(f) for f in frames)
    story = {"frames": len(frames), "device_restarts": 1}
    return s, frames, story


STREAMS = [
    ("stream-clean.bin", "boot delimiter, boot hello, 9 waveform blocks on two channels, vitals, status: no errors", clean_stream),
    ("stream-damaged.bin", "garbage (COBS error, too short), padding delimiters, a flipped bit (CRC), "
                           "missing frames (gaps of 1 and 2), an oversize run, a truncated frame, garbage "
                           "glued to a frame, unknown type, version 2, a malformed vitals payload, a partial tail",
     damaged_stream),
    ("stream-wrap.bin", "sequence 0xFFFE, 0xFFFF, 1 (gap of 1 across the wrap), 2, 1 (rewind), "
                        "boot hello (restart), 1", wrap_stream),
]

COBS_CASES = [
    ("empty", b""), ("one zero", b"\x00"), ("two zeros", b"\x00\x00"),
    ("zero inside", bytes.fromhex("11220033")), ("no zero", bytes.fromhex("11223344")),
    ("trailing zeros", bytes.fromhex("11000000")),
    ("253 non-zero", bytes(range(1, 254))), ("254 non-zero", bytes(range(1, 255))),
    ("255 non-zero", bytes(range(1, 256))), ("zero then 254 non-zero", b"\x00" + bytes(range(1, 255))),
    ("254 non-zero then zero", bytes(range(1, 255)) + b"\x00"),
    ("255 non-zero then zero", bytes(range(1, 256)) + b"\x00"),
    ("508 non-zero", bytes(range(1, 255)) * 2), ("509 non-zero", bytes(range(1, 255)) * 2 + b"\x01"),
    ("254 zeros", bytes(254)),
]


def build(use_oracle: bool):
    if use_oracle:
        try:
            from cobs import cobs as oracle
        except ImportError:
            sys.exit("make_vectors: the COBS oracle is missing: pip install cobs==1.2.2 (or pass --no-cobs-oracle)")
    files = {}
    doc = {
        "format": "SensorLink v1 test vectors (docs/SENSORLINK.md)",
        "generator": "Tools/sensorlink/make_vectors.py",
        "crc": [{"ascii": "123456789", "crc": crc16(b"123456789")},
                {"ascii": "", "crc": crc16(b"")},
                {"ascii": "SensorLink", "crc": crc16(b"SensorLink")}],
        "cobs": [], "frames": [], "streams": [],
    }
    assert crc16(b"123456789") == 0x29B1
    for name, data in COBS_CASES:
        enc = cobs_encode(data)
        if use_oracle:
            assert enc == oracle.encode(data), name
            assert oracle.decode(enc) == data, name
        assert cobs_decode_lenient(enc) == (data, True), name
        doc["cobs"].append({"what": name, "decoded_hex": data.hex(), "encoded_hex": enc.hex()})
    for name, what, f in FRAMES:
        raw = frame_bytes(f)
        w = wire(f)
        if use_oracle:
            assert w[:-1] == oracle.encode(raw)
        files[name] = w
        doc["frames"].append({"file": name, "what": what, **f, "unstuffed_hex": raw.hex(),
                              "crc": crc16(raw[:-2]), "wire_length": len(w)})
    assert len(frame_bytes(FRAMES[5][2])) == MAX_FRAME
    for name, what, make in STREAMS:
        data, frames, story = make()
        events, stats = reference_decode(data, frames)
        for k, v in story.items():
            assert stats[k] == v, (name, k, stats[k], v)
        for k in stats:
            if k not in story and k not in ("bytes", "dropped_bytes", "bytes_before_sync"):
                assert stats[k] == 0, (name, k, stats[k])
        files[name] = data
        doc["streams"].append({"file": name, "what": what, "frames": frames,
                               "events": events, "statistics": stats})
    readme = ["# SensorLink test vectors", "",
              "Generated by `Tools/sensorlink/make_vectors.py` (a Python implementation of",
              "docs/SENSORLINK.md, COBS cross-checked with the PyPI `cobs` package); do not edit by hand.",
              "`vectors.json` gives each file's contents as fields, the unstuffed bytes and CRC of each",
              "frame, and for each stream the decoder events and counters it must produce. It also holds",
              "CRC-16/CCITT-FALSE and COBS vectors. Swift: Tests/SensorLinkTests/VectorTests.swift.", "",
              "| file | contents |", "| --- | --- |"]
    readme += [f"| `{n}` | {w} |" for n, w, _ in FRAMES]
    readme += [f"| `{n}` | {w} |" for n, w, _ in STREAMS]
    files["vectors.json"] = (json.dumps(doc, indent=1) + "\n").encode()
    files["README.md"] = ("\n".join(readme) + "\n").encode()
    return files


def main(argv):
    check = "--check" in argv
    files = build(use_oracle="--no-cobs-oracle" not in argv)
    if check:
        bad = [n for n, b in files.items() if not (OUT / n).exists() or (OUT / n).read_bytes() != b]
        extra = sorted(p.name for p in OUT.glob("*") if p.name not in files)
        if bad or extra:
            print(f"make_vectors: differ: {bad}, unexpected: {extra}", file=sys.stderr)
            return 1
        print(f"make_vectors: {len(files)} files match")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for n, b in files.items():
        (OUT / n).write_bytes(b)
    print(f"make_vectors: wrote {len(files)} files to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
