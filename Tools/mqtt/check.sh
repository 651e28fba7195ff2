#!/usr/bin/env bash
# MQTT checks against a real mosquitto with oracles nobody here wrote (paho-mqtt, jsonschema):
# payload schemas (and deliberately wrong payloads that must fail), retain/QoS/expiry, commands,
# the last will on SIGKILL, and no QoS 1 loss across a broker restart. Also checks that
# docs/asyncapi.yaml references every schema and only existing ones.
# Binaries from `swift build --show-bin-path` unless VIGIL_BIN=<dir> is set. An argument runs one
# broker check only: schemas, will, restart, v311 or fallback (default all).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${VIGIL_BIN:-$(swift build --show-bin-path)}
PY=${PYTHON:-.venv/bin/python}
[[ -x "$BIN/vigil-mqtt-probe" ]] || { echo "missing $BIN/vigil-mqtt-probe (build it first)" >&2; exit 1; }

echo "-- AsyncAPI document references every schema"
"$PY" - <<'PY'
import pathlib, re, sys
doc = pathlib.Path("docs/asyncapi.yaml").read_text()
refs = set(re.findall(r"schemas/([a-z0-9-]+\.schema\.json)", doc))
files = {p.name for p in pathlib.Path("docs/schemas").glob("*.schema.json")} - {"common.schema.json"}
if refs - files or files - refs:
    sys.exit(f"asyncapi.yaml refs missing files {sorted(refs - files)}; schemas not in asyncapi.yaml {sorted(files - refs)}")
if not doc.startswith("asyncapi: 3.0.0"):
    sys.exit("docs/asyncapi.yaml is not AsyncAPI 3.0.0")
print(f"  {len(refs)} payload schemas referenced")
PY

echo "-- schemas, retain/QoS/expiry, commands, will, broker restart, MQTT 3.1.1 and the fallback to it"
"$PY" Tools/mqtt/broker_checks.py "$BIN" "${1:-all}"
