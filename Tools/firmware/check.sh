#!/usr/bin/env bash
# Sensor-bridge firmware checks (issue 5), for Tools/test.sh:
#  1. Firmware/SensorBridge/build.sh builds the Embedded Swift firmware ELF/.bin for the STM32F411
#     and fails if flash > 64 KiB or RAM > 16 KiB; then a deliberately tiny budget must make the
#     same check fail (so the budget check itself can fail).
#  2. sensor-sim replays 30 s of MIT-BIH record 208 as fast as possible to a file; an independent
#     Python decoder (PyPI `cobs`, binascii CRC-16/CCITT-FALSE, docs/SENSORLINK.md) checks every
#     frame's CRC and sequence and that the ECG channel carries exactly the recording's ADC units.
#  3. The link budget: bytes/s of 10 s of the board's default stream (ECG + respiration at 500 Hz,
#     red + IR at 100 Hz, int32) against 921600 baud 8N1 = 92160 B/s.
# The end-to-end pty test (sim → pty → SerialSource) is a Swift test:
# Tests/VigilSensorsTests/SerialEndToEndTests.swift.
#
# Assumes `swift build` ran (sensor-sim in `swift build --show-bin-path`); VIGIL_BIN=<dir> overrides.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
BIN="${VIGIL_BIN:-$(swift build --show-bin-path)}"
SIM="$BIN/sensor-sim"
[ -x "$SIM" ] || { echo "firmware/check: $SIM not built (swift build --product sensor-sim)" >&2; exit 2; }
WORK=.build-firmware/check
mkdir -p "$WORK"
status=0

echo "firmware/check: 1. firmware build and budget"
if ! Firmware/SensorBridge/build.sh; then
  echo "firmware/check: FAILED: firmware build or budget" >&2
  status=1
elif FLASH_BUDGET=4096 RAM_BUDGET=4096 Firmware/SensorBridge/build.sh --check-only >"$WORK/tiny.log" 2>&1; then
  echo "firmware/check: FAILED: a 4 KiB budget was accepted; the budget check cannot fail" >&2
  status=1
else
  echo "firmware/check: a 4 KiB budget is rejected, as it must be: $(grep -c 'OVER BUDGET' "$WORK/tiny.log") over-budget lines"
fi

echo "firmware/check: 2. sensor-sim replay decoded by an independent Python decoder"
RECORDING=Models/ecg-rhythm/data/mitbih-208-excerpt.npy
"$SIM" --input "$RECORDING" --input-rate 360 --duration 30 --speed max --output stdout --report "$WORK/replay.json" \
  > "$WORK/replay.bin" 2>"$WORK/replay.log"
"$SIM" --duration 10 --speed max --output stdout --report "$WORK/synthetic.json" > "$WORK/synthetic.bin" 2>"$WORK/synthetic.log"
"$PY" - "$WORK/replay.bin" "$RECORDING" "$WORK/replay.json" "$WORK/synthetic.bin" <<'PYEOF' || status=1
import binascii, json, struct, sys
import numpy as np
from cobs import cobs

def frames(path):
    data = open(path, "rb").read()
    out = []
    for chunk in data.split(b"\0"):
        if not chunk:
            continue
        raw = cobs.decode(chunk)
        assert len(raw) >= 14, f"short frame {len(raw)}"
        crc = binascii.crc_hqx(raw[:-2], 0xFFFF)
        assert crc == struct.unpack("<H", raw[-2:])[0], f"CRC mismatch in frame {len(out)}"
        version, ftype, seq, ts = struct.unpack("<BBHQ", raw[:12])
        assert version == 1
        out.append((ftype, seq, ts, raw[12:-2]))
    return out, len(data)

fr, nbytes = frames(sys.argv[1])
seqs = [f[1] for f in fr]
assert seqs == list(range(len(fr))), "sequence numbers are not 0, 1, 2, ..."
hello = fr[0]
assert hello[0] == 1 and hello[3][3] & 1, "the first frame is not the boot hello"
n = hello[3][4]
chans = {}
for i in range(n):
    cid, kind, fmt, unit, rate, scale, offset = struct.unpack("<BBBBIfi", hello[3][5 + 16 * i: 21 + 16 * i])
    chans[cid] = (kind, fmt, unit, rate, scale, offset)
kind, fmt, unit, rate, scale, offset = chans[0]
assert (kind, fmt, unit, rate, offset) == (1, 1, 1, 360000, 1024), chans[0]
assert abs(scale - 1 / 200) < 1e-9
ecg, nxt = [], 0
for ftype, seq, ts, p in fr:
    if ftype != 2 or p[0] != 0:
        continue
    ch, f, count, rate, first = struct.unpack("<BBHIQ", p[:16])
    assert first == nxt, f"ECG block at {first}, expected {nxt}"
    ecg += list(struct.unpack(f"<{count}h", p[16:]))
    nxt = first + count
rec = np.load(sys.argv[2])[: len(ecg)]
codes = np.round(rec.astype(np.float64) * 200).astype(np.int64) + 1024
report = json.load(open(sys.argv[3]))
assert len(ecg) == report["ecg_samples"] == 30 * 360, (len(ecg), report["ecg_samples"])
assert np.array_equal(np.array(ecg), codes), "ECG samples differ from the recording"
assert np.array_equal(((np.array(ecg) - 1024) / 200).astype(np.float32), rec), "mV do not round-trip"
print(f"firmware/check: replay: {len(fr)} frames, all CRCs and sequences valid; {len(ecg)} ECG samples equal the recording's ADC units")

fr, nbytes = frames(sys.argv[4])
seconds = (fr[-1][2] - fr[1][2]) / 1e6
rate = nbytes / 10
print(f"firmware/check: 3. link budget: default stream {rate:.0f} B/s = {100 * rate / 92160:.1f} % of 921600 baud 8N1 (92160 B/s)")
assert rate < 0.5 * 92160
PYEOF

[ $status -eq 0 ] && echo "firmware/check: OK" || echo "firmware/check: FAILED" >&2
exit $status
